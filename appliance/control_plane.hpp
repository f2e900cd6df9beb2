#pragma once
// The appliance's control plane for `datacustoms run`: the first policy, EAL, the audit trail,
// the dataplane, the control loop (signals, policy reloads, freeing old generations, fail-closed
// episodes) and the final report. Its members are declared in dependency order, so teardown is
// their destructors, written once. Runs on the main lcore.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "appliance/config.hpp"
#include "appliance/key_intake.hpp"
#include "appliance/metrics.hpp"
#include "appliance/reload_mailbox.hpp"
#include "appliance/reloader.hpp"
#include "appliance/service_notify.hpp"
#include "audit/ledger.hpp"
#include "audit/witness.hpp"
#include "audit/writer_thread.hpp"
#include "dataplane/accounting_channel.hpp"
#include "dataplane/audit_channel.hpp"
#include "dataplane/key_handoff.hpp"
#include "dataplane/runtime.hpp"

namespace dc::appliance {

using dataplane::KeyHandoff;

struct RunOptions {
  std::string config_path;
  std::string out_dir = ".";
  std::string stats_json;  // also write the final counters as JSON here
  long idle_exit_ms = -1;  // stop once no packet arrived for this long
  long max_seconds = -1;
  std::vector<std::string> extra_eal;
};

class ControlPlane {
 public:
  ControlPlane(RunOptions options, ApplianceConfig config);
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  // Starts everything, runs until a signal or a stop condition, reports. The exit status.
  int run();

 private:
  int load_first_policy();
  int set_up_ports();
  int open_eal();
  int open_audit();
  Result<void> open_witnesses();  // [audit.witness] -> witnesses_ (null when none is configured)
  void close_witnesses();
  int open_key_intake();
  // Customs accounting (control_plane_accounting.cpp): the workers' rings whenever appliance.toml
  // can run it, the ledger (store, key, thread) once a policy enables [accounting]; a reload that
  // first enables it starts the ledger before the generation is published.
  int open_accounting();
  Result<void> start_ledger();
  Result<void> prepare_accounting(const std::shared_ptr<const policy::Snapshot>& s);
  void accounting_adopt();  // the live generation, for the ledger to resolve claims against
  void close_accounting();  // workers stopped: the ledger's last round, unused byte budgets back
  int start_dataplane();
  void serve();      // the control loop
  void do_reload();  // SIGHUP or `ctl reload`: on the control thread, with sd_notify around it
  void watchdog(std::chrono::steady_clock::time_point now);  // WatchdogSec= pings
  void attach_telemetry();
  int finish();  // stops the workers, prints and writes the final counters, closes the log
  void report_failures();  // fail-closed drops since the last look, as audit records
  audit::WriterOptions writer_options(const std::string& dir) const;
  std::string expand(const std::string& s) const;

  RunOptions opt_;
  ApplianceConfig cfg_;  // cfg_.dataplane is what the dataplane runs with
  std::shared_ptr<const policy::Snapshot> first_policy_;  // dropped once published
  // Declared before EAL and the dataplane: generations outlive every worker and record.
  std::unique_ptr<Reloader> reloader_;
  std::unique_ptr<dataplane::EalSession> eal_;
  std::unique_ptr<dataplane::AuditChannel> channel_;
  std::vector<std::unique_ptr<dataplane::AuditSink>> sinks_;
  // Before the writer: it publishes every checkpoint here, up to its closing one.
  std::unique_ptr<audit::WitnessPublisher> witnesses_;
  std::unique_ptr<audit::WriterThread> auditor_;
  // Escrowed keys: the rings outlive the workers that drain them and the thread that fills them.
  std::unique_ptr<KeyHandoff> key_handoff_;
  std::unique_ptr<KeyIntake> key_intake_;
  // Customs accounting: the store and the ledger outlive the thread; the rings the workers.
  std::unique_ptr<audit::PersonStore> person_store_;
  std::unique_ptr<audit::Ledger> ledger_;
  std::unique_ptr<dataplane::AccountingChannel> acct_channel_;
  std::unique_ptr<dataplane::AccountingService> acct_service_;
  bool acct_was_enabled_ = false;  // the live policy enables [accounting] (reload messages)
  std::unique_ptr<dataplane::Dataplane> plane_;
  std::unique_ptr<MetricsServer> metrics_;
  ReloadMailbox reloads_;  // `ctl reload` requests from telemetry threads
  service::Watchdog watchdog_;
  uint64_t watchdog_token_ = 0;  // grace period the workers must pass before the next ping
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
  std::vector<uint64_t> failure_seen_;  // fail-closed drops already reported, per condition
  std::chrono::steady_clock::time_point last_failure_check_{};
};

}  // namespace dc::appliance
