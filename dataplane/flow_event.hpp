#pragma once
// The fixed-size record of a flow's outcome, produced by the pipeline when a flow's verdict is
// final (blocked) or the flow ends, and consumed off the fast path: by the audit writer thread
// (via a ring) in the live appliance, or printed directly by offline replay. Plain data: it
// references the policy snapshot only by pointer (names are resolved by the consumer).
#include <cstdint>

#include "dataplane/flow.hpp"
#include "dataplane/inspect_pool.hpp"

namespace dc::dataplane {

enum class FlowAction : uint8_t { kForward, kDrop, kAlert, kReset };

struct FlowEvent {
  uint64_t flow_id = 0;
  int64_t first_seen_ns = 0;
  int64_t last_seen_ns = 0;
  int64_t time_ns = 0;  // when the verdict became final / the flow ended
  FlowTuple initiator;
  uint16_t src_zone = 0xffff, dst_zone = 0xffff;
  DirCounters dir[2];  // [0] opener -> responder ("toserver"), [1] back ("toclient")
  uint64_t dropped_packets = 0;
  FlowAction action = FlowAction::kForward;
  FlowVerdict verdict = FlowVerdict::kPending;
  inspect::DropReason block_reason = inspect::DropReason::kNone;
  bool ended = false;  // false: emitted at block time while the flow still exists
  uint32_t flags = 0;
  const policy::Snapshot* policy = nullptr;
  policy::Admission adm{};
  policy::CategoryTally tally{};
  policy::Verdict verdict_detail{};
  uint8_t samples_n = 0;
  FindingSample samples[kMaxSamples];
  char sni[256] = {};     // TLS server name ("" when none)
  uint8_t tls_state = 0;  // inspect::TlsStatus
  char http_host[256] = {};
  char http_method[24] = {};
};

// Where the pipeline puts flow records. acquire() returns a slot to fill (nullptr: none free,
// the audit_unavailable failure), commit() hands it over. Called on the worker; never blocks.
class FlowEventSink {
 public:
  virtual ~FlowEventSink() = default;
  virtual FlowEvent* acquire() noexcept = 0;
  virtual void commit(FlowEvent* ev) noexcept = 0;
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
};

}  // namespace dc::dataplane
