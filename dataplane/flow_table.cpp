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

namespace dc::dataplane {

const char* tcp_state_name(TcpState s) noexcept {
  static constexpr const char* kNames[] = {"none",        "syn_sent", "syn_received",
                                           "established", "closing",  "closed"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(TcpState::kClosed) + 1);
  return base::enum_name(s, kNames);
}

FlowKey make_flow_key(const FlowTuple& t, bool& swapped) noexcept {
  FlowKey k;
  std::memset(&k, 0, sizeof k);
  int c = std::memcmp(t.src.bytes.data(), t.dst.bytes.data(), 16);
  swapped = c > 0 || (c == 0 && t.sport > t.dport);
  const auto& lo = swapped ? t.dst : t.src;
  const auto& hi = swapped ? t.src : t.dst;
  std::memcpy(k.lo_addr, lo.bytes.data(), 16);
  std::memcpy(k.hi_addr, hi.bytes.data(), 16);
  k.lo_port = swapped ? t.dport : t.sport;
  k.hi_port = swapped ? t.sport : t.dport;
  k.proto = t.proto;
  k.vlan = t.vlan;
  return k;
}

Result<std::unique_ptr<FlowTable>> FlowTable::create(const char* name, uint32_t capacity,
                                                     const FlowTimeouts& timeouts, int socket_id) {
  if (capacity < 8) return make_error("flow table capacity must be at least 8");
  std::unique_ptr<FlowTable> t(new FlowTable());
  rte_hash_parameters p{};
  p.name = name;
  p.entries = capacity;
  p.key_len = sizeof(FlowKey);
  p.hash_func = rte_hash_crc;
  p.hash_func_init_val = 0x5eed;
  p.socket_id = socket_id;
  // EXT_TABLE: the table can hold exactly `capacity` keys even with unlucky bucket collisions,
  // so "full" means full, not "a cuckoo path failed".
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  t->hash_ = rte_hash_create(&p);
  if (t->hash_ == nullptr)
    return make_error(std::string("rte_hash_create(") + name + "): " + rte_strerror(rte_errno));
  t->slots_ = static_cast<Flow*>(
      rte_zmalloc_socket(name, sizeof(Flow) * capacity, alignof(Flow), socket_id));
  if (t->slots_ == nullptr)
    return make_error(std::string("cannot allocate ") + std::to_string(capacity) +
                      " flow slots: out of DPDK memory (raise -m or lower flows.capacity)");
  t->cold_ = static_cast<FlowCold*>(
      rte_zmalloc_socket(name, sizeof(FlowCold) * capacity, alignof(FlowCold), socket_id));
  if (t->cold_ == nullptr)
    return make_error(std::string("cannot allocate the cold flow state of ") + name +
                      ": out of DPDK memory (raise -m or lower flows.capacity)");
  for (uint32_t i = 0; i < capacity; ++i) {
    new (&t->slots_[i]) Flow();
    t->slots_[i].cold = new (&t->cold_[i]) FlowCold();
  }
  t->deadline_ = static_cast<int64_t*>(
      rte_malloc_socket(name, sizeof(int64_t) * capacity, RTE_CACHE_LINE_SIZE, socket_id));
  if (t->deadline_ == nullptr)
    return make_error(std::string("cannot allocate the flow deadlines of ") + name +
                      ": out of DPDK memory");
  for (uint32_t i = 0; i < capacity; ++i) t->deadline_[i] = kNever;
  t->capacity_ = capacity;
  t->timeouts_ = timeouts;
  return t;
}

FlowTable::~FlowTable() {
  if (hash_ != nullptr) rte_hash_free(hash_);
  if (slots_ != nullptr) rte_free(slots_);
  if (cold_ != nullptr) rte_free(cold_);
  if (deadline_ != nullptr) rte_free(deadline_);
}

Flow* FlowTable::lookup(const FlowTuple& tuple, Direction& dir) noexcept {
  bool swapped = false;
  FlowKey key = make_flow_key(tuple, swapped);
  int32_t pos = rte_hash_lookup(hash_, &key);
  if (pos < 0) return nullptr;
  Flow* f = &slots_[pos];
  // The packet's source is "lo" when !swapped; the initiator is "lo" when initiator_is_lo.
  bool src_is_lo = !swapped;
  dir = (src_is_lo == f->initiator_is_lo) ? Direction::kForward : Direction::kReverse;
  return f;
}

void FlowTable::lookup_bulk(const FlowTuple* const* tuples, uint32_t n, Flow** flows,
                            Direction* dirs) noexcept {
  static_assert(kBulkMax <= RTE_HASH_LOOKUP_BULK_MAX);
  FlowKey keys[kBulkMax];
  const void* kp[kBulkMax];
  bool src_is_lo[kBulkMax];
  int32_t pos[kBulkMax];
  n = n < kBulkMax ? n : kBulkMax;
  if (n == 0) return;
  for (uint32_t i = 0; i < n; ++i) {
    bool swapped = false;
    keys[i] = make_flow_key(*tuples[i], swapped);
    src_is_lo[i] = !swapped;
    kp[i] = &keys[i];
  }
  if (rte_hash_lookup_bulk(hash_, kp, n, pos) != 0) {
    for (uint32_t i = 0; i < n; ++i) flows[i] = nullptr;
    return;
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (pos[i] < 0) {
      flows[i] = nullptr;
      continue;
    }
    Flow* f = &slots_[pos[i]];
    rte_prefetch0(f);
    rte_prefetch0(reinterpret_cast<const char*>(f) + RTE_CACHE_LINE_SIZE);
    flows[i] = f;
  }
  // Directions read the entries: after all prefetches were issued.
  for (uint32_t i = 0; i < n; ++i) {
    if (flows[i] != nullptr)
      dirs[i] =
          (src_is_lo[i] == flows[i]->initiator_is_lo) ? Direction::kForward : Direction::kReverse;
  }
}

Flow* FlowTable::create_flow(const FlowTuple& tuple, uint8_t tcp_flags, int64_t now_ns) noexcept {
  bool swapped = false;
  FlowKey key = make_flow_key(tuple, swapped);
  int32_t pos = rte_hash_add_key(hash_, &key);
  if (pos < 0) {
    ++stats_.full;
    return nullptr;
  }
  Flow* f = &slots_[pos];
  uint64_t id_seq = stats_.created + 1;
  *f = Flow();
  f->cold = &cold_[pos];
  *f->cold = FlowCold();
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
  f->cold->first_seen_ns = now_ns;
  f->last_seen_ns = now_ns;
  f->id = id_seq;
  f->in_use = true;
  f->slot = static_cast<uint32_t>(pos);
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
  FlowKey key = make_flow_key(flow->initiator, swapped);
  rte_hash_del_key(hash_, &key);
  flow->in_use = false;
  deadline_[flow->slot] = kNever;
  if (verdicts_ != nullptr) {  // the flow's interned verdicts (FlowCold)
    verdicts_->release(flow->cold->adm_verdict);
    verdicts_->release(flow->cold->last);
  }
  flow->cold->adm_verdict = flow->cold->last = VerdictTable::kDefault;
  --stats_.active;
}

void FlowTable::on_packet(Flow& f, Direction dir, uint8_t flags, uint32_t len,
                          int64_t now_ns) noexcept {
  auto d = static_cast<unsigned>(dir);
  f.dir[d].packets++;
  f.dir[d].bytes += len;
  if (now_ns > f.last_seen_ns) f.last_seen_ns = now_ns;
  if (f.initiator.proto != inspect::kProtoTcp) return;
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
