// The audit channel's per-worker evidence rings (dataplane/audit_channel.hpp): frames come out
// whole and in order across the ring's wrap, a worker told "room" can always copy, a flow's
// evidence reaches the writer before its outcome, and a throwing consumer loses nothing else.
#include "dataplane/audit_channel.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace dc::dataplane {
namespace {

struct Seen {
  char kind;  // 'e' evidence, 'o' outcome
  uint64_t flow_id;
  int64_t ts_ns;
  std::vector<uint8_t> bytes;
};

struct Collect final : audit::OutcomeConsumer {
  std::vector<Seen> seen;
  int throw_at = -1;  // throw from the on_evidence call with this index
  void on_outcome(const audit::FlowOutcome& o) override {
    seen.push_back({'o', o.flow_id, o.time_ns, {}});
  }
  void on_evidence(uint64_t id, int64_t ts, std::span<const uint8_t> frame) override {
    if (throw_at-- == 0) throw std::runtime_error("consumer failed");
    seen.push_back({'e', id, ts, {frame.begin(), frame.end()}});
  }
};

std::vector<uint8_t> frame_of(uint32_t len, uint32_t seed) {
  std::vector<uint8_t> f(len);
  for (uint32_t i = 0; i < len; ++i) f[i] = static_cast<uint8_t>(seed * 131 + i * 7);
  return f;
}

std::unique_ptr<AuditChannel> channel(uint16_t workers, uint32_t bytes = kMinEvidenceRing) {
  AuditChannelConfig cfg;
  cfg.ring_size = 256;
  cfg.events = 255;
  cfg.evidence_ring_bytes = bytes;
  cfg.workers = workers;
  cfg.evidence_packets_per_flow = 4;
  auto ch = AuditChannel::create(cfg);
  EXPECT_TRUE(ch) << ch.error().message;
  return ch ? std::move(ch.value()) : nullptr;
}

TEST(AuditChannelEvidence, FramesComeOutWholeAndInOrderAcrossTheWrap) {
  auto ch = channel(1);
  ASSERT_NE(ch, nullptr);
  // 40 rounds of ~12 KB through a 64 KiB ring: it wraps many times, at every offset.
  const uint32_t sizes[] = {60, 61, 95, 512, 1514, 2048, 3000, 33, 64};
  uint32_t seed = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<std::vector<uint8_t>> sent;
    for (uint32_t len : sizes) {
      ASSERT_TRUE(ch->evidence_room(0));
      sent.push_back(frame_of(len, ++seed));
      ASSERT_TRUE(ch->put_evidence(0, 1000 + seed, sent.back().data(), len, seed * 10));
    }
    Collect c;
    EXPECT_EQ(ch->drain(c, 64), std::size(sizes));
    ASSERT_EQ(c.seen.size(), std::size(sizes));
    for (size_t i = 0; i < sent.size(); ++i) {
      const uint32_t s = seed - static_cast<uint32_t>(sent.size() - 1 - i);
      const auto& want = sent[i];
      const size_t kept = std::min<size_t>(want.size(), kMaxEvidenceFrame);
      EXPECT_EQ(c.seen[i].kind, 'e');
      EXPECT_EQ(c.seen[i].flow_id, 1000 + s);
      EXPECT_EQ(c.seen[i].ts_ns, s * 10);
      ASSERT_EQ(c.seen[i].bytes.size(), kept) << "frames beyond 2 KB keep their first 2 KB";
      EXPECT_EQ(std::memcmp(c.seen[i].bytes.data(), want.data(), kept), 0) << round << "/" << i;
    }
  }
  EXPECT_EQ(ch->lost_evidence(), 0u);
}

// Backpressure is exact per worker: while evidence_room() says yes, a copy of any size succeeds
// (the worker is its ring's only producer); once the writer drained, room is back.
TEST(AuditChannelEvidence, RoomMeansTheCopySucceeds) {
  auto ch = channel(2);
  ASSERT_NE(ch, nullptr);
  const auto big = frame_of(2048, 1);
  int copies = 0;
  while (ch->evidence_room(0)) {
    ASSERT_TRUE(ch->put_evidence(0, 7, big.data(), 2048, copies)) << copies;
    ++copies;
  }
  EXPECT_GE(copies, 28) << "a 64 KiB ring holds about 30 frames of 2 KB";
  EXPECT_TRUE(ch->evidence_room(1)) << "worker 1 has its own ring";
  EXPECT_EQ(ch->lost_evidence(), 0u);
  Collect c;
  EXPECT_EQ(ch->drain(c, 64), static_cast<unsigned>(copies));
  EXPECT_TRUE(ch->evidence_room(0));
  // A worker beyond the configured ones has no ring: never backpressured, every copy lost.
  EXPECT_TRUE(ch->evidence_room(5));
  EXPECT_FALSE(ch->put_evidence(5, 7, big.data(), 60, 0));
  EXPECT_EQ(ch->lost_evidence(), 1u);
}

// A flow's evidence is queued before its outcome on another ring: the writer must still see the
// evidence first (it keeps evidence until the outcome says whether the flow was blocked).
TEST(AuditChannelEvidence, EvidenceReachesTheWriterBeforeItsOutcome) {
  auto ch = channel(2);
  ASSERT_NE(ch, nullptr);
  const auto f = frame_of(100, 3);
  ASSERT_TRUE(ch->put_evidence(1, 42, f.data(), 100, 1));
  ASSERT_TRUE(ch->put_evidence(0, 43, f.data(), 100, 2));
  audit::FlowOutcome* ev = ch->get_event();
  ASSERT_NE(ev, nullptr);
  ev->flow_id = 42;
  ASSERT_TRUE(ch->put_event(ev));
  Collect c;
  EXPECT_EQ(ch->drain(c, 1), 3u);
  ASSERT_EQ(c.seen.size(), 3u);
  EXPECT_EQ(c.seen[2].kind, 'o');
  EXPECT_EQ(c.seen[2].flow_id, 42u);
  EXPECT_EQ(c.seen[0].kind, 'e');
  EXPECT_EQ(c.seen[1].kind, 'e');
}

// A consumer that throws (out of memory) loses the frame it was handed, not the ones after it.
TEST(AuditChannelEvidence, AThrowingConsumerLosesOnlyItsFrame) {
  auto ch = channel(1);
  ASSERT_NE(ch, nullptr);
  for (uint32_t i = 0; i < 5; ++i) {
    const auto f = frame_of(200, i);
    ASSERT_TRUE(ch->put_evidence(0, i, f.data(), 200, i));
  }
  Collect c;
  c.throw_at = 2;
  EXPECT_THROW(ch->drain(c, 64), std::runtime_error);
  EXPECT_EQ(c.seen.size(), 2u);
  EXPECT_EQ(ch->drain(c, 64), 2u);
  ASSERT_EQ(c.seen.size(), 4u);
  EXPECT_EQ(c.seen[2].flow_id, 3u);
  EXPECT_EQ(c.seen[3].flow_id, 4u);
}

}  // namespace
}  // namespace dc::dataplane
