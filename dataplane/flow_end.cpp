// The end of a flow and its record: closing its scan streams, the final verdict, and the
// audit::FlowOutcome handed to the sink (once per flow: at block time or at the end).
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "dataplane/pipeline.hpp"

namespace dc::dataplane {

namespace pflag = policy::flag;

namespace {

audit::OutcomeVerdict outcome_verdict(FlowVerdict v) noexcept {
  switch (v) {
    case FlowVerdict::kAllow:
      return audit::OutcomeVerdict::kAllow;
    case FlowVerdict::kAlert:
      return audit::OutcomeVerdict::kAlert;
    case FlowVerdict::kBlock:
      return audit::OutcomeVerdict::kBlock;
    default:
      return audit::OutcomeVerdict::kPending;
  }
}

void copy_string(char* dst, size_t cap, std::string_view s) noexcept {
  size_t n = std::min(cap - 1, s.size());
  std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

// Inspection facts of the flow: sampled values, TLS state, SNI, HTTP Host and method.
void put_inspection(const InspectCtx& c, audit::FlowOutcome& ev) noexcept {
  ev.samples_n = c.samples_n;
  for (unsigned i = 0; i < c.samples_n; ++i) ev.samples[i] = c.samples[i];
  ev.tls_state = static_cast<uint8_t>(c.tls.status());
  copy_string(ev.sni, sizeof ev.sni, c.tls.sni());
  copy_string(ev.http_host, sizeof ev.http_host, c.http.host());
  copy_string(ev.http_method, sizeof ev.http_method, c.http.method());
  ev.http_anomaly = c.http_anomaly;
  ev.content_uninspected = c.uninspected;
}

}  // namespace

void Pipeline::fill_outcome(const Flow& f, int64_t now_ns, bool ended,
                            audit::FlowOutcome& ev) const noexcept {
  ev.kind = audit::OutcomeKind::kFinal;  // open/update: set by the caller after filling
  ev.worker = worker_id_;
  ev.ticket = f.cold().open_ticket;
  ev.flow_id = f.cold().id;
  ev.first_seen_ns = f.cold().first_seen_ns;
  ev.last_seen_ns = f.last_seen_ns;
  ev.time_ns = now_ns;
  const FlowTuple& t = f.initiator;
  ev.initiator = audit::OutcomeTuple{t.src, t.dst, t.sport, t.dport, t.proto, t.vlan};
  ev.src_zone = f.src_zone;
  ev.dst_zone = f.dst_zone;
  for (unsigned i = 0; i < 2; ++i) {
    ev.dir[i] = {f.dir[i].packets, f.dir[i].bytes};
    ev.crossed[i] = {f.crossed[i].packets, f.crossed[i].bytes};
  }
  ev.dropped_packets = f.cold().dropped_packets;
  ev.verdict = outcome_verdict(f.verdict);
  // A blocked TCP flow is reset when the operator chose that action (the RSTs go out with the
  // packet that decided, right after this record is made).
  const bool resets =
      f.reset_sent || (settings_.reset_on_block && settings_.tx_pool != nullptr &&
                       f.initiator.proto == inspect::kProtoTcp && f.verdict == FlowVerdict::kBlock);
  using A = audit::OutcomeAction;
  ev.action = resets                             ? A::kReset
              : f.verdict == FlowVerdict::kBlock ? A::kDrop
              : f.verdict == FlowVerdict::kAlert ? A::kAlert
                                                 : A::kForward;
  ev.block_reason = drop_reason_name(f.block_reason);
  ev.ended = ended;
  ev.flags = f.flags;
  ev.policy = f.policy;
  ev.adm = admission_of(f);
  ev.tally = tally_of(f);
  ev.verdict_detail = last_verdict(f);
  ev.samples_n = 0;
  ev.sni[0] = ev.http_host[0] = ev.http_method[0] = '\0';
  ev.tls_state = 0;
  ev.http_anomaly = ev.content_uninspected = nullptr;
  ev.payload = audit::PayloadInspection::kNone;
  ev.has_key_line = false;
  acct_fill(f, ev);
  if (f.inspect_ctx == kNoInspectCtx) return;
  const InspectCtx& c = pool_.at(f.inspect_ctx);
  put_inspection(c, ev);
  const TlsCtx* tc = c.tls_ctx != kNoTlsCtx ? &tls_pool_->at(c.tls_ctx) : nullptr;
  using P = audit::PayloadInspection;
  if (tc != nullptr && tc->outcome == TlsOutcome::kDecrypted) {
    ev.payload = P::kDecrypted;
    ev.has_key_line = tc->have_key_hash;
    ev.key_line_sha256 = tc->key_hash;
  } else if (c.opaque || (f.flags & pflag::kPayloadOpaque) != 0 ||
             (tc != nullptr && tc->outcome != TlsOutcome::kNone)) {
    ev.payload = P::kOpaque;
  } else {
    ev.payload = P::kClear;
  }
}

void Pipeline::emit(Flow& f, int64_t now_ns, bool ended) noexcept {
  if (f.reported) return;
  f.reported = true;
  // One outcome per flow, counted when its record is emitted.
  unsigned v = 0;
  if (f.verdict == FlowVerdict::kBlock) {
    ++counters_.verdict_block;
    v = 2;
  } else if (f.verdict == FlowVerdict::kAlert) {
    ++counters_.verdict_alert;
    v = 1;
  } else {
    ++counters_.verdict_allow;
  }
  std::size_t cp = f.cold().adm.counterparty == policy::kNoCounterparty ? kCpNone
                   : f.cold().adm.counterparty < kCounterpartyLabels    ? f.cold().adm.counterparty
                                                                        : kCpOther;
  ++counters_.labelled.verdicts[cp][v];
  if (sink_ == nullptr) return;
  audit::FlowOutcome* ev = sink_->acquire();
  if (ev == nullptr) {
    ++counters_.events_lost;
    return;
  }
  fill_outcome(f, now_ns, ended, *ev);
  sink_->commit(ev);
}

void Pipeline::end_flow(Flow& f, int64_t now_ns) noexcept {
  if (f.inspect_ctx != kNoInspectCtx) {
    InspectCtx& c = pool_.at(f.inspect_ctx);
    end_decoding(f, c);
    end_name_wait(f, c, nullptr);  // the name never decided: the waiting payload never crosses
    for (unsigned di = 0; di < 2; ++di) {
      if (c.stream[di] != nullptr) {
        if (f.verdict != FlowVerdict::kBlock) close_stream(f, c, di);
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
  if (f.inspect_ctx != kNoInspectCtx) tls_end(f, pool_.at(f.inspect_ctx), now_ns);
  reevaluate(f, now_ns);
  emit(f, now_ns, true);
  if (f.acct.claimed || f.acct.held > 0) acct_end(f);  // before its inspection context goes
  if (f.inspect_ctx != kNoInspectCtx) {
    if (uint32_t& t = pool_.at(f.inspect_ctx).tls_ctx; t != kNoTlsCtx) {
      tls_pool_->release(t);
      t = kNoTlsCtx;
    }
    pool_.release(f.inspect_ctx);
    f.inspect_ctx = kNoInspectCtx;
  }
  bind_engine(f, nullptr);  // after its record is on the audit ring
}

void Pipeline::expire(int64_t now_ns) noexcept {
  if (now_ns < next_expiry_ns_) return;
  next_expiry_ns_ = now_ns + kExpiryTickNs;
  if (reasm_ != nullptr) reasm_->expire(now_ns, settings_.expiry_budget);
  if (key_store_ != nullptr && now_ns >= next_key_sweep_ns_) {
    // Escrowed keys past [tls] key_ttl_s are wiped within a second, not when their slot is next
    // needed (docs/security.md). One pass over the fixed table (key_store entries), once a second.
    next_key_sweep_ns_ = now_ns + 1'000'000'000;
    counters_.tls_keys_expired += key_store_->expire(static_cast<uint64_t>(now_ns));
  }
  park_idle(now_ns);
  const uint32_t slots = std::max(settings_.expiry_budget, flows_.capacity() >> 10);
  counters_.flows_expired += flows_.expire_some(
      now_ns, slots, [this, now_ns](Flow& f) noexcept { end_flow(f, now_ns); },
      settings_.expiry_budget);
}

void Pipeline::expire_all(int64_t now_ns) noexcept {
  // Packets still waiting for their record never crossed: they are dropped, not sent.
  if (hold_ != nullptr) {
    for (uint16_t p = 0; p <= kMaxPorts; ++p) {
      for (HoldQueue& q = hold_[p]; !q.empty(); q.pop()) {
        counters_.drop(DropReason::kAuditUnavailable);
        rte_pktmbuf_free(q.front().m);
      }
    }
  }
  if (reasm_ != nullptr) reasm_->expire_all();  // datagrams never completed
  flows_.expire_all([this, now_ns](Flow& f) noexcept {
    end_flow(f, std::max(now_ns, f.last_seen_ns));
    ++counters_.flows_expired;
  });
}

}  // namespace dc::dataplane
