#include "audit/community_id.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <vector>

#include "audit/crypto.hpp"

namespace dc::audit {
namespace {

constexpr std::uint8_t kIcmp = 1;
constexpr std::uint8_t kTcp = 6;
constexpr std::uint8_t kUdp = 17;
constexpr std::uint8_t kIcmp6 = 58;
constexpr std::uint8_t kSctp = 132;

// Request/reply type pairs from the spec (ICMPv4: echo, router, timestamp, info, address mask).
int icmp4_counterpart(std::uint16_t type) {
  switch (type) {
    case 8:
      return 0;
    case 0:
      return 8;
    case 13:
      return 14;
    case 14:
      return 13;
    case 15:
      return 16;
    case 16:
      return 15;
    case 10:
      return 9;
    case 9:
      return 10;
    case 17:
      return 18;
    case 18:
      return 17;
    default:
      return -1;
  }
}

// ICMPv6: echo, MLD query/report, router/neighbor solicitation/advertisement, node information,
// home agent address discovery.
int icmp6_counterpart(std::uint16_t type) {
  switch (type) {
    case 128:
      return 129;
    case 129:
      return 128;
    case 130:
      return 131;
    case 131:
      return 130;
    case 133:
      return 134;
    case 134:
      return 133;
    case 135:
      return 136;
    case 136:
      return 135;
    case 139:
      return 140;
    case 140:
      return 139;
    case 144:
      return 145;
    case 145:
      return 144;
    default:
      return -1;
  }
}

Result<std::vector<std::uint8_t>> parse_ip(std::string_view text) {
  std::string s(text);
  std::vector<std::uint8_t> out(16);
  if (inet_pton(AF_INET, s.c_str(), out.data()) == 1) {
    out.resize(4);
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) return out;
  return make_error("community_id: not an IP address: " + s);
}

}  // namespace

Result<std::string> community_id_v1(std::span<const std::uint8_t> src_addr,
                                    std::span<const std::uint8_t> dst_addr, std::uint16_t src_port,
                                    std::uint16_t dst_port, std::uint8_t proto,
                                    std::uint16_t seed) {
  if (src_addr.size() != dst_addr.size() || (src_addr.size() != 4 && src_addr.size() != 16))
    return make_error("community_id: addresses must both be IPv4 or both IPv6");

  bool has_ports =
      proto == kTcp || proto == kUdp || proto == kSctp || proto == kIcmp || proto == kIcmp6;
  bool one_way = false;
  if (proto == kIcmp || proto == kIcmp6) {
    int peer = proto == kIcmp ? icmp4_counterpart(src_port) : icmp6_counterpart(src_port);
    if (peer >= 0)
      dst_port = static_cast<std::uint16_t>(peer);
    else
      one_way = true;  // ports stay (type, code)
  }

  auto a = src_addr, b = dst_addr;
  std::uint16_t pa = src_port, pb = dst_port;
  bool addr_less = std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  bool addr_equal = std::equal(a.begin(), a.end(), b.begin());
  bool ordered = addr_less || (addr_equal && (!has_ports || pa <= pb));
  if (!one_way && !ordered) {
    std::swap(a, b);
    std::swap(pa, pb);
  }

  std::vector<std::uint8_t> buf;
  buf.reserve(2 + 32 + 2 + 4);
  buf.push_back(static_cast<std::uint8_t>(seed >> 8));
  buf.push_back(static_cast<std::uint8_t>(seed));
  buf.insert(buf.end(), a.begin(), a.end());
  buf.insert(buf.end(), b.begin(), b.end());
  buf.push_back(proto);
  buf.push_back(0);  // padding
  if (has_ports) {
    for (std::uint16_t p : {pa, pb}) {
      buf.push_back(static_cast<std::uint8_t>(p >> 8));
      buf.push_back(static_cast<std::uint8_t>(p));
    }
  }
  std::array<std::uint8_t, 20> digest{};
  unsigned int len = 0;
  EVP_Digest(buf.data(), buf.size(), digest.data(), &len, EVP_sha1(), nullptr);
  return "1:" + base64_encode(digest);
}

Result<std::string> community_id_v1(std::string_view src_ip, std::string_view dst_ip,
                                    std::uint16_t src_port, std::uint16_t dst_port,
                                    std::uint8_t proto, std::uint16_t seed) {
  auto s = parse_ip(src_ip);
  if (!s) return s.error();
  auto d = parse_ip(dst_ip);
  if (!d) return d.error();
  return community_id_v1(*s, *d, src_port, dst_port, proto, seed);
}

}  // namespace dc::audit
