#pragma once
// Minimal frame builders for dataplane tests (Ethernet + IPv4 + TCP/UDP, correct checksums).
#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dc::test {

inline uint32_t ip4(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return ntohl(a.s_addr);
}

inline uint16_t csum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (n & 1) sum += p[n - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

inline void put16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = x >> 8;
  v[at + 1] = x & 0xff;
}
inline void put32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  put16(v, at, x >> 16);
  put16(v, at + 2, x & 0xffff);
}

// Ethernet + IPv4 + TCP (flags per RFC 9293) carrying `payload`.
inline std::vector<uint8_t> tcp4(const char* src, uint16_t sport, const char* dst, uint16_t dport,
                                 uint32_t seq, uint32_t ack, uint8_t flags,
                                 std::string_view payload = {}, uint8_t proto = 6) {
  const bool udp = proto == 17;
  const size_t l4 = udp ? 8 : 20;
  std::vector<uint8_t> f(14 + 20 + l4 + payload.size(), 0);
  f[0] = 0x02;
  f[5] = 0x02;
  f[6] = 0x02;
  f[11] = 0x01;
  put16(f, 12, 0x0800);
  f[14] = 0x45;
  put16(f, 16, static_cast<uint16_t>(20 + l4 + payload.size()));
  put16(f, 18, 1);
  f[22] = 64;
  f[23] = proto;
  put32(f, 26, ip4(src));
  put32(f, 30, ip4(dst));
  put16(f, 24, csum(&f[14], 20));
  size_t t = 34;
  put16(f, t, sport);
  put16(f, t + 2, dport);
  if (udp) {
    put16(f, t + 4, static_cast<uint16_t>(8 + payload.size()));
  } else {
    put32(f, t + 4, seq);
    put32(f, t + 8, ack);
    f[t + 12] = 5 << 4;
    f[t + 13] = flags;
    put16(f, t + 14, 65535);
  }
  for (size_t i = 0; i < payload.size(); ++i) f[t + l4 + i] = static_cast<uint8_t>(payload[i]);
  // Pseudo-header checksum.
  uint32_t sum = 0;
  for (size_t i = 26; i < 34; i += 2) sum += (f[i] << 8) | f[i + 1];
  sum += proto + l4 + payload.size();
  put16(f, t + (udp ? 6 : 16), csum(&f[t], l4 + payload.size(), sum));
  return f;
}

// A TLS 1.3-shaped ClientHello record (RFC 8446 §4.1.2) with an optional server_name extension
// (RFC 6066 §3).
inline std::string client_hello(std::string_view sni) {
  auto u16 = [](std::string& s, size_t v) {
    s.push_back(static_cast<char>(v >> 8));
    s.push_back(static_cast<char>(v & 0xff));
  };
  std::string ext;
  if (!sni.empty()) {
    u16(ext, 0);  // server_name
    u16(ext, sni.size() + 5);
    u16(ext, sni.size() + 3);
    ext.push_back(0);  // host_name
    u16(ext, sni.size());
    ext += sni;
  }
  u16(ext, 43);  // supported_versions: TLS 1.3
  u16(ext, 3);
  ext += std::string("\x02\x03\x04", 3);
  std::string body = std::string("\x03\x03", 2) + std::string(32, '\x11') + std::string(1, '\0');
  u16(body, 2);
  body += std::string("\x13\x01", 2);
  body += std::string("\x01\x00", 2);
  u16(body, ext.size());
  body += ext;
  std::string hs(1, '\x01');
  hs.push_back(0);
  u16(hs, body.size());
  hs += body;
  std::string rec("\x16\x03\x01", 3);
  u16(rec, hs.size());
  return rec + hs;
}

// The IPv4 fragments (IP ID `id`) of `whole` (Ethernet + IPv4 without options), cut at the given
// IP payload offsets (multiples of 8, ascending), in order.
inline std::vector<std::vector<uint8_t>> fragments4(const std::vector<uint8_t>& whole,
                                                    std::vector<uint32_t> cuts, uint16_t id = 77) {
  const std::vector<uint8_t> ipdata(whole.begin() + 34, whole.end());
  cuts.insert(cuts.begin(), 0);
  cuts.push_back(static_cast<uint32_t>(ipdata.size()));
  std::vector<std::vector<uint8_t>> out;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    std::vector<uint8_t> f(whole.begin(), whole.begin() + 34);
    f.insert(f.end(), ipdata.begin() + cuts[i], ipdata.begin() + cuts[i + 1]);
    const bool last = i + 2 == cuts.size();
    put16(f, 16, static_cast<uint16_t>(20 + cuts[i + 1] - cuts[i]));
    put16(f, 18, id);
    put16(f, 20, static_cast<uint16_t>((last ? 0 : 0x2000) | cuts[i] / 8));
    put16(f, 24, 0);
    put16(f, 24, csum(&f[14], 20));
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace dc::test
