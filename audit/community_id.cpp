// Community ID v1 flow hashes (published spec and test vectors), as Suricata and Zeek write them.
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

// Request/reply type pairs from the spec. ICMPv4: echo, timestamp, info, router, address mask.
// ICMPv6: echo, MLD query/report, router/neighbor solicitation/advertisement, node information,
// home agent address discovery. Each pair works both ways.
struct TypePair {
  std::uint16_t a, b;
};
constexpr TypePair kIcmp4Pairs[] = {{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18}};
constexpr TypePair kIcmp6Pairs[] = {{128, 129}, {130, 131}, {133, 134},
                                    {135, 136}, {139, 140}, {144, 145}};

template <std::size_t N>
int counterpart(const TypePair (&pairs)[N], std::uint16_t type) {
  for (const auto& p : pairs) {
    if (p.a == type) return p.b;
    if (p.b == type) return p.a;
  }
  return -1;
}
int icmp4_counterpart(std::uint16_t type) { return counterpart(kIcmp4Pairs, type); }
int icmp6_counterpart(std::uint16_t type) { return counterpart(kIcmp6Pairs, type); }

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
