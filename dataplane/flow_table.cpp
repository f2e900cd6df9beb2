// The per-worker flow table: symmetric keys in an rte_hash, TCP state, timeouts, expiry.
#include "dataplane/flow_table.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include <cstring>
#include <iterator>
#include <string>

#include "base/names.hpp"
#include "dataplane/flow_table_key_inline.hpp"

namespace dc::dataplane {

const char* tcp_state_name(TcpState s) noexcept {
  static constexpr const char* kNames[] = {"none",        "syn_sent", "syn_received",
                                           "established", "closing",  "closed"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(TcpState::kClosed) + 1);
  return base::enum_name(s, kNames);
}

Result<std::unique_ptr<FlowTable>> FlowTable::create(const char* name, uint32_t capacity,
                                                     const FlowTimeouts& timeouts, int socket_id) {
  if (capacity < 8) return make_error("flow table capacity must be at least 8");
  std::unique_ptr<FlowTable> t(new FlowTable());
  rte_hash_parameters p{};
  p.name = name;
  p.entries = capacity;
  p.key_len = sizeof(FlowKey);
  p.hash_func = rte_hash_crc;  // unused: every call passes make_flow_key's signature
  p.socket_id = socket_id;
  // EXT_TABLE: the table can hold exactly `capacity` keys even with unlucky bucket collisions,
  // so "full" means full, not "a cuckoo path failed".
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  t->hash_ = rte_hash_create(&p);
  if (t->hash_ == nullptr)
    return make_error(std::string("rte_hash_create(") + name + "): " + rte_strerror(rte_errno));
  rte_hash_set_cmp_func(t->hash_, flow_key_equal);
  // One allocation: the cold entries, then (cache-line aligned) the hot entries. Cold entry i lies
  // (i + 1) entries below hot slot 0, so a flow finds it from its slot number (Flow::cold()).
  const std::size_t cold_bytes = (sizeof(FlowCold) * capacity + RTE_CACHE_LINE_SIZE - 1) /
                                 RTE_CACHE_LINE_SIZE * RTE_CACHE_LINE_SIZE;
  t->block_ = static_cast<char*>(
      rte_zmalloc_socket(name, cold_bytes + sizeof(Flow) * capacity, alignof(Flow), socket_id));
  if (t->block_ == nullptr)
    return make_error(std::string("cannot allocate ") + std::to_string(capacity) +
                      " flow slots: out of DPDK memory (raise -m or lower flows.capacity)");
  t->slots_ = reinterpret_cast<Flow*>(t->block_ + cold_bytes);
  for (uint32_t i = 0; i < capacity; ++i) {
    new (&t->slots_[i]) Flow();
    t->slots_[i].slot = i;
    new (&t->slots_[i].cold()) FlowCold();
  }
  t->deadline_ = static_cast<int64_t*>(
      rte_malloc_socket(name, sizeof(int64_t) * capacity, RTE_CACHE_LINE_SIZE, socket_id));
  if (t->deadline_ == nullptr)
    return make_error(std::string("cannot allocate the flow deadlines of ") + name +
                      ": out of DPDK memory");
  for (uint32_t i = 0; i < capacity; ++i) t->deadline_[i] = kNever;
  t->free_ = static_cast<uint32_t*>(
      rte_malloc_socket(name, sizeof(uint32_t) * capacity, RTE_CACHE_LINE_SIZE, socket_id));
  if (t->free_ == nullptr)
    return make_error(std::string("cannot allocate the free slot list of ") + name +
                      ": out of DPDK memory");
  for (uint32_t i = 0; i < capacity; ++i) t->free_[i] = i;
  t->free_n_ = capacity;
  t->capacity_ = capacity;
  t->timeouts_ = timeouts;
  return t;
}

FlowTable::~FlowTable() {
  if (hash_ != nullptr) rte_hash_free(hash_);
  if (block_ != nullptr) rte_free(block_);
  if (deadline_ != nullptr) rte_free(deadline_);
  if (free_ != nullptr) rte_free(free_);
}

Flow* FlowTable::lookup(const FlowTuple& tuple, Direction& dir) noexcept {
  bool swapped = false;
  uint32_t sig = 0;
  const FlowKey key = key_detail::make_key(tuple, swapped, sig);
  void* data = nullptr;
  if (rte_hash_lookup_with_hash_data(hash_, &key, sig, &data) < 0) return nullptr;
  const uintptr_t v = reinterpret_cast<uintptr_t>(data);
  // The packet's source is "lo" when !swapped; the initiator is "lo" when bit 0 of the data
  // (Flow::initiator_is_lo) is set.
  dir = (!swapped == static_cast<bool>(v & 1)) ? Direction::kForward : Direction::kReverse;
  return &slots_[v >> 1];
}

void FlowTable::lookup_bulk(const FlowTuple* const* tuples, uint32_t n, Flow** flows,
                            Direction* dirs) noexcept {
  static_assert(kBulkMax <= RTE_HASH_LOOKUP_BULK_MAX && kBulkMax <= 64);
  FlowKey keys[kBulkMax];
  const void* kp[kBulkMax];
  hash_sig_t sigs[kBulkMax];
  bool src_is_lo[kBulkMax];
  void* data[kBulkMax];
  n = n < kBulkMax ? n : kBulkMax;
  if (n == 0) return;
  for (uint32_t i = 0; i < n; ++i) {
    bool swapped = false;
    keys[i] = key_detail::make_key(*tuples[i], swapped, sigs[i]);
    src_is_lo[i] = !swapped;
    kp[i] = &keys[i];
  }
  uint64_t hits = 0;
  if (rte_hash_lookup_with_hash_bulk_data(hash_, kp, sigs, n, &hits, data) < 0) hits = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (!(hits >> i & 1)) {
      flows[i] = nullptr;
      continue;
    }
    const uintptr_t v = reinterpret_cast<uintptr_t>(data[i]);
    Flow* f = &slots_[v >> 1];
    rte_prefetch0(f);  // lines 0 and 1: every packet's
    rte_prefetch0(reinterpret_cast<const char*>(f) + RTE_CACHE_LINE_SIZE);
    if (tuples[i]->proto == inspect::kProtoTcp)  // line 3: the TCP normaliser's
      rte_prefetch0(reinterpret_cast<const char*>(f) + offsetof(Flow, norm));
    // No prefetch of the cold entry: an admitted flow's packets read the hot copy of its
    // admission facts (Flow::facts), so the cold lines are fetched only at decisions.
    flows[i] = f;
    // The orientation comes with the slot number: no entry is read before its prefetch lands.
    dirs[i] =
        (src_is_lo[i] == static_cast<bool>(v & 1)) ? Direction::kForward : Direction::kReverse;
  }
}

Flow* FlowTable::create_flow(const FlowTuple& tuple, uint8_t tcp_flags, int64_t now_ns) noexcept {
  if (free_n_ == 0) {
    ++stats_.full;
    return nullptr;
  }
  const uint32_t pos = free_[free_head_];
  bool swapped = false;
  uint32_t sig = 0;
  (void)make_flow_key(tuple, swapped, sig);
  Flow* f = &slots_[pos];
  uint64_t id_seq = stats_.created + 1;
  *f = Flow();
  f->slot = pos;  // before cold(): it is computed from the slot
  f->cold() = FlowCold();
  using namespace inspect::tcpflag;
  const bool tcp = tuple.proto == inspect::kProtoTcp;
  const bool syn_ack = tcp && (tcp_flags & kSyn) && (tcp_flags & kAck);
  if (syn_ack) {
    // The SYN-ACK answers the opener's SYN: its destination opened the flow.
    f->initiator =
        FlowTuple{tuple.dst, tuple.src, tuple.dport, tuple.sport, tuple.proto, tuple.vlan};
    f->initiator_is_lo = swapped;
  } else {
    f->initiator = tuple;
    f->initiator_is_lo = !swapped;
  }
  // The stored key refers to the entry's own initiator tuple (IPv6): built once that is set.
  bool unused = false;
  const FlowKey key = make_flow_key(f->initiator, unused, sig);
  // The data: the slot number and, in bit 0, the initiator's orientation in the key.
  const uintptr_t data = uintptr_t{pos} << 1 | (f->initiator_is_lo ? 1 : 0);
  if (rte_hash_add_key_with_hash_data(hash_, &key, sig, reinterpret_cast<void*>(data)) < 0) {
    ++stats_.full;  // not expected: the hash has room for every slot (EXT_TABLE)
    return nullptr;
  }
  free_head_ = free_head_ + 1 == capacity_ ? 0 : free_head_ + 1;
  --free_n_;
  f->cold().first_seen_ns = now_ns;
  f->last_seen_ns = now_ns;
  f->cold().id = id_seq;
  f->in_use = true;
  if (tcp) {
    const bool bare_syn = (tcp_flags & kSyn) && !(tcp_flags & kAck);
    f->tcp = bare_syn  ? TcpState::kSynSent
             : syn_ack ? TcpState::kSynReceived
                       : TcpState::kEstablished;
    f->midstream = !(tcp_flags & kSyn);
  }
  deadline_[pos] = now_ns + idle_timeout(*f);
  ++stats_.created;
  ++stats_.active;
  return f;
}

void FlowTable::remove(Flow* flow) noexcept {
  if (flow == nullptr || !flow->in_use) return;
  bool swapped = false;
  uint32_t sig = 0;
  const FlowKey key = make_flow_key(flow->initiator, swapped, sig);
  rte_hash_del_key_with_hash(hash_, &key, sig);
  flow->in_use = false;
  deadline_[flow->slot] = kNever;
  free_[(free_head_ + free_n_) % capacity_] = flow->slot;  // freed last, taken last (FIFO)
  ++free_n_;
  if (verdicts_ != nullptr) {  // the flow's interned verdicts (FlowCold)
    verdicts_->release(flow->cold().adm_verdict);
    verdicts_->release(flow->cold().last);
  }
  flow->cold().adm_verdict = flow->cold().last = VerdictTable::kDefault;
  --stats_.active;
}

void FlowTable::on_packet(Flow& f, Direction dir, uint8_t flags, uint32_t len,
                          int64_t now_ns) noexcept {
  auto d = static_cast<unsigned>(dir);
  count_packet(f, dir, len, now_ns);
  if (f.tcp == TcpState::kNone) return;  // not TCP (create_flow sets a state for every TCP flow)
  using namespace inspect::tcpflag;
  // A simplified RFC 9293 §3.3.2 state machine, tracking what a middlebox can observe.
  if (flags & kRst) {
    f.tcp = TcpState::kClosed;
    return lower_deadline(f);
  }
  if (flags & kFin) {
    f.fin_seen |= static_cast<uint8_t>(1u << d);
    f.tcp = (f.fin_seen == 3) ? TcpState::kClosed : TcpState::kClosing;
    return lower_deadline(f);
  }
  switch (f.tcp) {
    case TcpState::kSynSent:
      if (dir == Direction::kReverse && (flags & kSyn) && (flags & kAck))
        f.tcp = TcpState::kSynReceived;
      break;
    case TcpState::kSynReceived:
      if (dir == Direction::kForward && (flags & kAck) && !(flags & kSyn))
        f.tcp = TcpState::kEstablished;
      break;
    default:
      break;
  }
}

// A FIN or RST shortens the flow's timeout: its deadline may now come earlier than the one stored.
void FlowTable::lower_deadline(const Flow& f) noexcept {
  const int64_t d = f.last_seen_ns + idle_timeout(f);
  if (d < deadline_[f.slot]) deadline_[f.slot] = d;
}

int64_t FlowTable::idle_timeout(const Flow& f) const noexcept {
  switch (f.initiator.proto) {
    case inspect::kProtoTcp:
      switch (f.tcp) {
        case TcpState::kSynSent:
        case TcpState::kSynReceived:
          return timeouts_.tcp_syn_ns;
        case TcpState::kEstablished:
          return timeouts_.tcp_established_ns;
        case TcpState::kClosing:
          return timeouts_.tcp_closing_ns;
        case TcpState::kClosed:
          return timeouts_.tcp_closed_ns;
        case TcpState::kNone:
          return timeouts_.other_ns;
      }
      return timeouts_.other_ns;
    case inspect::kProtoUdp:
      return timeouts_.udp_ns;
    case inspect::kProtoIcmp:
    case inspect::kProtoIcmpv6:
      return timeouts_.icmp_ns;
    default:
      return timeouts_.other_ns;
  }
}

}  // namespace dc::dataplane
