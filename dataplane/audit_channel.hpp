#pragma once
// The workers' side of the audit trail: fixed-size flow outcomes (audit::FlowOutcome) and
// evidence packet copies go onto one multi-producer / single-consumer rte_ring; the audit writer
// thread (audit/writer_thread.hpp) drains it through the audit::OutcomeSource interface and
// formats, hashes, signs and writes them. Workers never block, allocate or do I/O here: outcome
// slots and evidence buffers come from mempools sized at start-up. A full ring or an empty pool
// makes `available()` false, the policy's `audit_unavailable` failure condition.
#include <atomic>
#include <cstdint>
#include <memory>

#include "audit/outcome_source.hpp"
#include "base/result.hpp"
#include "dataplane/flow_event.hpp"

struct rte_ring;
struct rte_mempool;
struct rte_mbuf;

namespace dc::dataplane {

// One ring element (32 bytes).
struct AuditItem {
  enum Kind : uint32_t { kFlow = 1, kEvidence = 2 };
  uint32_t kind = 0;
  uint32_t len = 0;     // evidence: frame length
  void* obj = nullptr;  // audit::FlowOutcome* or rte_mbuf* (evidence copy)
  uint64_t flow_id = 0;
  int64_t ts_ns = 0;
};
static_assert(sizeof(AuditItem) == 32);

struct AuditChannelConfig {
  uint32_t ring_size = 16384;      // power of two
  uint32_t events = 8191;          // FlowOutcome slots
  uint32_t evidence_mbufs = 8191;  // evidence packet copies in flight
  uint32_t evidence_packets_per_flow = 32;
};

class AuditChannel final : public audit::OutcomeSource {
 public:
  static Result<std::unique_ptr<AuditChannel>> create(const AuditChannelConfig& cfg);
  ~AuditChannel() override;

  // ---- workers (any number, concurrently) ----
  audit::FlowOutcome* get_event() noexcept;
  bool put_event(audit::FlowOutcome* ev) noexcept;  // false: ring full (slot back to the pool)
  bool put_evidence(uint64_t flow_id, const void* frame, uint32_t len, int64_t ts_ns) noexcept;
  bool available() const noexcept;
  // An evidence buffer is free (or evidence is off: put_evidence() fails either way).
  bool evidence_room() const noexcept;
  uint32_t evidence_packets_per_flow() const noexcept { return cfg_.evidence_packets_per_flow; }

  // ---- the writer thread (audit::OutcomeSource) ----
  unsigned drain(audit::OutcomeConsumer& consumer, unsigned max) override;
  void set_writer_healthy(bool ok) noexcept override {
    writer_ok.store(ok, std::memory_order_relaxed);
  }
  uint64_t lost_outcomes() const noexcept override { return lost_outcomes_.load(); }
  uint64_t lost_evidence() const noexcept override { return lost_evidence_.load(); }
  void set_durable(uint16_t worker, uint32_t ticket) noexcept override {
    if (worker < kMaxWorkers) durable_[worker].store(ticket, std::memory_order_release);
  }
  // Workers: is flow_open ticket `ticket` (never 0) of `worker` fsynced? Tickets wrap at 2^32.
  bool durable(uint16_t worker, uint32_t ticket) const noexcept {
    if (worker >= kMaxWorkers || ticket == 0) return false;
    return static_cast<int32_t>(durable_[worker].load(std::memory_order_acquire) - ticket) >= 0;
  }
  static constexpr uint16_t kMaxWorkers = 128;

  // ---- the control thread: writer progress (before freeing what queued outcomes point at) ----
  // A position after every item enqueued so far; handled(mark) turns true once the writer has
  // finished with all of them (drain() returns only after its consumer is done with a batch).
  uint32_t mark() const noexcept;
  bool handled(uint32_t mark) const noexcept;
  // Items enqueued that the writer has not finished with yet (its lag; any thread).
  uint32_t backlog() const noexcept { return mark() - handled_.load(std::memory_order_acquire); }

  // The writer's health (false after a write failure until writes succeed again).
  std::atomic<bool> writer_ok{true};

 private:
  AuditChannel() = default;
  void release(const AuditItem& it) noexcept;
  AuditChannelConfig cfg_;
  rte_ring* ring_ = nullptr;
  rte_mempool* events_ = nullptr;
  rte_mempool* evidence_ = nullptr;
  std::atomic<uint64_t> lost_outcomes_{0};
  std::atomic<uint64_t> lost_evidence_{0};
  uint32_t dequeued_ = 0;                            // writer thread only
  std::atomic<uint32_t> handled_{0};                 // items the writer finished with
  std::atomic<uint32_t> durable_[kMaxWorkers] = {};  // per worker: newest fsynced flow_open ticket
};

// Per-worker FlowEventSink over the shared channel.
class AuditSink final : public FlowEventSink {
 public:
  explicit AuditSink(AuditChannel& ch) : ch_(ch) {}
  audit::FlowOutcome* acquire() noexcept override { return ch_.get_event(); }
  void commit(audit::FlowOutcome* ev) noexcept override { (void)ch_.put_event(ev); }
  bool submit(audit::FlowOutcome* ev) noexcept override { return ch_.put_event(ev); }
  bool records_opens() const noexcept override { return true; }
  bool durable(uint16_t worker, uint32_t ticket) const noexcept override {
    return ch_.durable(worker, ticket);
  }
  bool available() const noexcept override { return ch_.available(); }
  bool wants_evidence() const noexcept override { return ch_.evidence_packets_per_flow() > 0; }
  bool evidence_room() const noexcept override { return ch_.evidence_room(); }
  bool evidence(uint64_t flow_id, const void* frame, uint32_t len, int64_t ts) noexcept override {
    return ch_.put_evidence(flow_id, frame, len, ts);
  }
  uint32_t evidence_limit() const noexcept { return ch_.evidence_packets_per_flow(); }

 private:
  AuditChannel& ch_;
};

}  // namespace dc::dataplane
