// Streaming HTML/XML character-reference decoder (EntityDecoder, text.hpp).
#include "inspect/decode/text.hpp"
#include "inspect/decode/text_util.hpp"

namespace dc::inspect::decoding {

using namespace text_detail;

// ---- character references ----------------------------------------------------------------------

namespace {

bool is_digit(uint8_t c) noexcept { return c >= '0' && c <= '9'; }
bool is_alpha(uint8_t c) noexcept { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

// The five names XML predefines (§4.6), which HTML also has.
int basic_entity(const char* name, std::size_t n) noexcept {
  static constexpr struct {
    const char* name;
    char c;
  } kNames[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
  for (const auto& e : kNames) {
    std::size_t k = 0;
    while (k < n && e.name[k] == name[k]) ++k;
    if (k == n && e.name[k] == '\0') return e.c;
  }
  return -1;
}

}  // namespace

void EntityDecoder::emit_code(OutBuffer& w) noexcept {
  const uint32_t v = value_;
  const bool bad = v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff);
  put_utf8(bad ? kReplacement : v, w);
  st_ = St::kText;
}

void EntityDecoder::put(uint8_t c, OutBuffer& w) noexcept {
  while (true) {  // a byte that ends a reference without belonging to it is processed again
    switch (st_) {
      case St::kText:
        if (c == '&') {
          st_ = St::kAmp, n_ = 0;
        } else {
          w.put(c);
        }
        return;
      case St::kAmp:
        if (c == '#') {
          st_ = St::kHash;
          return;
        }
        if (is_alpha(c)) {
          name_[n_++] = static_cast<char>(c);
          st_ = St::kName;
          return;
        }
        w.put('&');
        st_ = St::kText;
        continue;
      case St::kHash:
        if (c == 'x' || c == 'X') {
          name_[0] = static_cast<char>(c);
          st_ = St::kHexMark;
          return;
        }
        if (is_digit(c)) {
          value_ = c - '0';
          st_ = St::kDec;
          return;
        }
        w.put('&'), w.put('#');
        st_ = St::kText;
        continue;
      case St::kHexMark:
        if (hex_value(c) >= 0) {
          value_ = static_cast<uint32_t>(hex_value(c));
          st_ = St::kHex;
          return;
        }
        w.put('&'), w.put('#'), w.put(static_cast<uint8_t>(name_[0]));
        st_ = St::kText;
        continue;
      case St::kDec:
      case St::kHex: {
        const int d = st_ == St::kDec ? (is_digit(c) ? c - '0' : -1) : hex_value(c);
        if (d >= 0) {  // saturates above U+10FFFF: any number of leading zeros is fine
          value_ = std::min<uint32_t>(value_ * (st_ == St::kDec ? 10 : 16) + d, 0x110000);
          return;
        }
        emit_code(w);
        if (c == ';') return;
        continue;  // HTML: a reference without ';' ends at the first other byte
      }
      case St::kName:
        if (c == ';') {
          const int e = basic_entity(name_, n_);
          if (e >= 0) {
            w.put(static_cast<uint8_t>(e));
          } else {
            w.put('&'), w.put({reinterpret_cast<const uint8_t*>(name_), n_}), w.put(';');
          }
          st_ = St::kText;
          return;
        }
        if (is_alpha(c) && n_ < sizeof name_) {
          name_[n_++] = static_cast<char>(c);
          return;
        }
        w.put('&'), w.put({reinterpret_cast<const uint8_t*>(name_), n_});
        st_ = St::kText;
        continue;
    }
  }
}

void EntityDecoder::flush(OutBuffer& w) noexcept {
  switch (st_) {
    case St::kText:
      return;
    case St::kDec:
    case St::kHex:
      return emit_code(w);
    case St::kName:
      w.put('&'), w.put({reinterpret_cast<const uint8_t*>(name_), n_});
      break;
    case St::kHexMark:
      w.put('&'), w.put('#'), w.put(static_cast<uint8_t>(name_[0]));
      break;
    case St::kHash:
      w.put('&'), w.put('#');
      break;
    case St::kAmp:
      w.put('&');
      break;
  }
  st_ = St::kText;
}

std::size_t EntityDecoder::identity_prefix(std::span<const uint8_t> in) const noexcept {
  return st_ == St::kText ? find_byte(in.data(), in.size(), '&') : 0;
}

void EntityDecoder::feed(std::span<const uint8_t> in, ByteOut out) noexcept {
  OutBuffer w(out);
  for (const uint8_t c : in) put(c, w);
}

void EntityDecoder::finish(ByteOut out) noexcept {
  OutBuffer w(out);
  flush(w);
}

}  // namespace dc::inspect::decoding
