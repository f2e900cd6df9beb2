// libFuzzer target for inspect/protocol/http.hpp.
//
// Byte 0 picks a split point; the rest is the client-to-server stream. The parser must give
// the same answer fed whole, split in two, and byte by byte, and what it reports must respect
// its bounds and character rules (a host never contains whitespace, '@', '%' or controls).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "inspect/protocol/http.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using dc::inspect::HttpRequestParser;
using dc::inspect::HttpStatus;

namespace {

struct Out {
  HttpStatus status;
  std::string method, host, path;
  uint16_t port;
  bool conflict, truncated;
  uint32_t head;
  bool operator==(const Out&) const = default;
};

Out outcome(const HttpRequestParser& p) {
  return {p.status(), std::string(p.method()), std::string(p.host()), std::string(p.path()),
          p.port(),   p.host_conflict(),       p.path_truncated(),    p.head_bytes()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* in, std::size_t size) {
  if (size < 1) return 0;
  const uint8_t* d = in + 1;
  const std::size_t n = size - 1;
  const std::size_t cut = n == 0 ? 0 : (in[0] * n) / 255;

  HttpRequestParser whole;
  whole.feed({d, n});
  HttpRequestParser split;
  split.feed({d, cut});
  split.feed({d + cut, n - cut});
  HttpRequestParser bytewise;
  for (std::size_t i = 0; i < n; ++i) bytewise.feed({d + i, 1});

  const Out a = outcome(whole);
  CHECK(a == outcome(split));
  CHECK(a == outcome(bytewise));
  CHECK(a.head <= n);
  CHECK(a.head <= dc::inspect::kMaxHttpHead + 1);
  if (a.status == HttpStatus::kDone) {
    CHECK(!a.method.empty() && a.method.size() <= dc::inspect::kMaxHttpMethod);
    CHECK(a.host.size() <= dc::inspect::kMaxHttpHost);
    CHECK(a.path.size() <= dc::inspect::kMaxStoredTarget);
    for (char c : a.host) {
      CHECK(c > 0x20 && c < 0x7f && c != '@' && c != '%' && c != '/' && !(c >= 'A' && c <= 'Z'));
    }
  } else {
    CHECK(a.host.empty() && a.method.empty() && a.path.empty());
  }
  return 0;
}
