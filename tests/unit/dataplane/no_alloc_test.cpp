// Proves the per-packet path does not allocate: malloc/calloc/realloc (and so operator new) are
// interposed in this test executable and counted while a Pipeline processes bursts of new,
// established, inspected and uninspected flows (issue 13). Set-up and tear-down may allocate.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/pipeline.hpp"
#include "policy/policy.hpp"
#include "tests/unit/dataplane/frames.hpp"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_allocations{0};
void note() noexcept {
  if (g_counting.load(std::memory_order_relaxed))
    g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" void* malloc(size_t n) {
  note();
  return __libc_malloc(n);
}
extern "C" void* calloc(size_t n, size_t m) {
  note();
  return __libc_calloc(n, m);
}
extern "C" void* realloc(void* p, size_t n) {
  note();
  return __libc_realloc(p, n);
}

namespace dc::dataplane {
namespace {

using test::tcp4;
namespace tf = inspect::tcpflag;
constexpr int64_t kT0 = 1767225600LL * 1'000'000'000;  // 2026-01-01T00:00:00Z

// Records go to one fixed slot: the sink itself never allocates.
class CountSink final : public FlowEventSink {
 public:
  audit::FlowOutcome* acquire() noexcept override { return &slot_; }
  void commit(audit::FlowOutcome*) noexcept override { ++records; }
  uint64_t records = 0;

 private:
  audit::FlowOutcome slot_;
};

// The frames of one round: for each of `flows` flows, a TCP connection to sg-analytics (an
// inspected border link: SYN, SYN-ACK, ACK, JSON data with a phone number, FIN both ways) and a
// UDP datagram to the processing enclave (uninspected).
std::vector<std::vector<uint8_t>> round_frames(int round, int flows) {
  std::vector<std::vector<uint8_t>> v;
  const std::string body = R"({"order":"SO-1","contact":"13800138000","note":"leave at desk"})";
  for (int i = 0; i < flows; ++i) {
    const uint16_t cport = static_cast<uint16_t>(20000 + round * 64 + i);
    const char* c = "10.1.0.11";
    const char* s = "198.51.100.20";
    v.push_back(tcp4(c, cport, s, 8443, 1000, 0, tf::kSyn));
    v.push_back(tcp4(s, 8443, c, cport, 5000, 1001, tf::kSyn | tf::kAck));
    v.push_back(tcp4(c, cport, s, 8443, 1001, 5001, tf::kAck));
    v.push_back(tcp4(c, cport, s, 8443, 1001, 5001, tf::kAck | tf::kPsh, body));
    const uint32_t end = 1001 + static_cast<uint32_t>(body.size());
    v.push_back(tcp4(c, cport, s, 8443, end, 5001, tf::kAck | tf::kFin));
    v.push_back(tcp4(s, 8443, c, cport, 5001, end + 1, tf::kAck | tf::kFin));
    v.push_back(tcp4(c, cport, s, 8443, end + 1, 5002, tf::kAck));
    v.push_back(tcp4("198.51.100.5", cport, "10.2.0.7", 443, 0, 0, 0, "payload", 17));
  }
  // And as many clean connections that go idle after their first data (their inspection
  // contexts go back to the pool: PipelineSettings::inspect_idle_ns) and resume at the end of
  // the round (a context is taken again), then close.
  const std::string clean = R"({"order":"SO-2","note":"leave at desk"})";
  const uint32_t end = 1001 + static_cast<uint32_t>(clean.size());
  const char* c = "10.1.0.11";
  const char* s = "198.51.100.20";
  for (int i = 0; i < flows; ++i) {
    const uint16_t cport = static_cast<uint16_t>(40000 + round * 64 + i);
    v.push_back(tcp4(c, cport, s, 8443, 1000, 0, tf::kSyn));
    v.push_back(tcp4(s, 8443, c, cport, 5000, 1001, tf::kSyn | tf::kAck));
    v.push_back(tcp4(c, cport, s, 8443, 1001, 5001, tf::kAck));
    v.push_back(tcp4(c, cport, s, 8443, 1001, 5001, tf::kAck | tf::kPsh, clean));
    v.push_back(tcp4(s, 8443, c, cport, 5001, end, tf::kAck));
  }
  for (int i = 0; i < flows; ++i) {
    const uint16_t cport = static_cast<uint16_t>(40000 + round * 64 + i);
    v.push_back(tcp4(c, cport, s, 8443, end, 5001, tf::kAck | tf::kPsh, clean));
    const uint32_t fin = end + static_cast<uint32_t>(clean.size());
    v.push_back(tcp4(c, cport, s, 8443, fin, 5001, tf::kAck | tf::kFin));
    v.push_back(tcp4(s, 8443, c, cport, 5001, fin + 1, tf::kAck | tf::kFin));
    v.push_back(tcp4(c, cport, s, 8443, fin + 1, 5002, tf::kAck));
  }
  return v;
}

TEST(NoAllocation, PipelineBurstsDoNotAllocate) {
  rte_mempool* pool =
      rte_pktmbuf_pool_create("noalloc_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  ASSERT_NE(pool, nullptr);
  policy::Diagnostics d("ftz-demo.toml");
  auto snap = policy::load_policy_file(DC_SOURCE_DIR "/examples/policy/ftz-demo.toml", d);
  ASSERT_TRUE(snap && snap.value()) << d.format();
  auto ft = FlowTable::create("noalloc_flows", 1024, FlowTimeouts{}, 0);
  ASSERT_TRUE(ft);
  PipelineSettings settings;
  settings.policy = snap.value().get();
  settings.inspect_flows = 64;
  settings.inspect_idle_ns = 5'000'000;  // the clean connections' contexts return while idle
  WorkerCounters counters{};
  CountSink sink;
  auto p = Pipeline::create(0, *ft.value(), settings, counters, &sink);
  ASSERT_TRUE(p) << p.error().message;
  auto out = std::make_unique<BurstOutput>();
  std::vector<std::vector<std::vector<uint8_t>>> rounds;
  for (int r = 0; r < 4; ++r) rounds.push_back(round_frames(r, 16));
  // The interposition is live: a malloc while counting is counted.
  g_counting = true;
  void* probe = std::malloc(16);
  g_counting = false;
  std::free(probe);
  ASSERT_EQ(g_allocations.load(), 1u);
  int64_t now = kT0;
  uint64_t allocations_per_round[4] = {};
  for (int r = 0; r < 4; ++r) {
    g_allocations = 0;
    g_counting = true;  // round 0 warms up (first use of lazily built tables is counted too)
    for (const auto& frame : rounds[r]) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool);
      if (m == nullptr) break;
      std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), frame.data(), frame.size());
      m->data_len = static_cast<uint16_t>(frame.size());
      m->pkt_len = static_cast<uint32_t>(frame.size());
      now += 1'000'000;
      p.value()->process(kReplayPort, &m, 1, now, *out);
      p.value()->expire(now);
      for (uint32_t i = 0; i < out->n_fwd; ++i) rte_pktmbuf_free(out->fwd[i]);
      for (uint32_t i = 0; i < out->n_drop; ++i) rte_pktmbuf_free(out->drop[i]);
      for (uint32_t i = 0; i < out->n_back; ++i) rte_pktmbuf_free(out->back[i]);
      out->clear();
    }
    g_counting = false;
    allocations_per_round[r] = g_allocations;
  }
  // Rounds 1-3 (new flows, admission, inspection, findings, flow records, idle return and
  // resumption of inspection state, expiry) allocate
  // nothing.
  for (int r = 1; r < 4; ++r) EXPECT_EQ(allocations_per_round[r], 0u) << "round " << r;
  EXPECT_GT(counters.forwarded.load(), 0u);
  EXPECT_GT(counters.findings.load(), 0u);         // the phone numbers were scanned and found
  EXPECT_GE(sink.records, 96u);                    // the TCP flows closed and were recorded
  EXPECT_GE(counters.inspect_parked.load(), 48u);  // and the idle ones returned their contexts
  // Hundreds of flows shared a handful of interned verdicts, all let go when the flows ended.
  const VerdictTableStats& vs = p.value()->verdicts().stats();
  EXPECT_GT(vs.peak, 0u);
  EXPECT_LE(vs.peak, 8u);
  EXPECT_EQ(vs.full, 0u);
  p.value()->expire_all(now);
  EXPECT_EQ(p.value()->verdicts().stats().in_use, 0u);
  p.value().reset();
  rte_mempool_free(pool);
}

// TCP connections to sg-analytics whose JSON carries 1, 2 or 3 resident ids (flow i: i % 3 + 1), a
// category it may not receive: three distinct block verdicts (their finding counts differ).
std::vector<std::vector<uint8_t>> counted_frames(int round, int flows) {
  std::vector<std::vector<uint8_t>> v;
  static const char* const kIds[] = {"110105198001010024", "110105198001010139",
                                     "110105198001010243"};
  for (int i = 0; i < flows; ++i) {
    std::string body = R"({"order":"SO-1","holder":[)";
    for (int k = 0; k <= i % 3; ++k) body += std::string(k ? "," : "") + "\"" + kIds[k] + "\"";
    body += "]}";
    const uint16_t cport = static_cast<uint16_t>(30000 + round * 64 + i);
    const char* c = "10.1.0.11";
    const char* s = "198.51.100.20";
    v.push_back(tcp4(c, cport, s, 8443, 1000, 0, tf::kSyn));
    v.push_back(tcp4(s, 8443, c, cport, 5000, 1001, tf::kSyn | tf::kAck));
    v.push_back(tcp4(c, cport, s, 8443, 1001, 5001, tf::kAck));
    v.push_back(tcp4(c, cport, s, 8443, 1001, 5001, tf::kAck | tf::kPsh, body));
    const uint32_t end = 1001 + static_cast<uint32_t>(body.size());
    v.push_back(tcp4(c, cport, s, 8443, end, 5001, tf::kAck | tf::kFin));
    v.push_back(tcp4(s, 8443, c, cport, 5001, end + 1, tf::kAck | tf::kFin));
    v.push_back(tcp4(c, cport, s, 8443, end + 1, 5002, tf::kAck));
  }
  return v;
}

// A verdict table with room for one verdict besides Verdict{}: the first flow's verdict with its
// finding count takes it, flows with other counts fail closed (verdict_table_full) without
// allocating, and the entry is free again once its flows are gone.
TEST(NoAllocation, FullVerdictTableFailsClosedWithoutAllocating) {
  rte_mempool* pool =
      rte_pktmbuf_pool_create("noalloc_pool_vt", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  ASSERT_NE(pool, nullptr);
  policy::Diagnostics d("ftz-demo.toml");
  auto snap = policy::load_policy_file(DC_SOURCE_DIR "/examples/policy/ftz-demo.toml", d);
  ASSERT_TRUE(snap && snap.value()) << d.format();
  auto ft = FlowTable::create("noalloc_flows_vt", 1024, FlowTimeouts{}, 0);
  ASSERT_TRUE(ft);
  PipelineSettings settings;
  settings.policy = snap.value().get();
  settings.inspect_flows = 64;
  settings.verdicts = 1;
  WorkerCounters counters{};
  CountSink sink;
  auto p = Pipeline::create(0, *ft.value(), settings, counters, &sink);
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p.value()->verdicts().capacity(), 1u);
  auto out = std::make_unique<BurstOutput>();
  std::vector<std::vector<std::vector<uint8_t>>> rounds;
  for (int r = 0; r < 3; ++r) rounds.push_back(counted_frames(r, 12));
  int64_t now = kT0;
  uint64_t allocations_per_round[3] = {};
  for (int r = 0; r < 3; ++r) {
    g_allocations = 0;
    g_counting = true;
    for (const auto& frame : rounds[r]) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool);
      if (m == nullptr) break;
      std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), frame.data(), frame.size());
      m->data_len = static_cast<uint16_t>(frame.size());
      m->pkt_len = static_cast<uint32_t>(frame.size());
      now += 1'000'000;
      p.value()->process(kReplayPort, &m, 1, now, *out);
      p.value()->expire(now);
      for (uint32_t i = 0; i < out->n_fwd; ++i) rte_pktmbuf_free(out->fwd[i]);
      for (uint32_t i = 0; i < out->n_drop; ++i) rte_pktmbuf_free(out->drop[i]);
      for (uint32_t i = 0; i < out->n_back; ++i) rte_pktmbuf_free(out->back[i]);
      out->clear();
    }
    g_counting = false;
    allocations_per_round[r] = g_allocations;
  }
  for (int r = 1; r < 3; ++r) EXPECT_EQ(allocations_per_round[r], 0u) << "round " << r;
  EXPECT_GT(p.value()->verdicts().stats().full, 0u);
  EXPECT_GT(counters.drops[static_cast<std::size_t>(DropReason::kVerdictTableFull)].load(), 0u);
  EXPECT_GT(counters.forwarded.load(), 0u);  // flows sharing the one interned verdict still cross
  p.value()->expire_all(now);
  EXPECT_EQ(p.value()->verdicts().stats().in_use, 0u);
  p.value().reset();
  rte_mempool_free(pool);
}

// The table itself: equal verdicts share an entry, distinct ones take their own, the last
// release frees an entry for reuse, a full table answers kFull, and the permanent entries stay.
TEST(VerdictTable, InternsSharesAndFrees) {
  auto t = VerdictTable::create(2);
  ASSERT_TRUE(t);
  VerdictTable& vt = *t.value();
  EXPECT_EQ(vt.intern(policy::Verdict{}), VerdictTable::kDefault);
  policy::Verdict a;
  a.action = policy::Action::kAlert;
  a.reason_count = 1;
  a.reasons[0].kind = policy::ReasonKind::kStreamUnavailable;
  a.reasons[0].count = 3;
  policy::Verdict b = a;
  b.reasons[0].count = 4;
  policy::Verdict c = a;
  c.monitored = true;
  const uint32_t ia = vt.intern(a);
  EXPECT_GE(ia, VerdictTable::kReserved);
  EXPECT_EQ(vt.intern(a), ia);
  EXPECT_EQ(vt.refs(ia), 2u);
  const uint32_t ib = vt.intern(b);
  EXPECT_NE(ib, ia);
  EXPECT_TRUE(same_verdict(vt.get(ib), b));
  EXPECT_EQ(vt.intern(c), VerdictTable::kFull);  // no room: fail closed
  EXPECT_EQ(vt.stats().full, 1u);
  EXPECT_EQ(vt.get(VerdictTable::kFull).action, policy::Action::kBlock);
  vt.release(ia);
  EXPECT_EQ(vt.refs(ia), 1u);
  vt.release(ia);
  EXPECT_EQ(vt.refs(ia), 0u);
  vt.release(ia);  // one release too many: ignored
  const uint32_t ic = vt.intern(c);
  EXPECT_EQ(ic, ia);  // the freed entry is reused
  EXPECT_TRUE(same_verdict(vt.get(ic), c));
  EXPECT_EQ(vt.stats().in_use, 2u);
  vt.release(VerdictTable::kDefault);  // permanent
  EXPECT_TRUE(same_verdict(vt.get(VerdictTable::kDefault), policy::Verdict{}));
}

}  // namespace
}  // namespace dc::dataplane
