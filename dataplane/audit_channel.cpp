// The audit rings between the workers and the writer thread: outcome slots, evidence copies.
#include "dataplane/audit_channel.hpp"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

namespace dc::dataplane {

namespace {

// An evidence copy in its worker's ring: this header element, then the frame in the elements after
// it (the last one padded). A record is enqueued whole, so the writer never sees half of one.
struct EvidenceHeader {
  uint64_t flow_id;
  int64_t ts_ns;
  uint32_t len;    // frame bytes
  uint32_t elems;  // elements of the record, this header included
  uint64_t reserved;
};
constexpr uint32_t kElem = 32;
static_assert(sizeof(EvidenceHeader) == kElem);
constexpr uint32_t kMaxRecordElems = 1 + kMaxEvidenceFrame / kElem;

// Bytes [off, off + len) of a zero-copy reservation (its elements may wrap: ptr1 then ptr2).
void zc_write(const rte_ring_zc_data& z, size_t off, const void* src, size_t len) noexcept {
  const size_t first = size_t{z.n1} * kElem;
  const auto* p = static_cast<const uint8_t*>(src);
  if (off < first) {
    const size_t k = std::min(len, first - off);
    std::memcpy(static_cast<uint8_t*>(z.ptr1) + off, p, k);
    p += k, len -= k, off += k;
  }
  if (len > 0) std::memcpy(static_cast<uint8_t*>(z.ptr2) + (off - first), p, len);
}

// The bytes [off, off + len) of a zero-copy peek, in place when they do not wrap, else copied.
const uint8_t* zc_read(const rte_ring_zc_data& z, size_t off, size_t len,
                       uint8_t* scratch) noexcept {
  const size_t first = size_t{z.n1} * kElem;
  if (off + len <= first) return static_cast<const uint8_t*>(z.ptr1) + off;
  if (off >= first) return static_cast<const uint8_t*>(z.ptr2) + (off - first);
  const size_t k = first - off;
  std::memcpy(scratch, static_cast<const uint8_t*>(z.ptr1) + off, k);
  std::memcpy(scratch + k, z.ptr2, len - k);
  return scratch;
}

// Each worker's share of the evidence bytes, as a power-of-two element count.
unsigned evidence_elems(const AuditChannelConfig& cfg) noexcept {
  const uint32_t share = std::max<uint32_t>(
      cfg.evidence_ring_bytes / std::max<uint16_t>(cfg.workers, 1), kMinEvidenceRing);
  return static_cast<unsigned>(rte_align32prevpow2(share / kElem));
}

}  // namespace

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
  if (cfg.evidence_ring_bytes == 0 || cfg.evidence_packets_per_flow == 0) return ch;
  // One producer (the worker), one consumer (the writer thread): the zero-copy API needs SP/SC.
  const unsigned elems = evidence_elems(cfg);
  for (uint16_t w = 0; w < std::min(cfg.workers, kMaxWorkers); ++w) {
    const std::string name = "dc_evidence_" + std::to_string(w);
    ch->evidence_[w] = rte_ring_create_elem(name.c_str(), kElem, elems, SOCKET_ID_ANY,
                                            RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ch->evidence_[w] == nullptr)
      return make_error("cannot create the evidence ring of worker " + std::to_string(w) + ": " +
                        rte_strerror(rte_errno));
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
  for (rte_ring* r : evidence_)
    if (r != nullptr) rte_ring_free(r);
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

bool AuditChannel::put_evidence(uint16_t worker, uint64_t flow_id, const void* frame, uint32_t len,
                                int64_t ts_ns) noexcept {
  rte_ring* r = worker < kMaxWorkers ? evidence_[worker] : nullptr;
  if (r == nullptr) {  // evidence off, or a worker the channel was not sized for
    lost_evidence_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const uint32_t n = std::min(len, kMaxEvidenceFrame);
  const uint32_t elems = 1 + (n + kElem - 1) / kElem;
  rte_ring_zc_data z;
  if (rte_ring_enqueue_zc_bulk_elem_start(r, kElem, elems, &z, nullptr) == 0) {
    lost_evidence_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const EvidenceHeader h{flow_id, ts_ns, n, elems, 0};
  zc_write(z, 0, &h, sizeof h);
  zc_write(z, kElem, frame, n);
  rte_ring_enqueue_zc_elem_finish(r, elems);
  return true;
}

bool AuditChannel::available() const noexcept {
  // Keep headroom so that a flow admitted now can still be recorded when it ends.
  return writer_ok.load(std::memory_order_relaxed) && rte_ring_free_count(ring_) > 64 &&
         rte_mempool_avail_count(events_) > 16;
}

bool AuditChannel::evidence_room(uint16_t worker) const noexcept {
  // Its only producer asks: the free count can only grow until this worker enqueues again.
  const rte_ring* r = worker < kMaxWorkers ? evidence_[worker] : nullptr;
  return r == nullptr || rte_ring_free_count(r) >= kMaxRecordElems;
}

// Every copy queued in ring `r` now, read in place and handed over in order.
unsigned AuditChannel::drain_evidence(audit::OutcomeConsumer& consumer, rte_ring* r) {
  rte_ring_zc_data z;
  const unsigned got =
      rte_ring_dequeue_zc_burst_elem_start(r, kElem, rte_ring_get_capacity(r), &z, nullptr);
  if (got == 0) return 0;
  // Records handed over leave the ring, also when the consumer throws.
  struct Finish {
    rte_ring* r;
    unsigned used = 0;
    ~Finish() { rte_ring_dequeue_zc_elem_finish(r, used); }
  } fin{r};
  unsigned frames = 0;
  while (fin.used < got) {
    EvidenceHeader h;
    std::memcpy(&h, zc_read(z, size_t{fin.used} * kElem, kElem, scratch_), kElem);
    if (h.elems == 0 || h.elems > got - fin.used) {  // cannot happen: records go in whole
      fin.used = got;
      break;
    }
    const size_t off = (size_t{fin.used} + 1) * kElem;
    fin.used += h.elems;
    const uint8_t* frame = zc_read(z, off, h.len, scratch_);
    consumer.on_evidence(h.flow_id, h.ts_ns, {frame, h.len});
    ++frames;
  }
  return frames;
}

unsigned AuditChannel::drain_evidence(audit::OutcomeConsumer& consumer) {
  unsigned frames = 0;
  for (rte_ring* r : evidence_)
    if (r != nullptr) frames += drain_evidence(consumer, r);
  return frames;
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
  // A worker queues a flow's evidence before its outcome: with these outcomes dequeued, every copy
  // queued ahead of them is in the evidence rings now, and goes first.
  const unsigned frames = drain_evidence(consumer);
  for (unsigned i = 0; i < n; ++i) {
    consumer.on_outcome(*static_cast<const audit::FlowOutcome*>(items[i].obj));
    release(items[i]);
    releaser.from = i + 1;
  }
  // The consumer is done with this batch (records formatted, no pointer into it kept).
  dequeued_ += n;
  handled_.store(dequeued_, std::memory_order_release);
  return n + frames;
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
  auto* ev = static_cast<audit::FlowOutcome*>(it.obj);
  ev->~FlowOutcome();
  rte_mempool_put(events_, ev);
}

}  // namespace dc::dataplane
