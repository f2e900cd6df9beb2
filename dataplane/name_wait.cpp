// Payload of a flow whose server name (SNI / HTTP Host) is still pending, with a record hold:
// it waits in the flow, at most InspectCtx::kNameWaitPackets packets, not in the port's FIFO
// hold queue, so a partial request head cannot stall other flows. Worker thread; no allocation.
#include <rte_mbuf.h>

#include "dataplane/pipeline.hpp"

namespace dc::dataplane {

// Keeps an inspected payload packet of a pending flow; false when it cannot wait (no inspection
// state, the flow's few slots or the worker's share of hold_packets used): the caller drops it
// as server_name_pending and the sender's retransmission crosses once the name decided.
bool Pipeline::wait_for_name(Flow& f, Direction dir, rte_mbuf* m) noexcept {
  if (f.inspect_ctx == kNoInspectCtx || name_waiting_ >= settings_.hold_packets) return false;
  InspectCtx& c = pool_.at(f.inspect_ctx);
  if (c.name_wait_n >= InspectCtx::kNameWaitPackets) return false;
  c.name_wait[c.name_wait_n] = m;
  c.name_wait_dir[c.name_wait_n] = static_cast<uint8_t>(dir);
  ++c.name_wait_n;
  ++name_waiting_;
  ++counters_.name_waited;
  return true;
}

// The name decided (or the flow ends, `out` null): the waiting packets follow, in order and
// ahead of the packet that decided, the flow's verdict: forwarded (into the record hold, behind
// the new flow_open record) or dropped.
void Pipeline::end_name_wait(Flow& f, InspectCtx& c, BurstOutput* out) noexcept {
  for (uint8_t i = 0; i < c.name_wait_n; ++i) {
    auto* m = static_cast<rte_mbuf*>(c.name_wait[i]);
    c.name_wait[i] = nullptr;
    --name_waiting_;
    if (out == nullptr) {
      counters_.drop(DropReason::kServerNamePending);
      rte_pktmbuf_free(m);
    } else if (f.verdict == FlowVerdict::kBlock || f.cold().adm.sni_pending) {
      ++f.cold().dropped_packets;
      drop_pkt(m,
               f.verdict == FlowVerdict::kBlock ? f.block_reason : DropReason::kServerNamePending,
               *out);
    } else {
      forward_pkt(f, static_cast<Direction>(c.name_wait_dir[i]), m, *out);
    }
  }
  c.name_wait_n = 0;
}

}  // namespace dc::dataplane
