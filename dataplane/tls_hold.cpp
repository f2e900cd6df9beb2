// Hold until keys: the exported direction of an escrow-eligible TLS flow waits (bounded queue
// per session, [tls] hold_packets) from the first record its session cannot decrypt until the
// flow's escrowed keys are in the worker's store, or [tls] key_wait_ms passed. With the keys the
// held bytes are decrypted and inspected, then the packets cross (or are dropped if that blocked
// the flow); without them the policy decides: [defaults] opaque_payload, or tls_key_missing under
// tls_escrow = "required". Nothing of a waiting direction crosses before that. Worker thread.
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdint>

#include "dataplane/pipeline.hpp"

namespace dc::dataplane {

namespace pflag = policy::flag;
namespace tls = inspect::tls;

void Pipeline::tls_start_wait(TlsCtx& t, uint32_t idx, unsigned di, int64_t now_ns) noexcept {
  t.waiting = true;
  t.wait_dir = static_cast<uint8_t>(di);
  t.wait_since_ns = now_ns;
  // Each session is listed at most once (a slot reused before the poll dropped it stays listed).
  if (std::find(tls_waiting_.begin(), tls_waiting_.end(), idx) == tls_waiting_.end() &&
      tls_waiting_.size() < tls_waiting_.capacity())
    tls_waiting_.push_back(idx);
}

bool Pipeline::tls_waiting(Flow& f, Direction dir) noexcept {
  if (f.inspect_ctx == kNoInspectCtx) return false;
  const InspectCtx& ctx = pool_.at(f.inspect_ctx);
  if (ctx.tls_ctx == kNoTlsCtx) return false;
  const TlsCtx& t = tls_pool_->at(ctx.tls_ctx);
  return t.waiting && t.wait_dir == static_cast<unsigned>(dir);
}

// Held packets whose bytes all lie before session offset `upto` leave the queue: across (or
// dropped if the flow is blocked) into `out`, or freed when there is none (the flow ends).
void Pipeline::tls_release_held(Flow& f, TlsCtx& t, uint64_t upto, BurstOutput* out) noexcept {
  const auto dir = static_cast<Direction>(t.wait_dir);
  while (t.held_n > 0) {
    const TlsHeld& h = t.held_at(0);
    if (h.start + h.bytes() > upto) break;
    rte_mbuf* m = h.m;
    t.pop_held();
    if (out == nullptr) {
      ++f.cold().dropped_packets;
      counters_.drop(DropReason::kTlsKeyWait);
      rte_pktmbuf_free(m);
    } else if (f.verdict == FlowVerdict::kBlock) {
      ++f.cold().dropped_packets;
      drop_pkt(m, f.block_reason, *out);
    } else {
      forward_pkt(f, dir, m, *out);
    }
  }
}

// The keys arrived (installed by tls_try_keys): the held bytes are decrypted and inspected in
// order; the packets whose bytes are all inspected are judged and leave.
void Pipeline::tls_resume(Flow& f, InspectCtx& ctx, TlsCtx& t, int64_t now_ns,
                          BurstOutput& out) noexcept {
  const unsigned di = t.wait_dir;
  const tls::Direction sd = tls_direction(di);
  for (uint32_t i = 0; i < t.held_n && !t.session.blocked(sd); ++i) {
    const TlsHeld& h = t.held_at(i);
    tls_feed(f, ctx, t, di, h.part[0], h.len[0], h.start);
    tls_feed(f, ctx, t, di, h.part[1], h.len[1], h.start + h.len[0]);
  }
  tls_conditions(f, ctx, t);
  const bool still = t.session.blocked(sd) && !t.lost[di];  // more keys needed (1.3: traffic)
  if (!still) {
    t.waiting = false;
    if (t.fin_pending[di]) {
      t.fin_pending[di] = false;
      tls_fin(f, ctx, static_cast<Direction>(di));
    }
  }
  reevaluate(f, now_ns);
  tls_release_held(f, t, still ? t.session.next_offset(sd) : UINT64_MAX, &out);
}

// The wait ends without the keys (deadline, full queue, flow end): the direction is opaque from
// here on and the policy decides what happens to it and to the held packets.
void Pipeline::tls_give_up(Flow& f, TlsCtx& t, int64_t now_ns, BurstOutput* out) noexcept {
  if (!t.waiting) return;
  t.waiting = false;
  t.lost[t.wait_dir] = true;
  if (t.outcome == TlsOutcome::kNone) t.outcome = TlsOutcome::kOpaque;
  const bool required =
      f.policy != nullptr && f.policy->tls_escrow() == policy::TlsEscrow::kRequired;
  f.flags |= required ? pflag::kTlsKeyMissing : pflag::kPayloadOpaque;
  reevaluate(f, now_ns);
  tls_release_held(f, t, UINT64_MAX, out);
}

// One waiting session, from the loop turn of ingress port `in_port`. True when its wait is over.
bool Pipeline::tls_poll_one(TlsCtx& t, uint16_t in_port, int64_t now_ns,
                            BurstOutput& out) noexcept {
  if (t.held_n > 0 && t.held_at(0).port != in_port) return false;  // leaves through another port
  if (out.n_fwd + t.held_n >= BurstOutput::kCapacity ||
      out.n_drop + t.held_n >= BurstOutput::kCapacity)
    return false;  // no room in this turn's output: the next turn
  Flow& f = flows_.slot(t.flow_slot);
  if (!f.in_use || f.cold().id != t.flow_id || f.inspect_ctx == kNoInspectCtx) return true;
  InspectCtx& ctx = pool_.at(f.inspect_ctx);
  cur_port_ = in_port;
  cur_now_ns_ = now_ns;
  if (f.verdict == FlowVerdict::kBlock) {
    t.waiting = false;
    tls_release_held(f, t, UINT64_MAX, &out);
  } else if (tls_try_keys(t, now_ns)) {
    tls_resume(f, ctx, t, now_ns, out);
  } else if (now_ns - t.wait_since_ns >= settings_.tls_key_wait_ns) {
    ++counters_.tls_key_wait_timeouts;
    tls_give_up(f, t, now_ns, &out);
  }
  if (t.waiting) return false;
  finish_if_closed(f, now_ns);  // a connection that closed while its bytes waited ends now
  return true;
}

void Pipeline::tls_poll(uint16_t in_port, int64_t now_ns, BurstOutput& out) noexcept {
  for (std::size_t i = 0; i < tls_waiting_.size();) {
    TlsCtx& t = tls_pool_->at(tls_waiting_[i]);
    if (!t.waiting || tls_poll_one(t, in_port, now_ns, out)) {
      tls_waiting_[i] = tls_waiting_.back();
      tls_waiting_.pop_back();
      continue;
    }
    ++i;
  }
}

// The flow ends: a wait still open ends without keys (its packets are dropped: they were never
// inspected), the plaintext layer is judged and closed, the keys of the connection are wiped.
void Pipeline::tls_end(Flow& f, InspectCtx& ctx, int64_t now_ns) noexcept {
  if (ctx.tls_ctx == kNoTlsCtx) return;
  TlsCtx& t = tls_pool_->at(ctx.tls_ctx);
  if (t.waiting) tls_give_up(f, t, now_ns, nullptr);
  if (inspect::Scratch* scratch = scratch_for(f); scratch != nullptr) {
    tls_scan_.bind(f, ctx, t, *scratch, decode_worker_.get());
    tls_scan_.close_all(f.verdict != FlowVerdict::kBlock);
    tls_scan_.unbind();
  }
  t.http.release();
  t.h2.release();
  if (t.outcome == TlsOutcome::kDecrypted) ++counters_.tls_decrypted;
  if (t.outcome == TlsOutcome::kOpaque) ++counters_.tls_opaque;
  if (key_store_ != nullptr && t.session.has_client_random())
    (void)key_store_->erase(t.session.client_random());
}

}  // namespace dc::dataplane
