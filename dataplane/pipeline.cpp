#include "dataplane/pipeline.hpp"

#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>
#include <span>

#include "base/time.hpp"

namespace dc::dataplane {

using inspect::DropReason;
namespace pflag = policy::flag;

static inline void forward_pkt(rte_mbuf* m, BurstOutput& out, WorkerCounters& c) noexcept;

// Routes scanner findings of the flow being scanned into its category tally.
class Pipeline::Sink final : public inspect::FindingSink {
 public:
  Flow* flow = nullptr;
  InspectCtx* ctx = nullptr;
  bool is_export = false;
  WorkerCounters* counters = nullptr;

  void on_finding(const inspect::Finding& f) noexcept override {
    if (flow == nullptr || ctx == nullptr) return;
    ++counters->findings;
    ++ctx->findings;
    // Only bytes that leave for the foreign end count towards an export verdict.
    if (!is_export || flow->policy == nullptr) return;
    flow->policy->add_finding(flow->tally, f.detector, f.confidence);
    if (ctx->samples_n < kMaxSamples) {
      FindingSample& s = ctx->samples[ctx->samples_n++];
      s.detector = f.detector;
      s.confidence = static_cast<uint8_t>(f.confidence);
      std::memcpy(s.masked, f.masked, sizeof s.masked);
      s.value_len = std::min<uint8_t>(f.value_len, sizeof s.value);
      std::memcpy(s.value, f.value, s.value_len);
    }
  }
};

Pipeline::Pipeline(uint16_t worker_id, FlowTable& flows, const PipelineSettings& settings,
                   WorkerCounters& counters, FlowEventSink* sink)
    : worker_id_(worker_id),
      flows_(flows),
      settings_(settings),
      counters_(counters),
      sink_(sink),
      reorderer_(settings.reorder),
      pool_(settings.policy != nullptr || settings.epoch != nullptr ? settings.inspect_flows : 0),
      finding_sink_(std::make_unique<Sink>()),
      frags_(std::make_unique<FragEntry[]>(kFragEntries)) {
  finding_sink_->counters = &counters_;
}

Pipeline::FragEntry* Pipeline::frag_lookup(const inspect::Decoded& d) noexcept {
  uint32_t h = d.frag_id * 2654435761u;
  for (int i = 12; i < 16; ++i) h = (h ^ d.src.bytes[i] ^ (d.dst.bytes[i] << 8)) * 16777619u;
  return &frags_[(h ^ d.proto) & (kFragEntries - 1)];
}

// A fragment without an L4 header follows its datagram's first fragment: forwarded only when
// that fragment's flow is forwarded and not inspected; otherwise dropped (never uninspected
// bytes). Returns true when handled.
bool Pipeline::non_first_fragment(const inspect::Decoded& d, rte_mbuf* m, int64_t now_ns,
                                  BurstOutput& out) noexcept {
  FragEntry* e = frag_lookup(d);
  const bool known = e->seen_ns != 0 && now_ns - e->seen_ns < 30'000'000'000LL &&
                     e->ip_id == d.frag_id && e->proto == d.proto && e->src == d.src &&
                     e->dst == d.dst;
  Flow* f = nullptr;
  if (known) {
    Direction dir;
    f = flows_.lookup(flows_.slot(e->slot).initiator, dir);
    if (f != nullptr && f->id != e->flow_id) f = nullptr;
  }
  if (f == nullptr) {
    drop_pkt(m, DropReason::kFragmentUninspected, out);
    return true;
  }
  Direction dir = static_cast<Direction>(e->dir);
  flows_.on_packet(*f, dir, 0, rte_pktmbuf_pkt_len(m), now_ns);
  const bool inspected =
      dir == Direction::kForward ? f->adm.inspect_forward : f->adm.inspect_reverse;
  if (f->verdict == FlowVerdict::kBlock || (f->policy != nullptr && inspected)) {
    ++f->dropped_packets;
    drop_pkt(m,
             f->verdict == FlowVerdict::kBlock ? f->block_reason : DropReason::kFragmentUninspected,
             out);
    return true;
  }
  forward_pkt(m, out, counters_);
  return true;
}

Pipeline::~Pipeline() = default;

Result<std::unique_ptr<Pipeline>> Pipeline::create(uint16_t worker_id, FlowTable& flows,
                                                   const PipelineSettings& settings,
                                                   WorkerCounters& counters, FlowEventSink* sink) {
  std::unique_ptr<Pipeline> p(new Pipeline(worker_id, flows, settings, counters, sink));
  p->port_zone_ = settings.port_zone;
  p->port_peer_zone_ = settings.port_peer_zone;
  if (settings.epoch != nullptr) {
    const PolicyEpoch* e = settings.epoch->load(std::memory_order_acquire);
    if (e == nullptr || worker_id >= e->engines.size())
      return make_error("no policy generation published for worker " + std::to_string(worker_id));
    p->adopt(e);
  } else if (settings.policy != nullptr) {
    auto e = InspectEngine::create(*settings.policy, settings.inspect_flows);
    if (!e) return e.error();
    p->own_engine_ = std::move(e.value());
    p->engine_ = p->own_engine_.get();
    p->snap_ = settings.policy;
  }
  return p;
}

void Pipeline::adopt(const PolicyEpoch* e) noexcept {
  epoch_seen_ = e;
  generation_ = e->generation;
  snap_ = e->snapshot.get();
  engine_ = e->engines[worker_id_].get();
  port_zone_ = e->port_zone;
  port_peer_zone_ = e->port_peer_zone;
}

inspect::Scratch* Pipeline::scratch_for(Flow& f) noexcept {
  if (f.engine == nullptr || f.engine->scratch == nullptr) return nullptr;
  f.engine->scratch->set_today(today_);
  return f.engine->scratch.get();
}

void Pipeline::set_today(int64_t now_ns) noexcept {
  // UTC+8: the birth dates in PRC identity numbers are local dates. The cache key is the local
  // day, so the date turns at local midnight (16:00 UTC), not at UTC midnight.
  constexpr int64_t kOffsetNs = int64_t{base::kChinaOffsetMinutes} * 60 * base::kNsPerSec;
  int64_t days = (now_ns + kOffsetNs) / base::kNsPerDay;
  if (days == today_day_) return;
  today_day_ = days;
  today_ = base::civil_date_at(now_ns, base::kChinaOffsetMinutes);
}

void Pipeline::refresh_epoch() noexcept {
  if (settings_.epoch == nullptr) return;
  const PolicyEpoch* e = settings_.epoch->load(std::memory_order_acquire);
  if (e != epoch_seen_ && e != nullptr) adopt(e);
}

// A flow holds its engine's count from admission until its record is out (the reloader frees a
// generation's engines only when no flow is bound to them).
void Pipeline::bind_engine(Flow& f, InspectEngine* e) noexcept {
  if (f.engine == e) return;
  if (f.engine != nullptr) f.engine->flow_unbound();
  f.engine = e;
  if (e != nullptr) e->flow_bound();
}

void Pipeline::process(uint16_t in_port, rte_mbuf* const* pkts, uint16_t n, int64_t now_ns,
                       BurstOutput& out) noexcept {
  ++counters_.bursts;
  refresh_epoch();  // a newly published policy generation applies from this burst on
  set_today(now_ns);
  auto& pc = counters_.port[in_port <= kMaxPorts ? in_port : kMaxPorts];
  for (uint16_t i = 0; i < n; ++i) {
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    pc.rx_packets++;
    pc.rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
    process_one(in_port, pkts[i], now_ns, out);
  }
}

// A bare RST for the connection of the packet described by `d` (RFC 9293 §3.10.7.1/§3.5.2):
//  - to the packet's sender, out of the ingress port: seq = SEG.ACK (its RCV.NXT), or for a
//    segment without ACK seq 0 with ACK = SEG.SEQ + SEG.LEN;
//  - to the packet's receiver, on towards the paired port: seq = SEG.SEQ, which is exactly the
//    receiver's RCV.NXT since this segment was dropped (RFC 5961 §3.2 accepts it).
// The layer-2 header (with any VLAN tags) is copied from the packet, MACs swapped for the sender.
// Allocates one mbuf from the TX pool (no heap); nullptr when the pool is empty.
rte_mbuf* Pipeline::make_rst(const uint8_t* frame, const inspect::Decoded& d,
                             bool to_sender) noexcept {
  rte_mbuf* r = rte_pktmbuf_alloc(settings_.tx_pool);
  if (r == nullptr) return nullptr;
  const bool v4 = d.ip_version == 4;
  const uint16_t l2 = d.l3_offset, l3 = v4 ? 20 : 40;
  const uint16_t len = static_cast<uint16_t>(l2 + l3 + 20);
  uint8_t* p = rte_pktmbuf_mtod(r, uint8_t*);
  std::memcpy(p, frame, l2);
  if (to_sender) {
    uint8_t mac[6];
    std::memcpy(mac, p, 6);
    std::memcpy(p, p + 6, 6);
    std::memcpy(p + 6, mac, 6);
  }
  const inspect::IpAddr& src = to_sender ? d.dst : d.src;
  const inspect::IpAddr& dst = to_sender ? d.src : d.dst;
  uint8_t* ip = p + l2;
  std::memset(ip, 0, l3 + 20);
  auto put16 = [](uint8_t* q, uint16_t v) {
    q[0] = static_cast<uint8_t>(v >> 8);
    q[1] = static_cast<uint8_t>(v);
  };
  auto put32 = [&](uint8_t* q, uint32_t v) {
    put16(q, static_cast<uint16_t>(v >> 16));
    put16(q + 2, static_cast<uint16_t>(v));
  };
  uint32_t sum = 0;
  auto add = [&](const uint8_t* q, size_t n) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += (q[i] << 8) | q[i + 1];
  };
  if (v4) {
    ip[0] = 0x45;
    put16(ip + 2, 40);
    ip[6] = 0x40;  // DF
    ip[8] = 64;
    ip[9] = inspect::kProtoTcp;
    std::memcpy(ip + 12, src.bytes.data() + 12, 4);
    std::memcpy(ip + 16, dst.bytes.data() + 12, 4);
    uint32_t h = 0;
    for (int i = 0; i < 20; i += 2) h += (ip[i] << 8) | ip[i + 1];
    while (h >> 16) h = (h & 0xffff) + (h >> 16);
    put16(ip + 10, static_cast<uint16_t>(~h));
    add(ip + 12, 8);
  } else {
    ip[0] = 0x60;
    put16(ip + 4, 20);
    ip[6] = inspect::kProtoTcp;
    ip[7] = 64;
    std::memcpy(ip + 8, src.bytes.data(), 16);
    std::memcpy(ip + 24, dst.bytes.data(), 16);
    add(ip + 8, 32);
  }
  uint8_t* tcp = ip + l3;
  put16(tcp, to_sender ? d.dport : d.sport);
  put16(tcp + 2, to_sender ? d.sport : d.dport);
  using namespace inspect::tcpflag;
  uint8_t flags = kRst;
  if (to_sender) {
    if (d.tcp_flags & kAck) {
      put32(tcp + 4, d.tcp_ack);
    } else {
      uint32_t seg_len =
          d.payload_len + ((d.tcp_flags & kSyn) ? 1 : 0) + ((d.tcp_flags & kFin) ? 1 : 0);
      put32(tcp + 8, d.tcp_seq + seg_len);
      flags |= kAck;
    }
  } else {
    put32(tcp + 4, d.tcp_seq);
    if (d.tcp_flags & kAck) {
      put32(tcp + 8, d.tcp_ack);
      flags |= kAck;
    }
  }
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  sum += inspect::kProtoTcp + 20;
  add(tcp, 20);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  put16(tcp + 16, static_cast<uint16_t>(~sum));
  r->data_len = len;
  r->pkt_len = len;
  return r;
}

void Pipeline::drop_blocked(Flow& f, const inspect::Decoded& d, rte_mbuf* m,
                            BurstOutput& out) noexcept {
  ++f.dropped_packets;
  using namespace inspect::tcpflag;
  if (settings_.reset_on_block && settings_.tx_pool != nullptr && !f.reset_sent &&
      d.proto == inspect::kProtoTcp && !(d.tcp_flags & kRst) && out.n_back < 256) {
    f.reset_sent = true;
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    if (rte_mbuf* r = make_rst(frame, d, true)) {
      out.back[out.n_back++] = r;
      ++counters_.resets_sent;
    }
    // A SYN dropped here never reached the receiver: there is nothing to reset on that side.
    const bool bare_syn = (d.tcp_flags & kSyn) && !(d.tcp_flags & kAck);
    if (!bare_syn) {
      if (rte_mbuf* r = make_rst(frame, d, false)) {
        out.fwd[out.n_fwd++] = r;
        ++counters_.resets_sent;
      }
    }
  }
  drop_pkt(m, f.block_reason, out);
}

void Pipeline::drop_pkt(rte_mbuf* m, DropReason r, BurstOutput& out) noexcept {
  counters_.drop(r);
  out.drop[out.n_drop++] = m;
}

static inline void forward_pkt(rte_mbuf* m, BurstOutput& out, WorkerCounters& c) noexcept {
  ++c.forwarded;
  out.fwd[out.n_fwd++] = m;
}

// The counter a blocked flow's packets are dropped under: the first (most decisive) reason.
static DropReason drop_reason_for(const policy::Verdict& v) noexcept {
  using policy::ReasonKind;
  for (uint8_t i = 0; i < v.reason_count; ++i) {
    if (v.reasons[i].action != policy::Action::kBlock) continue;
    switch (v.reasons[i].kind) {
      case ReasonKind::kNoLink:
      case ReasonKind::kUnknownZone:
        return DropReason::kNoLink;
      case ReasonKind::kNoCounterparty:
      case ReasonKind::kCounterpartyNotOnLink:
      case ReasonKind::kCounterpartySuspended:
      case ReasonKind::kCounterpartyRevoked:
      case ReasonKind::kCounterpartyExpired:
      case ReasonKind::kCounterpartyNotYetValid:
      case ReasonKind::kBasisExpired:
      case ReasonKind::kBasisNotYetValid:
      case ReasonKind::kBasisInactive:
        return DropReason::kNotWhitelisted;
      case ReasonKind::kEvasion:
        return DropReason::kStreamEvasion;
      case ReasonKind::kStreamUnavailable:
        return DropReason::kStreamUnavailable;
      case ReasonKind::kScanError:
        return DropReason::kScanError;
      case ReasonKind::kAuditUnavailable:
        return DropReason::kAuditUnavailable;
      default:
        return DropReason::kPolicyBlock;
    }
  }
  return DropReason::kPolicyBlock;
}

void Pipeline::apply_verdict(Flow& f, const policy::Verdict& v, int64_t now_ns) noexcept {
  f.last = v;
  if (v.action == policy::Action::kBlock) {
    if (f.verdict != FlowVerdict::kBlock) {
      f.verdict = FlowVerdict::kBlock;
      f.block_reason = drop_reason_for(v);
      // A block is final: its record is written now, while the flow may still send packets.
      emit(f, now_ns, false);
    }
  } else if (v.action == policy::Action::kAlert) {
    if (f.verdict != FlowVerdict::kBlock) f.verdict = FlowVerdict::kAlert;
  } else if (f.verdict == FlowVerdict::kPending) {
    f.verdict = FlowVerdict::kAllow;
  }
}

void Pipeline::reevaluate(Flow& f, int64_t now_ns) noexcept {
  if (f.policy == nullptr || f.verdict == FlowVerdict::kBlock) return;
  if (f.adm.sni_pending) return;  // decided when the ClientHello is complete
  apply_verdict(f, f.policy->decide(f.adm, f.tally, f.flags, now_ns), now_ns);
  f.recheck_ns = f.policy->next_change_ns(f.adm, now_ns);
}

bool Pipeline::admit_new(Flow& f, const inspect::Decoded& d, int64_t now_ns) noexcept {
  const policy::Snapshot* snap = snap_;
  f.policy = snap;
  bind_engine(f, engine_);
  policy::FlowQuery q;
  q.src_zone = f.src_zone;
  q.dst_zone = f.dst_zone;
  q.src = d.src;
  q.dst = d.dst;
  q.sport = d.sport;
  q.dport = d.dport;
  q.proto = d.proto;
  q.now_ns = now_ns;
  f.adm = snap->admit(q);
  // A border-crossing flow must be recordable: otherwise the policy's audit_unavailable
  // failure action applies (default: block).
  if (f.adm.border && sink_ != nullptr && !sink_->available()) f.flags |= pflag::kAuditUnavailable;
  if (f.flags != 0 && f.adm.verdict.action != policy::Action::kBlock && !f.adm.sni_pending)
    apply_verdict(f, snap->decide(f.adm, f.tally, f.flags, now_ns), now_ns);
  else
    apply_verdict(f, f.adm.verdict, now_ns);
  f.recheck_ns = snap->next_change_ns(f.adm, now_ns);
  return f.verdict != FlowVerdict::kBlock;
}

// Whitelist facts always come from the newest policy (docs/architecture.md "Policy reload"): a
// flow admitted under an older generation is admitted again under the current one, once, at its
// next packet. If that refuses it (counterparty revoked or expired, link removed, basis gone), the
// flow is blocked with the new policy's reasons; otherwise it keeps its original policy and
// detector engine for content decisions until it ends (its Hyperscan streams belong to them).
void Pipeline::readmit(Flow& f, Direction dir, uint16_t in_port, int64_t now_ns) noexcept {
  f.readmitted_generation = generation_;
  policy::FlowQuery q;
  if (in_port < kMaxPorts) {
    uint16_t here = port_zone_[in_port], there = port_peer_zone_[in_port];
    q.src_zone = dir == Direction::kForward ? here : there;
    q.dst_zone = dir == Direction::kForward ? there : here;
  } else {
    q.src_zone = snap_->zone_of(f.initiator.src);
    q.dst_zone = snap_->zone_of(f.initiator.dst);
  }
  q.src = f.initiator.src;
  q.dst = f.initiator.dst;
  q.sport = f.initiator.sport;
  q.dport = f.initiator.dport;
  q.proto = f.initiator.proto;
  q.now_ns = now_ns;
  if (f.inspect_ctx != kNoInspectCtx && pool_.at(f.inspect_ctx).tls.complete()) {
    q.sni = pool_.at(f.inspect_ctx).tls.sni();
    q.sni_state = q.sni.empty() ? policy::SniState::kAbsent : policy::SniState::kPresent;
  }
  policy::Admission a = snap_->admit(q);
  if (a.verdict.action != policy::Action::kBlock) return;
  // Blocked: no byte of it is scanned again, so its streams go back to the old engine and the
  // flow moves to the current generation, whose snapshot its record names from now on.
  if (f.inspect_ctx != kNoInspectCtx && f.engine != nullptr && f.engine->streams != nullptr) {
    for (auto& s : pool_.at(f.inspect_ctx).stream) {
      f.engine->streams->release(s);
      s = nullptr;
    }
  }
  bind_engine(f, engine_);
  f.policy = snap_;
  f.adm = a;
  f.tally = policy::CategoryTally{};  // category ids of the old policy mean nothing here
  apply_verdict(f, a.verdict, now_ns);
}

InspectCtx* Pipeline::ctx_of(Flow& f) noexcept {
  if (f.inspect_ctx != kNoInspectCtx) return &pool_.at(f.inspect_ctx);
  uint32_t idx = pool_.acquire();
  if (idx == InspectPool::kNone) return nullptr;
  f.inspect_ctx = idx;
  return &pool_.at(idx);
}

void Pipeline::scan_bytes(Flow& f, InspectCtx& ctx, Direction dir, std::span<const uint8_t> bytes,
                          int64_t now_ns) noexcept {
  // TLS payload is scanned too: ciphertext yields no validated findings, and a fake ClientHello
  // must not switch inspection off for plaintext that follows it.
  if (bytes.empty() || f.engine == nullptr || f.engine->streams == nullptr) return;
  inspect::Scratch* scratch = scratch_for(f);
  unsigned di = static_cast<unsigned>(dir);
  if (ctx.stream[di] == nullptr) {
    ctx.stream[di] = f.engine->streams->acquire();
    if (ctx.stream[di] == nullptr) {
      f.flags |= pflag::kStreamUnavailable;
      return;
    }
  }
  finding_sink_->flow = &f;
  finding_sink_->ctx = &ctx;
  finding_sink_->is_export =
      dir == Direction::kForward ? f.adm.forward_is_export() : f.adm.reverse_is_export();
  if (inspect::scan(*ctx.stream[di], *scratch, bytes, *finding_sink_) != inspect::ScanStatus::kOk)
    f.flags |= pflag::kScanError;
  // A value that ends exactly at the end of these bytes waits for its boundary byte; the packet
  // is forwarded now, so judge it as if the stream ended here (fail closed, reported once).
  if (inspect::settle(*ctx.stream[di], *scratch, *finding_sink_) != inspect::ScanStatus::kOk)
    f.flags |= pflag::kScanError;
  finding_sink_->flow = nullptr;
}

// TLS ClientHello / HTTP request metadata of the opener -> responder stream. The SNI completes
// admission of endpoints named by server name.
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
    f.flags |= pflag::kPayloadOpaque;
  }
  if (f.adm.sni_pending && f.policy != nullptr) {
    policy::FlowQuery q;
    q.src_zone = f.src_zone;
    q.dst_zone = f.dst_zone;
    q.src = f.initiator.src;
    q.dst = f.initiator.dst;
    q.sport = f.initiator.sport;
    q.dport = f.initiator.dport;
    q.proto = f.initiator.proto;
    q.now_ns = now_ns;
    std::string_view sni = ctx.tls.sni();
    q.sni_state = sni.empty() ? policy::SniState::kAbsent : policy::SniState::kPresent;
    q.sni = sni;
    f.adm = f.policy->admit(q);
    // Conditions already raised on the flow (audit unavailable, evasion, ...) still apply.
    if (f.flags != 0 && f.adm.verdict.action != policy::Action::kBlock && !f.adm.sni_pending)
      apply_verdict(f, f.policy->decide(f.adm, f.tally, f.flags, now_ns), now_ns);
    else
      apply_verdict(f, f.adm.verdict, now_ns);
    f.recheck_ns = f.policy->next_change_ns(f.adm, now_ns);
  }
}

// Inspected payload: TCP goes through the reorderer so the scanner sees every byte once, in
// order, before the packet that carries it is forwarded. Returns false when the packet was
// consumed (held, forwarded with released packets, or dropped) and needs no further handling.
bool Pipeline::inspect_payload(Flow& f, Direction dir, const inspect::Decoded& d, rte_mbuf* m,
                               int64_t now_ns, BurstOutput& out) noexcept {
  const bool forward_dir = dir == Direction::kForward;
  const bool content = forward_dir ? f.adm.inspect_forward : f.adm.inspect_reverse;
  const bool want_meta = forward_dir;  // SNI / Host of the opener's stream
  if (!content && !(want_meta && f.adm.sni_pending)) return true;
  if (d.proto != inspect::kProtoTcp && d.payload_len == 0) return true;
  if (d.is_fragment) {
    // Fragments of inspected flows are never forwarded uninspected (no reassembly yet): the
    // flow is blocked and its record says why.
    f.flags |= pflag::kFragmented;
    f.adm.sni_pending = false;
    apply_verdict(f, f.policy->decide(f.adm, f.tally, f.flags, now_ns), now_ns);
    drop_pkt(m, DropReason::kFragmentUninspected, out);
    return false;
  }
  InspectCtx* ctx = ctx_of(f);
  if (ctx == nullptr) {
    f.flags |= pflag::kStreamUnavailable;
    reevaluate(f, now_ns);
    if (f.verdict == FlowVerdict::kBlock) {
      drop_pkt(m, f.block_reason, out);
      return false;
    }
    return true;  // the policy chose fail-open for this condition
  }
  const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
  std::span<const uint8_t> payload(data + d.payload_offset, d.payload_len);
  unsigned di = static_cast<unsigned>(dir);

  if (d.proto != inspect::kProtoTcp) {
    if (content) scan_bytes(f, *ctx, dir, payload, now_ns);
    reevaluate(f, now_ns);
    if (f.verdict == FlowVerdict::kBlock) {
      drop_pkt(m, f.block_reason, out);
      return false;
    }
    return true;
  }

  inspect::Release rel;
  inspect::ReorderAction act =
      reorderer_.on_segment(ctx->order[di], d.tcp_seq, d.tcp_flags, payload, m, rel);
  switch (act) {
    case inspect::ReorderAction::kQueued:
      ++counters_.held;
      return false;  // held: neither forwarded nor freed
    case inspect::ReorderAction::kDuplicate:
    case inspect::ReorderAction::kNoPayload:
      return true;
    case inspect::ReorderAction::kQueueFull:
      // TCP retransmits a dropped out-of-order segment; nothing uninspected leaves.
      drop_pkt(m, DropReason::kReorderQueueFull, out);
      return false;
    case inspect::ReorderAction::kOutOfWindow:
      drop_pkt(m, DropReason::kTcpOutOfWindow, out);
      return false;
    case inspect::ReorderAction::kUnverifiableRetransmission:
      drop_pkt(m, DropReason::kUnverifiableRetransmission, out);
      return false;
    case inspect::ReorderAction::kEvasion: {
      f.flags |= pflag::kEvasion;
      inspect::Release flushed;
      inspect::Reorderer::flush(ctx->order[di], flushed);
      for (const auto& dl : flushed.deliveries())
        drop_pkt(static_cast<rte_mbuf*>(dl.pkt), DropReason::kStreamEvasion, out);
      // Evasion always blocks (docs/policy-reference.md); decide() records why.
      f.adm.sni_pending = false;
      apply_verdict(f, f.policy->decide(f.adm, f.tally, f.flags, now_ns), now_ns);
      drop_pkt(m, DropReason::kStreamEvasion, out);
      return false;
    }
    case inspect::ReorderAction::kReset: {
      inspect::Release flushed;
      inspect::Reorderer::flush(ctx->order[di], flushed);
      for (const auto& dl : flushed.deliveries())
        drop_pkt(static_cast<rte_mbuf*>(dl.pkt), DropReason::kTcpOutOfWindow, out);
      return true;
    }
    case inspect::ReorderAction::kInOrder:
    case inspect::ReorderAction::kCount:
      break;
  }
  // In order: scan every released segment, in order, then judge, then forward or drop them all.
  for (const auto& dl : rel.deliveries()) {
    if (want_meta) meta_bytes(f, *ctx, dl.scan, now_ns);
    if (content) scan_bytes(f, *ctx, dir, dl.scan, now_ns);
  }
  if (rel.fin && ctx->stream[di] != nullptr && scratch_for(f) != nullptr) {
    finding_sink_->flow = &f;
    finding_sink_->ctx = ctx;
    finding_sink_->is_export = forward_dir ? f.adm.forward_is_export() : f.adm.reverse_is_export();
    (void)inspect::close(*ctx->stream[di], *scratch_for(f), *finding_sink_);
    finding_sink_->flow = nullptr;
  }
  reevaluate(f, now_ns);
  const bool blocked = f.verdict == FlowVerdict::kBlock;
  for (const auto& dl : rel.deliveries()) {
    auto* pm = static_cast<rte_mbuf*>(dl.pkt);  // counted in the flow when it arrived
    if (blocked) {
      if (pm == m) {
        drop_blocked(f, d, pm, out);  // resets (if configured) from the packet that decided
      } else {
        drop_pkt(pm, f.block_reason, out);
        ++f.dropped_packets;
      }
    } else {
      forward_pkt(pm, out, counters_);
    }
  }
  return false;
}

void Pipeline::process_one(uint16_t in_port, rte_mbuf* m, int64_t now_ns,
                           BurstOutput& out) noexcept {
  cur_flow_ = nullptr;
  process_packet(in_port, m, now_ns, out);
  Flow* f = cur_flow_;
  // A TCP flow closed both ways (FINs or RST) with nothing left out of order has ended: its
  // record is written now and its inspection state goes back to the pool at once, instead of
  // after the closed-state timeout. The flow entry stays to absorb the last ACKs.
  if (f != nullptr && !f->finished && f->tcp == TcpState::kClosed) {
    bool pending = false;
    if (f->inspect_ctx != kNoInspectCtx) {
      const InspectCtx& c = pool_.at(f->inspect_ctx);
      pending = c.order[0].queued != 0 || c.order[1].queued != 0;
    }
    if (!pending) {
      end_flow(*f, now_ns);
      f->finished = true;
    }
  }
}

void Pipeline::process_packet(uint16_t in_port, rte_mbuf* m, int64_t now_ns,
                              BurstOutput& out) noexcept {
  // 1. Decode (headers must be in the first segment; our mempools hold a full frame per mbuf).
  const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
  std::span<const uint8_t> frame(data, rte_pktmbuf_data_len(m));
  inspect::Decoded d;
  DropReason r = inspect::decode(frame, d, decode_opts_);
  if (r == DropReason::kUnknownEtherType) {
    if (settings_.forward_unknown_ethertype) {
      ++counters_.unknown_ethertype_forwarded;
      forward_pkt(m, out, counters_);
      return;
    }
    return drop_pkt(m, r, out);
  }
  if (r != DropReason::kNone) return drop_pkt(m, r, out);
  // Bytes after the IP packet are never inspected: only the padding of a minimum-size frame
  // (60 bytes without FCS, IEEE 802.3 §3.2.8) is legitimate.
  if (d.trailer_len > 0 && frame.size() > 60) return drop_pkt(m, DropReason::kEthernetTrailer, out);
  // With segments left, the destination address is not where the packet ends up (RFC 8200
  // §4.4), so zone and whitelist checks on it would be meaningless.
  if (d.ipv6_segments_left != 0) return drop_pkt(m, DropReason::kIpv6SourceRoute, out);
  // Encapsulated packets carry inner addresses and payloads the policy never sees.
  if (d.proto == 4 || d.proto == 41 || d.proto == 47) return drop_pkt(m, DropReason::kTunnel, out);
  if (d.is_fragment) ++counters_.fragments;

  // 2. Zones. Live: the ingress port's zone, whose networks the source must belong to, and the
  // paired port's zone as the destination. Replay (no ports): zones from the policy's prefixes.
  const policy::Snapshot* snap = snap_;
  const bool live = in_port < kMaxPorts;
  uint16_t src_zone = live ? port_zone_[in_port] : kNoZone;
  uint16_t dst_zone = live ? port_peer_zone_[in_port] : kNoZone;
  if (snap != nullptr) {
    if (live) {
      if (src_zone == kNoZone) return drop_pkt(m, DropReason::kNoZone, out);
      if (snap->zone_has_prefixes(src_zone) && !snap->zone_contains(src_zone, d.src))
        return drop_pkt(m, DropReason::kSpoofedSource, out);
    } else {
      src_zone = snap->zone_of(d.src);
      dst_zone = snap->zone_of(d.dst);
    }
  } else if (live && src_zone == kNoZone) {
    return drop_pkt(m, DropReason::kNoZone, out);
  }

  // Later fragments carry no ports: they follow the flow of their datagram's first fragment.
  if (d.is_fragment && d.l4_offset == 0) {
    non_first_fragment(d, m, now_ns, out);
    return;
  }

  // 3. Flow lookup / create.
  FlowTuple t;
  t.src = d.src;
  t.dst = d.dst;
  t.sport = d.sport;
  t.dport = d.dport;
  t.proto = d.proto;
  t.vlan = d.vlan_outer;
  Direction dir = Direction::kForward;
  Flow* f = flows_.lookup(t, dir);
  if (f == nullptr) {
    // New flows need a policy (fail closed) unless the operator allowed a transparent lab mode.
    if (snap == nullptr && !settings_.allow_without_policy)
      return drop_pkt(m, DropReason::kNoPolicy, out);
    f = flows_.create_flow(t, d.tcp_flags, now_ns);
    if (f == nullptr) return drop_pkt(m, DropReason::kFlowTableFull, out);
    f->id |= static_cast<uint64_t>(worker_id_) << 48;
    f->src_zone = src_zone;
    f->dst_zone = dst_zone;
    ++counters_.flows_created;
  }
  cur_flow_ = f;
  // Every packet counts in its flow, forwarded or not (the record shows what was attempted).
  flows_.on_packet(*f, dir, d.tcp_flags, rte_pktmbuf_pkt_len(m), now_ns);
  if (d.is_fragment && d.more_fragments) {
    FragEntry* e = frag_lookup(d);
    e->src = d.src;
    e->dst = d.dst;
    e->ip_id = d.frag_id;
    e->proto = d.proto;
    e->dir = static_cast<uint8_t>(dir);
    e->slot = f->slot;
    e->flow_id = f->id;
    e->seen_ns = now_ns;
  }
  // Evidence: the first packets of every flow that is new, crosses the border or is blocked are
  // copied to the audit writer, which keeps them only for blocked flows. The copy is made before
  // the verdict so that a flow blocked by this very packet has it in its capture.
  if (sink_ != nullptr && settings_.evidence_packets > 0 &&
      f->evidence_packets < settings_.evidence_packets &&
      (f->verdict == FlowVerdict::kPending || f->adm.border || f->verdict == FlowVerdict::kBlock)) {
    ++f->evidence_packets;
    if (!sink_->evidence(f->id, data, rte_pktmbuf_data_len(m), now_ns) && f->adm.border)
      f->flags |= pflag::kEvidenceUnavailable;
  }
  // A policy reload since this flow was admitted: the newest policy may refuse it.
  if (f->policy != nullptr && snap_ != nullptr && f->policy != snap_ &&
      f->readmitted_generation != generation_ && f->verdict != FlowVerdict::kBlock)
    readmit(*f, dir, in_port, now_ns);
  if (f->verdict == FlowVerdict::kPending) {
    if (snap != nullptr)
      admit_new(*f, d, now_ns);
    else
      f->verdict = FlowVerdict::kAllow;
  }
  if (f->verdict == FlowVerdict::kBlock) return drop_blocked(*f, d, m, out);
  if (f->finished) {
    // After both FINs (or a RST) no byte may follow (RFC 9293 §3.10.7.4); the last ACKs pass.
    if (d.payload_len > 0) return drop_pkt(m, DropReason::kTcpOutOfWindow, out);
    return forward_pkt(m, out, counters_);
  }
  if (f->policy != nullptr) {
    // Payload back on a one-way link.
    if (dir == Direction::kReverse && d.payload_len > 0 && !f->adm.reverse_payload_allowed)
      f->flags |= pflag::kReversePayload;
    // Expiry is judged at this packet's time: decide() again whenever a validity window of the
    // flow's counterparty or bases may have opened or closed since the last decision (the
    // result is the same as deciding on every packet, at a fraction of the cost).
    if ((f->adm.border && now_ns >= f->recheck_ns) || (f->flags & pflag::kReversePayload))
      reevaluate(*f, now_ns);
    if (f->verdict == FlowVerdict::kBlock) return drop_blocked(*f, d, m, out);
    // Held, or judged together with the segments the reorderer released.
    if (!inspect_payload(*f, dir, d, m, now_ns, out)) return;
    if (f->verdict == FlowVerdict::kBlock) return drop_blocked(*f, d, m, out);
  }
  forward_pkt(m, out, counters_);
}

void Pipeline::emit(Flow& f, int64_t now_ns, bool ended) noexcept {
  if (f.reported) return;
  f.reported = true;
  // One outcome per flow, counted when its record is emitted.
  if (f.verdict == FlowVerdict::kBlock)
    ++counters_.verdict_block;
  else if (f.verdict == FlowVerdict::kAlert)
    ++counters_.verdict_alert;
  else
    ++counters_.verdict_allow;
  if (sink_ == nullptr) return;
  FlowEvent* ev = sink_->acquire();
  if (ev == nullptr) {
    ++counters_.events_lost;
    return;
  }
  ev->flow_id = f.id;
  ev->first_seen_ns = f.first_seen_ns;
  ev->last_seen_ns = f.last_seen_ns;
  ev->time_ns = now_ns;
  ev->initiator = f.initiator;
  ev->src_zone = f.src_zone;
  ev->dst_zone = f.dst_zone;
  ev->dir[0] = f.dir[0];
  ev->dir[1] = f.dir[1];
  ev->dropped_packets = f.dropped_packets;
  ev->verdict = f.verdict;
  // A blocked TCP flow is reset when the operator chose that action (the RSTs go out with the
  // packet that decided, right after this record is made).
  const bool resets =
      f.reset_sent || (settings_.reset_on_block && settings_.tx_pool != nullptr &&
                       f.initiator.proto == inspect::kProtoTcp && f.verdict == FlowVerdict::kBlock);
  ev->action = resets                             ? FlowAction::kReset
               : f.verdict == FlowVerdict::kBlock ? FlowAction::kDrop
               : f.verdict == FlowVerdict::kAlert ? FlowAction::kAlert
                                                  : FlowAction::kForward;
  ev->block_reason = f.block_reason;
  ev->ended = ended;
  ev->flags = f.flags;
  ev->policy = f.policy;
  ev->adm = f.adm;
  ev->tally = f.tally;
  ev->verdict_detail = f.last;
  ev->samples_n = 0;
  ev->sni[0] = ev->http_host[0] = ev->http_method[0] = '\0';
  ev->tls_state = 0;
  if (f.inspect_ctx != kNoInspectCtx) {
    const InspectCtx& c = pool_.at(f.inspect_ctx);
    ev->samples_n = c.samples_n;
    for (unsigned i = 0; i < c.samples_n; ++i) ev->samples[i] = c.samples[i];
    ev->tls_state = static_cast<uint8_t>(c.tls.status());
    auto copy = [](char* dst, size_t cap, std::string_view s) {
      size_t n = std::min(cap - 1, s.size());
      std::memcpy(dst, s.data(), n);
      dst[n] = '\0';
    };
    copy(ev->sni, sizeof ev->sni, c.tls.sni());
    copy(ev->http_host, sizeof ev->http_host, c.http.host());
    copy(ev->http_method, sizeof ev->http_method, c.http.method());
  }
  sink_->commit(ev);
}

void Pipeline::end_flow(Flow& f, int64_t now_ns) noexcept {
  if (f.inspect_ctx != kNoInspectCtx) {
    InspectCtx& c = pool_.at(f.inspect_ctx);
    for (unsigned di = 0; di < 2; ++di) {
      if (c.stream[di] != nullptr) {
        if (scratch_for(f) != nullptr && f.verdict != FlowVerdict::kBlock) {
          finding_sink_->flow = &f;
          finding_sink_->ctx = &c;
          finding_sink_->is_export =
              di == 0 ? f.adm.forward_is_export() : f.adm.reverse_is_export();
          (void)inspect::close(*c.stream[di], *scratch_for(f), *finding_sink_);
          finding_sink_->flow = nullptr;
        }
        f.engine->streams->release(c.stream[di]);
        c.stream[di] = nullptr;
      }
      // Segments still held never had their bytes inspected: they are dropped.
      inspect::Release flushed;
      inspect::Reorderer::flush(c.order[di], flushed);
      for (const auto& dl : flushed.deliveries()) {
        counters_.drop(DropReason::kReorderQueueFull);
        rte_pktmbuf_free(static_cast<rte_mbuf*>(dl.pkt));
      }
    }
  }
  // The flow's final verdict includes what the stream close flushed.
  reevaluate(f, now_ns);
  emit(f, now_ns, true);
  if (f.inspect_ctx != kNoInspectCtx) {
    pool_.release(f.inspect_ctx);
    f.inspect_ctx = kNoInspectCtx;
  }
  bind_engine(f, nullptr);  // after its record is on the audit ring
}

void Pipeline::expire(int64_t now_ns) noexcept {
  counters_.flows_expired += flows_.expire_some(
      now_ns, settings_.expiry_budget, [this, now_ns](Flow& f) noexcept { end_flow(f, now_ns); });
}

void Pipeline::expire_all(int64_t now_ns) noexcept {
  flows_.expire_all([this, now_ns](Flow& f) noexcept {
    end_flow(f, std::max(now_ns, f.last_seen_ns));
    ++counters_.flows_expired;
  });
}

}  // namespace dc::dataplane
