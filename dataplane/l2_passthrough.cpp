// Link-layer pass-through of ARP and IPv6 neighbour discovery (see l2_passthrough.hpp).
#include "dataplane/l2_passthrough.hpp"

#include <rte_mbuf.h>

#include "dataplane/pipeline.hpp"

namespace dc::dataplane {
namespace {

constexpr uint16_t kEtherArp = 0x0806;
constexpr std::size_t kArpLen = 28;  // Ethernet/IPv4 ARP message (RFC 826)
constexpr std::size_t kMinFrame = 60;

bool is_arp(const inspect::Decoded& d, std::span<const uint8_t> frame) noexcept {
  const std::size_t off = d.l3_offset;
  if (d.ethertype != kEtherArp || frame.size() < off + kArpLen) return false;
  const uint8_t* a = frame.data() + off;
  const uint16_t htype = static_cast<uint16_t>(a[0] << 8 | a[1]);
  const uint16_t ptype = static_cast<uint16_t>(a[2] << 8 | a[3]);
  const uint16_t op = static_cast<uint16_t>(a[6] << 8 | a[7]);
  if (htype != 1 || ptype != 0x0800 || a[4] != 6 || a[5] != 4 || (op != 1 && op != 2)) return false;
  // Nothing rides behind the message but the padding of a minimum-size frame (per VLAN tag,
  // as for IP frames): the frame carries no bytes the appliance did not look at.
  const std::size_t end = off + kArpLen;
  return frame.size() <= end || frame.size() <= kMinFrame + 4u * d.vlan_count;
}

// RFC 4861 §4.6: options are (type, length in 8-byte units) TLVs; length 0 is invalid.
bool nd_options_framed(const uint8_t* p, std::size_t n) noexcept {
  while (n > 0) {
    if (n < 2 || p[1] == 0 || std::size_t{p[1]} * 8 > n) return false;
    const std::size_t len = std::size_t{p[1]} * 8;
    p += len;
    n -= len;
  }
  return true;
}

bool is_nd(const inspect::Decoded& d, std::span<const uint8_t> frame) noexcept {
  if (d.ip_version != 6 || d.proto != inspect::kProtoIcmpv6 || d.is_fragment) return false;
  if (d.icmp_type < 133 || d.icmp_type > 137 || d.icmp_code != 0 || d.ttl != 255) return false;
  // Fixed part after the 4-byte ICMPv6 header (+4 decoded as "rest of header"): RS 4, RA 12,
  // NS 20, NA 20, Redirect 36 bytes; the options follow.
  static constexpr std::size_t kFixed[] = {4, 12, 20, 20, 36};
  const std::size_t fixed = kFixed[d.icmp_type - 133] - 4;
  if (d.payload_len < fixed || d.payload_offset + d.payload_len > frame.size()) return false;
  return nd_options_framed(frame.data() + d.payload_offset + fixed, d.payload_len - fixed);
}

}  // namespace

L2Kind classify_l2(inspect::DecodeStatus st, const inspect::Decoded& d,
                   std::span<const uint8_t> frame) noexcept {
  if (st == inspect::DecodeStatus::kUnknownEtherType)
    return is_arp(d, frame) ? L2Kind::kArp : L2Kind::kNone;
  if (st == inspect::DecodeStatus::kOk && d.trailer_len == 0 && is_nd(d, frame)) return L2Kind::kNd;
  return L2Kind::kNone;
}

// Before zones and flows: an ARP / ND frame on a port whose pair passes it is forwarded as is.
bool Pipeline::pass_l2(inspect::DecodeStatus st, const inspect::Decoded& d, rte_mbuf* m,
                       BurstOutput& out) noexcept {
  const uint16_t p = cur_port_ <= kMaxPorts ? cur_port_ : kMaxPorts;
  if (!settings_.port_pass_arp[p] && !settings_.port_pass_nd[p]) return false;
  std::span<const uint8_t> frame(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
  switch (classify_l2(st, d, frame)) {
    case L2Kind::kArp:
      if (!settings_.port_pass_arp[p]) return false;
      ++counters_.l2_pass_arp;
      break;
    case L2Kind::kNd:
      if (!settings_.port_pass_nd[p]) return false;
      ++counters_.l2_pass_nd;
      break;
    default:
      return false;
  }
  forward_pkt(m, out);
  return true;
}

}  // namespace dc::dataplane
