// Ethernet/IPv4/TCP pcap writer for recorded TLS connections (libpcap pcap_dump).
#include "tests/support/tls_pcap.hpp"

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

namespace dc::test {
namespace {

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kPsh = 0x08, kFin = 0x01;

uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

uint32_t add_words(const uint8_t* p, std::size_t n, uint32_t sum) {
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
  if (n % 2) sum += uint32_t(p[n - 1] << 8);
  return sum;
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, uint16_t(v >> 16));
  put16(p + 2, uint16_t(v));
}

struct Endpoint {
  uint8_t mac[6];
  uint32_t ip;  // network order
  uint16_t port;
  uint32_t seq;
};

class Writer {
 public:
  Writer(pcap_dumper_t* d, const PcapOptions& o) : d_(d), o_(o), now_(o.start_ns) {}
  // One segment from `a` to `b`; advances a's sequence number by the payload (and SYN/FIN).
  void segment(Endpoint& a, const Endpoint& b, uint8_t flags, const char* data, std::size_t n);

 private:
  pcap_dumper_t* d_;
  const PcapOptions& o_;
  std::array<uint8_t, 54 + 65000> frame_;  // Ethernet + IPv4 + TCP headers + payload (mss cap)
  uint64_t now_;
};

void Writer::segment(Endpoint& a, const Endpoint& b, uint8_t flags, const char* data,
                     std::size_t n) {
  std::fill_n(frame_.begin(), 54, 0);
  uint8_t* f = frame_.data();
  const std::size_t size = 54 + n;
  std::memcpy(f, b.mac, 6);
  std::memcpy(f + 6, a.mac, 6);
  put16(f + 12, 0x0800);
  uint8_t* ip = f + 14;
  ip[0] = 0x45;
  put16(ip + 2, uint16_t(40 + n));
  ip[6] = 0x40;  // DF
  ip[8] = 64;
  ip[9] = 6;
  std::memcpy(ip + 12, &a.ip, 4);
  std::memcpy(ip + 16, &b.ip, 4);
  put16(ip + 10, fold(add_words(ip, 20, 0)));
  uint8_t* tcp = ip + 20;
  put16(tcp, a.port);
  put16(tcp + 2, b.port);
  put32(tcp + 4, a.seq);
  put32(tcp + 8, (flags & kSyn) && !(flags & kAck) ? 0 : b.seq);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  put16(tcp + 14, 65535);
  if (n) std::memcpy(tcp + 20, data, n);
  uint32_t sum = add_words(ip + 12, 8, 0) + 6 + uint32_t(20 + n);  // pseudo-header
  put16(tcp + 16, fold(add_words(tcp, 20 + n, sum)));
  a.seq += uint32_t(n) + ((flags & (kSyn | kFin)) ? 1 : 0);
  pcap_pkthdr h{};
  h.ts.tv_sec = long(now_ / 1'000'000'000ULL);
  h.ts.tv_usec = long(now_ % 1'000'000'000ULL);  // nanosecond precision file
  h.caplen = h.len = uint32_t(size);
  pcap_dump(reinterpret_cast<u_char*>(d_), &h, f);
  now_ += o_.step_ns;
}

}  // namespace

Result<void> write_tls_pcap(const TlsTranscript& t, const PcapOptions& o, const std::string& path) {
  Endpoint c{{0x02, 0, 0, 0, 0, 0x02}, 0, o.client_port, 1000};
  Endpoint s{{0x02, 0, 0, 0, 0, 0x01}, 0, o.server_port, 5000};
  if (inet_pton(AF_INET, o.client_ip.c_str(), &c.ip) != 1 ||
      inet_pton(AF_INET, o.server_ip.c_str(), &s.ip) != 1 || o.mss == 0 || o.mss > 65000) {
    return make_error(ErrorCode::kInvalid, "pcap: bad address or mss");
  }
  std::unique_ptr<pcap_t, decltype(&pcap_close)> dead(
      pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO),
      pcap_close);
  pcap_dumper_t* d = dead ? pcap_dump_open(dead.get(), path.c_str()) : nullptr;
  if (!d) return make_error(ErrorCode::kIo, "pcap: cannot write " + path);
  Writer w(d, o);
  w.segment(c, s, kSyn, nullptr, 0);
  w.segment(s, c, kSyn | kAck, nullptr, 0);
  w.segment(c, s, kAck, nullptr, 0);
  for (const auto& ch : t.chunks) {
    Endpoint& from = ch.from_client ? c : s;
    Endpoint& to = ch.from_client ? s : c;
    std::size_t unacked = 0;
    for (std::size_t i = 0; i < ch.bytes.size(); i += o.mss) {
      const std::size_t n = std::min(o.mss, ch.bytes.size() - i);
      // A real sender stays inside the receiver's 64 KiB window (no window scaling here), and the
      // appliance drops data beyond it as the receiver would (tcp_beyond_window): acknowledge
      // every 32 KiB, as a receiver does long before the window closes.
      if (unacked + n > 32768) {
        w.segment(to, from, kAck, nullptr, 0);
        unacked = 0;
      }
      w.segment(from, to, kAck | kPsh, ch.bytes.data() + i, n);
      unacked += n;
    }
    w.segment(to, from, kAck, nullptr, 0);
  }
  w.segment(c, s, kFin | kAck, nullptr, 0);
  w.segment(s, c, kFin | kAck, nullptr, 0);
  w.segment(c, s, kAck, nullptr, 0);
  pcap_dump_close(d);
  return {};
}

}  // namespace dc::test
