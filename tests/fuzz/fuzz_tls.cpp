// libFuzzer target for inspect/protocol/tls.hpp.
//
// Byte 0 picks a split point; the rest is the client-to-server stream. The parser must give
// the same answer fed whole, split in two at that point, and byte by byte (a streaming parser
// that depends on segmentation is an evasion), and a reported name must be a valid host name.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "inspect/protocol/tls.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using dc::inspect::TlsClientHelloParser;
using dc::inspect::TlsStatus;

namespace {

struct Out {
  TlsStatus status;
  std::string sni, alpn;
  bool ech, tls13;
  uint32_t consumed;
  bool operator==(const Out&) const = default;
};

Out outcome(const TlsClientHelloParser& p) {
  std::string alpn;
  for (std::size_t i = 0; i < p.alpn_count(); ++i) {
    alpn += p.alpn(i);
    alpn += ',';
  }
  return {p.status(), std::string(p.sni()), alpn,
          p.ech(),    p.offers_tls13(),     p.complete() ? p.consumed() : 0};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* in, std::size_t size) {
  if (size < 1) return 0;
  const uint8_t* d = in + 1;
  const std::size_t n = size - 1;
  const std::size_t cut = n == 0 ? 0 : (in[0] * n) / 255;

  TlsClientHelloParser whole;
  whole.feed({d, n});
  TlsClientHelloParser split;
  split.feed({d, cut});
  split.feed({d + cut, n - cut});
  TlsClientHelloParser bytewise;
  for (std::size_t i = 0; i < n; ++i) bytewise.feed({d + i, 1});

  const Out a = outcome(whole);
  CHECK(a == outcome(split));
  CHECK(a == outcome(bytewise));
  CHECK(a.sni.size() <= dc::inspect::kMaxHostName);
  if (a.status == TlsStatus::kSni) CHECK(!a.sni.empty());
  for (char c : a.sni) {
    CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.');
  }
  if (whole.complete()) CHECK(whole.consumed() <= n);
  return 0;
}
