// The TCP normaliser's place in the packet path (in front of the reorderer): RSTs the receiver
// would ignore are dropped (RFC 5961 §3.2), an accepted RST leaves without its data (RFC 9293
// §3.5.3), data the receiver would discard (PAWS, beyond its window) is dropped, urgent marks
// and mid-stream pickups become policy conditions. Worker thread.
#include <rte_mbuf.h>

#include "dataplane/pipeline.hpp"

namespace dc::dataplane {

namespace pflag = policy::flag;

namespace {

uint16_t load16(const uint8_t* p) noexcept { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

void store16(uint8_t* p, uint16_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// RFC 1071 one's-complement sum of big-endian 16-bit words (an odd last byte is padded).
uint32_t sum16(const uint8_t* p, std::size_t n, uint32_t sum) noexcept {
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += load16(p + i);
  if (n & 1) sum += static_cast<uint32_t>(p[n - 1]) << 8;
  return sum;
}

uint16_t fold(uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The TCP pseudo-header's sum (RFC 9293 §3.1 for IPv4, RFC 8200 §8.1 for IPv6).
uint32_t pseudo_sum(const inspect::Decoded& d, uint32_t tcp_len) noexcept {
  const bool v4 = d.ip_version == 4;
  const std::size_t from = v4 ? 12 : 0, n = v4 ? 4 : 16;
  uint32_t sum = sum16(d.src.bytes.data() + from, n, 0);
  sum = sum16(d.dst.bytes.data() + from, n, sum);
  return sum + (tcp_len >> 16) + (tcp_len & 0xffff) + inspect::kProtoTcp;
}

// Removes an accepted RST's data from the packet: no receiver delivers it to an application
// (RFC 9293 §3.5.3), but it would cross the border uninspected. The checksum is verified first:
// a RST the receiver would discard must not be made valid by our rewrite. Rewrites the IP length
// (and IPv4 header checksum) and the TCP checksum; `d` then describes the trimmed packet.
bool trim_rst_data(inspect::Decoded& d, rte_mbuf* m) noexcept {
  uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*);
  uint8_t* tcp = p + d.l4_offset;
  const uint32_t hlen = d.payload_offset - d.l4_offset;
  const uint32_t seg_len = hlen + d.payload_len;
  if (fold(sum16(tcp, seg_len, pseudo_sum(d, seg_len))) != 0xffff) return false;
  uint8_t* ip = p + d.l3_offset;
  if (d.ip_version == 4) {
    store16(ip + 2, static_cast<uint16_t>(load16(ip + 2) - d.payload_len));
    store16(ip + 10, 0);
    const uint32_t ihl = (ip[0] & 0x0fu) * 4;
    store16(ip + 10, static_cast<uint16_t>(~fold(sum16(ip, ihl, 0))));
  } else {
    store16(ip + 4, static_cast<uint16_t>(load16(ip + 4) - d.payload_len));
  }
  store16(tcp + 16, 0);
  store16(tcp + 16, static_cast<uint16_t>(~fold(sum16(tcp, hlen, pseudo_sum(d, hlen)))));
  rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - d.payload_offset));
  d.l3_len = static_cast<uint16_t>(d.l3_len - d.payload_len);
  d.payload_len = 0;
  d.trailer_len = 0;
  return true;
}

inspect::TcpSegment segment_of(const inspect::Decoded& d, const rte_mbuf* m) noexcept {
  inspect::TcpSegment s;
  s.seq = d.tcp_seq;
  s.ack = d.tcp_ack;
  s.window = d.tcp_window;
  s.urgent = d.tcp_urgent;
  s.flags = d.tcp_flags;
  s.payload_len = d.payload_len;
  const uint8_t* tcp = rte_pktmbuf_mtod(m, const uint8_t*) + d.l4_offset;
  s.options = {tcp + 20, static_cast<std::size_t>(d.payload_offset - d.l4_offset - 20)};
  return s;
}

}  // namespace

// A segment the receiver would not act on: counted in the flow (attempted, not crossed) and
// dropped; the flow's state is untouched, so neither the reorderer nor the scanner sees it.
void Pipeline::refuse_unaccepted(Flow& f, unsigned di, rte_mbuf* m, DropReason r,
                                 BurstOutput& out) noexcept {
  ++f.dir[di].packets;
  f.dir[di].bytes += rte_pktmbuf_pkt_len(m);
  ++f.cold().dropped_packets;
  drop_pkt(m, r, out);
}

bool Pipeline::normalise_tcp(Flow& f, Direction dir, inspect::Decoded& d, rte_mbuf* m,
                             BurstOutput& out) noexcept {
  using namespace inspect::tcpflag;
  const unsigned di = static_cast<unsigned>(dir);
  if (f.midstream && !(f.flags & pflag::kMidstream)) {
    f.flags |= pflag::kMidstream;  // decided with the flow's admission, which follows
    ++counters_.tcp_midstream;
  }
  const inspect::TcpSegment s = segment_of(d, m);
  if (d.tcp_flags & kRst) {
    const inspect::RstCheck c = inspect::check_rst(f.norm, di, s);
    DropReason r = DropReason::kNone;
    if (c != inspect::RstCheck::kAccept) {
      ++counters_.tcp_rst_ignored;
      r = c == inspect::RstCheck::kNotExact ? DropReason::kTcpRstNotExact
                                            : DropReason::kTcpRstOutOfWindow;
    } else if (d.payload_len > 0) {
      if (trim_rst_data(d, m))
        ++counters_.tcp_rst_data_trimmed;
      else
        r = DropReason::kTcpRstBadChecksum;
    }
    if (r != DropReason::kNone) {
      refuse_unaccepted(f, di, m, r, out);
      return false;
    }
  } else if (const inspect::SegmentCheck c = inspect::check_segment(f.norm, di, s);
             c != inspect::SegmentCheck::kAccept) {
    // RFC 7323 §5.3 / RFC 9293 §3.10.7.4: the receiver discards it (and ACKs); the sender's
    // retransmission, if any, is what it reads.
    const bool paws = c == inspect::SegmentCheck::kPawsStale;
    ++(paws ? counters_.tcp_paws_dropped : counters_.tcp_beyond_window);
    refuse_unaccepted(f, di, m, paws ? DropReason::kTcpPaws : DropReason::kTcpBeyondWindow, out);
    return false;
  } else if (d.tcp_flags & kUrg) {
    // The receiver's next expected seq: the reorderer's when it follows this direction.
    uint32_t rcv_next = f.norm.side[di].seen ? f.norm.side[di].snd_end : s.seq;
    if (f.inspect_ctx != kNoInspectCtx) {
      const inspect::DirState& o = pool_.at(f.inspect_ctx).order[di];
      if (o.started) rcv_next = o.base_seq + static_cast<uint32_t>(o.next);
    }
    if (inspect::note_urgent(f.norm, di, s, rcv_next) != inspect::UrgentMark::kNone) {
      ++counters_.tcp_urgent;
      // Before admission nothing says whether the direction is inspected: assume it is.
      const bool inspected =
          f.verdict == FlowVerdict::kPending ||
          (dir == Direction::kForward ? f.cold().adm.inspect_forward || f.cold().adm.sni_pending
                                      : f.cold().adm.inspect_reverse);
      if (inspected) f.flags |= pflag::kUrgentData;
    }
  }
  inspect::note_segment(f.norm, di, s);
  return true;
}

}  // namespace dc::dataplane
