// TCP reset building (RFC 9293 §3.10.7.1/§3.5.2, RFC 5961 §3.2) and the drop of a blocked
// flow's packet that sends them.
#include "dataplane/tcp_reset.hpp"

#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/pipeline.hpp"

namespace dc::dataplane {
namespace {

using namespace inspect::tcpflag;

void put16(uint8_t* q, uint16_t v) noexcept {
  q[0] = static_cast<uint8_t>(v >> 8);
  q[1] = static_cast<uint8_t>(v);
}

void put32(uint8_t* q, uint32_t v) noexcept {
  put16(q, static_cast<uint16_t>(v >> 16));
  put16(q + 2, static_cast<uint16_t>(v));
}

// One's-complement sum of 16-bit big-endian words (RFC 1071), not yet folded.
uint32_t sum16(const uint8_t* q, size_t n, uint32_t sum = 0) noexcept {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (q[i] << 8) | q[i + 1];
  return sum;
}

uint16_t fold(uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Writes the IP header (20 bytes IPv4 with its checksum, or 40 bytes IPv6) of a 20-byte TCP
// segment; returns the pseudo-header's address sum for the TCP checksum.
uint32_t put_ip_header(uint8_t* ip, bool v4, const inspect::IpAddr& src,
                       const inspect::IpAddr& dst) noexcept {
  if (v4) {
    ip[0] = 0x45;
    put16(ip + 2, 40);
    ip[6] = 0x40;  // DF
    ip[8] = 64;
    ip[9] = inspect::kProtoTcp;
    std::memcpy(ip + 12, src.bytes.data() + 12, 4);
    std::memcpy(ip + 16, dst.bytes.data() + 12, 4);
    put16(ip + 10, fold(sum16(ip, 20)));
    return sum16(ip + 12, 8);
  }
  ip[0] = 0x60;
  put16(ip + 4, 20);
  ip[6] = inspect::kProtoTcp;
  ip[7] = 64;
  std::memcpy(ip + 8, src.bytes.data(), 16);
  std::memcpy(ip + 24, dst.bytes.data(), 16);
  return sum16(ip + 8, 32);
}

// Ports, sequence numbers and flags of the RST (RFC 9293 §3.10.7.1):
//  - to the sender: seq = SEG.ACK (its RCV.NXT), or for a segment without ACK seq 0 with
//    ACK = SEG.SEQ + SEG.LEN;
//  - to the receiver: seq = SEG.SEQ, exactly the receiver's RCV.NXT since this segment was
//    dropped (RFC 5961 §3.2 accepts it).
void put_tcp_header(uint8_t* tcp, const inspect::Decoded& d, bool to_sender) noexcept {
  put16(tcp, to_sender ? d.dport : d.sport);
  put16(tcp + 2, to_sender ? d.sport : d.dport);
  uint8_t flags = kRst;
  if (to_sender) {
    if (d.tcp_flags & kAck) {
      put32(tcp + 4, d.tcp_ack);
    } else {
      uint32_t seg_len =
          d.payload_len + ((d.tcp_flags & kSyn) ? 1 : 0) + ((d.tcp_flags & kFin) ? 1 : 0);
      put32(tcp + 8, d.tcp_seq + seg_len);
      flags |= kAck;
    }
  } else {
    put32(tcp + 4, d.tcp_seq);
    if (d.tcp_flags & kAck) {
      put32(tcp + 8, d.tcp_ack);
      flags |= kAck;
    }
  }
  tcp[12] = 5 << 4;
  tcp[13] = flags;
}

}  // namespace

// The layer-2 header (with any VLAN tags) is copied from the segment, MACs swapped for the sender.
rte_mbuf* make_tcp_reset(rte_mempool* pool, const uint8_t* frame, const inspect::Decoded& d,
                         bool to_sender) noexcept {
  rte_mbuf* r = rte_pktmbuf_alloc(pool);
  if (r == nullptr) return nullptr;
  const bool v4 = d.ip_version == 4;
  const uint16_t l2 = d.l3_offset, l3 = v4 ? 20 : 40;
  const uint16_t len = static_cast<uint16_t>(l2 + l3 + 20);
  uint8_t* p = rte_pktmbuf_mtod(r, uint8_t*);
  std::memcpy(p, frame, l2);
  if (to_sender) {
    uint8_t mac[6];
    std::memcpy(mac, p, 6);
    std::memcpy(p, p + 6, 6);
    std::memcpy(p + 6, mac, 6);
  }
  uint8_t* ip = p + l2;
  std::memset(ip, 0, l3 + 20);
  uint32_t sum = put_ip_header(ip, v4, to_sender ? d.dst : d.src, to_sender ? d.src : d.dst);
  uint8_t* tcp = ip + l3;
  put_tcp_header(tcp, d, to_sender);
  put16(tcp + 16, fold(sum16(tcp, 20, sum + inspect::kProtoTcp + 20)));
  r->data_len = len;
  r->pkt_len = len;
  return r;
}

void Pipeline::drop_blocked(Flow& f, const inspect::Decoded& d, rte_mbuf* m,
                            BurstOutput& out) noexcept {
  ++f.cold().dropped_packets;
  if (settings_.reset_on_block && settings_.tx_pool != nullptr && !f.reset_sent &&
      d.proto == inspect::kProtoTcp && !(d.tcp_flags & kRst) && out.n_back < 256) {
    f.reset_sent = true;
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    if (rte_mbuf* r = make_tcp_reset(settings_.tx_pool, frame, d, true)) {
      out.back[out.n_back++] = r;
      ++counters_.resets_sent;
    }
    // A SYN dropped here never reached the receiver: there is nothing to reset on that side.
    const bool bare_syn = (d.tcp_flags & kSyn) && !(d.tcp_flags & kAck);
    if (!bare_syn) {
      if (rte_mbuf* r = make_tcp_reset(settings_.tx_pool, frame, d, false)) {
        out.fwd[out.n_fwd++] = r;
        ++counters_.resets_sent;
      }
    }
  }
  drop_pkt(m, f.block_reason, out);
}

}  // namespace dc::dataplane
