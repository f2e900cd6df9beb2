#pragma once
// The workers' side of the audit trail: fixed-size flow outcomes (audit::FlowOutcome) go onto one
// multi-producer / single-consumer rte_ring; evidence packet copies go, as bytes, into a per-worker
// single-producer / single-consumer evidence ring (an rte_ring of 32-byte elements written and read
// in place with its zero-copy API: a header element, then the frame). The audit writer thread
// (audit/writer_thread.hpp) drains both through the audit::OutcomeSource interface and formats,
// hashes, signs and writes them. Workers never block, allocate or do I/O here: outcome slots come
// from a mempool and evidence bytes from the rings, all sized at start-up. A full ring or an empty
// pool makes `available()` false, the policy's `audit_unavailable` failure condition; a full
// evidence ring makes `evidence_room()` false (the pipeline's evidence backpressure).
#include <algorithm>
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

// One element of the outcome ring (32 bytes).
struct AuditItem {
  enum Kind : uint32_t { kFlow = 1 };
  uint32_t kind = 0;
  uint32_t len = 0;
  void* obj = nullptr;  // audit::FlowOutcome*
  uint64_t flow_id = 0;
  int64_t ts_ns = 0;
};
static_assert(sizeof(AuditItem) == 32);

struct AuditChannelConfig {
  uint32_t ring_size = 16384;  // power of two
  uint32_t events = 8191;      // FlowOutcome slots
  // Evidence bytes in flight, all workers' rings together (each gets an equal power-of-two share,
  // at least kMinEvidenceRing); 0: no evidence. A 512-byte frame takes 576 bytes of it.
  uint32_t evidence_ring_bytes = 16u << 20;
  uint16_t workers = 1;  // evidence rings (worker ids 0 .. workers-1)
  uint32_t evidence_packets_per_flow = 32;
};

// An evidence copy keeps at most this many bytes of a frame (what a 2 KB mbuf held before).
inline constexpr uint32_t kMaxEvidenceFrame = 2048;
inline constexpr uint32_t kMinEvidenceRing = 64u << 10;

// The evidence bytes in flight for `[audit] ring_size`: 1 KiB per ring slot (16 MiB by default,
// ~29,000 copies of 512 B frames; the 2 KB-mbuf pool it replaced held 8,191 copies in about as
// much memory), at most 1 GiB.
constexpr uint32_t evidence_bytes_for(uint32_t ring_size) noexcept {
  return static_cast<uint32_t>(std::min<uint64_t>(uint64_t{ring_size} << 10, uint64_t{1} << 30));
}
// What the evidence rings of `workers` workers take, in bytes (each share at least the minimum).
constexpr uint64_t evidence_ring_memory(uint32_t bytes, uint64_t workers) noexcept {
  return std::max<uint64_t>(bytes, workers * kMinEvidenceRing);
}

class AuditChannel final : public audit::OutcomeSource {
 public:
  static Result<std::unique_ptr<AuditChannel>> create(const AuditChannelConfig& cfg);
  ~AuditChannel() override;

  // ---- workers (any number, concurrently) ----
  audit::FlowOutcome* get_event() noexcept;
  bool put_event(audit::FlowOutcome* ev) noexcept;  // false: ring full (slot back to the pool)
  // Worker `worker` only (its ring has one producer): copies the first kMaxEvidenceFrame bytes.
  bool put_evidence(uint16_t worker, uint64_t flow_id, const void* frame, uint32_t len,
                    int64_t ts_ns) noexcept;
  bool available() const noexcept;
  // Worker `worker`'s ring holds a frame of any size now, so put_evidence() cannot fail (true as
  // well when evidence is off or the worker has no ring: put_evidence() then fails, a lost copy).
  bool evidence_room(uint16_t worker) const noexcept;
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
  unsigned drain_evidence(audit::OutcomeConsumer& consumer);
  unsigned drain_evidence(audit::OutcomeConsumer& consumer, rte_ring* r);
  AuditChannelConfig cfg_;
  rte_ring* ring_ = nullptr;
  rte_mempool* events_ = nullptr;
  rte_ring* evidence_[kMaxWorkers] = {};  // per worker, SP/SC, 32-byte elements
  uint8_t scratch_[kMaxEvidenceFrame];    // writer: a frame that wraps around its ring's end
  std::atomic<uint64_t> lost_outcomes_{0};
  std::atomic<uint64_t> lost_evidence_{0};
  uint32_t dequeued_ = 0;                            // writer thread only
  std::atomic<uint32_t> handled_{0};                 // items the writer finished with
  std::atomic<uint32_t> durable_[kMaxWorkers] = {};  // per worker: newest fsynced flow_open ticket
};

// Per-worker FlowEventSink over the shared channel.
class AuditSink final : public FlowEventSink {
 public:
  explicit AuditSink(AuditChannel& ch, uint16_t worker = 0) : ch_(ch), worker_(worker) {}
  audit::FlowOutcome* acquire() noexcept override { return ch_.get_event(); }
  void commit(audit::FlowOutcome* ev) noexcept override { (void)ch_.put_event(ev); }
  bool submit(audit::FlowOutcome* ev) noexcept override { return ch_.put_event(ev); }
  bool records_opens() const noexcept override { return true; }
  bool durable(uint16_t worker, uint32_t ticket) const noexcept override {
    return ch_.durable(worker, ticket);
  }
  bool available() const noexcept override { return ch_.available(); }
  bool wants_evidence() const noexcept override { return ch_.evidence_packets_per_flow() > 0; }
  bool evidence_room() const noexcept override { return ch_.evidence_room(worker_); }
  bool evidence(uint64_t flow_id, const void* frame, uint32_t len, int64_t ts) noexcept override {
    return ch_.put_evidence(worker_, flow_id, frame, len, ts);
  }
  uint32_t evidence_limit() const noexcept { return ch_.evidence_packets_per_flow(); }

 private:
  AuditChannel& ch_;
  uint16_t worker_;
};

}  // namespace dc::dataplane
