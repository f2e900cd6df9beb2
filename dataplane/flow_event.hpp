#pragma once
// Where the pipeline puts a flow's outcome when its verdict is final (blocked) or the flow ends.
// The event itself is an audit::FlowOutcome (audit/flow_outcome.hpp): plain data, no DPDK, so
// the audit writer and offline replay read it without knowing the dataplane.
#include <cstdint>

#include "audit/flow_outcome.hpp"

namespace dc::dataplane {

// acquire() returns a slot to fill (nullptr: none free, the audit_unavailable failure),
// commit() hands it over. Called on the worker; never blocks, allocates or throws.
class FlowEventSink {
 public:
  virtual ~FlowEventSink() = default;
  virtual audit::FlowOutcome* acquire() noexcept = 0;
  virtual void commit(audit::FlowOutcome* ev) noexcept = 0;
  // False while records cannot be written (ring full, writer failing): the `audit_unavailable`
  // failure condition, applied to new border-crossing flows.
  virtual bool available() const noexcept { return true; }
  // Wants evidence packets of this flow? (bounded per flow; border flows only)
  virtual bool wants_evidence() const noexcept { return false; }
  // A copy of `frame` for the flow's evidence capture (direction relative to the opener).
  // Returns false when no copy could be made (evidence store full).
  virtual bool evidence(uint64_t flow_id, const void* frame, uint32_t len, int64_t ts_ns) noexcept {
    return true;
  }
  // Whether evidence() could take a copy now. False while the writer is behind (every evidence
  // buffer in flight): the pipeline then drops a packet that needs a copy rather than let it
  // cross uncopied (backpressure: the flow slows, it is not failed).
  virtual bool evidence_room() const noexcept { return true; }
  // commit() that says whether the outcome was queued (false: lost, the slot is gone).
  virtual bool submit(audit::FlowOutcome* ev) noexcept {
    commit(ev);
    return true;
  }
  // Writes border flows' admission (`flow_open`) and progress (`flow_update`) records, and
  // reports when an admission record is durable. Only the live audit channel does; offline
  // replay prints final records only.
  virtual bool records_opens() const noexcept { return false; }
  // Whether flow_open ticket `ticket` (never 0) of `worker` is in the log and fsynced.
  virtual bool durable(uint16_t worker, uint32_t ticket) const noexcept {
    (void)worker;
    return ticket != 0;
  }
};

}  // namespace dc::dataplane
