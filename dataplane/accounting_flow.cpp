// Customs accounting on the worker (docs/accounting.md): person-key findings in exported bytes
// become claims on the ledger ring; the exported direction of a flow with claims pending waits in
// a bounded per-worker hold until they are answered (counted: it crosses; refused: volume_cap)
// or [accounting] decision_wait_ms passed (accounting_unavailable). No allocation, no lock.
#include <rte_mbuf.h>

#include <algorithm>

#include "dataplane/pipeline.hpp"

namespace dc::dataplane {

namespace pflag = policy::flag;

// The basis the flow's persons are exported under: the one covering its personal categories,
// else the counterparty's first valid basis.
policy::BasisId Pipeline::acct_basis(const Flow& f, int64_t now_ns) const noexcept {
  const policy::Verdict v = f.policy->decide(admission_of(f), tally_of(f), f.flags, now_ns);
  policy::BasisId whitelisted = policy::kNoBasis;
  for (std::size_t i = 0; i < v.reason_count; ++i) {
    const policy::Reason& r = v.reasons[i];
    if (r.kind == policy::ReasonKind::kPersonalUnderBasis) return r.basis;
    if (r.kind == policy::ReasonKind::kWhitelisted) whitelisted = r.basis;
  }
  return whitelisted;
}

// What every claim of flow `f` says: who (exporter, counterparty, basis, declaration), when (the
// accounting year), and which flow and claim generation the answer goes back to.
void Pipeline::acct_claim_base(const Flow& f, audit::PersonClaim& c) const noexcept {
  c.year = policy::accounting_year(cur_now_ns_, f.policy->accounting().utc_offset_minutes);
  c.counterparty = f.cold().adm.counterparty;
  c.exporter = f.cold().adm.exporter;
  c.declaration = f.cold().adm.declaration;
  c.basis = acct_basis(f, cur_now_ns_);
  c.worker = worker_id_;
  c.flow_slot = f.slot;
  c.gen = f.acct.gen;
  c.flow_id = f.cold().id;
  c.policy = f.policy;
}

void Pipeline::acct_person(Flow& f, const inspect::Finding& fd) noexcept {
  const policy::Snapshot& s = *f.policy;
  if (acct_ == nullptr || !s.accounting().enabled || !f.cold().adm.border ||
      f.inspect_ctx == kNoInspectCtx)
    return;
  audit::PersonClaim c;
  c.key_kind = s.person_key_kind(fd.detector);
  c.key_len = static_cast<uint8_t>(audit::normalise_person_key(
      c.key_kind, {fd.value, fd.value_len}, std::span<uint8_t, audit::kPersonKeyMax>(c.key)));
  if (c.key_len == 0) return;
  c.kinds = s.person_kinds(tally_of(f));
  acct_claim_base(f, c);
  audit::AccountingOutcome& sum = acct_sum_[f.inspect_ctx];
  if (!f.acct.claimed) {
    sum = audit::AccountingOutcome{};
    sum.claimed = true;
    f.acct.dir = f.cold().adm.forward_is_export() ? 0 : 1;
  } else {
    acct_kinds(f);  // kinds grew since the flow's earlier persons: re-claim them first
  }
  sum.year = c.year;
  sum.basis = c.basis;
  sum.counterparty = c.counterparty;
  sum.exporter = c.exporter;  // the record's scope keys name them as the ledger's do
  sum.declaration = c.declaration;
  sum.kinds |= c.kinds;  // the record names these scopes even when no answer comes
  f.acct.claimed = true;
  if (!acct_->send(worker_id_, c)) {
    ++counters_.accounting_ring_full;
    f.flags |= pflag::kAccountingUnavailable;
    sum.unavailable = true;
    return;
  }
  ++counters_.accounting_claims;
  if (f.acct.pending++ == 0) f.acct.since_ns = cur_now_ns_;
  f.acct.kinds |= c.kinds;
}

// A sensitive category after persons were claimed as non-sensitive (or the reverse): the ledger
// claims the flow's persons again in the new scopes.
void Pipeline::acct_kinds(Flow& f) noexcept {
  const uint8_t k = f.policy->person_kinds(tally_of(f));
  if ((k & ~f.acct.kinds) == 0) return;
  audit::PersonClaim c;
  c.op = audit::ClaimOp::kReclaim;
  c.kinds = k;
  acct_claim_base(f, c);
  f.acct.kinds |= k;
  if (f.inspect_ctx != kNoInspectCtx) acct_sum_[f.inspect_ctx].kinds |= k;
  if (!acct_->send(worker_id_, c)) {
    ++counters_.accounting_ring_full;
    f.flags |= pflag::kAccountingUnavailable;
    return;
  }
  ++counters_.accounting_claims;
  if (f.acct.pending++ == 0) f.acct.since_ns = cur_now_ns_;
}

void Pipeline::acct_hold(Flow& f, Direction dir, rte_mbuf* m, BurstOutput& out) noexcept {
  if (acct_held_.size() >= acct_held_.capacity()) {
    ++f.cold().dropped_packets;  // TCP retransmits it; the retransmission waits or crosses
    return drop_pkt(m, DropReason::kAccountingWait, out);
  }
  acct_held_.push_back({m, f.slot, f.cold().id, cur_port_, static_cast<uint8_t>(dir)});
  ++f.acct.held;
  ++counters_.accounting_held;
}

void Pipeline::acct_answer(const audit::ClaimAnswer& a, int64_t now_ns) noexcept {
  Flow& f = flows_.slot(a.flow_slot);
  if (!f.in_use || f.cold().id != a.flow_id || f.policy == nullptr) return;
  if (a.gen == f.acct.gen && f.acct.pending > 0) --f.acct.pending;
  if (f.inspect_ctx != kNoInspectCtx) {
    audit::AccountingOutcome& sum = acct_sum_[f.inspect_ctx];
    sum.used |= a.used;
    sum.persons = std::max(sum.persons, a.flow_persons);
    for (unsigned i = 0; i < audit::kScopeSlots; ++i) {
      if (!(a.used >> i & 1)) continue;
      sum.counts[i] = std::max(sum.counts[i], a.counts[i]);
      sum.limits[i] = a.limits[i];
    }
    sum.refused |= a.status == audit::ClaimStatus::kRefused;
    sum.unavailable |= a.status == audit::ClaimStatus::kUnavailable;
    sum.warn |= a.warn;
    if (a.status == audit::ClaimStatus::kRefused && sum.refused_slot == audit::kScopeSlots)
      sum.refused_slot = a.refused_slot;
  }
  // A refusal counts even after the wait timed out: the flow may still be sending. Over a
  // declaration's persons cap it is declaration_exceeded, over anything else volume_cap.
  if (a.status == audit::ClaimStatus::kRefused) {
    const bool declared =
        a.refused_slot == audit::kDeclarationN || a.refused_slot == audit::kDeclarationS;
    f.flags |= declared ? pflag::kDeclarationExceeded : pflag::kVolumeCap;
  }
  if (a.status == audit::ClaimStatus::kUnavailable) f.flags |= pflag::kAccountingUnavailable;
  if (a.warn) f.flags |= pflag::kVolumeWarn;
  reevaluate(f, now_ns);
}

// One held packet from ingress port `in_port`'s turn: true when it left the hold.
bool Pipeline::acct_release(const AcctHeld& h, uint16_t in_port, int64_t now_ns,
                            BurstOutput& out) noexcept {
  Flow& f = flows_.slot(h.slot);
  if (!f.in_use || f.cold().id != h.flow_id) {  // gone (acct_end frees its packets; defensive)
    counters_.drop(DropReason::kAccountingWait);
    rte_pktmbuf_free(h.m);
    return true;
  }
  if (h.port != in_port) return false;
  if (f.verdict != FlowVerdict::kBlock && f.acct.pending > 0) {
    if (now_ns - f.acct.since_ns < settings_.accounting_wait_ns) return false;
    ++counters_.accounting_timeouts;  // no answer in time: on_unavailable decides
    ++f.acct.gen;
    f.acct.pending = 0;
    f.flags |= pflag::kAccountingUnavailable;
    if (f.inspect_ctx != kNoInspectCtx) acct_sum_[f.inspect_ctx].unavailable = true;
    reevaluate(f, now_ns);
  }
  --f.acct.held;
  if (f.verdict == FlowVerdict::kBlock) {
    ++f.cold().dropped_packets;
    drop_pkt(h.m, f.block_reason, out);
  } else {
    forward_pkt(f, static_cast<Direction>(h.dir), h.m, out);
  }
  if (f.acct.held == 0) finish_if_closed(f, now_ns);  // it closed while its bytes waited
  return true;
}

void Pipeline::acct_poll(uint16_t in_port, int64_t now_ns, BurstOutput& out) noexcept {
  audit::ClaimAnswer ans[32];
  unsigned n;
  while ((n = acct_->receive(worker_id_, ans, 32)) > 0)
    for (unsigned i = 0; i < n; ++i) acct_answer(ans[i], now_ns);
  if (acct_held_.empty()) return;
  // Stable compaction: a flow's packets leave in the order they came.
  std::size_t keep = 0;
  for (std::size_t i = 0; i < acct_held_.size(); ++i) {
    const bool room =
        out.n_fwd + 1 < BurstOutput::kCapacity && out.n_drop + 1 < BurstOutput::kCapacity;
    if (room && acct_release(acct_held_[i], in_port, now_ns, out)) continue;
    acct_held_[keep++] = acct_held_[i];
  }
  acct_held_.resize(keep);
}

// The flow ends: the ledger forgets its persons; packets still held never cross.
void Pipeline::acct_end(Flow& f) noexcept {
  if (f.acct.claimed) {
    audit::PersonClaim c;
    c.op = audit::ClaimOp::kEnd;
    c.flow_id = f.cold().id;
    c.flow_slot = f.slot;
    if (!acct_->send(worker_id_, c)) ++counters_.accounting_ring_full;
  }
  if (f.acct.held > 0) {
    std::size_t keep = 0;
    for (std::size_t i = 0; i < acct_held_.size(); ++i) {
      const AcctHeld& h = acct_held_[i];
      if (h.slot == f.slot && h.flow_id == f.cold().id) {
        ++f.cold().dropped_packets;
        counters_.drop(DropReason::kAccountingWait);
        rte_pktmbuf_free(h.m);
        continue;
      }
      acct_held_[keep++] = h;
    }
    acct_held_.resize(keep);
  }
  f.acct = FlowAccounting{};
}

void Pipeline::acct_fill(const Flow& f, audit::FlowOutcome& ev) const noexcept {
  ev.acct = audit::AccountingOutcome{};
  if (!f.acct.claimed || f.inspect_ctx == kNoInspectCtx) return;
  ev.acct = acct_sum_[f.inspect_ctx];
}

}  // namespace dc::dataplane
