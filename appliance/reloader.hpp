#pragma once
// Policy generations of the running appliance: loads, checks and compiles the policy file, builds
// a dataplane::PolicyEpoch, publishes it with one atomic store, records the outcome, and frees
// superseded generations once nothing can reach them any more (docs/architecture.md "Policy
// reload"). Control thread only.
#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "dataplane/audit_channel.hpp"
#include "dataplane/policy_epoch.hpp"
#include "dataplane/runtime.hpp"
#include "policy/snapshot.hpp"

namespace dc::appliance {

// Loads and compiles a policy file. Its diagnostics (one formatted line each, warnings too) go
// to `diagnostics`, or to the log when that is null. The error says why not.
// `audit_trail`: whether this appliance has an [audit] table; a policy whose audit_unavailable
// mode is "closed" is refused without one (border flows would cross unrecorded).
Result<std::shared_ptr<const policy::Snapshot>> load_policy(
    const std::string& path, bool audit_trail, std::vector<std::string>* diagnostics = nullptr);

// The outcome of one reload, as `datacustoms ctl reload`, the policy_reload record, the log
// and the metrics report it.
struct ReloadResult {
  bool ok = false;
  std::string file;
  std::string file_sha256;  // of the file as read for this reload ("" when it could not be read)
  std::string error;        // why it was rejected ("" when ok)
  std::vector<std::string> diagnostics;  // every diagnostic of the policy check, in order
  uint32_t generation = 0;               // the live generation afterwards
  std::string previous_sha256;           // the live policy before
  std::string policy_id, policy_version, policy_sha256;  // the live policy afterwards
};

// Reload outcomes so far (control thread writes, any thread reads).
struct ReloadCounters {
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<int64_t> last_ok_unix{0};      // wall-clock seconds of the last success (0: none)
  std::atomic<int64_t> last_failed_unix{0};  // of the last rejection (0: none)
};

class Reloader {
 public:
  struct Port {
    std::string name;
    std::string zone;   // zone name, looked up in each new policy
    uint16_t peer = 0;  // index of the paired port
  };
  struct Hooks {
    dataplane::Dataplane* plane = nullptr;                   // grace periods of its workers
    dataplane::AuditChannel* channel = nullptr;              // null: no audit trail
    std::function<void(nlohmann::ordered_json)> record;      // a policy_reload audit record
    std::function<void(const policy::Snapshot*)> published;  // the new live snapshot
    // Before a reloaded generation is published (e.g. the ledger starts when the policy first
    // enables [accounting]); an Error rejects the reload and the old generation stays live.
    std::function<Result<void>(std::shared_ptr<const policy::Snapshot>)> prepare;
  };

  Reloader(std::string policy_path, std::vector<Port> ports, unsigned workers,
           uint32_t inspect_flows, bool audit_trail);
  ~Reloader();
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;

  // The first generation (`zones[p]` is port p's zone id in `snapshot`).
  Result<void> publish_first(std::shared_ptr<const policy::Snapshot> snapshot,
                             const std::vector<uint16_t>& zones);
  // What the workers load at every burst (PipelineSettings::epoch).
  const std::atomic<const dataplane::PolicyEpoch*>* live() const noexcept { return &live_; }
  const policy::Snapshot* snapshot() const noexcept;  // the live policy (nullptr: none)
  uint32_t generation() const noexcept { return generation_; }

  // Once the dataplane runs: where grace periods, writer progress and records come from.
  void attach(Hooks hooks) { hooks_ = std::move(hooks); }
  // SIGHUP or `ctl reload`: a new generation from the policy file, or (on any error) none: the
  // old one stays live. Both outcomes are policy_reload records and are counted.
  ReloadResult reload();
  const ReloadCounters& counters() const noexcept { return counters_; }
  // Frees what no worker, flow or queued record can reach any more. Call it often (it never
  // waits): every control-loop turn.
  void reclaim();
  // Generations in memory: the live one and those still retiring.
  size_t generations_kept() const noexcept { return (current_ ? 1 : 0) + retiring_.size(); }

 private:
  // A superseded generation's way out: a grace period, then no bound flow (its engines are
  // freed), then the audit writer past every record queued until then (its snapshot is freed).
  enum class Stage : uint8_t { kGrace, kFlows, kRecords };
  struct Retiring {
    std::unique_ptr<dataplane::PolicyEpoch> epoch;
    Stage stage = Stage::kGrace;
    uint64_t token = 0;  // rte_rcu_qsbr token
    uint32_t mark = 0;   // audit ring position
  };
  Result<std::unique_ptr<dataplane::PolicyEpoch>> build(
      std::shared_ptr<const policy::Snapshot> snapshot, const std::vector<uint16_t>& zones);
  void publish(std::unique_ptr<dataplane::PolicyEpoch> epoch);
  bool advance(Retiring& r);  // true: fully freed
  void reject(ReloadResult& res, const std::string& why);

  std::string path_;
  std::vector<Port> ports_;
  unsigned workers_;
  uint32_t inspect_flows_;
  bool audit_trail_;
  Hooks hooks_;
  uint32_t generation_ = 0;
  std::unique_ptr<dataplane::PolicyEpoch> current_;
  std::list<Retiring> retiring_;
  std::atomic<const dataplane::PolicyEpoch*> live_{nullptr};
  ReloadCounters counters_;
};

}  // namespace dc::appliance
