#pragma once
// Test support: writes a recorded TLS connection (tls_session.hpp) as an Ethernet/IPv4/TCP pcap
// (three-way handshake, the records cut into segments of at most `mss` bytes, ACKs, FINs) with
// deterministic addresses, ports and timestamps, so captures and their key logs can be made for
// replay tests. Not product code.
#include <cstdint>
#include <string>

#include "base/result.hpp"
#include "tests/support/tls_session.hpp"

namespace dc::test {

struct PcapOptions {
  std::string client_ip = "10.0.0.2";
  std::string server_ip = "192.0.2.10";
  uint16_t client_port = 40000;
  uint16_t server_port = 443;
  std::size_t mss = 1460;  // payload bytes per segment (records split across segments)
  uint64_t start_ns = 1700000000'000000000ULL;  // first packet's timestamp
  uint64_t step_ns = 1'000'000;                 // between packets
};

// Writes `t` to `path` (pcap, nanosecond timestamps, DLT_EN10MB).
Result<void> write_tls_pcap(const TlsTranscript& t, const PcapOptions& o, const std::string& path);

}  // namespace dc::test
