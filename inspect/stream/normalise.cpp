// TCP normaliser: RST acceptance (RFC 5961 §3.2), urgent data as a Linux receiver reads it
// (RFC 6093), PAWS and window acceptance (RFC 7323 §5.3, RFC 9293 §3.10.7.4), sender
// sequence/window/timestamp tracking for all of them.
#include "inspect/stream/normalise.hpp"

#include <algorithm>
#include <iterator>
#include <type_traits>

#include "base/names.hpp"
#include "inspect/packet/decode.hpp"

namespace dc::inspect {

static_assert(std::is_trivially_copyable_v<TcpNormState>, "lives in a flow slot, reset by copy");

namespace {

// RFC 9293 §3.4: sequence numbers compare by their signed 32-bit distance.
constexpr int32_t seq_diff(uint32_t a, uint32_t b) noexcept { return static_cast<int32_t>(a - b); }

// A segment further than this ahead of what its sender sent so far does not move the sender's
// next sequence number (an injected far-ahead segment must not make a later RST "exact").
// The same bound as the reorderer's default window (ReorderConfig::max_window).
constexpr int32_t kMaxAdvance = 8 << 20;

constexpr uint8_t kOptEnd = 0, kOptNop = 1, kOptWindowScale = 3, kOptTimestamps = 8;
constexpr int kMaxWindowScale = 14;  // RFC 7323 §2.3: larger shifts are used as 14
// Linux TCP_PAWS_WINDOW: a TSval at most this much older than TS.Recent is still accepted.
constexpr int32_t kPawsWindow = 1;

// The body of option `kind` in TCP options `o` (RFC 9293 §3.1 framing), or an empty span when
// absent, malformed, or its length is not `len`.
std::span<const uint8_t> find_option(std::span<const uint8_t> o, uint8_t kind,
                                     uint8_t len) noexcept {
  std::size_t i = 0;
  while (i < o.size()) {
    const uint8_t k = o[i];
    if (k == kOptEnd) return {};
    if (k == kOptNop) {
      ++i;
      continue;
    }
    if (o.size() - i < 2) return {};
    const uint8_t n = o[i + 1];
    if (n < 2 || n > o.size() - i) return {};
    if (k == kind) return n == len ? o.subspan(i + 2, n - 2u) : std::span<const uint8_t>{};
    i += n;
  }
  return {};
}

uint32_t load32(const uint8_t* p) noexcept {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// RFC 7323 §4.3 (Linux tcp_replace_ts_recent()): the receiver keeps the TSval of a segment that
// reaches no further than what it had received (an in-order or retransmitted one) and is not
// older than the one it holds. `was_end` is the sender's snd_end before this segment.
void note_timestamp(TcpSender& snd, const TcpSender& peer, const TcpSegment& s, bool had_end,
                    uint32_t was_end) noexcept {
  if (!snd.ts_sent || !peer.ts_sent) return;
  uint32_t tsval = 0;
  if (!tcp_timestamp(s.options, tsval)) return;
  if (had_end && seq_diff(s.seq, was_end) > 0) return;  // out of order: not recorded
  if (snd.ts_recent_valid && seq_diff(tsval, snd.ts_recent) < 0) return;
  snd.ts_recent = tsval;
  snd.ts_recent_valid = true;
}

}  // namespace

const char* segment_check_name(SegmentCheck c) noexcept {
  static constexpr const char* kNames[] = {"accept", "paws_stale", "beyond_window"};
  return base::enum_name(c, kNames);
}

bool tcp_timestamp(std::span<const uint8_t> options, uint32_t& tsval) noexcept {
  const std::span<const uint8_t> b = find_option(options, kOptTimestamps, 10);
  if (b.empty()) return false;
  tsval = load32(b.data());
  return true;
}

SegmentCheck check_segment(const TcpNormState& st, unsigned from, const TcpSegment& s) noexcept {
  if (s.flags & (tcpflag::kSyn | tcpflag::kRst)) return SegmentCheck::kAccept;
  if (s.payload_len == 0 && !(s.flags & tcpflag::kFin)) return SegmentCheck::kAccept;
  const TcpSender& snd = st.side[from & 1];
  const TcpSender& rcv = st.side[(from & 1) ^ 1];
  if (!snd.syn_seen || !rcv.syn_seen) return SegmentCheck::kAccept;
  uint32_t tsval = 0;
  if (snd.ts_sent && rcv.ts_sent && snd.ts_recent_valid && tcp_timestamp(s.options, tsval) &&
      seq_diff(snd.ts_recent, tsval) > kPawsWindow)
    return SegmentCheck::kPawsStale;
  if (s.payload_len > 0 && rcv.edge_valid && seq_diff(s.seq, rcv.edge) >= 0 &&
      !(rcv.acked && s.seq == rcv.ack))
    return SegmentCheck::kBeyondWindow;
  return SegmentCheck::kAccept;
}

const char* rst_check_name(RstCheck c) noexcept {
  static constexpr const char* kNames[] = {"accept", "not_exact", "out_of_window"};
  return base::enum_name(c, kNames);
}

int tcp_window_scale(std::span<const uint8_t> o) noexcept {
  const std::span<const uint8_t> b = find_option(o, kOptWindowScale, 3);
  return b.empty() ? -1 : std::min<int>(b[0], kMaxWindowScale);
}

RstCheck check_rst(const TcpNormState& st, unsigned from, const TcpSegment& s) noexcept {
  const TcpSender& snd = st.side[from & 1];
  const TcpSender& rcv = st.side[(from & 1) ^ 1];
  if (!snd.seen) {
    // Nothing known about the connection: no state a RST could wrongly destroy.
    if (!rcv.seen) return RstCheck::kAccept;
    // RFC 9293 §3.10.7.3 (SYN-SENT): a RST answering the other side is acceptable when its ACK
    // acknowledges what that side sent; otherwise it is dropped.
    const bool acks_all = (s.flags & tcpflag::kAck) != 0 && s.ack == rcv.snd_end;
    return acks_all ? RstCheck::kAccept : RstCheck::kOutOfWindow;
  }
  // RFC 5961 §3.2 case 2: exactly RCV.NXT, which is everything the sender sent through us.
  if (s.seq == snd.snd_end) return RstCheck::kAccept;
  // Cases 1 and 3: the receiver's window starts at what it acknowledged last (its RCV.NXT as
  // it told the sender) and spans the window it advertised; before its first ACK we know only
  // what the sender sent, and assume an unscaled maximal window.
  const uint32_t base = rcv.acked ? rcv.ack : snd.snd_end;
  const uint32_t wnd = rcv.acked ? std::max<uint32_t>(rcv.window, 1) : 65535;
  const uint32_t d = s.seq - base;
  return d < wnd ? RstCheck::kNotExact : RstCheck::kOutOfWindow;
}

UrgentMark note_urgent(TcpNormState& st, unsigned from, const TcpSegment& s,
                       uint32_t rcv_next) noexcept {
  if (!(s.flags & tcpflag::kUrg)) return UrgentMark::kNone;
  TcpSender& snd = st.side[from & 1];
  // Linux tcp_check_urg(): ptr = seq + urgent pointer - 1 (BSD interpretation, RFC 6093 §2);
  // a zero pointer is not decremented.
  const uint32_t ptr = s.seq + (s.urgent != 0 ? s.urgent - 1u : 0u);
  // Not newer than the pending urgent byte: Linux keeps the pending one.
  if (snd.urg_pending && seq_diff(ptr, snd.urg_seq) <= 0) return UrgentMark::kNone;
  const bool superseded = snd.urg_pending;
  // Only a byte the receiver has not read yet is taken out of its stream (Linux ignores a
  // pointer before RCV.NXT). A retransmission whose urgent byte the scanner already read inline
  // still counts as a mark: a receiver that lost the first copy takes the byte out, so the
  // views may differ and the caller raises the condition.
  if (seq_diff(ptr, rcv_next) >= 0) {
    snd.urg_pending = true;
    snd.urg_seq = ptr;
  } else if (seq_diff(ptr, s.seq) < 0 || seq_diff(ptr, s.seq + s.payload_len) >= 0) {
    return UrgentMark::kNone;  // designates no byte of this segment that is still unread
  }
  return superseded ? UrgentMark::kSuperseded : UrgentMark::kMarked;
}

void note_segment(TcpNormState& st, unsigned from, const TcpSegment& s) noexcept {
  TcpSender& snd = st.side[from & 1];
  const TcpSender& peer = st.side[(from & 1) ^ 1];
  const bool syn = (s.flags & tcpflag::kSyn) != 0;
  const bool rst = (s.flags & tcpflag::kRst) != 0;
  if (syn) {
    snd.isn = s.seq;
    snd.syn_seen = true;
    const int ws = tcp_window_scale(s.options);
    snd.wscale_sent = ws >= 0;
    snd.wscale = static_cast<uint8_t>(ws >= 0 ? ws : 0);
    uint32_t tsval = 0;
    snd.ts_sent = tcp_timestamp(s.options, tsval);
    snd.ts_recent = tsval;  // RFC 7323 §4.3: the SYN's TSval is the first TS.Recent
    snd.ts_recent_valid = snd.ts_sent;
  }
  // RFC 9293 §3.4: SYN and FIN occupy a sequence number; a RST's data is not stream data.
  const uint32_t len =
      rst ? 0 : s.payload_len + (syn ? 1 : 0) + ((s.flags & tcpflag::kFin) ? 1 : 0);
  const uint32_t end = s.seq + len;
  const bool had_end = snd.seen;
  const uint32_t was_end = snd.snd_end;
  if (!snd.seen) {
    snd.seen = true;
    snd.snd_end = end;
  } else if (seq_diff(end, snd.snd_end) > 0 && seq_diff(s.seq, snd.snd_end) <= kMaxAdvance) {
    snd.snd_end = end;
  }
  if (rst) return;
  if (s.flags & tcpflag::kAck) {
    snd.ack = s.ack;
    snd.acked = true;
  }
  // RFC 7323 §2.2: a SYN's window is never scaled; later ones are, when both sides offered it.
  const unsigned shift = (!syn && snd.wscale_sent && peer.wscale_sent) ? snd.wscale : 0;
  snd.window = uint32_t{s.window} << shift;
  if (!syn) note_timestamp(snd, peer, s, had_end, was_end);
  // The right edge only moves forward (RFC 9293 §3.8.6.2.2: receivers do not shrink windows; a
  // reordered older ACK must not shrink our view). Only once both SYNs were seen: before that
  // the scale is unknown.
  if ((s.flags & tcpflag::kAck) && snd.syn_seen && peer.syn_seen) {
    const uint32_t edge = s.ack + snd.window;
    if (!snd.edge_valid || seq_diff(edge, snd.edge) > 0) snd.edge = edge;
    snd.edge_valid = true;
  }
}

UrgentView urgent_view(TcpSender& sender, uint32_t seq, std::span<const uint8_t> bytes) noexcept {
  UrgentView v;
  v.part[0] = bytes;
  if (!sender.urg_pending || bytes.empty()) return v;
  const int32_t rel = seq_diff(sender.urg_seq, seq);
  if (rel < 0) {  // the urgent byte lies before this piece: it passed already
    sender.urg_pending = false;
    return v;
  }
  if (static_cast<uint32_t>(rel) >= bytes.size()) return v;  // still ahead
  const auto at = static_cast<std::size_t>(rel);
  v.part[0] = bytes.first(at);
  v.part[1] = bytes.subspan(at + 1);
  v.removed = true;
  sender.urg_pending = false;
  return v;
}

}  // namespace dc::inspect
