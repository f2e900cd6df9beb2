#pragma once
// Link-layer pass-through: ARP and IPv6 neighbour discovery (RS, RA, NS, NA, Redirect: ICMPv6
// types 133-137, RFC 4861) cross a port pair that enables them (appliance.toml pairs option
// pass_arp / pass_nd) without zones, flows, inspection or audit records; counted per kind.
// classify_l2() is pure (no DPDK) so it can be unit-tested; worker thread, no allocation.
#include <cstdint>
#include <span>

#include "inspect/packet/decode.hpp"

namespace dc::dataplane {

enum class L2Kind : uint8_t { kNone, kArp, kNd };

// What `frame` (decoded as `d` with status `st`) is, if it is a well-formed ARP or ND message:
// - ARP (RFC 826): EtherType 0x0806, Ethernet/IPv4 ARP (htype 1, ptype 0x0800, 6/4-byte
//   addresses), request or reply, nothing after the 28-byte message but minimum-frame padding.
// - ND: IPv6, not a fragment (RFC 6980), ICMPv6 type 133-137 with code 0 and hop limit 255 (RFC
//   4861 §6.1/§7.1/§8.1: a receiver discards anything else), its options well framed (§4.6: no
//   zero-length option, none running past the message).
// Anything else (other ICMPv6, ARP with odd sizes or a trailer) is kNone: the normal path decides.
L2Kind classify_l2(inspect::DecodeStatus st, const inspect::Decoded& d,
                   std::span<const uint8_t> frame) noexcept;

}  // namespace dc::dataplane
