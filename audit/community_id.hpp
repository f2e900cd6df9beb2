#pragma once
// Community ID v1 flow hash (Corelight community-id-spec), so that our flow records can be joined
// with Suricata/Zeek/Arkime logs of the same connection. Re-entrant; allocates the result string.
//
//   hash = SHA-1( seed:u16be | addr_lo | addr_hi | proto:u8 | 0:u8 | port_lo:u16be | port_hi:u16be
//   ) id   = "1:" + base64(hash)
//
// The endpoints are ordered so that both directions give the same id: (addr, port) of the
// "smaller" endpoint first, comparing addresses bytewise and then ports. For ICMP/ICMPv6 the ports
// are (type, code) mapped to (type, counterpart type) for request/reply pairs; a type without a
// counterpart is "one-way" and is never reordered. Protocols other than TCP, UDP, SCTP, ICMP and
// ICMPv6 hash without the ports. Checked against the spec's published baseline vectors
// (tests/unit/audit/helpers_test.cpp).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace dc::audit {

// Addresses in network byte order: both 4 bytes (IPv4) or both 16 bytes (IPv6).
// For ICMP/ICMPv6 pass the type as src_port and the code as dst_port.
Result<std::string> community_id_v1(std::span<const std::uint8_t> src_addr,
                                    std::span<const std::uint8_t> dst_addr, std::uint16_t src_port,
                                    std::uint16_t dst_port, std::uint8_t proto,
                                    std::uint16_t seed = 0);

// Same, with textual addresses ("192.0.2.1", "2001:db8::1").
Result<std::string> community_id_v1(std::string_view src_ip, std::string_view dst_ip,
                                    std::uint16_t src_port, std::uint16_t dst_port,
                                    std::uint8_t proto, std::uint16_t seed = 0);

}  // namespace dc::audit
