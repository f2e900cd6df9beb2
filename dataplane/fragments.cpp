// IP fragments: the first-fragment table and the handling of later fragments (no L4 header).
#include "dataplane/fragments.hpp"

#include <rte_mbuf.h>

#include "dataplane/pipeline.hpp"

namespace dc::dataplane {

FragmentTable::Entry& FragmentTable::bucket(const inspect::Decoded& d) const noexcept {
  uint32_t h = d.frag_id * 2654435761u;
  for (int i = 12; i < 16; ++i) h = (h ^ d.src.bytes[i] ^ (d.dst.bytes[i] << 8)) * 16777619u;
  return entries_[(h ^ d.proto) & (kEntries - 1)];
}

void FragmentTable::remember(const inspect::Decoded& d, uint8_t dir, uint32_t slot,
                             uint64_t flow_id, int64_t now_ns) noexcept {
  Entry& e = bucket(d);
  e.src = d.src;
  e.dst = d.dst;
  e.ip_id = d.frag_id;
  e.proto = d.proto;
  e.dir = dir;
  e.slot = slot;
  e.flow_id = flow_id;
  e.seen_ns = now_ns;
}

const FragmentTable::Entry* FragmentTable::find(const inspect::Decoded& d,
                                                int64_t now_ns) const noexcept {
  const Entry& e = bucket(d);
  const bool known = e.seen_ns != 0 && now_ns - e.seen_ns < kLifetimeNs && e.ip_id == d.frag_id &&
                     e.proto == d.proto && e.src == d.src && e.dst == d.dst;
  return known ? &e : nullptr;
}

// A fragment without an L4 header follows its datagram's first fragment: forwarded only when
// that fragment's flow is forwarded and not inspected; otherwise dropped (never uninspected
// bytes).
void Pipeline::non_first_fragment(const inspect::Decoded& d, rte_mbuf* m, int64_t now_ns,
                                  BurstOutput& out) noexcept {
  const FragmentTable::Entry* e = frags_.find(d, now_ns);
  Flow* f = nullptr;
  if (e != nullptr) {
    Direction dir;
    f = flows_.lookup(flows_.slot(e->slot).initiator, dir);
    if (f != nullptr && f->id != e->flow_id) f = nullptr;
  }
  if (f == nullptr) return drop_pkt(m, DropReason::kFragmentUninspected, out);
  Direction dir = static_cast<Direction>(e->dir);
  flows_.on_packet(*f, dir, 0, rte_pktmbuf_pkt_len(m), now_ns);
  const bool inspected =
      dir == Direction::kForward ? f->adm.inspect_forward : f->adm.inspect_reverse;
  if (f->verdict == FlowVerdict::kBlock || (f->policy != nullptr && inspected)) {
    ++f->dropped_packets;
    return drop_pkt(
        m, f->verdict == FlowVerdict::kBlock ? f->block_reason : DropReason::kFragmentUninspected,
        out);
  }
  forward_pkt(*f, dir, m, out);
}

}  // namespace dc::dataplane
