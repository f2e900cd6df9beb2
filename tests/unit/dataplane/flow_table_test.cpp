#include "dataplane/flow_table.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace dc::dataplane {
namespace {

using inspect::IpAddr;
namespace tf = inspect::tcpflag;

constexpr int64_t kSec = 1'000'000'000;

FlowTuple tcp4(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport) {
  FlowTuple t;
  t.src = IpAddr::from_v4(src);
  t.dst = IpAddr::from_v4(dst);
  t.sport = sport;
  t.dport = dport;
  t.proto = inspect::kProtoTcp;
  return t;
}

FlowTuple reversed(FlowTuple t) {
  std::swap(t.src, t.dst);
  std::swap(t.sport, t.dport);
  return t;
}

FlowTuple tcp6(uint8_t src_last, uint16_t sport, uint8_t dst_last, uint16_t dport) {
  uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8}, b[16] = {0x20, 0x01, 0x0d, 0xb8};
  a[15] = src_last;
  b[15] = dst_last;
  FlowTuple t;
  t.src = IpAddr::from_v6(a);
  t.dst = IpAddr::from_v6(b);
  t.sport = sport;
  t.dport = dport;
  t.proto = inspect::kProtoTcp;
  return t;
}

std::unique_ptr<FlowTable> make_table(uint32_t capacity, const FlowTimeouts& to = {}) {
  static int n = 0;
  std::string name = "ft_test_" + std::to_string(n++);
  auto r = FlowTable::create(name.c_str(), capacity, to, 0);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? std::move(r.value()) : nullptr;
}

TEST(FlowKey, BothDirectionsGiveTheSameKey) {
  struct Row {
    FlowTuple t;
  } rows[] = {
      {tcp4(0x0a010001, 40000, 0xcb00710a, 443)},
      {tcp4(0xcb00710a, 443, 0x0a010001, 40000)},
      {tcp4(0x0a010001, 5000, 0x0a010001, 6000)},  // same address, ports decide
      {tcp4(0x0a010001, 5000, 0x0a010001, 5000)},  // identical endpoints
  };
  for (const auto& row : rows) {
    bool s1 = false, s2 = false;
    FlowKey a = make_flow_key(row.t, s1);
    FlowKey b = make_flow_key(reversed(row.t), s2);
    EXPECT_EQ(0, std::memcmp(&a, &b, sizeof a));
    if (!(row.t.src == row.t.dst && row.t.sport == row.t.dport)) EXPECT_NE(s1, s2);
  }
}

TEST(FlowKey, VlanAndProtocolSeparateFlows) {
  FlowTuple a = tcp4(1, 2, 3, 4), b = a, c = a;
  b.vlan = 100;
  c.proto = inspect::kProtoUdp;
  bool s;
  FlowKey ka = make_flow_key(a, s), kb = make_flow_key(b, s), kc = make_flow_key(c, s);
  EXPECT_NE(0, std::memcmp(&ka, &kb, sizeof ka));
  EXPECT_NE(0, std::memcmp(&ka, &kc, sizeof ka));
}

// IPv4 keys order endpoints as integers: the same order (and so the same orientation) as comparing
// the IPv4-mapped addresses byte by byte, and the same signature both ways.
TEST(FlowKey, Ipv4KeyIsCompactAndOrderedLikeTheAddressBytes) {
  const FlowTuple rows[] = {tcp4(0x0a010001, 40000, 0xcb00710a, 443),
                            tcp4(0xcb00710a, 443, 0x0a010001, 40000),
                            tcp4(0x80000000, 1, 0x7fffffff, 2),  // the sign bit orders as unsigned
                            tcp4(0x0a010001, 6000, 0x0a010001, 5000)};
  for (const FlowTuple& t : rows) {
    bool s1 = false, s2 = false;
    uint32_t sig1 = 0, sig2 = 0;
    const FlowKey a = make_flow_key(t, s1, sig1), b = make_flow_key(reversed(t), s2, sig2);
    EXPECT_EQ(a.family, kFamilyV4);
    EXPECT_EQ(sig1, sig2);
    EXPECT_EQ(0, flow_key_equal(&a, &b, sizeof a));
    const int c = std::memcmp(t.src.bytes.data(), t.dst.bytes.data(), 16);
    EXPECT_EQ(s1, c > 0 || (c == 0 && t.sport > t.dport));
  }
}

// IPv6 keys refer to their tuple; two keys are equal when the tuples are one connection either way.
TEST(FlowKey, Ipv6KeysCompareTheTuplesBothWays) {
  const FlowTuple t = tcp6(1, 40000, 2, 443), r = reversed(t);
  FlowTuple other_port = t, other_vlan = t, other_proto = t;
  other_port.dport = 444;
  other_vlan.vlan = 7;
  other_proto.proto = inspect::kProtoUdp;
  bool s1 = false, s2 = false;
  uint32_t sig1 = 0, sig2 = 0;
  const FlowKey a = make_flow_key(t, s1, sig1), b = make_flow_key(r, s2, sig2);
  EXPECT_EQ(a.family, kFamilyV6);
  EXPECT_EQ(sig1, sig2);
  EXPECT_NE(s1, s2);
  EXPECT_EQ(0, flow_key_equal(&a, &b, sizeof a));
  for (const FlowTuple* o : {&other_port, &other_vlan, &other_proto}) {
    bool s;
    const FlowKey k = make_flow_key(*o, s);
    EXPECT_NE(0, flow_key_equal(&a, &k, sizeof a));
  }
  // An IPv4 key never equals an IPv6 key.
  bool s;
  const FlowTuple v4 = tcp4(0x0a010001, 40000, 0xcb00710a, 443);
  const FlowKey k4 = make_flow_key(v4, s);
  EXPECT_NE(0, flow_key_equal(&a, &k4, sizeof a));
  EXPECT_NE(0, flow_key_equal(&k4, &a, sizeof a));
}

TEST(FlowTable, Ipv6FlowsMapBothDirectionsAndSurviveChurn) {
  auto ft = make_table(64);
  Direction d;
  // Created from a SYN-ACK: the stored key refers to the flow's own (reversed) initiator tuple.
  const FlowTuple syn_ack = tcp6(2, 443, 1, 40000);
  Flow* f = ft->create_flow(syn_ack, tf::kSyn | tf::kAck, 0);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(ft->lookup(syn_ack, d), f);
  EXPECT_EQ(d, Direction::kReverse);
  EXPECT_EQ(ft->lookup(reversed(syn_ack), d), f);
  EXPECT_EQ(d, Direction::kForward);
  // Many flows created and removed: lookups keep finding the right one (v4 and v6 mixed).
  std::vector<Flow*> v6, v4;
  for (uint8_t i = 0; i < 20; ++i) {
    v6.push_back(ft->create_flow(tcp6(10 + i, 1000, 3, 80), tf::kSyn, 0));
    v4.push_back(ft->create_flow(tcp4(0x0a000000u + i, 1000, 3, 80), tf::kSyn, 0));
    ASSERT_NE(v6.back(), nullptr);
    ASSERT_NE(v4.back(), nullptr);
  }
  for (uint8_t i = 0; i < 20; i += 2) {
    ft->remove(v6[i]);
    ft->remove(v4[i]);
  }
  for (uint8_t i = 0; i < 20; ++i) {
    const FlowTuple t6 = tcp6(10 + i, 1000, 3, 80), t4 = tcp4(0x0a000000u + i, 1000, 3, 80);
    EXPECT_EQ(ft->lookup(reversed(t6), d), i % 2 ? v6[i] : nullptr) << int(i);
    EXPECT_EQ(ft->lookup(t4, d), i % 2 ? v4[i] : nullptr) << int(i);
    const FlowTuple* ts[] = {&t6, &t4};
    Flow* found[2];
    Direction dirs[2];
    ft->lookup_bulk(ts, 2, found, dirs);
    EXPECT_EQ(found[0], i % 2 ? v6[i] : nullptr);
    EXPECT_EQ(found[1], i % 2 ? v4[i] : nullptr);
  }
  EXPECT_EQ(ft->lookup(syn_ack, d), f);
  EXPECT_EQ(ft->stats().active, 21u);
}

// Slots are handed out first free, first taken (as rte_hash handed out its positions before the
// table kept its own list): expiry order, and so record order, does not change.
TEST(FlowTable, FreedSlotsAreReusedInFifoOrder) {
  auto ft = make_table(8);
  std::vector<Flow*> flows;
  for (uint32_t i = 0; i < 8; ++i) {
    flows.push_back(ft->create_flow(tcp4(i + 1, 1, 9, 9), tf::kSyn, 0));
    ASSERT_NE(flows.back(), nullptr);
    EXPECT_EQ(flows.back()->slot, i);
  }
  ft->remove(flows[5]);
  ft->remove(flows[2]);
  Flow* a = ft->create_flow(tcp4(100, 1, 9, 9), tf::kSyn, 0);
  Flow* b = ft->create_flow(tcp4(101, 1, 9, 9), tf::kSyn, 0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->slot, 5u);
  EXPECT_EQ(b->slot, 2u);
}

TEST(FlowTable, BothDirectionsMapToOneFlowWithDirection) {
  auto ft = make_table(64);
  FlowTuple fwd = tcp4(0x0a010001, 40000, 0xcb00710a, 443);
  Direction d;
  EXPECT_EQ(ft->lookup(fwd, d), nullptr);
  Flow* f = ft->create_flow(fwd, tf::kSyn, 0);
  ASSERT_NE(f, nullptr);
  Flow* g = ft->lookup(fwd, d);
  EXPECT_EQ(g, f);
  EXPECT_EQ(d, Direction::kForward);
  g = ft->lookup(reversed(fwd), d);
  EXPECT_EQ(g, f);
  EXPECT_EQ(d, Direction::kReverse);
  // The orientation holds when the initiator is the "hi" endpoint of the key too.
  FlowTuple other = tcp4(0xcb00710a, 443, 0x0a010001, 40001);
  Flow* h = ft->create_flow(other, tf::kSyn, 0);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(ft->lookup(other, d), h);
  EXPECT_EQ(d, Direction::kForward);
  EXPECT_EQ(ft->lookup(reversed(other), d), h);
  EXPECT_EQ(d, Direction::kReverse);
  EXPECT_EQ(ft->stats().active, 2u);
}

TEST(FlowTable, BulkLookupFindsFlowsWithDirectionsAndMisses) {
  auto ft = make_table(64);
  FlowTuple a = tcp4(0x0a010001, 40000, 0xcb00710a, 443);
  FlowTuple b = tcp4(0xcb00710a, 443, 0x0a010001, 40001);  // initiator is the "hi" endpoint
  FlowTuple absent = tcp4(0x0a010002, 40000, 0xcb00710a, 443);
  Flow* fa = ft->create_flow(a, tf::kSyn, 0);
  Flow* fb = ft->create_flow(b, tf::kSyn, 0);
  ASSERT_NE(fa, nullptr);
  ASSERT_NE(fb, nullptr);
  const FlowTuple ra = reversed(a), rb = reversed(b);
  const FlowTuple* tuples[] = {&a, &absent, &ra, &b, &rb};
  Flow* found[5];
  Direction dirs[5];
  ft->lookup_bulk(tuples, 5, found, dirs);
  EXPECT_EQ(found[0], fa);
  EXPECT_EQ(dirs[0], Direction::kForward);
  EXPECT_EQ(found[1], nullptr);
  EXPECT_EQ(found[2], fa);
  EXPECT_EQ(dirs[2], Direction::kReverse);
  EXPECT_EQ(found[3], fb);
  EXPECT_EQ(dirs[3], Direction::kForward);
  EXPECT_EQ(found[4], fb);
  EXPECT_EQ(dirs[4], Direction::kReverse);
  ft->lookup_bulk(tuples, 0, found, dirs);  // nothing to look up: no effect
}

// Cold state lives beside the slot, is reached from the hot entry's slot number and is reset on
// reuse.
TEST(FlowTable, ColdStateIsPerSlotAndResetForANewFlow) {
  auto ft = make_table(8);
  FlowTuple a = tcp4(0x0a010001, 40000, 0xcb00710a, 443);
  Flow* f = ft->create_flow(a, tf::kSyn, 5 * kSec);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->cold().first_seen_ns, 5 * kSec);
  f->cold().open_ticket = 7;
  f->cold().adm.border = true;
  Flow* g = ft->create_flow(tcp4(0x0a010001, 40001, 0xcb00710a, 443), tf::kSyn, 6 * kSec);
  ASSERT_NE(g, nullptr);
  EXPECT_NE(&g->cold(), &f->cold());
  const uint32_t slot = f->slot;
  ft->remove(f);
  Flow* h = ft->create_flow(tcp4(0x0a010003, 1, 0xcb00710a, 443), tf::kSyn, 9 * kSec);
  ASSERT_NE(h, nullptr);
  if (h->slot == slot) {
    EXPECT_EQ(h->cold().open_ticket, 0u);
    EXPECT_FALSE(h->cold().adm.border);
  }
  EXPECT_EQ(h->cold().first_seen_ns, 9 * kSec);
}

// The hot copy of the admission facts (Flow::facts) starts as a default admission's and follows
// every write of FlowCold::adm.
TEST(FlowTable, HotFactsFollowTheAdmission) {
  EXPECT_EQ(kDefaultFacts, facts_of(policy::AdmissionFacts{}));
  auto ft = make_table(8);
  Flow* f = ft->create_flow(tcp4(0x0a010001, 40000, 0xcb00710a, 443), tf::kSyn, 5 * kSec);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->facts, facts_of(f->cold().adm));
  policy::AdmissionFacts a;
  a.border = true;
  a.foreign = policy::Side::kResponder;
  a.inspect_forward = true;
  a.sni_pending = true;
  a.reverse_payload_allowed = false;
  a.declaration = 3;
  f->set_admission_facts(a);
  EXPECT_EQ(f->facts, facts_of(f->cold().adm));
  EXPECT_TRUE(f->border() && f->sni_pending() && f->has_declaration());
  EXPECT_TRUE(f->inspects(Direction::kForward));
  EXPECT_FALSE(f->inspects(Direction::kReverse));
  EXPECT_TRUE(f->exports(Direction::kForward));
  EXPECT_FALSE(f->exports(Direction::kReverse));
  EXPECT_FALSE(f->reverse_payload_allowed());
  f->clear_sni_pending();
  EXPECT_FALSE(f->cold().adm.sni_pending);
  EXPECT_EQ(f->facts, facts_of(f->cold().adm));
  a.foreign = policy::Side::kOpener;
  a.inspect_forward = false;
  a.inspect_reverse = true;
  f->set_admission_facts(a);
  EXPECT_TRUE(f->exports(Direction::kReverse) && f->inspects(Direction::kReverse));
  EXPECT_EQ(f->facts, facts_of(f->cold().adm));
  // A new flow in the same slot starts again from the default.
  const uint32_t slot = f->slot;
  ft->remove(f);
  for (uint32_t i = 0; i < 8; ++i) {
    Flow* g = ft->create_flow(tcp4(0x0a010002, 1000 + i, 0xcb00710a, 443), tf::kSyn, 6 * kSec);
    ASSERT_NE(g, nullptr);
    if (g->slot == slot) EXPECT_EQ(g->facts, kDefaultFacts);
  }
}

TEST(FlowTable, PerDirectionCountersAndTcpStates) {
  auto ft = make_table(16);
  FlowTuple t = tcp4(1, 1000, 2, 80);
  Flow* f = ft->create_flow(t, tf::kSyn, 0);
  ASSERT_NE(f, nullptr);
  struct Step {
    Direction dir;
    uint8_t flags;
    uint32_t len;
    TcpState expect;
  } steps[] = {
      {Direction::kForward, tf::kSyn, 60, TcpState::kSynSent},
      {Direction::kReverse, tf::kSyn | tf::kAck, 60, TcpState::kSynReceived},
      {Direction::kForward, tf::kAck, 54, TcpState::kEstablished},
      {Direction::kForward, tf::kAck | tf::kPsh, 1000, TcpState::kEstablished},
      {Direction::kReverse, tf::kFin | tf::kAck, 54, TcpState::kClosing},
      {Direction::kForward, tf::kFin | tf::kAck, 54, TcpState::kClosed},
  };
  int64_t now = 0;
  for (const auto& s : steps) {
    ft->on_packet(*f, s.dir, s.flags, s.len, now += kSec);
    EXPECT_EQ(f->tcp, s.expect) << tcp_state_name(f->tcp);
  }
  EXPECT_EQ(f->dir[0].packets, 4u);
  EXPECT_EQ(f->dir[0].bytes, 60u + 54 + 1000 + 54);
  EXPECT_EQ(f->dir[1].packets, 2u);
  EXPECT_EQ(f->dir[1].bytes, 114u);
  EXPECT_EQ(f->last_seen_ns, 6 * kSec);
}

TEST(FlowTable, RstClosesAndMidStreamPickupIsEstablished) {
  auto ft = make_table(16);
  Flow* f = ft->create_flow(tcp4(1, 1, 2, 2), tf::kAck, 0);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->tcp, TcpState::kEstablished);
  ft->on_packet(*f, Direction::kReverse, tf::kRst, 40, 1);
  EXPECT_EQ(f->tcp, TcpState::kClosed);
}

TEST(FlowTable, IdleTimeoutsPerProtocolAndState) {
  FlowTimeouts to;
  to.tcp_syn_ns = 5 * kSec;
  to.tcp_established_ns = 100 * kSec;
  to.udp_ns = 20 * kSec;
  to.icmp_ns = 7 * kSec;
  auto ft = make_table(64, to);
  Flow* syn = ft->create_flow(tcp4(1, 1, 9, 9), tf::kSyn, 0);
  Flow* est = ft->create_flow(tcp4(2, 2, 9, 9), tf::kAck, 0);
  FlowTuple u = tcp4(3, 3, 9, 9);
  u.proto = inspect::kProtoUdp;
  Flow* udp = ft->create_flow(u, 0, 0);
  FlowTuple ic = tcp4(4, 0, 9, 0);
  ic.proto = inspect::kProtoIcmp;
  Flow* icmp = ft->create_flow(ic, 0, 0);
  ASSERT_TRUE(syn && est && udp && icmp);
  EXPECT_EQ(ft->idle_timeout(*syn), 5 * kSec);
  EXPECT_EQ(ft->idle_timeout(*est), 100 * kSec);
  EXPECT_EQ(ft->idle_timeout(*udp), 20 * kSec);
  EXPECT_EQ(ft->idle_timeout(*icmp), 7 * kSec);

  struct Row {
    int64_t at;
    uint64_t active_after;
  } rows[] = {{5 * kSec, 4}, {6 * kSec, 3}, {8 * kSec, 2}, {21 * kSec, 1}, {101 * kSec, 0}};
  std::vector<uint64_t> expired_ids;
  for (const auto& r : rows) {
    ft->expire_some(r.at, 64, [&](Flow& f) { expired_ids.push_back(f.cold().id); });
    EXPECT_EQ(ft->stats().active, r.active_after) << "at " << r.at / kSec << "s";
  }
  EXPECT_EQ(expired_ids.size(), 4u);
  Direction d;
  EXPECT_EQ(ft->lookup(tcp4(2, 2, 9, 9), d), nullptr);
}

TEST(FlowTable, ExpiryIsIncrementalWithinBudget) {
  FlowTimeouts to;
  to.udp_ns = kSec;
  auto ft = make_table(64, to);
  for (uint32_t i = 0; i < 40; ++i) {
    FlowTuple t = tcp4(100 + i, 1, 9, 9);
    t.proto = inspect::kProtoUdp;
    ASSERT_NE(ft->create_flow(t, 0, 0), nullptr);
  }
  uint32_t total = 0, calls = 0;
  while (ft->stats().active > 0 && calls < 100) {
    uint32_t n = ft->expire_some(10 * kSec, 8, [](Flow&) {});
    EXPECT_LE(n, 8u);
    total += n;
    ++calls;
  }
  EXPECT_EQ(total, 40u);
  EXPECT_GE(calls, 5u);  // 40 flows, at most 8 per call
  EXPECT_LE(calls, 8u);  // and never more than one sweep over 64 slots
}

// Expiry reads a per-slot deadline set at creation, not refreshed per packet: a flow that saw
// packets after its first deadline is kept (and checked again later), and a FIN or RST that
// shortens the timeout brings the deadline forward.
TEST(FlowTable, DeadlinesFollowTrafficAndShorterTimeouts) {
  FlowTimeouts to;
  to.udp_ns = 20 * kSec;
  to.tcp_established_ns = 3600 * kSec;
  to.tcp_closing_ns = 30 * kSec;
  to.tcp_closed_ns = 5 * kSec;
  auto ft = make_table(64, to);
  FlowTuple u = tcp4(1, 1, 9, 9);
  u.proto = inspect::kProtoUdp;
  Flow* udp = ft->create_flow(u, 0, 0);
  Flow* fin = ft->create_flow(tcp4(2, 2, 9, 9), tf::kAck, 0);
  Flow* rst = ft->create_flow(tcp4(3, 3, 9, 9), tf::kAck, 0);
  ASSERT_TRUE(udp && fin && rst);
  ft->on_packet(*udp, Direction::kForward, 0, 100, 15 * kSec);
  ft->on_packet(*fin, Direction::kForward, tf::kFin | tf::kAck, 60, 1 * kSec);
  ft->on_packet(*rst, Direction::kReverse, tf::kRst, 60, 1 * kSec);
  std::vector<uint64_t> gone;
  auto sweep = [&](int64_t at) {
    ft->expire_some(at, 64, [&](Flow& f) { gone.push_back(f.initiator.sport); });
  };
  sweep(7 * kSec);  // the RST flow: closed at 1 s + 5 s
  EXPECT_EQ(gone, (std::vector<uint64_t>{3}));
  sweep(21 * kSec);  // the UDP flow's first deadline: it saw a packet at 15 s
  EXPECT_EQ(gone.size(), 1u);
  sweep(32 * kSec);  // the FIN flow: closing at 1 s + 30 s, not established's hour
  EXPECT_EQ(gone, (std::vector<uint64_t>{3, 2}));
  sweep(36 * kSec);  // the UDP flow: 15 s + 20 s
  EXPECT_EQ(gone, (std::vector<uint64_t>{3, 2, 1}));
  EXPECT_EQ(ft->stats().active, 0u);
}

TEST(FlowTable, FullTableRefusesNewFlowsAndKeepsExisting) {
  auto ft = make_table(8);
  std::vector<Flow*> flows;
  for (uint32_t i = 0; i < 8; ++i) {
    Flow* f = ft->create_flow(tcp4(i + 1, 1, 9, 9), tf::kSyn, 0);
    ASSERT_NE(f, nullptr) << i;
    flows.push_back(f);
  }
  EXPECT_EQ(ft->create_flow(tcp4(100, 1, 9, 9), tf::kSyn, 0), nullptr);
  EXPECT_EQ(ft->create_flow(tcp4(101, 1, 9, 9), tf::kSyn, 0), nullptr);
  EXPECT_EQ(ft->stats().full, 2u);
  Direction d;
  for (uint32_t i = 0; i < 8; ++i) EXPECT_EQ(ft->lookup(tcp4(i + 1, 1, 9, 9), d), flows[i]);
  // Removing one frees a slot for exactly one new flow.
  ft->remove(flows[3]);
  EXPECT_NE(ft->create_flow(tcp4(100, 1, 9, 9), tf::kSyn, 0), nullptr);
  EXPECT_EQ(ft->create_flow(tcp4(102, 1, 9, 9), tf::kSyn, 0), nullptr);
}

TEST(FlowTable, ExpireAllEmptiesTheTable) {
  auto ft = make_table(32);
  for (uint32_t i = 0; i < 10; ++i)
    ASSERT_NE(ft->create_flow(tcp4(i, 1, 9, 9), tf::kSyn, 0), nullptr);
  int seen = 0;
  ft->expire_all([&](Flow&) { ++seen; });
  EXPECT_EQ(seen, 10);
  EXPECT_EQ(ft->stats().active, 0u);
}

}  // namespace
}  // namespace dc::dataplane
