#pragma once
// Small byte helpers shared by the text decoders (text.cpp, entities.cpp) and the HTTP/1.x
// framing (http_message.cpp, http_fields.cpp). Internal to
// inspect/decode; noexcept, no allocation.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "inspect/decode/text.hpp"

namespace dc::inspect::decoding::text_detail {

// `s[0..n)` equals `want` (lower case) in ASCII, case-insensitively (HTTP methods and field names).
inline bool ascii_name_is(const char* s, std::size_t n, const char* want) noexcept {
  if (std::strlen(want) != n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = (s[i] >= 'A' && s[i] <= 'Z') ? static_cast<char>(s[i] + 32) : s[i];
    if (c != want[i]) return false;
  }
  return true;
}

// A token character (RFC 9110 §5.6.2).
inline bool is_tchar(uint8_t c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

inline int hex_value(uint8_t c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline void put_utf8(uint32_t cp, OutBuffer& w) noexcept {
  if (cp < 0x80) {
    w.put(static_cast<uint8_t>(cp));
  } else if (cp < 0x800) {
    w.put(static_cast<uint8_t>(0xc0 | (cp >> 6)));
    w.put(static_cast<uint8_t>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    w.put(static_cast<uint8_t>(0xe0 | (cp >> 12)));
    w.put(static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3f)));
    w.put(static_cast<uint8_t>(0x80 | (cp & 0x3f)));
  } else {
    w.put(static_cast<uint8_t>(0xf0 | (cp >> 18)));
    w.put(static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3f)));
    w.put(static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3f)));
    w.put(static_cast<uint8_t>(0x80 | (cp & 0x3f)));
  }
}

inline constexpr uint32_t kReplacement = 0xfffd;

// Offset of the first byte c in p[0..n) (n when none).
inline std::size_t find_byte(const uint8_t* p, std::size_t n, uint8_t c) noexcept {
  const void* hit = n == 0 ? nullptr : std::memchr(p, c, n);
  return hit == nullptr ? n : static_cast<std::size_t>(static_cast<const uint8_t*>(hit) - p);
}

// Offset of the first byte `stop` in p[0..n) (n when none); the number of `counted` bytes before
// it is added to `count` (callers read its parity). One pass (base64_scan.cpp).
std::size_t stop_and_parity(const uint8_t* p, std::size_t n, uint8_t stop, uint8_t counted,
                            unsigned& count) noexcept;
// Offset of the first byte a or b in p[0..n) (n when none). One pass (base64_scan.cpp).
std::size_t find_either(const uint8_t* p, std::size_t n, uint8_t a, uint8_t b) noexcept;

// The scans above with a given instruction set, for tests (base64_scan.cpp): isa 0 the
// baseline (SSE2 or scalar), 1 AVX2, 2 AVX-512BW; bit isa of base64_scan_isas() is set when this
// CPU runs it (an unsupported isa falls back to the baseline).
unsigned base64_scan_isas() noexcept;
std::size_t skip_plain_runs_on(unsigned isa, const uint8_t* p, std::size_t n) noexcept;
std::size_t base64_run_length_on(unsigned isa, const uint8_t* p, std::size_t n) noexcept;
std::size_t stop_and_parity_on(unsigned isa, const uint8_t* p, std::size_t n, uint8_t stop,
                               uint8_t counted, unsigned& count) noexcept;
std::size_t find_either_on(unsigned isa, const uint8_t* p, std::size_t n, uint8_t a,
                           uint8_t b) noexcept;

}  // namespace dc::inspect::decoding::text_detail
