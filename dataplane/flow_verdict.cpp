// Admission and verdicts of a flow: first admission under the current policy, the sticky
// verdict (a block is final and emits the record at once), re-decisions as facts accrue.
#include "dataplane/pipeline.hpp"

namespace dc::dataplane {

namespace pflag = policy::flag;

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
      case ReasonKind::kVolumeCap:
        return DropReason::kVolumeCap;
      default:
        return DropReason::kPolicyBlock;
    }
  }
  return DropReason::kPolicyBlock;
}

void Pipeline::set_admission(Flow& f, const policy::Admission& a) noexcept {
  f.set_admission_facts(a);  // the facts, and their hot copy
  // New facts: reevaluate()'s last decision no longer stands for them.
  if (f.inspect_ctx != kNoInspectCtx) pool_.at(f.inspect_ctx).decided.policy = nullptr;
  const uint32_t idx = verdicts_->intern(a.verdict);
  verdicts_->release(f.cold().adm_verdict);
  f.cold().adm_verdict = idx;
}

policy::Admission Pipeline::admission_of(const Flow& f) const noexcept {
  policy::Admission a;
  static_cast<policy::AdmissionFacts&>(a) = f.cold().adm;
  a.verdict = verdicts_->get(f.cold().adm_verdict);
  return a;
}

void Pipeline::apply_verdict(Flow& f, const policy::Verdict& v, int64_t now_ns) noexcept {
  apply_interned(f, verdicts_->intern(v), now_ns);
}

void Pipeline::apply_interned(Flow& f, uint32_t idx, int64_t now_ns) noexcept {
  verdicts_->release(f.cold().last);
  f.cold().last = idx;
  const policy::Verdict& v = verdicts_->get(idx);
  if (v.action == policy::Action::kBlock) {
    if (f.verdict != FlowVerdict::kBlock) {
      f.verdict = FlowVerdict::kBlock;
      // No room for the flow's verdict: it fails closed (the record says stream_unavailable).
      f.block_reason =
          idx == VerdictTable::kFull ? DropReason::kVerdictTableFull : drop_reason_for(v);
      // A block is final: its record is written now, while the flow may still send packets.
      emit(f, now_ns, false);
    }
  } else if (v.action == policy::Action::kAlert) {
    if (f.verdict != FlowVerdict::kBlock) f.verdict = FlowVerdict::kAlert;
  } else if (f.verdict == FlowVerdict::kPending) {
    f.verdict = FlowVerdict::kAllow;
  }
}

// Called after every delivered segment of an inspected flow; nearly all of them change neither
// the tally nor the flags. decide() is a function of the snapshot, the admission facts, the tally,
// the flags and the time, and cannot change by time alone before next_change_ns(): when none of
// the others changed since the last decision (InspectCtx::decided) and the time is still inside
// its window, the verdict is the one interned then, and applying it again would release and
// intern the same entry and leave f.verdict as it is. The skip is exact, not a cache that can be
// stale: every record is the same as when deciding every time (the replay goldens).
void Pipeline::reevaluate(Flow& f, int64_t now_ns) noexcept {
  if (f.policy == nullptr || f.verdict == FlowVerdict::kBlock) return;
  if (f.cold().adm.sni_pending) return;  // decided when the ClientHello is complete
  InspectCtx* ctx = f.inspect_ctx != kNoInspectCtx ? &pool_.at(f.inspect_ctx) : nullptr;
  if (ctx != nullptr) {
    const InspectCtx::Decided& m = ctx->decided;
    if (m.policy == f.policy && m.flags == f.flags && m.tally_gen == ctx->tally_gen &&
        m.verdict == f.cold().last && now_ns >= m.from_ns && now_ns < m.until_ns) {
      const policy::Action act = verdicts_->get(m.verdict).action;
      if (act == policy::Action::kAlert) {
        f.verdict = FlowVerdict::kAlert;  // (not kBlock: returned above)
        return;
      }
      if (act == policy::Action::kAllow) {
        if (f.verdict == FlowVerdict::kPending) f.verdict = FlowVerdict::kAllow;
        return;
      }
      // A block is applied (and its record written) by the full path below.
    }
  }
  const policy::Admission a = admission_of(f);
  apply_verdict(f, f.policy->decide(a, tally_of(f), f.flags, now_ns), now_ns);
  f.recheck_ns = f.policy->next_change_ns(a, now_ns);
  if (ctx != nullptr && f.verdict != FlowVerdict::kBlock)
    ctx->decided = {f.policy, f.flags, ctx->tally_gen, f.cold().last, now_ns, f.recheck_ns};
}

// After f.cold().adm was (re)computed: conditions already raised on the flow (audit unavailable,
// evasion, ...) still apply, so an admission that does not block is decided with them.
void Pipeline::settle_admission(Flow& f, int64_t now_ns) noexcept {
  const uint32_t adm = f.cold().adm_verdict;
  if (f.flags != 0 && verdicts_->get(adm).action != policy::Action::kBlock &&
      !f.cold().adm.sni_pending) {
    apply_verdict(f, f.policy->decide(admission_of(f), tally_of(f), f.flags, now_ns), now_ns);
  } else {
    verdicts_->retain(adm);  // the latest verdict is the admission's: one more reference
    apply_interned(f, adm, now_ns);
  }
  f.recheck_ns = f.policy->next_change_ns(admission_of(f), now_ns);
  open_record(f, now_ns);  // a border flow that may cross: its flow_open record (record_hold.cpp)
}

bool Pipeline::admit_new(Flow& f, const inspect::Decoded& d, int64_t now_ns) noexcept {
  f.policy = snap_;
  bind_engine(f, engine_);
  (void)d;  // the opener is f.initiator, not necessarily this packet's source (a SYN-ACK)
  set_admission(f, snap_->admit(flow_query(f.initiator, f.src_zone, f.dst_zone, now_ns)));
  // A border-crossing flow must be recordable: otherwise the policy's audit_unavailable
  // failure action applies (default: block).
  if (f.cold().adm.border && sink_ != nullptr && !sink_->available())
    f.flags |= pflag::kAuditUnavailable;
  // Its first packet's evidence copy failed (pool exhausted): the record must say so, and the
  // evidence_unavailable failure action applies as it does for any later packet's copy.
  if (f.cold().adm.border && f.evidence_lost) f.flags |= pflag::kEvidenceUnavailable;
  settle_admission(f, now_ns);
  return f.verdict != FlowVerdict::kBlock;
}

}  // namespace dc::dataplane
