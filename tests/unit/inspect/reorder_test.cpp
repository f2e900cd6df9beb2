// Tests for inspect/stream/reorder.hpp: in-order delivery, reordering, retransmissions, overlaps,
// sequence wrap, queue bounds, FIN/RST/SYN, and a seeded property test.
#include "inspect/stream/reorder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "inspect/packet/decode.hpp"

namespace dc::inspect {
namespace {

using A = ReorderAction;
constexpr uint8_t kF = tcpflag::kFin, kS = tcpflag::kSyn, kR = tcpflag::kRst, kAck = tcpflag::kAck;

std::vector<uint8_t> make_stream(std::size_t n, uint32_t seed = 7) {
  std::vector<uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Feeds segments of one direction and checks the delivery invariants on every call: deliveries
// are contiguous from offset 0, every packet is forwarded at most once, queued packets come back.
class Harness {
 public:
  Harness(uint32_t isn, bool syn, std::size_t stream_len, ReorderConfig cfg = {})
      : r_(cfg), isn_(isn), syn_(syn), stream_(make_stream(stream_len)) {
    if (syn_) {
      EXPECT_EQ(feed_raw(isn_, kS, {}), A::kNoPayload);
    }
  }

  // Stream offset -> sequence number.
  uint32_t seq_of(int64_t off) const {
    return isn_ + (syn_ ? 1u : 0u) + static_cast<uint32_t>(off);
  }

  // Sends stream bytes [off, off + len), with byte `corrupt_at` (relative) flipped if >= 0.
  A send(int64_t off, uint32_t len, uint8_t flags = kAck, int corrupt_at = -1) {
    std::vector<uint8_t> bytes(len);
    for (uint32_t i = 0; i < len; ++i) {
      const int64_t o = off + i;
      bytes[i] = (o >= 0 && o < static_cast<int64_t>(stream_.size())) ? stream_[o] : 0xAA;
    }
    if (corrupt_at >= 0) bytes[corrupt_at] ^= 0x5A;
    return feed_raw(seq_of(off), flags, std::move(bytes));
  }

  A feed_raw(uint32_t seq, uint8_t flags, std::vector<uint8_t> bytes) {
    payloads_.push_back(std::move(bytes));
    const auto& p = payloads_.back();
    const uintptr_t id = ++next_id_;
    void* pkt = reinterpret_cast<void*>(id);
    Release rel;
    const A a =
        r_.on_segment(st_, seq, flags, std::span<const uint8_t>(p.data(), p.size()), pkt, rel);
    if (a == A::kQueued) {
      pending_.insert(id);
    } else if (a == A::kDuplicate || a == A::kNoPayload || a == A::kReset) {
      mark_forwarded(id);
    }
    if (a != A::kInOrder) {
      EXPECT_EQ(rel.count, 0u);
    } else {
      EXPECT_GE(rel.count, 1u);
      EXPECT_EQ(rel.items[0].pkt, pkt) << "the current segment is released first";
    }
    for (const Delivery& d : rel.deliveries()) {
      EXPECT_EQ(d.stream_offset, delivered_.size()) << "deliveries must be contiguous";
      delivered_.insert(delivered_.end(), d.scan.begin(), d.scan.end());
      const auto id_d = reinterpret_cast<uintptr_t>(d.pkt);
      pending_.erase(id_d);
      mark_forwarded(id_d);
    }
    if (rel.fin) fin_ = true;
    EXPECT_LE(st_.queued, kReorderQueueCapacity);
    return a;
  }

  void mark_forwarded(uintptr_t id) {
    EXPECT_EQ(forwarded_.count(id), 0u) << "packet " << id << " forwarded twice";
    forwarded_.insert({id, true});
  }

  bool delivered_is_prefix(std::size_t n) const {
    return delivered_.size() == n &&
           std::equal(delivered_.begin(), delivered_.end(), stream_.begin());
  }

  Reorderer r_;
  DirState st_{};
  uint32_t isn_;
  bool syn_;
  std::vector<uint8_t> stream_;
  std::deque<std::vector<uint8_t>> payloads_;
  std::vector<uint8_t> delivered_;
  std::map<uintptr_t, bool> forwarded_;
  std::set<uintptr_t> pending_;
  uintptr_t next_id_ = 0;
  bool fin_ = false;
};

struct Seg {
  int64_t off;
  uint32_t len;
  uint8_t flags = kAck;
  int corrupt_at = -1;
};

struct Case {
  std::string name;
  uint32_t isn;
  bool syn;
  std::vector<Seg> segs;
  std::vector<A> expect;
  std::size_t delivered;  // bytes of the original stream delivered, in order, at the end
  bool fin = false;
};

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"in_order",
               1000,
               true,
               {{0, 10}, {10, 10}, {20, 10}},
               {A::kInOrder, A::kInOrder, A::kInOrder},
               30});
  c.push_back({"reversed",
               1000,
               true,
               {{20, 10}, {10, 10}, {0, 10}},
               {A::kQueued, A::kQueued, A::kInOrder},
               30});
  c.push_back({"identical_retransmission",
               1000,
               true,
               {{0, 10}, {10, 10}, {0, 10}, {5, 10}},
               {A::kInOrder, A::kInOrder, A::kDuplicate, A::kDuplicate},
               20});
  c.push_back({"changed_byte_retransmission",
               1000,
               true,
               {{0, 10}, {0, 10, kAck, 3}, {10, 10}},
               {A::kInOrder, A::kEvasion, A::kEvasion},
               10});
  c.push_back(
      {"partial_overlap_agreeing", 1000, true, {{0, 10}, {5, 10}}, {A::kInOrder, A::kInOrder}, 15});
  c.push_back({"partial_overlap_disagreeing_old_part",
               1000,
               true,
               {{0, 10}, {5, 10, kAck, 2}},
               {A::kInOrder, A::kEvasion},
               10});
  c.push_back({"queued_overlap_agreeing",
               1000,
               true,
               {{10, 10}, {15, 10}, {0, 10}},
               {A::kQueued, A::kQueued, A::kInOrder},
               25});
  c.push_back({"queued_overlap_disagreeing",
               1000,
               true,
               {{10, 10}, {15, 10, kAck, 0}},
               {A::kQueued, A::kEvasion},
               0});
  c.push_back({"in_order_disagrees_with_queued",
               1000,
               true,
               {{10, 10}, {0, 15, kAck, 12}},
               {A::kQueued, A::kEvasion},
               0});
  c.push_back({"queued_exact_duplicate",
               1000,
               true,
               {{10, 10}, {10, 10}, {0, 10}},
               {A::kQueued, A::kQueued, A::kInOrder},
               20});
  c.push_back(
      {"in_order_covers_queued", 1000, true, {{10, 5}, {0, 30}}, {A::kQueued, A::kInOrder}, 30});
  c.push_back({"seq_wrap_in_order",
               0xFFFFFFF0u,
               true,
               {{0, 10}, {10, 10}, {20, 10}},
               {A::kInOrder, A::kInOrder, A::kInOrder},
               30});
  c.push_back({"seq_wrap_reversed",
               0xFFFFFFF0u,
               true,
               {{20, 10}, {10, 10}, {0, 10}},
               {A::kQueued, A::kQueued, A::kInOrder},
               30});
  c.push_back({"seq_wrap_syn_at_max",
               0xFFFFFFFFu,
               true,
               {{5, 5}, {0, 5}, {0, 10}},
               {A::kQueued, A::kInOrder, A::kDuplicate},
               10});
  c.push_back({"zero_length_segments",
               1000,
               true,
               {{0, 0}, {50, 0}, {-5, 0}, {0, 10}, {10, 0}},
               {A::kNoPayload, A::kNoPayload, A::kNoPayload, A::kInOrder, A::kNoPayload},
               10});
  {
    Case q{"queue_full", 1000, true, {}, {}, 0};
    for (int i = 0; i < 9; ++i) q.segs.push_back({10 + 20 * i, 10});
    for (int i = 0; i < 8; ++i) q.expect.push_back(A::kQueued);
    q.expect.push_back(A::kQueueFull);
    c.push_back(q);
  }
  c.push_back({"fin_in_order",
               1000,
               true,
               {{0, 10}, {10, 10, kF | kAck}},
               {A::kInOrder, A::kInOrder},
               20,
               true});
  c.push_back({"fin_out_of_order",
               1000,
               true,
               {{10, 10, kF | kAck}, {0, 10}},
               {A::kQueued, A::kInOrder},
               20,
               true});
  c.push_back({"bare_fin_ahead",
               1000,
               true,
               {{10, 0, kF | kAck}, {0, 10}},
               {A::kNoPayload, A::kInOrder},
               10,
               true});
  c.push_back({"bare_fin_in_order_then_retransmitted",
               1000,
               true,
               {{0, 10}, {10, 0, kF | kAck}, {10, 0, kF | kAck}, {0, 10, kF | kAck}},
               {A::kInOrder, A::kInOrder, A::kNoPayload, A::kDuplicate},
               10,
               true});
  c.push_back({"data_beyond_fin",
               1000,
               true,
               {{0, 10, kF | kAck}, {10, 5}},
               {A::kInOrder, A::kEvasion},
               10,
               true});
  c.push_back({"second_fin_elsewhere",
               1000,
               true,
               {{20, 5, kF | kAck}, {10, 5, kF | kAck}},
               {A::kQueued, A::kEvasion},
               0});
  c.push_back({"fin_before_queued_data",
               1000,
               true,
               {{20, 5}, {10, 5, kF | kAck}},
               {A::kQueued, A::kEvasion},
               0});
  c.push_back({"fin_inside_delivered",
               1000,
               true,
               {{0, 10}, {0, 5, kF | kAck}},
               {A::kInOrder, A::kEvasion},
               10});
  c.push_back({"rst_in_window_then_data",
               1000,
               true,
               {{0, 10}, {10, 0, kR}, {10, 5}},
               {A::kInOrder, A::kReset, A::kOutOfWindow},
               10});
  c.push_back({"rst_behind_is_stale",
               1000,
               true,
               {{0, 10}, {3, 0, kR}, {10, 5}},
               {A::kInOrder, A::kOutOfWindow, A::kInOrder},
               15});
  // RST data is diagnostic text (RFC 9293 §3.5.3), not stream data and not evasion (issue 10).
  c.push_back({"rst_with_data_resets_without_delivering",
               1000,
               true,
               {{0, 10}, {10, 4, kR}, {10, 5}},
               {A::kInOrder, A::kReset, A::kOutOfWindow},
               10});
  c.push_back({"far_ahead_out_of_window",
               1000,
               true,
               {{9 << 20, 10}, {0, 10}},
               {A::kOutOfWindow, A::kInOrder},
               10});
  c.push_back({"midstream_pickup_then_older_segment",
               5000,
               false,
               {{100, 10}, {90, 10}, {110, 5}},
               {A::kInOrder, A::kUnverifiableRetransmission, A::kInOrder},
               0});
  c.push_back(
      {"ring_too_old_is_unverifiable",
       1000,
       true,
       {{0, 1400}, {1400, 1400}, {2800, 1400}, {0, 100}, {4100, 100}},
       {A::kInOrder, A::kInOrder, A::kInOrder, A::kUnverifiableRetransmission, A::kDuplicate},
       4200});
  c.push_back({"straddling_ring_with_visible_difference",
               1000,
               true,
               {{0, 1400}, {1400, 1400}, {2800, 1400}, {1000, 1400, kAck, 1300}},
               {A::kInOrder, A::kInOrder, A::kInOrder, A::kEvasion},
               4200});
  return c;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ReorderTable : public ::testing::TestWithParam<Case> {};

TEST_P(ReorderTable, ActionsAndDeliveredStream) {
  const Case& tc = GetParam();
  Harness h(tc.isn, tc.syn, 1 << 16);
  std::vector<A> got;
  for (const Seg& s : tc.segs) {
    got.push_back(h.send(s.off, s.len, s.flags, s.corrupt_at));
  }
  ASSERT_EQ(got.size(), tc.expect.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(reorder_action_name(got[i]), std::string(reorder_action_name(tc.expect[i])))
        << "segment #" << i;
  }
  if (tc.name == "midstream_pickup_then_older_segment") {
    // Stream offset 0 is the pickup segment (stream bytes 100..): 15 bytes delivered.
    ASSERT_EQ(h.delivered_.size(), 15u);
    EXPECT_TRUE(std::equal(h.delivered_.begin(), h.delivered_.end(), h.stream_.begin() + 100));
  } else {
    EXPECT_TRUE(h.delivered_is_prefix(tc.delivered)) << "delivered " << h.delivered_.size();
  }
  EXPECT_EQ(h.fin_, tc.fin);
}

INSTANTIATE_TEST_SUITE_P(Cases, ReorderTable, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Reorder, SynWithDataTfo) {
  Harness h(1000, false, 100);  // the test sends the SYN itself
  const std::vector<uint8_t> d(h.stream_.begin(), h.stream_.begin() + 10);
  EXPECT_EQ(h.feed_raw(1000, kS, d), A::kInOrder) << "RFC 7413 data rides on the SYN at ISN+1";
  EXPECT_EQ(h.feed_raw(1011, kAck, {h.stream_.begin() + 10, h.stream_.begin() + 15}), A::kInOrder);
  EXPECT_EQ(h.feed_raw(1000, kS, d), A::kDuplicate) << "retransmitted SYN with the same data";
  EXPECT_TRUE(h.delivered_is_prefix(15));
}

TEST(Reorder, BareAckAfterFinIsNotEvasionButDataIs) {
  // The FIN occupies one sequence number: the closing ACK of a normal teardown carries
  // seq = FIN + 1 and no data.
  Harness h(1000, true, 100);
  const std::vector<uint8_t> d(h.stream_.begin(), h.stream_.begin() + 10);
  EXPECT_EQ(h.feed_raw(1001, kAck, d), A::kInOrder);
  EXPECT_EQ(h.feed_raw(1011, kF | kAck, {}), A::kInOrder);
  EXPECT_EQ(h.feed_raw(1012, kAck, {}), A::kNoPayload) << "last ACK of the teardown";
  const std::vector<uint8_t> more(h.stream_.begin() + 10, h.stream_.begin() + 12);
  EXPECT_EQ(h.feed_raw(1011, kAck, more), A::kEvasion) << "data beyond the FIN";
}

TEST(Reorder, EveryActionHasANameAndDescription) {
  for (int i = 0; i < static_cast<int>(A::kCount); ++i) {
    EXPECT_STRNE(reorder_action_name(static_cast<A>(i)), "unknown");
    EXPECT_STRNE(reorder_action_description(static_cast<A>(i)), "unknown");
  }
}

TEST(Reorder, ConflictingSynIsRefused) {
  Harness h(1000, true, 100);
  EXPECT_EQ(h.feed_raw(1000, kS, {}), A::kNoPayload) << "retransmitted SYN";
  EXPECT_EQ(h.feed_raw(5000, kS, {}), A::kOutOfWindow) << "SYN with another ISN";
  EXPECT_EQ(h.send(0, 10), A::kInOrder);
}

TEST(Reorder, TrustUnverifiableKnobFailsOpen) {
  ReorderConfig cfg;
  cfg.trust_unverifiable = true;
  Harness h(1000, true, 8000, cfg);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(h.send(i * 1400, 1400), A::kInOrder);
  EXPECT_EQ(h.send(0, 100), A::kDuplicate);
}

TEST(Reorder, QueueLimitKnob) {
  ReorderConfig cfg;
  cfg.queue_limit = 2;
  Harness h(1, true, 200, cfg);
  EXPECT_EQ(h.send(10, 5), A::kQueued);
  EXPECT_EQ(h.send(20, 5), A::kQueued);
  EXPECT_EQ(h.send(30, 5), A::kQueueFull);
}

TEST(Reorder, FlushReturnsQueuedPackets) {
  Harness h(1, true, 200);
  EXPECT_EQ(h.send(10, 5), A::kQueued);
  EXPECT_EQ(h.send(20, 5), A::kQueued);
  Release rel;
  Reorderer::flush(h.st_, rel);
  EXPECT_EQ(rel.count, 2u);
  EXPECT_EQ(h.st_.queued, 0u);
  for (const Delivery& d : rel.deliveries()) EXPECT_TRUE(d.scan.empty());
}

TEST(Reorder, EvasionPoisonsTheDirection) {
  Harness h(1, true, 200);
  EXPECT_EQ(h.send(0, 10), A::kInOrder);
  EXPECT_EQ(h.send(0, 10, kAck, 9), A::kEvasion);
  EXPECT_EQ(h.send(10, 10), A::kEvasion);
  EXPECT_EQ(h.send(10, 0), A::kEvasion);
}

TEST(Reorder, LongStreamCrossesFourGiBOfOffsetsAcrossWrap) {
  // The 64-bit stream offset keeps counting across several 32-bit wraps of the seq.
  Harness h(0xFFFF0000u, true, 0);
  Reorderer r;
  std::vector<uint8_t> chunk(60000, 0x41);
  Release rel;
  uint32_t seq = 0xFFFF0001u;
  for (int i = 0; i < 80000; ++i) {  // 4.8 GB
    ASSERT_EQ(r.on_segment(h.st_, seq, kAck, chunk, nullptr, rel), A::kInOrder);
    seq += static_cast<uint32_t>(chunk.size());
  }
  EXPECT_EQ(h.st_.next, 80000ull * 60000ull);
  EXPECT_EQ(r.on_segment(h.st_, seq - 100, kAck, std::span(chunk).first(100), nullptr, rel),
            A::kDuplicate);
}

// Every permutation of 4 segments (plain and overlapping segmentations) delivers the same
// stream exactly once, in order, and releases every packet exactly once.
TEST(Reorder, EveryPermutationOfFourSegments) {
  const std::vector<std::vector<Seg>> shapes = {
      {{0, 10}, {10, 10}, {20, 10}, {30, 10}},
      {{0, 12}, {8, 12}, {18, 14}, {30, 10}},
      {{0, 40}, {10, 10}, {5, 30}, {39, 1}},
  };
  for (std::size_t s = 0; s < shapes.size(); ++s) {
    std::vector<int> idx = {0, 1, 2, 3};
    int perms = 0;
    do {
      Harness h(0xFFFFFFE0u + static_cast<uint32_t>(perms), true, 64);
      for (int i : idx) {
        const Seg& g = shapes[s][i];
        const A a = h.send(g.off, g.len);
        EXPECT_TRUE(a == A::kInOrder || a == A::kQueued || a == A::kDuplicate)
            << reorder_action_name(a);
      }
      EXPECT_TRUE(h.delivered_is_prefix(40)) << "shape " << s << " perm " << perms;
      EXPECT_TRUE(h.pending_.empty());
      EXPECT_EQ(h.forwarded_.size(), 4u + 1u) << "4 segments + the SYN";
      EXPECT_EQ(h.st_.queued, 0u);
      ++perms;
    } while (std::next_permutation(idx.begin(), idx.end()));
    EXPECT_EQ(perms, 24);
  }
}

// Seeded property test: a random segmentation with identical retransmissions and local
// reordering always yields exactly the original stream, never evasion.
TEST(Reorder, SeededPropertyRandomSegmentationAndReordering) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    const std::size_t n = 20000;
    Harness h(static_cast<uint32_t>(rng()), true, n);
    struct S {
      int64_t off;
      uint32_t len;
    };
    std::vector<S> segs;
    for (std::size_t off = 0; off < n;) {
      const uint32_t len = std::min<uint32_t>(1 + rng() % 1460, static_cast<uint32_t>(n - off));
      segs.push_back({static_cast<int64_t>(off), len});
      off += len;
      if (rng() % 5 == 0 && segs.size() >= 2) {  // re-segmented identical retransmission
        const S& a = segs[segs.size() - 2];
        const int64_t lo = a.off + rng() % a.len;
        const int64_t hi = std::min<int64_t>(static_cast<int64_t>(off), lo + 1 + rng() % 2000);
        segs.push_back({lo, static_cast<uint32_t>(hi - lo)});
      }
    }
    std::deque<S> pending(segs.begin(), segs.end());
    int guard = 0;
    while (!pending.empty() && ++guard < 100000) {
      const std::size_t pick = rng() % std::min<std::size_t>(pending.size(), 6);
      const S s = pending[pick];
      pending.erase(pending.begin() + pick);
      const A a = h.send(s.off, s.len);
      ASSERT_NE(a, A::kEvasion) << "seed " << seed;
      ASSERT_NE(a, A::kOutOfWindow) << "seed " << seed;
      if (a == A::kQueueFull) pending.push_front(s);  // the sender retransmits
      // kUnverifiableRetransmission: only for fully redundant old copies (len < ring), drop.
    }
    EXPECT_TRUE(h.delivered_is_prefix(n)) << "seed " << seed << " got " << h.delivered_.size();
    EXPECT_TRUE(h.pending_.empty());
  }
}

}  // namespace
}  // namespace dc::inspect
