// Ethernet frame check sequences: stripped (after checking) on ports whose frames carry them,
// named as such when they show up as a trailer on ports that do not expect them. Worker thread.
#include <rte_mbuf.h>
#include <zlib.h>

#include "dataplane/pipeline.hpp"

namespace dc::dataplane {

namespace {

constexpr std::size_t kFcsLen = 4;
constexpr std::size_t kMinFrameWithFcs = 14 + kFcsLen;

// IEEE 802.3 §3.2.9: the FCS is the CRC-32 of the frame from the destination address to the
// end of the data, sent least significant byte first. zlib's crc32() is that CRC.
bool ends_with_fcs(const uint8_t* p, std::size_t n) noexcept {
  if (n < kMinFrameWithFcs) return false;
  const std::size_t body = n - kFcsLen;
  const uLong crc = crc32(0L, p, static_cast<uInt>(body));
  const uint32_t got = uint32_t{p[body]} | uint32_t{p[body + 1]} << 8 |
                       uint32_t{p[body + 2]} << 16 | uint32_t{p[body + 3]} << 24;
  return static_cast<uint32_t>(crc) == got;
}

}  // namespace

DropReason Pipeline::trailer_reason(std::span<const uint8_t> frame) noexcept {
  return ends_with_fcs(frame.data(), frame.size()) ? DropReason::kEthernetFcs
                                                   : DropReason::kEthernetTrailer;
}

bool Pipeline::strip_fcs(uint16_t in_port, rte_mbuf* m, BurstOutput& out) noexcept {
  if (in_port > kMaxPorts || !settings_.port_fcs_strip[in_port]) return true;
  // Our mempools hold a whole frame per mbuf (see decode_frame): the FCS is in the first one.
  if (m->nb_segs != 1 || !ends_with_fcs(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len)) {
    drop_pkt(m, DropReason::kBadFcs, out);
    return false;
  }
  rte_pktmbuf_trim(m, kFcsLen);
  return true;
}

}  // namespace dc::dataplane
