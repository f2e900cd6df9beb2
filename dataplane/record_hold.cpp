// Record before release: the flow_open record of a border flow, the hold of its payload until the
// audit writer reports that record fsynced, flow_update records of long flows. The invariant: no
// payload byte of a border flow crosses before a durable record names the flow.
#include "dataplane/record_hold.hpp"

#include <rte_mbuf.h>

#include "dataplane/pipeline.hpp"

namespace dc::dataplane {

namespace pflag = policy::flag;

// Called when a flow's admission settles (admit_new, the SNI decision). A border flow that may
// cross gets its flow_open record now; its payload waits for it (open_durable false from
// admission on, so nothing crosses while the SNI is still pending either).
void Pipeline::open_record(Flow& f, int64_t now_ns) noexcept {
  if (sink_ == nullptr || !sink_->records_opens() || !f.cold().adm.border) return;
  if (f.cold().open_ticket != 0 || f.verdict == FlowVerdict::kBlock) return;
  const bool hold = settings_.hold_for_record && hold_ != nullptr;
  if (hold) f.open_durable = false;
  if (f.cold().adm.sni_pending) return;  // written once the ClientHello names the server
  audit::FlowOutcome* ev = sink_->acquire();
  uint32_t ticket = open_tickets_ + 1 == 0 ? 1 : open_tickets_ + 1;  // 0 means "none"
  if (ev != nullptr) {
    fill_outcome(f, now_ns, false, *ev);
    ev->kind = audit::OutcomeKind::kOpen;
    ev->worker = worker_id_;
    ev->ticket = ticket;
  }
  if (ev == nullptr || !sink_->submit(ev)) {
    // No record, no crossing: the policy's audit_unavailable failure action decides.
    ++counters_.events_lost;
    f.flags |= pflag::kAuditUnavailable;
    apply_verdict(f, f.policy->decide(admission_of(f), tally_of(f), f.flags, now_ns), now_ns);
    if (f.verdict != FlowVerdict::kBlock) f.open_durable = true;  // the policy chose fail-open
    return;
  }
  open_tickets_ = ticket;
  f.cold().open_ticket = ticket;
  if (!hold) f.open_durable = true;
  if (settings_.update_interval_ns > 0) {
    f.cold().next_update_ns = now_ns + settings_.update_interval_ns;
    f.updates = true;
  }
}

// A long border flow's progress record (bytes and findings so far), at most once per interval.
void Pipeline::update_record(Flow& f, int64_t now_ns) noexcept {
  f.cold().next_update_ns = now_ns + settings_.update_interval_ns;
  audit::FlowOutcome* ev = sink_->acquire();
  if (ev == nullptr) {
    ++counters_.events_lost;
    return;
  }
  fill_outcome(f, now_ns, false, *ev);
  ev->kind = audit::OutcomeKind::kUpdate;
  if (sink_->submit(ev))
    ++counters_.flow_updates;
  else
    ++counters_.events_lost;
}

// A packet of a flow whose flow_open record is not known durable yet: crosses now if it is (and
// nothing of the flow is still waiting ahead of it), otherwise waits in the ingress port's queue.
bool Pipeline::cleared_to_cross(Flow& f, Direction dir, rte_mbuf* m, BurstOutput& out) noexcept {
  if (f.cold().open_ticket != 0 && sink_->durable(worker_id_, f.cold().open_ticket)) {
    f.open_durable = true;
    if (f.held == 0) return true;
  }
  HoldQueue& q = hold_[cur_port_ <= kMaxPorts ? cur_port_ : kMaxPorts];
  if (!q.push(HeldPacket{m, f.cold().id, cur_now_ns_, f.slot, static_cast<uint8_t>(dir)})) {
    ++f.cold().dropped_packets;
    drop_pkt(m, DropReason::kRecordHoldFull, out);
    return false;
  }
  ++f.held;
  ++counters_.record_held;
  return false;
}

// One packet leaves the hold: across if its flow's record is durable and the flow still may
// cross; otherwise dropped. Returns false when the packet is not ready (left queued).
bool Pipeline::release_one(const HeldPacket& h, bool timed_out, int64_t now_ns,
                           BurstOutput& out) noexcept {
  Flow& f = flows_.slot(h.slot);
  const bool alive = f.in_use && f.cold().id == h.flow_id;
  const bool durable =
      alive && f.cold().open_ticket != 0 && sink_->durable(worker_id_, f.cold().open_ticket);
  if (!durable && !timed_out && alive) return false;
  if (!alive) {
    drop_pkt(h.m, DropReason::kAuditUnavailable, out);
    return true;
  }
  --f.held;
  const auto dir = static_cast<Direction>(h.dir);
  if (durable) {
    f.open_durable = true;
  } else if (f.verdict != FlowVerdict::kBlock) {
    // The record did not become durable in time: the audit trail cannot commit for this flow.
    ++counters_.record_hold_timeouts;
    f.flags |= pflag::kAuditUnavailable;
    if (!f.cold().adm.sni_pending)
      apply_verdict(f, f.policy->decide(admission_of(f), tally_of(f), f.flags, now_ns), now_ns);
  }
  if (!durable || f.verdict == FlowVerdict::kBlock) {
    ++f.cold().dropped_packets;
    drop_pkt(h.m, f.verdict == FlowVerdict::kBlock ? f.block_reason : DropReason::kAuditUnavailable,
             out);
  } else {
    cross(f, dir, h.m, out);
  }
  // A connection that closed while this was held ends now, its record counting what crossed.
  finish_if_closed(f, now_ns);
  return true;
}

void Pipeline::release_held(uint16_t in_port, int64_t now_ns, BurstOutput& out) noexcept {
  if (!tls_waiting_.empty()) tls_poll(in_port, now_ns, out);  // packets waiting for TLS keys
  if (acct_ != nullptr) acct_poll(in_port, now_ns, out);      // ... for the person count
  if (hold_ == nullptr) return;
  HoldQueue& q = hold_[in_port <= kMaxPorts ? in_port : kMaxPorts];
  for (unsigned n = 0; n < 256 && !q.empty(); ++n) {
    if (out.n_fwd >= BurstOutput::kCapacity || out.n_drop >= BurstOutput::kCapacity) break;
    const HeldPacket& h = q.front();
    const bool timed_out = now_ns - h.since_ns >= settings_.hold_timeout_ns;
    if (!release_one(h, timed_out, now_ns, out)) break;
    q.pop();
  }
}

uint32_t Pipeline::held_packets() const noexcept {
  uint32_t n = 0;
  if (hold_ != nullptr)
    for (uint16_t p = 0; p <= kMaxPorts; ++p) n += hold_[p].size();
  return n;
}

}  // namespace dc::dataplane
