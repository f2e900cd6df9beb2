// The TCP normaliser (inspect/stream/normalise.hpp): RST acceptance per RFC 5961 §3.2, urgent
// data as a Linux receiver reads it (RFC 6093), window scale and timestamp parsing, PAWS and
// window acceptance (RFC 7323 §5.3, RFC 9293 §3.10.7.4). Table-driven.
#include "inspect/stream/normalise.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "inspect/packet/decode.hpp"

namespace dc::inspect {
namespace {

namespace tf = tcpflag;

TcpSegment seg(uint32_t seq, uint32_t ack, uint8_t flags, uint32_t len = 0, uint16_t window = 1000,
               uint16_t urgent = 0) {
  TcpSegment s;
  s.seq = seq;
  s.ack = ack;
  s.flags = flags;
  s.payload_len = len;
  s.window = window;
  s.urgent = urgent;
  return s;
}

// A handshake (opener ISN 1000, responder ISN 5000) and 100 bytes from the opener, acked.
TcpNormState established() {
  TcpNormState st;
  note_segment(st, 0, seg(1000, 0, tf::kSyn));
  note_segment(st, 1, seg(5000, 1001, tf::kSyn | tf::kAck));
  note_segment(st, 0, seg(1001, 5001, tf::kAck));
  note_segment(st, 0, seg(1001, 5001, tf::kAck | tf::kPsh, 100));
  note_segment(st, 1, seg(5001, 1101, tf::kAck, 0, 1000));
  return st;
}

struct RstCase {
  std::string name;
  unsigned from;
  uint32_t seq;
  RstCheck want;
};

TEST(Normalise, RstAcceptedOnlyAtTheExactSequenceNumber) {
  const std::vector<RstCase> cases = {
      {"opener_exact", 0, 1101, RstCheck::kAccept},
      {"responder_exact", 1, 5001, RstCheck::kAccept},
      {"opener_in_window_not_exact", 0, 1102, RstCheck::kNotExact},
      {"opener_window_edge", 0, 1101 + 999, RstCheck::kNotExact},
      {"opener_past_window", 0, 1101 + 1000, RstCheck::kOutOfWindow},
      {"opener_stale", 0, 1050, RstCheck::kOutOfWindow},
      {"responder_far", 1, 5001 + 5'000'000, RstCheck::kOutOfWindow},
      {"responder_before_isn", 1, 4000, RstCheck::kOutOfWindow},
  };
  for (const auto& c : cases) {
    const TcpNormState st = established();
    EXPECT_EQ(check_rst(st, c.from, seg(c.seq, 0, tf::kRst | tf::kAck)), c.want) << c.name;
  }
}

TEST(Normalise, RstAnsweringASynMustAcknowledgeIt) {
  TcpNormState st;
  note_segment(st, 0, seg(1000, 0, tf::kSyn));
  EXPECT_EQ(check_rst(st, 1, seg(0, 1001, tf::kRst | tf::kAck)), RstCheck::kAccept);
  EXPECT_EQ(check_rst(st, 1, seg(0, 1002, tf::kRst | tf::kAck)), RstCheck::kOutOfWindow);
  EXPECT_EQ(check_rst(st, 1, seg(0, 0, tf::kRst)), RstCheck::kOutOfWindow);
  EXPECT_EQ(check_rst(TcpNormState{}, 0, seg(7, 0, tf::kRst)), RstCheck::kAccept)
      << "nothing known: nothing to protect";
}

TEST(Normalise, RstDataDoesNotMoveTheSequence) {
  TcpNormState st = established();
  note_segment(st, 0, seg(1101, 5001, tf::kRst | tf::kAck, 30));
  EXPECT_EQ(st.side[0].snd_end, 1101u);
}

TEST(Normalise, FarAheadSegmentDoesNotMakeALaterRstExact) {
  TcpNormState st = established();
  note_segment(st, 0, seg(1101 + (64u << 20), 5001, tf::kAck, 10));
  EXPECT_EQ(check_rst(st, 0, seg(1101 + (64u << 20) + 10, 0, tf::kRst)), RstCheck::kOutOfWindow);
  EXPECT_EQ(check_rst(st, 0, seg(1101, 0, tf::kRst)), RstCheck::kAccept);
}

TEST(Normalise, WindowScaleAppliesWhenBothSidesOfferIt) {
  TcpNormState st;
  const uint8_t ws7[] = {1, 3, 3, 7};  // NOP, window scale 7
  TcpSegment syn = seg(1000, 0, tf::kSyn, 0, 100);
  syn.options = ws7;
  note_segment(st, 0, syn);
  TcpSegment synack = seg(5000, 1001, tf::kSyn | tf::kAck, 0, 100);
  synack.options = ws7;
  note_segment(st, 1, synack);
  EXPECT_EQ(st.side[1].window, 100u) << "a SYN's window is never scaled (RFC 7323 §2.2)";
  note_segment(st, 1, seg(5001, 1001, tf::kAck, 0, 100));
  EXPECT_EQ(st.side[1].window, 100u << 7);
  EXPECT_EQ(check_rst(st, 0, seg(1001 + 10'000, 0, tf::kRst)), RstCheck::kNotExact);
}

TEST(Normalise, WindowScaleOption) {
  const std::vector<std::pair<std::vector<uint8_t>, int>> cases = {
      {{}, -1},
      {{3, 3, 2}, 2},
      {{1, 1, 3, 3, 20}, 14},                 // capped (RFC 7323 §2.3)
      {{2, 4, 5, 180, 3, 3, 9}, 9},           // after MSS
      {{0, 3, 3, 9}, -1},                     // after End of Option List
      {{3, 4, 9, 9}, -1},                     // wrong length
      {{2, 40}, -1},                          // length beyond the options
      {{8, 10, 0, 0, 0, 0, 0, 0, 0, 0}, -1},  // timestamps only
  };
  for (const auto& [opts, want] : cases) EXPECT_EQ(tcp_window_scale(opts), want);
}

// Urgent pointer 3 on a 10-byte segment at seq 1101: the urgent byte is 1101 + 2.
TEST(Normalise, UrgentByteIsTakenOutOfTheReceiversView) {
  TcpNormState st = established();
  const uint8_t data[] = {'m', 'a', 'X', 'l', 'i', 'c', 'i', 'o', 'u', 's'};
  EXPECT_EQ(note_urgent(st, 0, seg(1101, 5001, tf::kAck | tf::kUrg, 10, 1000, 3), 1101),
            UrgentMark::kMarked);
  UrgentView v = urgent_view(st.side[0], 1101, data);
  ASSERT_TRUE(v.removed);
  EXPECT_EQ(std::string(v.part[0].begin(), v.part[0].end()) +
                std::string(v.part[1].begin(), v.part[1].end()),
            "malicious");
  EXPECT_FALSE(st.side[0].urg_pending) << "consumed";
  v = urgent_view(st.side[0], 1101, data);
  EXPECT_FALSE(v.removed);
}

TEST(Normalise, UrgentPointerCases) {
  struct C {
    std::string name;
    uint32_t seq;
    uint16_t urgent;
    uint32_t len;
    uint32_t rcv_next;
    UrgentMark want;
    bool pending;
  };
  const std::vector<C> cases = {
      {"inside", 1101, 5, 10, 1101, UrgentMark::kMarked, true},
      {"ahead_of_the_segment", 1101, 50, 10, 1101, UrgentMark::kMarked, true},
      {"zero_pointer_first_byte", 1101, 0, 10, 1101, UrgentMark::kMarked, true},
      {"retransmission_inside", 1101, 5, 10, 1111, UrgentMark::kMarked, false},
      {"retransmission_before", 1091, 5, 10, 1111, UrgentMark::kMarked, false},
      {"stale_outside_segment", 1050, 40, 10, 1111, UrgentMark::kNone, false},
  };
  for (const auto& c : cases) {
    TcpNormState st = established();
    EXPECT_EQ(note_urgent(st, 0, seg(c.seq, 5001, tf::kAck | tf::kUrg, c.len, 1000, c.urgent),
                          c.rcv_next),
              c.want)
        << c.name;
    EXPECT_EQ(st.side[0].urg_pending, c.pending) << c.name;
  }
  TcpNormState st = established();
  EXPECT_EQ(note_urgent(st, 0, seg(1101, 5001, tf::kAck, 10, 1000, 5), 1101), UrgentMark::kNone)
      << "pointer without URG is meaningless (RFC 9293 §3.1)";
}

TEST(Normalise, NewerUrgentPointerSupersedesAPendingOne) {
  TcpNormState st = established();
  EXPECT_EQ(note_urgent(st, 0, seg(1101, 5001, tf::kAck | tf::kUrg, 10, 1000, 50), 1101),
            UrgentMark::kMarked);
  EXPECT_EQ(note_urgent(st, 0, seg(1111, 5001, tf::kAck | tf::kUrg, 10, 1000, 30), 1111),
            UrgentMark::kNone)
      << "not newer: Linux keeps the pending byte";
  EXPECT_EQ(note_urgent(st, 0, seg(1111, 5001, tf::kAck | tf::kUrg, 10, 1000, 60), 1111),
            UrgentMark::kSuperseded);
  EXPECT_EQ(st.side[0].urg_seq, 1111u + 59);
}

TEST(Normalise, UrgentViewAcrossPieces) {
  TcpSender s;
  s.urg_pending = true;
  s.urg_seq = 2005;
  const uint8_t a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10};
  UrgentView v = urgent_view(s, 2000, a);  // bytes 2000..2004: the urgent byte is ahead
  EXPECT_FALSE(v.removed);
  EXPECT_EQ(v.part[0].size(), 5u);
  EXPECT_TRUE(s.urg_pending);
  v = urgent_view(s, 2005, b);  // the urgent byte is the first one
  ASSERT_TRUE(v.removed);
  EXPECT_TRUE(v.part[0].empty());
  EXPECT_EQ(v.part[1].size(), 4u);
  EXPECT_EQ(v.part[1][0], 7);
  s.urg_pending = true;
  s.urg_seq = 1990;  // behind the piece: passed already
  v = urgent_view(s, 2000, a);
  EXPECT_FALSE(v.removed);
  EXPECT_FALSE(s.urg_pending);
}

// Options with a Timestamps option (NOP NOP TS) carrying `tsval`, and window scale `ws`.
struct TsOptions {
  uint8_t b[16];
  TsOptions(uint32_t tsval, uint8_t ws = 0xff) : b{} {
    const uint8_t ts[12] = {1,
                            1,
                            8,
                            10,
                            static_cast<uint8_t>(tsval >> 24),
                            static_cast<uint8_t>(tsval >> 16),
                            static_cast<uint8_t>(tsval >> 8),
                            static_cast<uint8_t>(tsval),
                            0,
                            0,
                            0,
                            0};
    std::copy(std::begin(ts), std::end(ts), b);
    n = 12;
    if (ws != 0xff) {
      const uint8_t w[4] = {1, 3, 3, ws};
      std::copy(std::begin(w), std::end(w), b + 12);
      n = 16;
    }
  }
  std::span<const uint8_t> span() const { return {b, n}; }
  std::size_t n = 0;
};

TcpSegment with_ts(TcpSegment s, const TsOptions& o) {
  s.options = o.span();
  return s;
}

// Both SYNs with timestamps (opener TSval 100, responder 9000); the opener sent 100 bytes at
// TSval 200, acked by the responder with window 1000 at TSval 9100.
TcpNormState established_ts() {
  TcpNormState st;
  note_segment(st, 0, with_ts(seg(1000, 0, tf::kSyn), TsOptions(100)));
  note_segment(st, 1, with_ts(seg(5000, 1001, tf::kSyn | tf::kAck), TsOptions(9000)));
  note_segment(st, 0, with_ts(seg(1001, 5001, tf::kAck), TsOptions(150)));
  note_segment(st, 0, with_ts(seg(1001, 5001, tf::kAck | tf::kPsh, 100), TsOptions(200)));
  note_segment(st, 1, with_ts(seg(5001, 1101, tf::kAck, 0, 1000), TsOptions(9100)));
  return st;
}

TEST(Normalise, TimestampOption) {
  uint32_t v = 0;
  EXPECT_TRUE(tcp_timestamp(TsOptions(0xdeadbeef).span(), v));
  EXPECT_EQ(v, 0xdeadbeefu);
  const uint8_t after_mss[] = {2, 4, 5, 180, 8, 10, 0, 0, 1, 2, 0, 0, 0, 0};
  EXPECT_TRUE(tcp_timestamp(after_mss, v));
  EXPECT_EQ(v, 0x102u);
  const uint8_t bad_len[] = {8, 8, 0, 0, 1, 2, 0, 0};
  EXPECT_FALSE(tcp_timestamp(bad_len, v));
  const uint8_t ws_only[] = {3, 3, 7};
  EXPECT_FALSE(tcp_timestamp(ws_only, v));
  const uint8_t truncated[] = {1, 8, 10, 0, 0};
  EXPECT_FALSE(tcp_timestamp(truncated, v));
}

struct SegCase {
  std::string name;
  TcpSegment s;
  SegmentCheck want;
};

TEST(Normalise, PawsDiscardsStaleTimestampsAsTheReceiverDoes) {
  const TcpNormState st = established_ts();
  EXPECT_EQ(st.side[0].ts_recent, 200u);
  const uint8_t data = tf::kAck | tf::kPsh;
  const std::vector<SegCase> cases = {
      {"current", with_ts(seg(1101, 5001, data, 50), TsOptions(200)), SegmentCheck::kAccept},
      {"newer", with_ts(seg(1101, 5001, data, 50), TsOptions(300)), SegmentCheck::kAccept},
      {"one_older_linux_window", with_ts(seg(1101, 5001, data, 50), TsOptions(199)),
       SegmentCheck::kAccept},
      {"stale", with_ts(seg(1101, 5001, data, 50), TsOptions(198)), SegmentCheck::kPawsStale},
      {"stale_retransmission", with_ts(seg(1001, 5001, data, 100), TsOptions(150)),
       SegmentCheck::kPawsStale},
      {"stale_fin", with_ts(seg(1101, 5001, tf::kAck | tf::kFin), TsOptions(10)),
       SegmentCheck::kPawsStale},
      {"stale_pure_ack_passes", with_ts(seg(1101, 5001, tf::kAck), TsOptions(10)),
       SegmentCheck::kAccept},
      {"stale_rst_is_check_rsts", with_ts(seg(1101, 5001, tf::kRst), TsOptions(10)),
       SegmentCheck::kAccept},
      {"no_timestamp_option", seg(1101, 5001, data, 50), SegmentCheck::kAccept},
      {"serial_wrap_newer", with_ts(seg(1101, 5001, data, 50), TsOptions(0x80000000u)),
       SegmentCheck::kAccept},
  };
  for (const auto& c : cases) EXPECT_EQ(check_segment(st, 0, c.s), c.want) << c.name;
  // The other direction: the responder's TS.Recent at the opener is 9100.
  EXPECT_EQ(check_segment(st, 1, with_ts(seg(5001, 1101, data, 10), TsOptions(9000))),
            SegmentCheck::kPawsStale);
  EXPECT_STREQ(segment_check_name(SegmentCheck::kPawsStale), "paws_stale");
}

TEST(Normalise, PawsNeedsBothSynsToOfferTimestamps) {
  TcpNormState st;
  note_segment(st, 0, with_ts(seg(1000, 0, tf::kSyn), TsOptions(100)));
  note_segment(st, 1, seg(5000, 1001, tf::kSyn | tf::kAck));  // no timestamps: not negotiated
  note_segment(st, 0, with_ts(seg(1001, 5001, tf::kAck | tf::kPsh, 10), TsOptions(500)));
  EXPECT_EQ(check_segment(st, 0, with_ts(seg(1011, 5001, tf::kAck, 10), TsOptions(1))),
            SegmentCheck::kAccept);
  // Picked up without the SYNs: nothing is known about the options.
  TcpNormState mid;
  note_segment(mid, 0, with_ts(seg(1001, 5001, tf::kAck | tf::kPsh, 10), TsOptions(500)));
  EXPECT_EQ(check_segment(mid, 0, with_ts(seg(1011, 5001, tf::kAck, 10), TsOptions(1))),
            SegmentCheck::kAccept);
}

TEST(Normalise, TsRecentMovesOnlyWithInOrderSegments) {
  TcpNormState st = established_ts();
  // Out of order (ahead of what was sent): a receiver does not take its TSval (RFC 7323 §4.3).
  note_segment(st, 0, with_ts(seg(1301, 5001, tf::kAck | tf::kPsh, 10), TsOptions(5000)));
  EXPECT_EQ(st.side[0].ts_recent, 200u);
  // In order: it does.
  note_segment(st, 0, with_ts(seg(1101, 5001, tf::kAck | tf::kPsh, 10), TsOptions(260)));
  EXPECT_EQ(st.side[0].ts_recent, 260u);
  // An older TSval never moves it back.
  note_segment(st, 0, with_ts(seg(1111, 5001, tf::kAck | tf::kPsh, 10), TsOptions(259)));
  EXPECT_EQ(st.side[0].ts_recent, 260u);
}

TEST(Normalise, DataBeyondTheAdvertisedWindowIsDiscarded) {
  // The responder acknowledged 1101 with window 1000: its right edge is 2101.
  const TcpNormState st = established();
  const uint8_t data = tf::kAck | tf::kPsh;
  const std::vector<SegCase> cases = {
      {"in_window", seg(1101, 5001, data, 100), SegmentCheck::kAccept},
      {"ends_past_edge_starts_inside", seg(2000, 5001, data, 500), SegmentCheck::kAccept},
      {"last_byte_in_window", seg(2100, 5001, data, 1), SegmentCheck::kAccept},
      {"at_edge", seg(2101, 5001, data, 10), SegmentCheck::kBeyondWindow},
      {"far_beyond", seg(9000, 5001, data, 10), SegmentCheck::kBeyondWindow},
      {"old_retransmission_is_the_reorderers", seg(1001, 5001, data, 100), SegmentCheck::kAccept},
      {"pure_ack_beyond", seg(9000, 5001, tf::kAck), SegmentCheck::kAccept},
  };
  for (const auto& c : cases) EXPECT_EQ(check_segment(st, 0, c.s), c.want) << c.name;
}

TEST(Normalise, WindowRightEdgeUsesTheScaleAndNeverShrinks) {
  TcpNormState st;
  const uint8_t ws7[] = {1, 3, 3, 7};
  TcpSegment syn = seg(1000, 0, tf::kSyn, 0, 100);
  syn.options = ws7;
  note_segment(st, 0, syn);
  TcpSegment synack = seg(5000, 1001, tf::kSyn | tf::kAck, 0, 100);
  synack.options = ws7;
  note_segment(st, 1, synack);
  EXPECT_EQ(st.side[1].edge, 1101u) << "the SYN-ACK's window is not scaled";
  note_segment(st, 1, seg(5001, 1001, tf::kAck, 0, 100));  // 100 << 7 = 12800
  EXPECT_EQ(st.side[1].edge, 1001u + 12800u);
  EXPECT_EQ(check_segment(st, 0, seg(1001 + 12000, 5001, tf::kAck, 10)), SegmentCheck::kAccept);
  EXPECT_EQ(check_segment(st, 0, seg(1001 + 12800, 5001, tf::kAck, 10)),
            SegmentCheck::kBeyondWindow);
  // A reordered older ACK with a smaller window does not shrink the edge.
  note_segment(st, 1, seg(5001, 1001, tf::kAck, 0, 1));
  EXPECT_EQ(st.side[1].edge, 1001u + 12800u);
  // Without both SYNs (mid-stream) the scale is unknown: no window check at all.
  TcpNormState mid;
  note_segment(mid, 1, seg(5001, 1001, tf::kAck, 0, 100));
  EXPECT_EQ(check_segment(mid, 0, seg(900'000, 5001, tf::kAck, 10)), SegmentCheck::kAccept);
}

TEST(Normalise, ZeroWindowProbeCrosses) {
  TcpNormState closed;
  note_segment(closed, 0, seg(1000, 0, tf::kSyn));
  note_segment(closed, 1, seg(5000, 1001, tf::kSyn | tf::kAck, 0, 0));  // edge = 1001
  EXPECT_EQ(check_segment(closed, 0, seg(1001, 5001, tf::kAck, 1)), SegmentCheck::kAccept)
      << "a probe at the acknowledged seq: the receiver answers it";
  EXPECT_EQ(check_segment(closed, 0, seg(1002, 5001, tf::kAck, 1)), SegmentCheck::kBeyondWindow);
}

TEST(Normalise, SequenceWrap) {
  TcpNormState st;
  note_segment(st, 0, seg(0xfffffff0u, 0, tf::kSyn));
  note_segment(st, 0, seg(0xfffffff1u, 1, tf::kAck, 0x20));
  EXPECT_EQ(st.side[0].snd_end, 0x11u);
  EXPECT_EQ(check_rst(st, 0, seg(0x11u, 0, tf::kRst)), RstCheck::kAccept);
  EXPECT_STREQ(rst_check_name(RstCheck::kNotExact), "not_exact");
}

}  // namespace
}  // namespace dc::inspect
