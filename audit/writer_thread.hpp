#pragma once
// The audit writer thread: drains an OutcomeSource (the workers' ring in the appliance), turns
// flow outcomes into hash-chained records (LogWriter), keeps evidence packets of each flow until
// its outcome says whether it was blocked, writes blocked flows' packets to evidence pcaps
// (EvidenceStore) and binds them to the record by SHA-256. Owns every file handle of the audit
// trail. No DPDK: the source hides the ring.
// Threads: start()/stop()/stats()/post_event() on the control thread; everything else runs on
// the writer thread (or on the caller of drain_once() in tests, with the thread not started).
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "audit/evidence.hpp"
#include "audit/log_writer.hpp"
#include "audit/outcome_source.hpp"

namespace dc::audit {

struct WriterThreadStats {
  uint64_t records = 0;  // flow records appended
  uint64_t skipped = 0;  // flow outcomes not audit-worthy (domestic, allowed)
  uint64_t refused = 0;  // records the writer refused (kDropped)
  uint64_t evidence_files = 0;
  uint64_t evidence_dropped = 0;  // packets discarded (flow not blocked, or bounds)
  uint64_t opens = 0;             // flow_open records appended
  uint64_t updates = 0;           // flow_update records appended
  uint64_t group_commits = 0;     // fsyncs of the log (each may release many flow_opens)
};

class WriterThread final : private OutcomeConsumer {
 public:
  // `evidence` may be null (no evidence kept); `hmac_key` keys the hashes of sampled values.
  WriterThread(OutcomeSource& source, std::unique_ptr<LogWriter> writer,
               std::unique_ptr<EvidenceStore> evidence, std::string hmac_key,
               uint32_t evidence_packets_per_flow);
  ~WriterThread() override;
  void start();
  // Lets the writer and the log's commit thread run on `cpus` (after start(); the appliance
  // gives them every CPU no worker polls). False when the kernel refused.
  bool set_cpus(const cpu_set_t& cpus);
  // Drains what the workers produced (call after they stopped), writes "stop" and the closing
  // checkpoint.
  Result<void> stop(const nlohmann::ordered_json& stop_details);
  WriterThreadStats stats() const;
  LogWriter& writer() { return *writer_; }
  // Processes whatever the source holds now (the thread's loop body; also used by tests).
  unsigned drain_once();
  // An event record from the control thread (fail-closed episodes, ...); thread-safe.
  void post_event(RecordType type, nlohmann::ordered_json details);

 private:
  void run();
  void on_outcome(const FlowOutcome& ev) override;
  void on_evidence(uint64_t flow_id, int64_t ts_ns, std::span<const uint8_t> frame) override;
  void report_health();
  void on_open(const FlowOutcome& ev);
  void on_update(const FlowOutcome& ev);
  // Group commit: fsyncs what was written and tells the workers which flow_open records are
  // durable now (their held payload may cross).
  void commit_opens();
  // The blocked flow's evidence capture; without one, `missing` says why (the record states it).
  // With the log's commit thread, the capture's fsync is left to the next group commit and
  // `dep` says which (the record naming it must wait for it: held_); else fsynced here, dep 0.
  std::optional<EvidenceRef> write_evidence(const FlowOutcome& ev, std::string& missing,
                                            uint64_t& dep);
  // Appends the held records whose evidence is durable now (all of them: `all`, at stop).
  void append_held(bool all = false);
  void append_record(const nlohmann::ordered_json& body);

  // Evidence packets of one flow waiting for its outcome: the frames back to back in one byte
  // buffer. Buffers of finished flows are kept for reuse (at most kSpareEvidence), so evidence
  // costs no allocation per packet, and none per flow once the writer is warm.
  struct PendingEvidence {
    struct Frame {
      int64_t ts_ns;
      uint32_t offset, len;
    };
    std::vector<Frame> frames;
    std::vector<uint8_t> bytes;
  };
  PendingEvidence take_spare();
  void recycle(PendingEvidence&& p);
  void drop_pending(uint64_t flow_id);
  OutcomeSource& source_;
  std::unique_ptr<LogWriter> writer_;
  std::unique_ptr<EvidenceStore> evidence_;
  std::string hmac_key_;
  uint32_t per_flow_;
  std::unordered_map<uint64_t, PendingEvidence> pending_;
  std::vector<PendingEvidence> spare_;  // emptied buffers, capacity kept
  std::deque<uint64_t> pending_order_;  // eviction order (oldest first)
  std::mutex posted_mu_;                // control thread -> writer thread; control plane only
  std::vector<std::pair<RecordType, nlohmann::ordered_json>> posted_;
  struct OpenTicket {
    uint64_t seq;  // the flow_open record's seq in the log
    uint16_t worker;
    uint32_t ticket;
  };
  std::deque<OpenTicket> opens_waiting_;  // written (or queued), not yet known fsynced
  // Flow records of blocked flows whose evidence capture waits for the commit thread's fsync:
  // appended once it returned, so that no crash keeps a record whose capture it lost.
  struct HeldRecord {
    uint64_t dep;
    nlohmann::ordered_json body;
  };
  std::deque<HeldRecord> held_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> records_{0}, skipped_{0}, refused_{0}, evidence_files_{0},
      evidence_dropped_{0}, opens_{0}, updates_{0}, group_commits_{0};
};

}  // namespace dc::audit
