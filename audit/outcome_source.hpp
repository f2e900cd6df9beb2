#pragma once
// What the audit writer thread drains: flow outcomes and evidence packet copies, in the order the
// workers produced them. The dataplane implements it over its ring and mempools
// (dataplane::AuditChannel); tests implement it over a plain queue. Keeps the writer free of DPDK.
// Threads: drain(), set_writer_healthy() and the loss counters are called by the writer thread
// only; producers are the implementation's business.
#include <cstdint>
#include <span>

#include "audit/flow_outcome.hpp"

namespace dc::audit {

// Receives what drain() hands over. Each item is valid during the call only.
class OutcomeConsumer {
 public:
  virtual ~OutcomeConsumer() = default;
  virtual void on_outcome(const FlowOutcome& outcome) = 0;
  // A copy of one frame of flow `flow_id`, seen at `ts_ns`.
  virtual void on_evidence(uint64_t flow_id, int64_t ts_ns, std::span<const uint8_t> frame) = 0;
};

class OutcomeSource {
 public:
  virtual ~OutcomeSource() = default;
  // Hands at most `max` queued outcomes to `consumer`, oldest first, each after every evidence
  // copy its worker queued before it (copies may come in larger numbers than `max`), and releases
  // each item after its call returned (or threw). Returns how many items (outcomes and copies)
  // were handed over; 0: nothing queued.
  virtual unsigned drain(OutcomeConsumer& consumer, unsigned max) = 0;
  // The writer's health as producers should see it: false while records cannot be written (the
  // `audit_unavailable` failure condition for new border-crossing flows).
  virtual void set_writer_healthy(bool ok) noexcept = 0;
  // Outcomes and evidence copies producers could not queue (no slot, ring full); monotonic.
  virtual uint64_t lost_outcomes() const noexcept = 0;
  virtual uint64_t lost_evidence() const noexcept = 0;
  // Every `flow_open` outcome of `worker` up to `ticket` is in the log and fsynced: its flows'
  // held payload may cross. Called by the writer thread, tickets of one worker in order.
  virtual void set_durable(uint16_t worker, uint32_t ticket) noexcept {
    (void)worker;
    (void)ticket;
  }
};

}  // namespace dc::audit
