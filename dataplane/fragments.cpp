// IP fragments in the pipeline: every fragment goes to the worker's Reassembler; a complete
// datagram is decoded and goes on like any other packet; an evasive one blocks its flow; a
// reassembled datagram that is forwarded leaves as the original fragments.
#include <rte_mbuf.h>

#include <span>

#include "dataplane/pipeline.hpp"
#include "dataplane/stage_drops.hpp"

namespace dc::dataplane {

namespace pflag = policy::flag;

bool Pipeline::reassemble(rte_mbuf*& m, inspect::Decoded& d, int64_t now_ns,
                          BurstOutput& out) noexcept {
  if (reasm_ == nullptr) {  // no pool to reassemble with: never forwarded uninspected
    drop_pkt(m, DropReason::kFragmentUninspected, out);
    return false;
  }
  Reassembler::Step s;
  reasm_->add(m, d, now_ns, s);
  for (uint32_t i = 0; i < s.n_dropped; ++i) drop_pkt(s.dropped[i], s.reason, out);
  switch (s.outcome) {
    case Reassembler::Outcome::kHeld:
      return false;
    case Reassembler::Outcome::kDuplicate:
      drop_pkt(m, DropReason::kFragmentDuplicate, out);
      return false;
    case Reassembler::Outcome::kDrop:
      drop_pkt(m, s.reason, out);
      return false;
    case Reassembler::Outcome::kEvasion:
      // Without its first fragment the flow is unknown yet: it is blocked when that arrives.
      if (s.datagram == nullptr) return false;
      cur_frag_evasion_ = true;
      break;
    case Reassembler::Outcome::kComplete:
      ++counters_.reassembled;
      cur_reassembled_ = true;
      break;
  }
  if (s.datagram != m) {  // decoded again: a held first fragment, or the reassembled datagram
    m = s.datagram;
    std::span<const uint8_t> frame(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
    const inspect::DecodeStatus st = inspect::decode(frame, d, decode_opts_);
    if (st != inspect::DecodeStatus::kOk) {
      drop_pkt(m, cur_frag_evasion_ ? DropReason::kFragmentOverlap : drop_reason_of(st), out);
      return false;
    }
  }
  if (cur_frag_evasion_ && snap_ == nullptr) {  // no policy to block a flow with (lab mode)
    drop_pkt(m, DropReason::kFragmentOverlap, out);
    return false;
  }
  return true;
}

// Fragments whose overlapping bytes differ: a receiver may rebuild either version, so the flow
// is blocked as evasion (always, as for TCP, docs/policy-reference.md) and the fragment dropped.
void Pipeline::fragment_evasion(Flow& f, Direction dir, const inspect::Decoded& d, rte_mbuf* m,
                                int64_t now_ns, BurstOutput& out) noexcept {
  note_packet(f, dir, d, m, now_ns);
  f.flags |= pflag::kEvasion;
  if (f.verdict == FlowVerdict::kPending) admit_new(f, d, now_ns);
  if (f.verdict != FlowVerdict::kBlock && f.policy != nullptr) {
    f.clear_sni_pending();
    apply_verdict(f, f.policy->decide(admission_of(f), tally_of(f), f.flags, now_ns), now_ns);
  }
  if (f.verdict == FlowVerdict::kBlock) return drop_blocked(f, d, m, out);
  ++f.cold().dropped_packets;
  drop_pkt(m, DropReason::kFragmentOverlap, out);
}

void Pipeline::forward_fragments(rte_mbuf* m, BurstOutput& out) noexcept {
  if (out.n_fwd + Reassembler::kMaxFragments > BurstOutput::kCapacity ||
      out.n_drop >= BurstOutput::kCapacity)
    return drop_pkt(m, DropReason::kTxFull, out);
  const uint32_t n = Reassembler::take_originals(m, out.fwd + out.n_fwd);
  out.n_fwd += n;
  counters_.forwarded += n;
  out.drop[out.n_drop++] = m;  // only its buffer is left: freed by the caller, not a drop
}

}  // namespace dc::dataplane
