// The HTTP decoding layer in the per-packet path: each inspected direction's in-order bytes go
// through the flow's HttpFlowDecoder (client side = opener -> responder) and the decoded bytes
// are scanned and settled before the segment that carried them is forwarded; the raw bytes are
// scanned as well (inspect_payload.cpp). Worker thread; no allocation.
#include "dataplane/pipeline.hpp"

namespace dc::dataplane {

namespace dec = inspect::decoding;

// Decoding is switched on unless the opener's stream is TLS, HTTP/2 with prior knowledge or not
// HTTP/1.x at all (the sniffer's verdict; the decoder also gives up by itself on non-HTTP bytes).
bool Pipeline::decode_wanted(const InspectCtx& ctx) const noexcept {
  if (decode_worker_ == nullptr || ctx.decode_off || ctx.opaque) return false;
  const inspect::TlsStatus ts = ctx.tls.status();
  if (ts != inspect::TlsStatus::kNotTls && ts != inspect::TlsStatus::kNeedMore) return false;
  const inspect::HttpStatus hs = ctx.http.status();
  return hs != inspect::HttpStatus::kNotHttp && hs != inspect::HttpStatus::kHttp2Preface;
}

void Pipeline::decode_view(Flow& f, InspectCtx& ctx, Direction dir,
                           const inspect::UrgentView& v) noexcept {
  if (!decode_wanted(ctx)) {
    ctx.decode_off = true;  // once off, off for the flow (its decoder saw an unknown prefix)
    return;
  }
  if (v.part[0].empty() && v.part[1].empty()) return;
  inspect::Scratch* scratch = scratch_for(f);
  if (scratch == nullptr || f.engine->streams == nullptr) return;
  const unsigned di = static_cast<unsigned>(dir);
  const dec::FlowSide side =
      dir == Direction::kForward ? dec::FlowSide::kClient : dec::FlowSide::kServer;
  decoded_scan_.bind(f, ctx, di, *scratch,
                     di == 0 ? f.cold().adm.forward_is_export() : f.cold().adm.reverse_is_export());
  for (const auto& part : v.part) {
    if (!part.empty()) ctx.http_decode.feed(side, part, *decode_worker_, decoded_scan_);
  }
  decoded_scan_.settle();  // the segment is forwarded after this: judge what it carried
  decoded_scan_.unbind();
}

// Decoding after the burst's raw scans. Run between the Hyperscan scans of every segment, the
// layer's own work costs ~1.6x what it costs run alone (the scanner's code and tables and the
// layer's evict each other; docs/performance.md "Decoding layer"), so an in-order segment of a
// plaintext direction is scanned raw at once and decoded, judged and forwarded or dropped after
// the burst's other packets were scanned raw. Per flow nothing changes order: the flow's next
// packet in the burst settles its waiting segment first (process_one), so a flow sees the same
// scans, decisions and forwarding, in the same order, as without the wait; only packets of
// different flows leave in another order.
void Pipeline::defer_decode(const DeferredSegment& s, BurstOutput& out) noexcept {
  // Packets released from earlier bursts within this one may add to the burst's own.
  if (n_deferred_ == kMaxDeferred) settle_deferred(out);
  s.f->decode_deferred = true;
  deferred_[n_deferred_++] = s;
}

// The segment's bytes, scanned raw earlier in the burst (up to 255 segments of other flows since):
// loaded while the segment before it is decoded. Through the whole appliance ~0.5 % less CPU
// with the layer active (-0.2 to 1.7 % in seven A/B sets, docs/performance.md "Session 13");
// prefetching the flow's decoder state too, or packing its hot members, gained nothing.
void Pipeline::prefetch_payload(const DeferredSegment& s) noexcept {
  for (const auto& part : s.v.part) {
    for (std::size_t k = 0; k < part.size(); k += 64) __builtin_prefetch(part.data() + k);
  }
}

// What deliver() does after the scans, for one released segment without FIN, TLS or name waits.
void Pipeline::settle_deferred(BurstOutput& out) noexcept {
  // Every waiting segment is decoded first, back to back, then each flow is judged (a flow has
  // one segment here at most, so its decisions still follow its own decoding).
  for (uint16_t i = 0; i < n_deferred_; ++i) {
    if (i + 1 < n_deferred_) prefetch_payload(deferred_[i + 1]);
    const DeferredSegment& s = deferred_[i];
    decode_view(*s.f, *s.ctx, s.dir, s.v);
  }
  for (uint16_t i = 0; i < n_deferred_; ++i) {
    const DeferredSegment& s = deferred_[i];
    Flow& f = *s.f;
    f.decode_deferred = false;
    reevaluate(f, s.now_ns);
    if (f.verdict != FlowVerdict::kBlock) {
      if (acct_holds(f, s.dir))
        acct_hold(f, s.dir, s.pm, out);  // its persons are being counted (accounting_flow.cpp)
      else
        forward_pkt(f, s.dir, s.pm, out);
    } else if (s.pm == s.m) {
      drop_blocked(f, s.d, s.pm, out);  // resets (if configured) from the packet that decided
    } else {
      drop_pkt(s.pm, f.block_reason, out);
      ++f.cold().dropped_packets;
    }
    finish_if_closed(f, s.now_ns);
  }
  n_deferred_ = 0;
}

// The direction's FIN: a body delimited by the close ends; its decoded streams are judged.
void Pipeline::decode_fin(Flow& f, InspectCtx& ctx, Direction dir) noexcept {
  if (decode_worker_ == nullptr || ctx.decode_off) return;
  inspect::Scratch* scratch = scratch_for(f);
  if (scratch == nullptr || f.engine->streams == nullptr) return;
  const unsigned di = static_cast<unsigned>(dir);
  decoded_scan_.bind(f, ctx, di, *scratch,
                     di == 0 ? f.cold().adm.forward_is_export() : f.cold().adm.reverse_is_export());
  ctx.http_decode.finish(di == 0 ? dec::FlowSide::kClient : dec::FlowSide::kServer, *decode_worker_,
                         decoded_scan_);
  decoded_scan_.close_all(true);
  decoded_scan_.unbind();
}

// The flow ends: decoded streams are judged (unless the flow is blocked already) and returned,
// and the decoder's codec memory goes back to the worker's arena.
void Pipeline::end_decoding(Flow& f, InspectCtx& ctx) noexcept {
  inspect::Scratch* scratch = scratch_for(f);
  if (scratch != nullptr && f.engine->streams != nullptr) {
    for (unsigned di = 0; di < 2; ++di) {
      decoded_scan_.bind(
          f, ctx, di, *scratch,
          di == 0 ? f.cold().adm.forward_is_export() : f.cold().adm.reverse_is_export());
      decoded_scan_.close_all(f.verdict != FlowVerdict::kBlock);
      decoded_scan_.unbind();
    }
  }
  ctx.http_decode.release();
}

}  // namespace dc::dataplane
