// Inspection contexts of idle flows go back to the worker's pool (Pipeline::park_idle) and are
// taken again, re-created fail-closed, when the flow resumes. Worker thread; no allocation.
#include <algorithm>

#include "dataplane/pipeline.hpp"

namespace dc::dataplane {

// Where each TCP direction's stream starts when the context is taken after the handshake:
// at ISN + 1 of the side's SYN (RFC 9293 §3.4), as the reorderer would have started at the SYN
// itself. A parked flow resumes at what the receiver acknowledged (every byte before it was
// inspected with the earlier context) as a mid-stream pickup: a retransmission of older bytes
// is refused (kUnverifiableRetransmission), never forwarded unseen. Without either (a side first
// seen mid-stream), the reorderer picks the stream up at the next segment it is given.
void Pipeline::seed_streams(const Flow& f, InspectCtx& ctx) const noexcept {
  for (unsigned di = 0; di < 2; ++di) {
    const inspect::TcpSender& snd = f.norm.side[di];
    const inspect::TcpSender& rcv = f.norm.side[di ^ 1];
    inspect::DirState& st = ctx.order[di];
    if (snd.syn_seen && !f.inspect_parked) {
      st.started = st.from_syn = true;
      st.base_seq = snd.isn + 1;
    } else if (f.inspect_parked && rcv.acked) {
      st.started = true;
      st.from_syn = false;
      st.base_seq = rcv.ack;
    }
  }
}

// A TCP stream is parked only when it was neither TLS nor HTTP/1.x (parkable): its parsers are
// brought back to saying so (their first byte decides it), its decoding layer stays off.
void Pipeline::resume_meta(InspectCtx& ctx) noexcept {
  static constexpr uint8_t kNotAProtocol[1] = {0};
  (void)ctx.tls.feed(kNotAProtocol);
  (void)ctx.http.feed(kNotAProtocol);
  ctx.meta_done = true;
  ctx.decode_off = true;
  ctx.tls_tried = true;
}

// Nothing in the context is needed again: no packet waits in it, nothing of it goes into the
// flow's record or names its server (a fresh context after resume_meta gives the same record),
// no TLS session, no accounting in flight, the stream is open both ways.
bool Pipeline::parkable(const Flow& f, const InspectCtx& c) const noexcept {
  if (f.reported || f.finished || f.verdict == FlowVerdict::kBlock || f.held > 0 ||
      !f.open_durable || f.cold().adm.sni_pending)
    return false;
  if (f.acct.claimed || f.acct.pending > 0 || f.acct.held > 0) return false;
  if (c.findings != 0 || c.samples_n != 0 || c.http_anomaly != nullptr || c.uninspected != nullptr)
    return false;
  if (c.name_wait_n != 0 || c.tls_ctx != kNoTlsCtx || c.opaque) return false;
  for (const inspect::DirState& o : c.order) {
    if (o.queued != 0 || o.has_fin || o.reset || o.poisoned) return false;
  }
  if (f.initiator.proto != inspect::kProtoTcp) return !c.meta_done;  // parsers never fed
  return f.tcp == TcpState::kEstablished && c.meta_done && c.decode_off &&
         c.tls.status() == inspect::TlsStatus::kNotTls &&
         c.http.status() == inspect::HttpStatus::kNotHttp && c.tls.sni().empty() &&
         c.http.host().empty() && c.http.method().empty();
}

void Pipeline::park(Flow& f) noexcept {
  InspectCtx& c = pool_.at(f.inspect_ctx);
  // Values that end where the bytes so far end were judged when their packet crossed
  // (scan_view settles every delivery); the scanner streams go back to the flow's engine.
  if (f.engine != nullptr && f.engine->streams != nullptr) {
    for (inspect::Stream*& s : c.stream) {
      if (s != nullptr) f.engine->streams->release(s);
      s = nullptr;
    }
    for (auto& lane : c.decoded) {
      for (inspect::Stream*& s : lane) {
        if (s != nullptr) f.engine->streams->release(s);
        s = nullptr;
      }
    }
  }
  c.http_decode.release();
  pool_.release(f.inspect_ctx);
  f.inspect_ctx = kNoInspectCtx;
  f.inspect_parked = true;
  ++counters_.inspect_parked;
}

// At most expiry_budget contexts per expiry round (once per kExpiryTickNs), round robin over the
// pool: one read of the context's owner and of its flow's last packet time each.
void Pipeline::park_idle(int64_t now_ns) noexcept {
  const int64_t idle = settings_.inspect_idle_ns;
  const uint32_t cap = pool_.capacity();
  if (idle <= 0 || cap == 0) return;
  const uint32_t budget = std::min(cap, settings_.expiry_budget);
  for (uint32_t i = 0; i < budget; ++i) {
    const uint32_t c = park_cursor_;
    park_cursor_ = park_cursor_ + 1 == cap ? 0 : park_cursor_ + 1;
    if (!pool_.used(c)) continue;
    Flow& f = flows_.slot(pool_.at(c).owner);
    if (!f.in_use || f.inspect_ctx != c || now_ns - f.last_seen_ns < idle) continue;
    if (parkable(f, pool_.at(c))) park(f);
  }
}

}  // namespace dc::dataplane
