// The per-packet path: a burst in, one decision per packet (decode, zones, flow, verdict, then
// inspection, forward or drop). Admission/verdicts, payload inspection, fragments, TCP resets and
// flow records live in their own files (see pipeline.hpp).
#include "dataplane/pipeline.hpp"

#include <rte_mbuf.h>

#include <algorithm>
#include <new>
#include <span>

#include "base/time.hpp"
#include "dataplane/server_name.hpp"
#include "dataplane/stage_drops.hpp"

namespace dc::dataplane {

namespace pflag = policy::flag;

Pipeline::Pipeline(uint16_t worker_id, FlowTable& flows, const PipelineSettings& settings,
                   WorkerCounters& counters, FlowEventSink* sink)
    : worker_id_(worker_id),
      flows_(flows),
      settings_(settings),
      counters_(counters),
      sink_(sink),
      reorderer_(settings.reorder),
      pool_(settings.policy != nullptr || settings.epoch != nullptr ? settings.inspect_flows : 0),
      findings_(counters) {}

Pipeline::~Pipeline() {
  if (verdicts_) flows_.set_verdicts(nullptr);  // the table's flows no longer release into ours
}

Result<void> Pipeline::create_verdicts() {
  const uint64_t n =
      settings_.verdicts != 0 ? settings_.verdicts : uint64_t{settings_.inspect_flows} * 2 + 1024;
  auto t = VerdictTable::create(static_cast<uint32_t>(std::min<uint64_t>(n, 1u << 26)));
  if (!t) return t.error();
  verdicts_ = std::move(t.value());
  flows_.set_verdicts(verdicts_.get());
  return {};
}

Result<std::unique_ptr<Pipeline>> Pipeline::create(uint16_t worker_id, FlowTable& flows,
                                                   const PipelineSettings& settings,
                                                   WorkerCounters& counters, FlowEventSink* sink) {
  std::unique_ptr<Pipeline> p;
  try {  // control plane: per-flow inspection state is allocated here, once
    p.reset(new Pipeline(worker_id, flows, settings, counters, sink));
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::kUnavailable, "not enough memory for " +
                                                   std::to_string(settings.inspect_flows) +
                                                   " inspected flows per worker ([inspect] flows)");
  }
  if (auto r = p->create_verdicts(); !r) return r.error();
  if (p->pool_.capacity() > 0) {  // the decoding layer of inspected flows: its bounded arena
    Result<std::unique_ptr<inspect::decoding::DecodeWorker>> w =
        make_error(ErrorCode::kUnavailable, "not enough memory for the HTTP decoders");
    try {
      w = inspect::decoding::DecodeWorker::create(settings.decode);
    } catch (const std::bad_alloc&) {
    }
    if (!w)
      return make_error(ErrorCode::kUnavailable, w.error().message +
                                                     " ([inspect] decode_arena_mb, worker " +
                                                     std::to_string(worker_id) + ")");
    p->decode_worker_ = std::move(w.value());
    if (auto r = p->create_tls(); !r) return r.error();
    if (auto r = p->create_accounting(); !r) return r.error();
  }
  if (settings.tx_pool != nullptr) {
    auto r = Reassembler::create(settings.reassembly, settings.tx_pool, worker_id, counters);
    if (!r) return r.error();
    p->reasm_ = std::move(r.value());
  }
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
    try {
      p->own_sources_ = ZoneSources::build(*settings.policy);
    } catch (const std::bad_alloc&) {
      return make_error(ErrorCode::kUnavailable, "not enough memory for the zones' source table");
    }
    p->sources_ = &p->own_sources_;
  }
  if (sink != nullptr && sink->records_opens() && settings.hold_for_record) {
    try {
      p->hold_ = std::make_unique<HoldQueue[]>(kMaxPorts + 1);
      for (uint16_t i = 0; i <= kMaxPorts; ++i) p->hold_[i] = HoldQueue(settings.hold_packets);
    } catch (const std::bad_alloc&) {
      return make_error(ErrorCode::kUnavailable, "not enough memory for the record hold queues");
    }
  }
  return p;
}

// TLS with escrowed keys: the worker's OpenSSL contexts, key store and session pool, all made
// here (OpenSSL and the pool allocate) so the packet path never does.
Result<void> Pipeline::create_tls() {
  if (settings_.tls_sessions == 0) return {};
  auto c = inspect::tls::Crypto::create();
  if (!c) return c.error();
  crypto_ = std::move(c.value());
  auto ks = inspect::tls::KeyStore::create(settings_.tls_key_store,
                                           static_cast<uint64_t>(settings_.tls_key_ttl_ns));
  if (!ks) return ks.error();
  key_store_ = std::move(ks.value());
  try {
    tls_pool_ = std::make_unique<TlsPool>(crypto_.get(), settings_.tls_sessions,
                                          settings_.tls_hold_packets);
    tls_waiting_.reserve(settings_.tls_sessions);
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::kUnavailable, "not enough memory for " +
                                                   std::to_string(settings_.tls_sessions) +
                                                   " TLS sessions per worker ([tls] sessions)");
  }
  return {};
}

// Customs accounting: the hold and the per-flow record counts, allocated here, once.
Result<void> Pipeline::create_accounting() {
  if (settings_.accounting == nullptr) return {};
  try {
    acct_held_.reserve(settings_.accounting_hold_packets);
    acct_sum_.resize(pool_.capacity());
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::kUnavailable, "not enough memory for the accounting hold");
  }
  acct_ = settings_.accounting;
  acct_tap_.p = this;
  findings_.set_person_tap(&acct_tap_);
  return {};
}

void Pipeline::adopt(const PolicyEpoch* e) noexcept {
  epoch_seen_ = e;
  generation_ = e->generation;
  snap_ = e->snapshot.get();
  engine_ = e->engines[worker_id_].get();
  port_zone_ = e->port_zone;
  port_peer_zone_ = e->port_peer_zone;
  sources_ = &e->sources;
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
  cur_port_ = in_port;
  cur_now_ns_ = now_ns;
  refresh_epoch();  // a newly published policy generation applies from this burst on
  set_today(now_ns);
  // In batches: decode and zone every packet, look their flows up in bulk (the hash's bucket
  // and key loads overlap instead of stalling one packet at a time), then judge each in order.
  deferring_ = true;
  for (uint16_t base = 0; base < n; base += kBatch) {
    const uint16_t k = std::min<uint16_t>(kBatch, n - base);
    decode_batch(in_port, pkts + base, k, out);
    for (uint16_t i = 0; i < k; ++i) process_one(in_port, pkts[base + i], batch_[i], now_ns, out);
  }
  deferring_ = false;
  if (n_deferred_ > 0) settle_deferred(out);   // decoding after the burst's raw scans
  if (reasm_ != nullptr) reasm_->end_burst();  // the mbufs rte_ip_frag gave up
}

// Steps 1 and 2 of up to kBatch packets, then one bulk lookup of the flows of those that go on
// (fragments are looked up one by one after reassembly). A miss is looked up again in
// flow_of(): an earlier packet of the batch may create the flow.
void Pipeline::decode_batch(uint16_t in_port, rte_mbuf* const* pkts, uint16_t k,
                            BurstOutput& out) noexcept {
  auto& pc = counters_.port[in_port <= kMaxPorts ? in_port : kMaxPorts];
  const FlowTuple* tuples[kBatch] = {};
  Flow* found[kBatch];
  Direction dirs[kBatch];
  uint16_t idx[kBatch];
  uint32_t nk = 0;
  // Step 2 on a live port, decided once per batch: the port's zones and whether its zone has
  // prefixes to check sources against; per packet only the source's zone is looked up. (zones_of
  // asked the policy for the port's prefixes at every packet.) Replay and a port without a zone
  // go through zones_of().
  const bool live = in_port < kMaxPorts;
  const uint16_t here = live ? port_zone_[in_port] : kNoZone;
  const uint16_t there = live ? port_peer_zone_[in_port] : kNoZone;
  const bool port_zoned = live && here != kNoZone;
  const policy::Snapshot* snap = snap_;
  const bool check_src = port_zoned && snap != nullptr && snap->zone_has_prefixes(here);
  // The port zone's IPv4 sources: one short uint32_t search per packet (zone_sources.hpp).
  const ZoneSources::Set* src_set =
      check_src && sources_ != nullptr ? sources_->set(here) : nullptr;
  const bool fcs = in_port <= kMaxPorts && settings_.port_fcs_strip[in_port];  // strip_fcs()
  uint64_t rx_bytes = 0;  // summed here, added to the port's counter once per batch
  for (uint16_t i = 0; i < k; ++i) {
    if (i + 1 < k) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    rte_mbuf* m = pkts[i];
    rx_bytes += rte_pktmbuf_pkt_len(m);
    BatchPacket& b = batch_[i];
    b.flow = nullptr;
    // b.d is only read when b.go, and decode() resets it first.
    b.go = (!fcs || strip_fcs(in_port, m, out)) && decode_frame(m, b.d, out);
    if (!b.go) continue;
    if (port_zoned) {
      b.src_zone = here;
      b.dst_zone = there;
      if (check_src && !source_in_zone(src_set, *snap, here, b.d.src)) {
        drop_pkt(m, DropReason::kSpoofedSource, out);
        b.go = false;
        continue;
      }
    } else if (!zones_of(in_port, b.d, m, b.src_zone, b.dst_zone, out)) {
      b.go = false;
      continue;
    }
    if (b.d.is_fragment) continue;
    // Field by field, not through a temporary: its narrow stores and wide reloads stalled on store
    // forwarding (36 % of this function's samples).
    FlowTuple& t = b.tuple;
    t.src = b.d.src;
    t.dst = b.d.dst;
    t.sport = b.d.sport;
    t.dport = b.d.dport;
    t.proto = b.d.proto;
    t.vlan = b.d.vlan_outer;
    tuples[nk] = &t;
    idx[nk++] = i;
  }
  pc.rx_packets += k;
  pc.rx_bytes += rx_bytes;
  flows_.lookup_bulk(tuples, nk, found, dirs);
  for (uint32_t j = 0; j < nk; ++j) {
    batch_[idx[j]].flow = found[j];
    batch_[idx[j]].dir = dirs[j];
  }
}

void Pipeline::drop_pkt(rte_mbuf* m, DropReason r, BurstOutput& out) noexcept {
  counters_.drop(r);
  out.drop[out.n_drop++] = m;
}

// Whitelist facts always come from the newest policy (docs/architecture.md "Policy reload"): a
// flow admitted under an older generation is admitted again under the current one, once, at its
// next packet. If that refuses it (counterparty revoked or expired, link removed, basis gone), the
// flow is blocked with the new policy's reasons; otherwise it keeps its original policy and
// detector engine for content decisions until it ends (its Hyperscan streams belong to them).
void Pipeline::readmit(Flow& f, Direction dir, uint16_t in_port, int64_t now_ns) noexcept {
  f.cold().readmitted_generation = generation_;
  // The flow's zones under the newest policy (its zone ids may have changed).
  uint16_t src_zone, dst_zone;
  if (in_port < kMaxPorts) {
    uint16_t here = port_zone_[in_port], there = port_peer_zone_[in_port];
    src_zone = dir == Direction::kForward ? here : there;
    dst_zone = dir == Direction::kForward ? there : here;
  } else {
    src_zone = snap_->zone_of(f.initiator.src);
    dst_zone = snap_->zone_of(f.initiator.dst);
  }
  policy::FlowQuery q = flow_query(f.initiator, src_zone, dst_zone, now_ns);
  if (f.inspect_ctx != kNoInspectCtx) {
    put_server_name(pool_.at(f.inspect_ctx), q);
  } else if (f.inspect_parked && f.initiator.proto == inspect::kProtoTcp) {
    q.sni_state = policy::SniState::kAbsent;  // parked: neither TLS nor HTTP (inspect_park.cpp)
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
  set_admission(f, a);
  // Category ids of the old policy mean nothing here.
  if (f.inspect_ctx != kNoInspectCtx) {
    pool_.at(f.inspect_ctx).tally = policy::CategoryTally{};
    ++pool_.at(f.inspect_ctx).tally_gen;
  }
  apply_verdict(f, a.verdict, now_ns);
}

void Pipeline::process_one(uint16_t in_port, rte_mbuf* m, BatchPacket& b, int64_t now_ns,
                           BurstOutput& out) noexcept {
  cur_flow_ = nullptr;
  if (b.go) {
    // A segment of this flow waits for its decoding (defer_decode): it is settled first. A flow
    // not found in bulk may be one made earlier in the batch.
    if (n_deferred_ > 0 && (b.flow == nullptr || b.flow->decode_deferred)) settle_deferred(out);
    // The quiet path: an allowed flow with nothing to inspect, hold or decide only counts and
    // crosses (what process_packet would do for it, without its calls and tests).
    if (b.flow != nullptr && quiet(*b.flow, b.dir, b.d, now_ns)) [[likely]]
      return forward_quiet(*b.flow, b.dir, m, now_ns, out);
    process_packet(in_port, m, b, now_ns, out);
  }
  if (cur_flow_ != nullptr && !cur_flow_->decode_deferred) finish_if_closed(*cur_flow_, now_ns);
}

// A TCP flow closed both ways (FINs or RST) with nothing left out of order and nothing waiting
// for its flow_open record has ended: its record is written now (so it counts every packet that
// crossed) and its inspection state goes back to the pool at once, instead of after the
// closed-state timeout. The flow entry stays to absorb the last ACKs.
void Pipeline::finish_if_closed(Flow& f, int64_t now_ns) noexcept {
  if (f.finished || f.tcp != TcpState::kClosed || f.held > 0 || f.acct.held > 0) return;
  if (f.inspect_ctx != kNoInspectCtx) {
    const InspectCtx& c = pool_.at(f.inspect_ctx);
    if (c.order[0].queued != 0 || c.order[1].queued != 0) return;
    if (c.tls_ctx != kNoTlsCtx && tls_pool_->at(c.tls_ctx).held_n > 0) return;  // keys awaited
  }
  end_flow(f, now_ns);
  f.finished = true;
}

// 1. Decode (headers must be in the first segment; our mempools hold a full frame per mbuf) and
// refuse what cannot be inspected. Returns false when the packet was handled.
bool Pipeline::decode_frame(rte_mbuf* m, inspect::Decoded& d, BurstOutput& out) noexcept {
  std::span<const uint8_t> frame(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
  const inspect::DecodeStatus st = inspect::decode(frame, d, decode_opts_);
  // ARP / ND on a pair that passes them (a decoded IPv4 packet is neither: no call for it).
  if ((st != inspect::DecodeStatus::kOk || d.ip_version != 4) && pass_l2(st, d, m, out))
    return false;
  if (st == inspect::DecodeStatus::kUnknownEtherType && settings_.forward_unknown_ethertype) {
    ++counters_.unknown_ethertype_forwarded;
    forward_pkt(m, out);
    return false;
  }
  DropReason r = drop_reason_of(st);
  // Bytes after the IP packet are never inspected: only the padding of a minimum-size frame
  // (60 bytes without FCS, IEEE 802.3 §3.2.8) is legitimate.
  // Padding comes before tagging: a padded 60-byte frame that a switch then tagged is 64 bytes
  // (68 with two tags), so each VLAN tag extends the allowance by its 4 bytes. A trailer that
  // is the frame's own FCS gets its own reason (ethernet_fcs.cpp).
  if (r == DropReason::kNone && d.trailer_len > 0 && frame.size() > 60u + 4u * d.vlan_count)
    r = trailer_reason(frame);
  // With segments left, the destination address is not where the packet ends up (RFC 8200
  // §4.4), so zone and whitelist checks on it would be meaningless.
  if (r == DropReason::kNone && d.ipv6_segments_left != 0) r = DropReason::kIpv6SourceRoute;
  // Encapsulated packets carry inner addresses and payloads the policy never sees.
  if (r == DropReason::kNone && (d.proto == 4 || d.proto == 41 || d.proto == 47))
    r = DropReason::kTunnel;
  if (r != DropReason::kNone) {
    drop_pkt(m, r, out);
    return false;
  }
  if (d.is_fragment) ++counters_.fragments;
  return true;
}

// 2. Zones. Live: the ingress port's zone, whose networks the source must belong to, and the
// paired port's zone as the destination. Replay (no ports): zones from the policy's prefixes.
// Returns false when the packet was dropped.
bool Pipeline::zones_of(uint16_t in_port, const inspect::Decoded& d, rte_mbuf* m,
                        uint16_t& src_zone, uint16_t& dst_zone, BurstOutput& out) noexcept {
  const policy::Snapshot* snap = snap_;
  const bool live = in_port < kMaxPorts;
  src_zone = live ? port_zone_[in_port] : kNoZone;
  dst_zone = live ? port_peer_zone_[in_port] : kNoZone;
  DropReason r = DropReason::kNone;
  if (live && src_zone == kNoZone) {
    r = DropReason::kNoZone;
  } else if (snap != nullptr && live) {
    if (snap->zone_has_prefixes(src_zone) && !snap->zone_contains(src_zone, d.src))
      r = DropReason::kSpoofedSource;
  } else if (snap != nullptr) {
    src_zone = snap->zone_of(d.src);
    dst_zone = snap->zone_of(d.dst);
  }
  if (r == DropReason::kNone) return true;
  drop_pkt(m, r, out);
  return false;
}

// 3. Flow lookup / create. nullptr when the packet was dropped (no policy, table full). `known`:
// the flow the batch's bulk lookup found (nullptr: not looked up, or not there then).
Flow* Pipeline::flow_of(const inspect::Decoded& d, uint16_t src_zone, uint16_t dst_zone,
                        rte_mbuf* m, int64_t now_ns, Direction& dir, BurstOutput& out,
                        Flow* known) noexcept {
  if (known != nullptr) return known;  // `dir` was set by the bulk lookup
  const FlowTuple t = tuple_of(d);
  dir = Direction::kForward;
  Flow* f = flows_.lookup(t, dir);
  if (f != nullptr) return f;
  // New flows need a policy (fail closed) unless the operator allowed a transparent lab mode.
  if (snap_ == nullptr && !settings_.allow_without_policy) {
    drop_pkt(m, DropReason::kNoPolicy, out);
    return nullptr;
  }
  f = flows_.create_flow(t, d.tcp_flags, now_ns);
  if (f == nullptr) {
    drop_pkt(m, DropReason::kFlowTableFull, out);
    return nullptr;
  }
  f->cold().id |= static_cast<uint64_t>(worker_id_) << 48;
  f->src_zone = src_zone;
  f->dst_zone = dst_zone;
  if (!(f->initiator.src == t.src && f->initiator.sport == t.sport)) {
    // First seen at its SYN-ACK: the opener is this packet's destination (flow_table.hpp).
    std::swap(f->src_zone, f->dst_zone);
    dir = Direction::kReverse;
  }
  ++counters_.flows_created;
  return f;
}

// Bookkeeping of a packet in its flow: counters, evidence.
void Pipeline::note_packet(Flow& f, Direction dir, const inspect::Decoded& d, rte_mbuf* m,
                           int64_t now_ns) noexcept {
  // Every packet counts in its flow, forwarded or not (the record shows what was attempted).
  flows_.on_packet(f, dir, d.tcp_flags, rte_pktmbuf_pkt_len(m), now_ns);
  // Evidence: the first packets of every flow that is new, crosses the border or is blocked are
  // copied to the audit writer, which keeps them only for blocked flows. The copy is made before
  // the verdict so that a flow blocked by this very packet has it in its capture.
  if (wants_evidence(f)) {
    ++f.cold().evidence_packets;
    if (!sink_->evidence(f.cold().id, rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m),
                         now_ns)) {
      f.evidence_lost = true;  // a first packet's loss counts once admission says "border"
      if (f.border()) f.flags |= pflag::kEvidenceUnavailable;
    }
  }
}

// 5. The flow's verdict for this packet, then inspection; forward or drop.
void Pipeline::judge_packet(Flow& f, Direction dir, const inspect::Decoded& d, rte_mbuf* m,
                            int64_t now_ns, BurstOutput& out) noexcept {
  if (f.verdict == FlowVerdict::kPending) {
    if (snap_ != nullptr)
      admit_new(f, d, now_ns);
    else
      f.verdict = FlowVerdict::kAllow;
  }
  if (f.verdict == FlowVerdict::kBlock) return drop_blocked(f, d, m, out);
  if (f.finished) {
    // After both FINs (or a RST) no byte may follow (RFC 9293 §3.10.7.4); the last ACKs pass.
    if (d.payload_len > 0) return drop_pkt(m, DropReason::kTcpOutOfWindow, out);
    return forward_pkt(f, dir, m, out, false);
  }
  if (f.policy != nullptr) {
    // Payload back on a one-way link.
    if (dir == Direction::kReverse && d.payload_len > 0 && !f.reverse_payload_allowed())
      f.flags |= pflag::kReversePayload;
    // Expiry is judged at this packet's time: decide() again whenever a validity window of the
    // flow's counterparty or bases may have opened or closed since the last decision (the
    // result is the same as deciding on every packet, at a fraction of the cost).
    if ((f.border() && now_ns >= f.recheck_ns) || (f.flags & pflag::kReversePayload))
      reevaluate(f, now_ns);
    if (f.verdict == FlowVerdict::kBlock) return drop_blocked(f, d, m, out);
    // Exported payload counts against its declaration's max_bytes (docs/policy-reference.md
    // "Declarations"): past it, the flow is blocked as declaration_exceeded.
    if (f.has_declaration() && f.exports(dir) && d.payload_len > 0) {
      const auto c = f.policy->charge_declaration(f.cold().adm.declaration, d.payload_len);
      if (c == policy::Snapshot::Charge::kWait) {  // the ledger's byte budget: TCP retransmits
        ++f.cold().dropped_packets;
        return drop_pkt(m, DropReason::kDeclarationGrantWait, out);
      }
      if (c == policy::Snapshot::Charge::kExceeded) {
        f.flags |= pflag::kDeclarationExceeded;
        reevaluate(f, now_ns);
        if (f.verdict == FlowVerdict::kBlock) return drop_blocked(f, d, m, out);
      }
    }
    // Held, or judged together with the segments the reorderer released.
    if (!inspect_payload(f, dir, d, m, now_ns, out)) return;
    if (f.verdict == FlowVerdict::kBlock) return drop_blocked(f, d, m, out);
    if (f.updates && now_ns >= f.cold().next_update_ns) update_record(f, now_ns);
  }
  forward_pkt(f, dir, m, out, d.payload_len > 0);
}

void Pipeline::process_packet(uint16_t in_port, rte_mbuf* m, BatchPacket& b, int64_t now_ns,
                              BurstOutput& out) noexcept {
  inspect::Decoded& d = b.d;
  // Fragments are reassembled first (fragments.cpp); the datagram then goes on as one packet.
  cur_reassembled_ = cur_frag_evasion_ = false;
  if (d.is_fragment && !reassemble(m, d, now_ns, out)) return;
  Direction dir = b.dir;
  Flow* f = flow_of(d, b.src_zone, b.dst_zone, m, now_ns, dir, out, b.flow);
  if (f == nullptr) return;
  cur_flow_ = f;
  if (cur_frag_evasion_) return fragment_evasion(*f, dir, d, m, now_ns, out);
  // Evidence backpressure: a packet whose copy cannot be made now (the audit writer is behind)
  // waits for the sender to send it again, untouched by the flow; it neither crosses uncopied
  // nor fails the flow (which a lost copy does, evidence_unavailable).
  if (wants_evidence(*f) && f->verdict != FlowVerdict::kBlock && !sink_->evidence_room())
    return drop_pkt(m, DropReason::kEvidenceBackpressure, out);
  if (d.proto == inspect::kProtoTcp && !normalise_tcp(*f, dir, d, m, out)) return;
  note_packet(*f, dir, d, m, now_ns);
  // 4. A policy reload since this flow was admitted: the newest policy may refuse it.
  if (f->policy != nullptr && snap_ != nullptr && f->policy != snap_ &&
      f->cold().readmitted_generation != generation_ && f->verdict != FlowVerdict::kBlock)
    readmit(*f, dir, in_port, now_ns);
  judge_packet(*f, dir, d, m, now_ns, out);
}

}  // namespace dc::dataplane
