#pragma once
// The audit writer thread: drains the workers' AuditChannel, turns flow events into hash-chained
// records (audit::LogWriter), keeps evidence packets of each flow until its record says whether
// it was blocked, writes blocked flows' packets to evidence pcaps (audit::EvidenceStore) and
// binds them to the record by SHA-256. Owns every file handle of the audit trail.
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "audit/evidence.hpp"
#include "audit/log_writer.hpp"
#include "dataplane/audit_channel.hpp"

namespace dc::appliance {

struct AuditThreadStats {
  uint64_t records = 0;  // flow records appended
  uint64_t skipped = 0;  // flow events not audit-worthy (domestic, allowed)
  uint64_t refused = 0;  // records the writer refused (kDropped)
  uint64_t evidence_files = 0;
  uint64_t evidence_dropped = 0;  // packets discarded (flow not blocked, or bounds)
};

class AuditThread {
 public:
  AuditThread(dataplane::AuditChannel& channel, std::unique_ptr<audit::LogWriter> writer,
              std::unique_ptr<audit::EvidenceStore> evidence, std::string hmac_key,
              uint32_t evidence_packets_per_flow);
  ~AuditThread();
  void start();
  // Drains what the workers produced (call after they stopped), writes "stop" and the closing
  // checkpoint.
  Result<void> stop(const nlohmann::ordered_json& stop_details);
  AuditThreadStats stats() const;
  audit::LogWriter& writer() { return *writer_; }
  // Processes whatever is in the ring now (the thread's loop body; also used by tests).
  unsigned drain_once();
  // An event record from the control thread (fail-closed episodes, ...); thread-safe.
  void post_event(audit::RecordType type, nlohmann::ordered_json details);

 private:
  void run();
  void on_flow(dataplane::FlowEvent& ev);
  void on_evidence(const dataplane::AuditItem& it);

  struct Packet {
    int64_t ts_ns;
    std::vector<uint8_t> bytes;
  };
  dataplane::AuditChannel& ch_;
  std::unique_ptr<audit::LogWriter> writer_;
  std::unique_ptr<audit::EvidenceStore> evidence_;
  std::string hmac_key_;
  uint32_t per_flow_;
  std::unordered_map<uint64_t, std::vector<Packet>> pending_;
  std::deque<uint64_t> pending_order_;  // eviction order (oldest first)
  std::mutex posted_mu_;                // control thread -> writer thread; control plane only
  std::vector<std::pair<audit::RecordType, nlohmann::ordered_json>> posted_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> records_{0}, skipped_{0}, refused_{0}, evidence_files_{0},
      evidence_dropped_{0};
};

}  // namespace dc::appliance
