// TLS with escrowed keys in the per-packet path: the opener's ClientHello on an escrow-eligible
// border flow ([defaults] tls_escrow) takes a Session from the worker's pool; both directions'
// in-order bytes (after the reorderer and the urgent view) feed it, and what it decrypts is
// scanned and decoded (dataplane/tls_scan.cpp). Keys come from the worker's KeyStore, filled from
// the intake's hand-off ring (take_keys) or by replay (add_key). Waiting for keys: tls_hold.cpp.
// Worker thread; no allocation.
#include <rte_mbuf.h>

#include "dataplane/pipeline.hpp"

namespace dc::dataplane {

namespace pflag = policy::flag;
namespace tls = inspect::tls;

namespace {
constexpr uint32_t kKeyBatch = 32;
}  // namespace

void Pipeline::take_keys(int64_t now_ns) noexcept {
  if (key_store_ == nullptr || settings_.keys == nullptr) return;
  if (worker_id_ >= settings_.keys->workers()) return;
  KeyLine batch[kKeyBatch];
  const unsigned n = settings_.keys->drain(worker_id_, batch, kKeyBatch);
  for (unsigned i = 0; i < n; ++i) {
    (void)add_key(batch[i].entry, now_ns);
    wipe_key_line(batch[i]);
  }
}

tls::KeyStoreStatus Pipeline::add_key(const tls::KeyLogEntry& e, int64_t now_ns) noexcept {
  if (key_store_ == nullptr) return tls::KeyStoreStatus::kFull;
  const tls::KeyStoreStatus st = key_store_->insert(e, static_cast<uint64_t>(now_ns));
  if (st == tls::KeyStoreStatus::kFull)
    ++counters_.tls_keys_dropped;
  else if (st != tls::KeyStoreStatus::kIgnored)
    ++counters_.tls_keys_stored;
  return st;
}

// The exported direction of an escrow-eligible flow waits for keys; the other one never does
// (its peer would wait for it: the server's encrypted flight carries the ServerHello's segment).
bool Pipeline::tls_holds(const Flow& f, unsigned di) const noexcept {
  if (f.policy == nullptr || f.policy->tls_escrow() == policy::TlsEscrow::kOff) return false;
  const bool exported =
      di == 0 ? f.cold().adm.forward_is_export() : f.cold().adm.reverse_is_export();
  const bool content = di == 0 ? f.cold().adm.inspect_forward : f.cold().adm.inspect_reverse;
  return exported && content;
}

// The first bytes of the opener's stream: a TLS handshake record on an escrow-eligible border
// flow takes a session (once per flow). An exhausted pool is stream_unavailable (fail closed
// unless [defaults.on_failure] says open), counted as tls_sessions_exhausted.
TlsCtx* Pipeline::tls_admit(Flow& f, InspectCtx& ctx, const inspect::UrgentView& v) noexcept {
  if (ctx.tls_ctx != kNoTlsCtx) return &tls_pool_->at(ctx.tls_ctx);
  const std::span<const uint8_t> b = v.part[0].empty() ? v.part[1] : v.part[0];
  if (ctx.tls_tried || b.empty()) return nullptr;
  ctx.tls_tried = true;
  if (b[0] != 0x16 || f.policy == nullptr || !f.cold().adm.border)
    return nullptr;  // not a handshake
  if (f.policy->tls_escrow() == policy::TlsEscrow::kOff) return nullptr;
  if (!f.cold().adm.inspect_forward && !f.cold().adm.inspect_reverse) return nullptr;
  const uint32_t idx = tls_pool_ != nullptr ? tls_pool_->acquire() : kNoTlsCtx;
  if (idx == kNoTlsCtx) {
    ++counters_.tls_sessions_exhausted;
    f.flags |= pflag::kStreamUnavailable;
    return nullptr;
  }
  ctx.tls_ctx = idx;
  TlsCtx& t = tls_pool_->at(idx);
  t.flow_slot = f.slot;
  t.flow_id = f.cold().id;
  t.lost[1] = ctx.order[1].next > 0;  // the responder spoke first: not a TLS stream we can follow
  return &t;
}

// Feeds the bytes at session offset `start` of direction `di`, skipping what the session
// consumed already (a resumed direction restarts at next_offset, inside a held packet).
void Pipeline::tls_feed(Flow& f, InspectCtx& ctx, TlsCtx& t, unsigned di, const uint8_t* p,
                        uint32_t len, uint64_t start) noexcept {
  const tls::Direction sd = tls_direction(di);
  if (len == 0 || t.lost[di] || t.session.blocked(sd)) return;
  const uint64_t at = t.session.next_offset(sd);
  if (at >= start + len) return;
  const uint64_t skip = at > start ? at - start : 0;
  inspect::Scratch* scratch = scratch_for(f);
  if (scratch != nullptr) tls_scan_.bind(f, ctx, t, *scratch, decode_worker_.get());
  (void)t.session.feed(sd, {p + skip, len - skip}, tls_scan_);
  tls_scan_.unbind();
}

// Installs the keys the store has for this connection when some are new. True: installed.
bool Pipeline::tls_try_keys(TlsCtx& t, int64_t now_ns) noexcept {
  if (key_store_ == nullptr || !t.session.has_client_random()) return false;
  const tls::KeySet* ks = key_store_->lookup(t.session.client_random(), uint64_t(now_ns));
  if (ks == nullptr || (ks->present & ~t.keys_present) == 0) return false;
  t.keys_present |= ks->present;
  return t.session.install_keys(*ks);
}

// Named conditions of the session: an authentication failure with an escrowed key is
// tls_auth_failure; a direction the session cannot follow (unsupported suite or version,
// malformed records) is opaque from there on when it is the exported one.
void Pipeline::tls_conditions(Flow& f, InspectCtx& ctx, TlsCtx& t) noexcept {
  for (unsigned di = 0; di < 2; ++di) {
    const tls::Condition c = t.session.condition(tls_direction(di));
    if (c == tls::Condition::kNone || c == tls::Condition::kNoKey || t.lost[di]) continue;
    t.lost[di] = true;
    if (c == tls::Condition::kAuthFailure) {
      if ((f.flags & pflag::kTlsAuthFailure) == 0) ++counters_.tls_auth_failures;
      f.flags |= pflag::kTlsAuthFailure;
      t.outcome = TlsOutcome::kAuthFailed;
    } else if (tls_holds(f, di) && ctx.tls.complete()) {
      f.flags |= pflag::kPayloadOpaque;
      if (t.outcome == TlsOutcome::kNone) t.outcome = TlsOutcome::kOpaque;
    }
  }
}

// One in-order delivery of a TLS flow. True when the packet now waits for keys (held: the caller
// neither forwards nor frees it).
bool Pipeline::tls_view(Flow& f, InspectCtx& ctx, Direction dir, const inspect::UrgentView& v,
                        rte_mbuf* m, int64_t now_ns, BurstOutput& out) noexcept {
  if (ctx.tls_ctx == kNoTlsCtx) return false;
  TlsCtx& t = tls_pool_->at(ctx.tls_ctx);
  const unsigned di = static_cast<unsigned>(dir);
  if (t.lost[di]) return false;
  const TlsHeld h{
      m,
      {v.part[0].data(), v.part[1].data()},
      {static_cast<uint32_t>(v.part[0].size()), static_cast<uint32_t>(v.part[1].size())},
      t.fed[di],
      cur_port_};
  t.fed[di] += h.bytes();
  if (t.waiting && t.wait_dir == di) {  // behind packets that wait already
    if (t.push_held(h)) {
      ++counters_.tls_key_held;
      return true;
    }
    ++counters_.tls_hold_full;  // bounded: the wait ends now, as at its deadline
    tls_give_up(f, t, now_ns, &out);
    return false;
  }
  for (int pass = 0; pass < 2; ++pass) {
    tls_feed(f, ctx, t, di, h.part[0], h.len[0], h.start);
    tls_feed(f, ctx, t, di, h.part[1], h.len[1], h.start + h.len[0]);
    if (pass == 1 || !t.session.blocked(tls_direction(di)) || !tls_try_keys(t, now_ns)) break;
  }
  tls_conditions(f, ctx, t);
  if (!t.session.blocked(tls_direction(di)) || t.lost[di]) return false;
  if (!tls_holds(f, di)) {
    t.lost[di] = true;  // not exported: its bytes cross undecrypted
    return false;
  }
  tls_start_wait(t, ctx.tls_ctx, di, now_ns);
  (void)t.push_held(h);  // the queue is empty: never full
  ++counters_.tls_key_held;
  return true;
}

// The direction's FIN: the HTTP layer over its plaintext finishes (after the resume, when its
// last bytes still wait for keys).
void Pipeline::tls_fin(Flow& f, InspectCtx& ctx, Direction dir) noexcept {
  if (ctx.tls_ctx == kNoTlsCtx) return;
  TlsCtx& t = tls_pool_->at(ctx.tls_ctx);
  const unsigned di = static_cast<unsigned>(dir);
  if (t.waiting && t.wait_dir == di) {
    t.fin_pending[di] = true;
    return;
  }
  inspect::Scratch* scratch = scratch_for(f);
  if (scratch == nullptr) return;
  tls_scan_.bind(f, ctx, t, *scratch, decode_worker_.get());
  tls_scan_.finish(di);
  tls_scan_.unbind();
}

}  // namespace dc::dataplane
