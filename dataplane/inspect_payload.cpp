// Payload inspection of a flow's packets: TCP through the reorderer so the scanner sees every
// byte once, in order, before the packet carrying it leaves; TLS/HTTP metadata of the opener's
// stream; findings into the flow's tally. Worker thread; no allocation.
#include <rte_mbuf.h>

#include <bitset>

#include "dataplane/pipeline.hpp"
#include "dataplane/server_name.hpp"
#include "dataplane/stage_drops.hpp"

namespace dc::dataplane {

namespace pflag = policy::flag;

InspectCtx* Pipeline::ctx_of(Flow& f) noexcept {
  if (f.inspect_ctx != kNoInspectCtx) return &pool_.at(f.inspect_ctx);
  uint32_t idx = pool_.acquire();
  if (idx == InspectPool::kNone) return nullptr;
  f.inspect_ctx = idx;
  InspectCtx& ctx = pool_.at(idx);
  ctx.owner = f.slot;
  if (f.initiator.proto == inspect::kProtoTcp) {
    seed_streams(f, ctx);
    if (f.inspect_parked) resume_meta(ctx);
  }
  return &ctx;
}

void Pipeline::scan_bytes(Flow& f, InspectCtx& ctx, Direction dir, std::span<const uint8_t> bytes,
                          int64_t now_ns) noexcept {
  inspect::UrgentView v;
  v.part[0] = bytes;
  scan_view(f, ctx, dir, v, now_ns);
}

// Scans the parts of a view as one piece of stream (the receiver's bytes: an urgent byte between
// the parts is out of band), then judges values that end where the view ends.
void Pipeline::scan_view(Flow& f, InspectCtx& ctx, Direction dir, const inspect::UrgentView& v,
                         int64_t now_ns) noexcept {
  (void)now_ns;
  // TLS payload is scanned too: ciphertext yields no validated findings, and a fake ClientHello
  // must not switch inspection off for plaintext that follows it.
  if (v.part[0].empty() && v.part[1].empty()) return;
  if (f.engine == nullptr || f.engine->streams == nullptr) return;
  inspect::Scratch* scratch = scratch_for(f);
  unsigned di = static_cast<unsigned>(dir);
  if (ctx.stream[di] == nullptr) {
    ctx.stream[di] = f.engine->streams->acquire();
    if (ctx.stream[di] == nullptr) {
      f.flags |= pflag::kStreamUnavailable;
      return;
    }
  }
  findings_.attach(f, ctx,
                   dir == Direction::kForward ? f.cold().adm.forward_is_export()
                                              : f.cold().adm.reverse_is_export());
  for (const auto& part : v.part) {
    if (!part.empty() &&
        inspect::scan(*ctx.stream[di], *scratch, part, findings_) != inspect::ScanStatus::kOk)
      f.flags |= pflag::kScanError;
  }
  // A value that ends exactly at the end of these bytes waits for its boundary byte; the packet
  // is forwarded now, so judge it as if the stream ended here (fail closed, reported once).
  if (inspect::settle(*ctx.stream[di], *scratch, findings_) != inspect::ScanStatus::kOk)
    f.flags |= pflag::kScanError;
  findings_.clear();
}

// Ends direction `di`'s scan stream (FIN reached, or the flow ends): values at its very end are
// judged now.
void Pipeline::close_stream(Flow& f, InspectCtx& ctx, unsigned di) noexcept {
  inspect::Scratch* scratch = scratch_for(f);
  if (ctx.stream[di] == nullptr || scratch == nullptr) return;
  findings_.attach(f, ctx,
                   di == 0 ? f.cold().adm.forward_is_export() : f.cold().adm.reverse_is_export());
  (void)inspect::close(*ctx.stream[di], *scratch, findings_);
  findings_.clear();
}

// TLS ClientHello / HTTP request metadata of the opener -> responder stream. The SNI (TLS) or the
// Host (plaintext HTTP) completes admission of endpoints named by server name.
void Pipeline::meta_bytes(Flow& f, InspectCtx& ctx, std::span<const uint8_t> bytes,
                          int64_t now_ns) noexcept {
  if (ctx.meta_done || bytes.empty()) return;
  inspect::TlsStatus ts = ctx.tls.feed(bytes);
  inspect::HttpStatus hs = inspect::HttpStatus::kNotHttp;
  if (ts == inspect::TlsStatus::kNotTls) hs = ctx.http.feed(bytes);
  bool tls_done = ts != inspect::TlsStatus::kNeedMore;
  bool http_done = ts != inspect::TlsStatus::kNotTls || hs != inspect::HttpStatus::kNeedMore;
  if (!(tls_done && http_done)) return;
  ctx.meta_done = true;
  if (ctx.tls.complete()) {
    ctx.opaque = true;
    // With a decryption session the payload is opaque only if the keys never come (tls_hold.cpp).
    if (ctx.tls_ctx == kNoTlsCtx) f.flags |= pflag::kPayloadOpaque;
  }
  if (f.cold().adm.sni_pending && f.policy != nullptr) {
    // The SNI, or for plaintext HTTP the request's Host, completes admission (server_name.hpp).
    policy::FlowQuery q = flow_query(f.initiator, f.src_zone, f.dst_zone, now_ns);
    put_server_name(ctx, q);
    set_admission(f, f.policy->admit(q));
    settle_admission(f, now_ns);
  }
}

// A UDP/ICMP payload: scanned as one piece, judged, forwarded or dropped.
bool Pipeline::inspect_datagram(Flow& f, InspectCtx& ctx, Direction dir, const inspect::Decoded& d,
                                rte_mbuf* m, int64_t now_ns, BurstOutput& out) noexcept {
  const bool content =
      dir == Direction::kForward ? f.cold().adm.inspect_forward : f.cold().adm.inspect_reverse;
  const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
  if (content) scan_bytes(f, ctx, dir, {data + d.payload_offset, d.payload_len}, now_ns);
  reevaluate(f, now_ns);
  if (f.verdict == FlowVerdict::kBlock) {
    drop_pkt(m, f.block_reason, out);
    return false;
  }
  if (acct_holds(f, dir)) {  // its persons are being counted (accounting_flow.cpp)
    acct_hold(f, dir, m, out);
    return false;
  }
  return true;
}

// The reorderer did not release the segment in order. Returns what inspect_payload returns.
bool Pipeline::refuse_segment(Flow& f, InspectCtx& ctx, Direction dir, inspect::ReorderAction act,
                              rte_mbuf* m, int64_t now_ns, BurstOutput& out) noexcept {
  using A = inspect::ReorderAction;
  const unsigned di = static_cast<unsigned>(dir);
  switch (act) {
    case A::kQueued:
      ++counters_.held;
      return false;  // held: neither forwarded nor freed
    case A::kDuplicate:
      // A retransmission of bytes that wait for their TLS keys: the held original crosses.
      if (tls_waiting(f, dir)) {
        ++f.cold().dropped_packets;
        drop_pkt(m, DropReason::kTlsKeyWait, out);
        return false;
      }
      if (acct_holds(f, dir)) {  // the original waits for its persons' count
        ++f.cold().dropped_packets;
        drop_pkt(m, DropReason::kAccountingWait, out);
        return false;
      }
      return true;
    case A::kNoPayload:
      return true;
    case A::kEvasion: {
      f.flags |= pflag::kEvasion;
      inspect::Release flushed;
      inspect::Reorderer::flush(ctx.order[di], flushed);
      for (const auto& dl : flushed.deliveries())
        drop_pkt(static_cast<rte_mbuf*>(dl.pkt), DropReason::kStreamEvasion, out);
      // Evasion always blocks (docs/policy-reference.md); decide() records why.
      f.clear_sni_pending();
      apply_verdict(f, f.policy->decide(admission_of(f), tally_of(f), f.flags, now_ns), now_ns);
      break;
    }
    case A::kReset: {
      // Segments still queued behind an acceptable RST were never inspected.
      inspect::Release flushed;
      inspect::Reorderer::flush(ctx.order[di], flushed);
      for (const auto& dl : flushed.deliveries())
        drop_pkt(static_cast<rte_mbuf*>(dl.pkt), DropReason::kTcpOutOfWindow, out);
      return true;
    }
    default:
      // kQueueFull: TCP retransmits a dropped out-of-order segment; nothing uninspected leaves.
      break;
  }
  drop_pkt(m, drop_reason_of(act), out);
  return false;
}

// In order: scan every released segment (raw, decoded, decrypted), in order, then judge, then
// forward or drop them all; packets of a TLS direction waiting for its keys stay held (a suffix of
// the deliveries: once one waits, the later ones wait behind it).
void Pipeline::deliver(Flow& f, InspectCtx& ctx, Direction dir, const inspect::Release& rel,
                       const inspect::Decoded& d, rte_mbuf* m, int64_t now_ns,
                       BurstOutput& out) noexcept {
  const bool forward_dir = dir == Direction::kForward;
  const bool content = forward_dir ? f.cold().adm.inspect_forward : f.cold().adm.inspect_reverse;
  const unsigned di = static_cast<unsigned>(dir);
  const uint32_t base_seq = ctx.order[di].base_seq;
  // One in-order segment of a plaintext direction, nothing waiting for a name: its decoding may
  // wait until the burst's raw scans are done (defer_decode), the rest goes on at once.
  const bool may_defer = deferring_ && content && rel.count == 1 && !rel.fin &&
                         ctx.tls_ctx == kNoTlsCtx && ctx.name_wait_n == 0 && !f.sni_pending() &&
                         !cur_reassembled_;
  std::bitset<inspect::kReorderQueueCapacity + 1> held;  // waiting for TLS keys
  inspect::UrgentView v;
  for (std::size_t i = 0; i < rel.count; ++i) {
    const inspect::Delivery& dl = rel.items[i];
    // What the receiver reads: without a pending urgent byte, the bytes themselves.
    v = inspect::urgent_view(f.norm.side[di], base_seq + static_cast<uint32_t>(dl.stream_offset),
                             dl.scan);
    if (forward_dir) {  // SNI / Host of the opener's stream; a TLS session if escrow-eligible
      (void)tls_admit(f, ctx, v);
      meta_bytes(f, ctx, v.part[0], now_ns);
      meta_bytes(f, ctx, v.part[1], now_ns);
    }
    if (content) {
      scan_view(f, ctx, dir, v, now_ns);  // the raw bytes, always
      // and what HTTP framing and codings hide in them
      if (!may_defer) decode_view(f, ctx, dir, v);
    }
    // And what TLS hides, with escrowed keys (both directions: the session follows both).
    held[i] = tls_view(f, ctx, dir, v, static_cast<rte_mbuf*>(dl.pkt), now_ns, out);
  }
  if (may_defer) {
    // (tls_admit may have opened a TLS session for it meanwhile.)
    if (!held[0] && ctx.tls_ctx == kNoTlsCtx && decode_wanted(ctx)) {
      defer_decode({&f, &ctx, m, static_cast<rte_mbuf*>(rel.items[0].pkt), v, d, now_ns, dir}, out);
      return;
    }
    decode_view(f, ctx, dir, v);
  }
  if (rel.fin) {
    close_stream(f, ctx, static_cast<unsigned>(dir));
    if (content) decode_fin(f, ctx, dir);
    tls_fin(f, ctx, dir);
  }
  reevaluate(f, now_ns);
  // The name decided: what waited for it goes first (name_wait.cpp).
  if (ctx.name_wait_n > 0 && !f.cold().adm.sni_pending) end_name_wait(f, ctx, &out);
  const bool blocked = f.verdict == FlowVerdict::kBlock;
  if (blocked && held.any()) {  // nothing to wait for: the held packets are dropped now
    TlsCtx& t = tls_pool_->at(ctx.tls_ctx);
    t.waiting = false;
    tls_release_held(f, t, UINT64_MAX, &out);
  }
  for (std::size_t i = 0; i < rel.count; ++i) {
    if (held[i]) continue;
    auto* pm = static_cast<rte_mbuf*>(rel.items[i].pkt);  // counted in the flow when it arrived
    if (!blocked) {
      if (acct_holds(f, dir))
        acct_hold(f, dir, pm, out);  // its persons are being counted (accounting_flow.cpp)
      else
        forward_pkt(f, dir, pm, out);
    } else if (pm == m) {
      drop_blocked(f, d, pm, out);  // resets (if configured) from the packet that decided
    } else {
      drop_pkt(pm, f.block_reason, out);
      ++f.cold().dropped_packets;
    }
  }
}

// Inspected payload. Returns false when the packet was consumed (held, forwarded with released
// packets, or dropped) and needs no further handling.
bool Pipeline::inspect_payload(Flow& f, Direction dir, const inspect::Decoded& d, rte_mbuf* m,
                               int64_t now_ns, BurstOutput& out) noexcept {
  const bool forward_dir = dir == Direction::kForward;
  if (!f.inspects(dir) && !(forward_dir && f.sni_pending())) return true;
  // Nothing to inspect yet (SYN, SYN-ACK, bare ACKs): no context is taken for it. A FIN takes
  // one, so that the reorderer knows where the stream ends.
  if (d.payload_len == 0 &&
      (d.proto != inspect::kProtoTcp ||
       (f.inspect_ctx == kNoInspectCtx && (d.tcp_flags & inspect::tcpflag::kFin) == 0)))
    return true;
  if (cur_reassembled_ && !f.policy->reassemble_fragments()) {
    // [defaults] fragments = "block": a fragmented datagram of an inspected flow blocks the flow
    // (its record says why) instead of being inspected.
    f.flags |= pflag::kFragmented;
    f.clear_sni_pending();
    apply_verdict(f, f.policy->decide(admission_of(f), tally_of(f), f.flags, now_ns), now_ns);
    drop_pkt(m, DropReason::kFragmentUninspected, out);
    return false;
  }
  if (f.decode_deferred) settle_deferred(out);  // the flow's earlier segment first
  InspectCtx* ctx = ctx_of(f);
  if (ctx == nullptr) {
    f.flags |= pflag::kStreamUnavailable;
    reevaluate(f, now_ns);
    if (f.verdict != FlowVerdict::kBlock) return true;  // the policy chose fail-open
    drop_pkt(m, f.block_reason, out);
    return false;
  }
  if (d.proto != inspect::kProtoTcp) return inspect_datagram(f, *ctx, dir, d, m, now_ns, out);
  const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
  inspect::Release rel;
  inspect::ReorderAction act =
      reorderer_.on_segment(ctx->order[static_cast<unsigned>(dir)], d.tcp_seq, d.tcp_flags,
                            {data + d.payload_offset, d.payload_len}, m, rel);
  if (act != inspect::ReorderAction::kInOrder)
    return refuse_segment(f, *ctx, dir, act, m, now_ns, out);
  deliver(f, *ctx, dir, rel, d, m, now_ns, out);
  return false;
}

}  // namespace dc::dataplane
