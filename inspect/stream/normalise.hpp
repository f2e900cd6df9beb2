#pragma once
// TCP normaliser: the per-flow checks that run in front of the reorderer so that the scanner
// and the flow table see a segment the way the receiving host would (RFC 9293, RFC 5961,
// RFC 6093). It answers three questions for each TCP segment of a flow:
//   - is this RST one the receiver would act on (RFC 5961 §3.2), or one it ignores;
//   - does this segment designate an urgent byte, which a Linux receiver (default socket
//     options, no SO_OOBINLINE) takes out of the byte stream (RFC 6093 §3.4);
//   - which bytes of a delivered piece of stream does that receiver read (urgent_view());
//   - would the receiver discard this data segment before reading it: a stale timestamp
//     (PAWS, RFC 7323 §5.3) or data entirely beyond its advertised window (RFC 9293 §3.10.7.4)
//     (check_segment()).
// Everything else about a segment's order and overlap is the Reorderer's (reorder.hpp).
//
// Who calls it: the worker lcore that owns the flow (both directions land on it), once per TCP
// segment. State is a POD living in the flow slot; zero-initialised means "nothing seen".
// noexcept, no allocation, no locking; O(1) per segment except tcp_window_scale() (walks at most
// 40 bytes of options).
#include <cstdint>
#include <span>

namespace dc::inspect {

// What one sender has shown of its half of the connection (one per direction).
struct TcpSender {
  uint32_t isn = 0;        // its SYN's sequence number (valid when syn_seen)
  uint32_t snd_end = 0;    // highest seq + length (+SYN, +FIN) it sent: the receiver's RCV.NXT
  uint32_t ack = 0;        // its latest acknowledgment number (valid when acked)
  uint32_t window = 0;     // its latest advertised receive window, scaled (RFC 7323 §2.3)
  uint32_t urg_seq = 0;    // sequence number of the urgent byte it designated (urg_pending)
  uint32_t edge = 0;       // right edge of the receive window it advertised: ack + scaled window
  uint32_t ts_recent = 0;  // its newest TSval its receiver keeps as TS.Recent (RFC 7323 §4.3)
  uint8_t wscale = 0;      // window scale shift it offered in its SYN (RFC 7323 §2.2)
  // One bit each (the flow slot holds two senders: 32 bytes each, both in one cache line).
  bool seen : 1 = false;      // snd_end is known
  bool syn_seen : 1 = false;  // its SYN passed
  bool acked : 1 = false;     // it sent a segment with ACK
  bool wscale_sent : 1 = false;
  bool ts_sent : 1 = false;          // its SYN carried the Timestamps option (RFC 7323 §3.2)
  bool ts_recent_valid : 1 = false;  // ts_recent holds a TSval
  bool edge_valid : 1 = false;       // edge holds a window it advertised after its SYN was seen
  bool urg_pending : 1 = false;      // urg_seq designates a byte the receiver has not read yet
};

struct TcpNormState {
  TcpSender side[2];  // indexed by the flow's Direction of the sender (0: opener)
};
static_assert(sizeof(TcpSender) == 32 && sizeof(TcpNormState) == 64);

// RFC 5961 §3.2 for a RST from side `from`, against what the other side would accept.
enum class RstCheck : uint8_t {
  kAccept,       // exactly at the receiver's next expected seq (or answers its SYN): resets
  kNotExact,     // in the receiver's window but not exact: it sends a challenge ACK, ignores it
  kOutOfWindow,  // outside the receiver's window: silently ignored
};
const char* rst_check_name(RstCheck c) noexcept;  // "accept", "not_exact", "out_of_window"

// One TCP segment as the normaliser needs it (host byte order).
struct TcpSegment {
  uint32_t seq = 0, ack = 0;
  uint16_t window = 0;  // raw window field
  uint16_t urgent = 0;  // raw urgent pointer field
  uint8_t flags = 0;    // tcpflag::k*
  uint32_t payload_len = 0;
  std::span<const uint8_t> options;  // TCP options (header bytes 20..data offset)
};

// RFC 5961 §3.2 / RFC 9293 §3.10.7: is the RST of `s`, sent by side `from`, acceptable?
// A RST from a side that has sent nothing yet answers the other side's segment: acceptable when
// it acknowledges exactly what that side sent (RFC 9293 §3.10.7.3, SYN-SENT). A RST on a flow
// of which nothing is known is accepted (there is no state to protect).
RstCheck check_rst(const TcpNormState& st, unsigned from, const TcpSegment& s) noexcept;

// Records a segment that is forwarded (not one that was refused): the sender's next sequence
// number, acknowledgment and window. Call after check_rst() and note_urgent().
void note_segment(TcpNormState& st, unsigned from, const TcpSegment& s) noexcept;

// Would the receiver accept the data of a non-RST, non-SYN segment (checked before the
// reorderer sees it)?
enum class SegmentCheck : uint8_t {
  kAccept,
  kPawsStale,    // RFC 7323 §5.3 R1: TSval older than the receiver's TS.Recent: discarded
  kBeyondWindow  // RFC 9293 §3.10.7.4: every byte at or past the advertised right edge: discarded
};
const char* segment_check_name(SegmentCheck c) noexcept;  // "accept", "paws_stale", ...

// Checks a segment that carries data (payload or FIN) from side `from`, as the receiver would,
// and only where both SYNs were seen (the options are known, the windows scaled correctly):
//  - PAWS (RFC 7323 §5.3, as Linux tcp_paws_discard()): both SYNs offered timestamps, the
//    segment's TSval is more than 1 older than the TS.Recent the receiver holds (serial
//    arithmetic). A segment without a Timestamps option passes (Linux accepts it, RFC 7323
//    §3.2's SHOULD drop is not followed by it).
//  - window (RFC 9293 §3.10.7.4): it starts at or past the right edge of the largest window the
//    receiver advertised (ack + window << its scale), and not at the receiver's acknowledged
//    next seq (a zero-window probe, which the receiver answers: RFC 9293 §3.8.6.1).
// Pure ACKs, SYNs and RSTs are always kAccept (RSTs are check_rst()'s; PAWS exempts them).
SegmentCheck check_segment(const TcpNormState& st, unsigned from, const TcpSegment& s) noexcept;

// What an URG segment did to the urgent state of its sender.
enum class UrgentMark : uint8_t {
  kNone,       // no URG flag, or a pointer the receiver ignores (already read, not newer)
  kMarked,     // a new urgent byte is designated: the receivers' views of the stream differ
  kSuperseded  // as kMarked, and an older urgent byte not yet read goes back inline (Linux)
};

// RFC 6093 §2-§3 / Linux tcp_check_urg(): the urgent pointer points one past the urgent byte
// (the BSD interpretation every major stack uses, RFC 6093 §2), so the urgent byte is
// seq + urgent - 1 (seq itself when the pointer is 0, as Linux computes it). `rcv_next` is the
// receiver's next expected seq (the reorderer's next byte): an urgent byte at or after it is
// pending (urgent_view() takes it out); one before it is reported only when it lies inside this
// segment (a retransmission: a receiver that lost the first copy takes it out). A pointer that
// is not newer than a pending one is ignored, as Linux does.
UrgentMark note_urgent(TcpNormState& st, unsigned from, const TcpSegment& s,
                       uint32_t rcv_next) noexcept;

// The bytes a Linux receiver reads from a delivered piece of stream that starts at sequence
// number `seq`: at most two parts around the pending urgent byte, which is out of band. When
// the piece reaches past the urgent byte, the byte is consumed (urg_pending is cleared).
struct UrgentView {
  std::span<const uint8_t> part[2];
  bool removed = false;  // the urgent byte was inside the piece and is not in the parts
};
UrgentView urgent_view(TcpSender& sender, uint32_t seq, std::span<const uint8_t> bytes) noexcept;

// The Timestamps option's TSval (RFC 7323 §3.2), or false when absent or malformed.
bool tcp_timestamp(std::span<const uint8_t> options, uint32_t& tsval) noexcept;

// The Window Scale option's shift in a SYN's options (RFC 7323 §2.2-2.3; capped at 14), or -1
// when absent or malformed.
int tcp_window_scale(std::span<const uint8_t> options) noexcept;

}  // namespace dc::inspect
