// IP reassembly: the fragment ledger's verdicts (table-driven) and the Reassembler on real mbufs
// with rte_ip_frag (completion in any order, evasion, limits, timeout, no mbuf left behind).
#include "dataplane/reassembly.hpp"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/unit/dataplane/frames.hpp"

namespace dc::dataplane {
namespace {

using V = FragmentLedger::Verdict;

struct LedgerStep {
  uint32_t offset, len;
  bool last;
  int flip = -1;  // index of a byte changed in this fragment
  V want;
};
struct LedgerCase {
  const char* name;
  std::vector<LedgerStep> steps;
  bool complete;
};

TEST(FragmentLedger, JudgesEachFragmentAgainstTheBytesHeld) {
  const std::vector<LedgerCase> cases = {
      {"in_order", {{0, 16, false, -1, V::kAccept}, {16, 5, true, -1, V::kAccept}}, true},
      {"out_of_order", {{16, 5, true, -1, V::kAccept}, {0, 16, false, -1, V::kAccept}}, true},
      {"exact_duplicate",
       {{0, 16, false, -1, V::kAccept}, {0, 16, false, -1, V::kDuplicate}},
       false},
      {"identical_partial_overlap",
       {{0, 16, false, -1, V::kAccept},
        {8, 16, false, -1, V::kAccept},
        {24, 3, true, -1, V::kAccept}},
       true},
      {"differing_overlap",
       {{0, 16, false, -1, V::kAccept}, {8, 16, false, 2, V::kConflict}},
       false},
      {"differing_bytes_outside_the_overlap_are_fine",
       {{0, 16, false, -1, V::kAccept}, {8, 16, false, 12, V::kAccept}},
       false},
      {"second_last_ending_elsewhere",
       {{16, 8, true, -1, V::kAccept}, {16, 16, true, -1, V::kConflict}},
       false},
      {"fragment_beyond_the_end",
       {{16, 8, true, -1, V::kAccept}, {24, 8, false, -1, V::kConflict}},
       false},
      {"more_fragments_up_to_the_end",
       {{0, 24, false, -1, V::kAccept}, {16, 8, true, -1, V::kConflict}},
       false},
      {"nine_pieces",
       {{0, 8, false, -1, V::kAccept},
        {8, 8, false, -1, V::kAccept},
        {16, 8, false, -1, V::kAccept},
        {24, 8, false, -1, V::kAccept},
        {32, 8, false, -1, V::kAccept},
        {40, 8, false, -1, V::kAccept},
        {48, 8, false, -1, V::kAccept},
        {56, 8, false, -1, V::kTooMany}},
       false},
      {"filling_around_a_held_piece",
       {{8, 8, false, -1, V::kAccept},
        {0, 24, false, -1, V::kAccept},
        {24, 1, true, -1, V::kAccept}},
       true},
  };
  auto byte_at = [](uint32_t i) { return static_cast<uint8_t>(i * 7 + 1); };
  for (const auto& c : cases) {
    FragmentLedger l;
    std::vector<std::vector<uint8_t>> keep;
    keep.reserve(c.steps.size());
    for (size_t i = 0; i < c.steps.size(); ++i) {
      const auto& s = c.steps[i];
      std::vector<uint8_t> b(s.len);
      for (uint32_t k = 0; k < s.len; ++k) b[k] = byte_at(s.offset + k);
      if (s.flip >= 0) b[s.flip] ^= 0xff;
      keep.push_back(std::move(b));
      FragmentLedger::Pieces p;
      EXPECT_EQ(l.check(s.offset, keep.back(), s.last, p), s.want) << c.name << " step " << i;
      if (s.want == V::kAccept) l.add(s.offset, keep.back(), s.last, p);
    }
    EXPECT_EQ(l.complete(), c.complete) << c.name;
  }
}

class ReassemblerTest : public ::testing::Test {
 protected:
  static constexpr int64_t kT0 = 1767225600LL * 1'000'000'000;
  void SetUp() override {
    if (pool_ == nullptr)
      pool_ = rte_pktmbuf_pool_create("reasm_test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
    ReassemblyConfig cfg;
    cfg.max_datagrams = 16;
    cfg.buffers = 4;
    auto r = Reassembler::create(cfg, pool_, 0, counters_);
    ASSERT_TRUE(r) << r.error().message;
    reasm_ = std::move(r.value());
  }
  void TearDown() override {
    reasm_.reset();
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u) << "an mbuf was leaked";
  }
  // The TCP segment (one frame) of `payload` as IPv4 fragments cut at IP payload offsets.
  static std::vector<std::vector<uint8_t>> fragments(const std::string& payload,
                                                     std::vector<uint32_t> cuts) {
    return test::fragments4(
        test::tcp4("10.1.0.21", 40000, "198.51.100.20", 8443, 1000, 2000, 0x18, payload), cuts);
  }
  rte_mbuf* mbuf(const std::vector<uint8_t>& f) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
    return m;
  }
  Reassembler::Step add(const std::vector<uint8_t>& f, int64_t t = kT0) {
    rte_mbuf* m = mbuf(f);
    inspect::Decoded d;
    EXPECT_EQ(inspect::decode({rte_pktmbuf_mtod(m, const uint8_t*), f.size()}, d),
              inspect::DecodeStatus::kOk);
    Reassembler::Step s;
    reasm_->add(m, d, t, s);
    if (s.outcome == Reassembler::Outcome::kDrop || s.outcome == Reassembler::Outcome::kDuplicate)
      rte_pktmbuf_free(m);
    for (uint32_t i = 0; i < s.n_dropped; ++i) rte_pktmbuf_free(s.dropped[i]);
    reasm_->end_burst();
    return s;
  }

  static inline rte_mempool* pool_ = nullptr;
  WorkerCounters counters_{};
  std::unique_ptr<Reassembler> reasm_;
};

TEST_F(ReassemblerTest, OutOfOrderFragmentsCompleteAndForwardAsTheOriginals) {
  const std::string body =
      "POST /u HTTP/1.1\r\nContent-Length: 30\r\n\r\n0123456789abcdefghijABCDEFGHIJ";
  auto fr = fragments(body, {24, 48});
  using O = Reassembler::Outcome;
  EXPECT_EQ(add(fr[2]).outcome, O::kHeld);
  EXPECT_EQ(add(fr[0]).outcome, O::kHeld);
  Reassembler::Step s = add(fr[1]);
  ASSERT_EQ(s.outcome, O::kComplete);
  ASSERT_TRUE(Reassembler::owns(s.datagram));
  inspect::Decoded d;
  ASSERT_EQ(
      inspect::decode(
          {rte_pktmbuf_mtod(s.datagram, const uint8_t*), rte_pktmbuf_data_len(s.datagram)}, d),
      inspect::DecodeStatus::kOk);  // includes the recomputed IPv4 header checksum
  EXPECT_FALSE(d.is_fragment);
  EXPECT_EQ(d.sport, 40000);
  EXPECT_EQ(std::string(rte_pktmbuf_mtod_offset(s.datagram, const char*, d.payload_offset),
                        d.payload_len),
            body);
  rte_mbuf* orig[Reassembler::kMaxFragments];
  ASSERT_EQ(Reassembler::take_originals(s.datagram, orig), 3u);
  EXPECT_EQ(std::memcmp(rte_pktmbuf_mtod(orig[0], const uint8_t*), fr[2].data(), fr[2].size()), 0);
  EXPECT_EQ(std::memcmp(rte_pktmbuf_mtod(orig[1], const uint8_t*), fr[0].data(), fr[0].size()), 0);
  for (int i = 0; i < 3; ++i) rte_pktmbuf_free(orig[i]);
  rte_pktmbuf_free(s.datagram);
}

TEST_F(ReassemblerTest, FreeingAReassembledDatagramFreesItsFragments) {
  auto fr = fragments(std::string(40, 'x'), {32});
  add(fr[0]);
  Reassembler::Step s = add(fr[1]);
  ASSERT_EQ(s.outcome, Reassembler::Outcome::kComplete);
  rte_pktmbuf_free(s.datagram);  // TearDown checks nothing is left in use
}

TEST_F(ReassemblerTest, OverlapWithDifferentBytesIsEvasionNamingTheFirstFragment) {
  auto fr = fragments(std::string(64, 'a'), {32});
  auto other = fragments(std::string(64, 'a'), {24});  // [24, end): overlaps [24, 32)
  other[1][34 + 4] ^= 0x20;                            // a byte inside the overlap
  ASSERT_EQ(add(fr[0]).outcome, Reassembler::Outcome::kHeld);
  rte_mbuf* m = mbuf(other[1]);
  inspect::Decoded d;
  ASSERT_EQ(inspect::decode({rte_pktmbuf_mtod(m, const uint8_t*), other[1].size()}, d),
            inspect::DecodeStatus::kOk);
  Reassembler::Step s;
  reasm_->add(m, d, kT0, s);
  ASSERT_EQ(s.outcome, Reassembler::Outcome::kEvasion);
  EXPECT_EQ(s.reason, DropReason::kFragmentOverlap);
  ASSERT_NE(s.datagram, nullptr);
  EXPECT_EQ(std::memcmp(rte_pktmbuf_mtod(s.datagram, const uint8_t*), fr[0].data(), fr[0].size()),
            0);
  ASSERT_EQ(s.n_dropped, 1u);
  EXPECT_EQ(s.dropped[0], m);
  rte_pktmbuf_free(s.datagram);
  rte_pktmbuf_free(m);
  // Later fragments of that datagram are refused until it times out.
  EXPECT_EQ(add(fr[1]).reason, DropReason::kFragmentOverlap);
}

TEST_F(ReassemblerTest, IncompleteDatagramTimesOutUnderItsOwnReason) {
  auto fr = fragments(std::string(64, 'a'), {32});
  ASSERT_EQ(add(fr[0]).outcome, Reassembler::Outcome::kHeld);
  EXPECT_EQ(reasm_->in_flight(), 1u);
  reasm_->expire(kT0 + 1'000'000'000, 64);  // 1 s: not yet
  EXPECT_EQ(reasm_->in_flight(), 1u);
  reasm_->expire(kT0 + 3'000'000'000, 64);
  EXPECT_EQ(reasm_->in_flight(), 0u);
  EXPECT_EQ(counters_.drops[static_cast<unsigned>(DropReason::kFragmentIncomplete)], 1u);
  // The same datagram sent again later starts afresh and completes.
  ASSERT_EQ(add(fr[1], kT0 + 4'000'000'000).outcome, Reassembler::Outcome::kHeld);
  Reassembler::Step s = add(fr[0], kT0 + 4'000'000'001);
  ASSERT_EQ(s.outcome, Reassembler::Outcome::kComplete);
  rte_pktmbuf_free(s.datagram);
}

TEST_F(ReassemblerTest, NineFragmentsAreTooMany) {
  // rte_ip_frag holds the first, the last and six others: a seventh middle one is too many.
  std::vector<uint32_t> cuts;
  for (uint32_t i = 0; i < 8; ++i) cuts.push_back(24 + 8 * i);
  auto fr = fragments(std::string(120, 'z'), cuts);
  ASSERT_EQ(fr.size(), 9u);
  for (size_t i = 0; i < 7; ++i) ASSERT_EQ(add(fr[i]).outcome, Reassembler::Outcome::kHeld) << i;
  Reassembler::Step s = add(fr[7]);
  EXPECT_EQ(s.outcome, Reassembler::Outcome::kDrop);
  EXPECT_EQ(s.reason, DropReason::kFragmentTooMany);
  EXPECT_EQ(s.n_dropped, 7u);
  s = add(fr[8]);  // the datagram was given up: its last fragment follows
  EXPECT_EQ(s.reason, DropReason::kFragmentTooMany);
  EXPECT_EQ(s.n_dropped, 0u);
}

TEST_F(ReassemblerTest, TableFullFailsClosed) {
  uint16_t held = 0;
  Reassembler::Step s;
  for (uint16_t id = 0; id < 64; ++id) {
    auto fr = fragments(std::string(64, 'a'), {32});
    test::put16(fr[0], 18, static_cast<uint16_t>(100 + id));
    test::put16(fr[0], 24, 0);
    test::put16(fr[0], 24, test::csum(&fr[0][14], 20));
    s = add(fr[0]);
    if (s.outcome != Reassembler::Outcome::kHeld) break;
    ++held;
  }
  EXPECT_EQ(s.outcome, Reassembler::Outcome::kDrop);
  EXPECT_EQ(s.reason, DropReason::kFragmentTableFull);
  EXPECT_GE(held, 8);
  EXPECT_LE(held, 16);
  reasm_->expire_all();
  EXPECT_EQ(counters_.drops[static_cast<unsigned>(DropReason::kFragmentIncomplete)], held);
}

}  // namespace
}  // namespace dc::dataplane
