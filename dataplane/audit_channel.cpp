// The audit ring between the workers and the writer thread: outcome slots, evidence copies.
#include "dataplane/audit_channel.hpp"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <cstring>
#include <new>
#include <string>

namespace dc::dataplane {

Result<std::unique_ptr<AuditChannel>> AuditChannel::create(const AuditChannelConfig& cfg) {
  std::unique_ptr<AuditChannel> ch(new AuditChannel());
  ch->cfg_ = cfg;
  // Multi-producer (every worker), single-consumer (the writer thread).
  ch->ring_ = rte_ring_create_elem("dc_audit", sizeof(AuditItem), cfg.ring_size, SOCKET_ID_ANY,
                                   RING_F_SC_DEQ);
  if (ch->ring_ == nullptr)
    return make_error(std::string("cannot create the audit ring: ") + rte_strerror(rte_errno));
  ch->events_ = rte_mempool_create("dc_audit_events", cfg.events, sizeof(audit::FlowOutcome), 0, 0,
                                   nullptr, nullptr, nullptr, nullptr, SOCKET_ID_ANY, 0);
  if (ch->events_ == nullptr)
    return make_error(std::string("cannot create the audit event pool: ") +
                      rte_strerror(rte_errno));
  if (cfg.evidence_mbufs > 0 && cfg.evidence_packets_per_flow > 0) {
    ch->evidence_ = rte_pktmbuf_pool_create("dc_evidence", cfg.evidence_mbufs, 0, 0,
                                            RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (ch->evidence_ == nullptr)
      return make_error(std::string("cannot create the evidence pool: ") + rte_strerror(rte_errno));
  }
  return ch;
}

AuditChannel::~AuditChannel() {
  if (ring_ != nullptr) {
    AuditItem it;
    while (rte_ring_dequeue_elem(ring_, &it, sizeof it) == 0) release(it);
    rte_ring_free(ring_);
  }
  if (events_ != nullptr) rte_mempool_free(events_);
  if (evidence_ != nullptr) rte_mempool_free(evidence_);
}

audit::FlowOutcome* AuditChannel::get_event() noexcept {
  void* obj = nullptr;
  if (rte_mempool_get(events_, &obj) != 0) {
    lost_outcomes_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  return new (obj) audit::FlowOutcome();
}

bool AuditChannel::put_event(audit::FlowOutcome* ev) noexcept {
  AuditItem it;
  it.kind = AuditItem::kFlow;
  it.obj = ev;
  it.flow_id = ev->flow_id;
  it.ts_ns = ev->time_ns;
  if (rte_ring_enqueue_elem(ring_, &it, sizeof it) != 0) {
    rte_mempool_put(events_, ev);
    lost_outcomes_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

bool AuditChannel::put_evidence(uint64_t flow_id, const void* frame, uint32_t len,
                                int64_t ts_ns) noexcept {
  if (evidence_ == nullptr) return false;
  rte_mbuf* m = rte_pktmbuf_alloc(evidence_);
  if (m == nullptr) {
    lost_evidence_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  uint32_t n = std::min<uint32_t>(len, rte_pktmbuf_tailroom(m));
  std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), frame, n);
  m->data_len = static_cast<uint16_t>(n);
  m->pkt_len = n;
  AuditItem it;
  it.kind = AuditItem::kEvidence;
  it.len = n;
  it.obj = m;
  it.flow_id = flow_id;
  it.ts_ns = ts_ns;
  if (rte_ring_enqueue_elem(ring_, &it, sizeof it) != 0) {
    rte_pktmbuf_free(m);
    lost_evidence_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

bool AuditChannel::available() const noexcept {
  // Keep headroom so that a flow admitted now can still be recorded when it ends.
  return writer_ok.load(std::memory_order_relaxed) && rte_ring_free_count(ring_) > 64 &&
         rte_mempool_avail_count(events_) > 16;
}

bool AuditChannel::evidence_room() const noexcept {
  // The pool has no per-lcore cache (cache size 0): its count is one ring read.
  return evidence_ == nullptr || rte_mempool_avail_count(evidence_) > 0;
}

unsigned AuditChannel::drain(audit::OutcomeConsumer& consumer, unsigned max) {
  AuditItem items[64];
  unsigned n = rte_ring_dequeue_burst_elem(ring_, items, sizeof(AuditItem),
                                           std::min<unsigned>(max, 64), nullptr);
  // Every dequeued item goes back to its pool, also when the consumer throws.
  struct Releaser {
    AuditChannel* ch;
    AuditItem* items;
    unsigned from, to;
    ~Releaser() {
      for (unsigned i = from; i < to; ++i) ch->release(items[i]);
    }
  } releaser{this, items, 0, n};
  for (unsigned i = 0; i < n; ++i) {
    const AuditItem& it = items[i];
    if (it.kind == AuditItem::kFlow) {
      consumer.on_outcome(*static_cast<const audit::FlowOutcome*>(it.obj));
    } else {
      const auto* m = static_cast<const rte_mbuf*>(it.obj);
      consumer.on_evidence(it.flow_id, it.ts_ns, {rte_pktmbuf_mtod(m, const uint8_t*), it.len});
    }
    release(it);
    releaser.from = i + 1;
  }
  // The consumer is done with this batch (records formatted, no pointer into it kept).
  dequeued_ += n;
  handled_.store(dequeued_, std::memory_order_release);
  return n;
}

uint32_t AuditChannel::mark() const noexcept {
  // The ring's producer tail: every enqueue before it has completed (positions wrap at 2^32,
  // like dequeued_, which counts from the same zero).
  return __atomic_load_n(&ring_->prod.tail, __ATOMIC_ACQUIRE);
}

bool AuditChannel::handled(uint32_t mark) const noexcept {
  return static_cast<int32_t>(handled_.load(std::memory_order_acquire) - mark) >= 0;
}

void AuditChannel::release(const AuditItem& it) noexcept {
  if (it.kind == AuditItem::kFlow) {
    auto* ev = static_cast<audit::FlowOutcome*>(it.obj);
    ev->~FlowOutcome();
    rte_mempool_put(events_, ev);
  } else {
    rte_pktmbuf_free(static_cast<rte_mbuf*>(it.obj));
  }
}

}  // namespace dc::dataplane
