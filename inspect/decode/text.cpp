// Streaming percent, JSON-string, base64, quoted-printable and base64-run decoders (text.hpp).
#include "inspect/decode/text.hpp"

#include <algorithm>
#include <array>

namespace dc::inspect::decoding {

namespace {

int hex_value(uint8_t c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void put_utf8(uint32_t cp, OutBuffer& w) noexcept {
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

constexpr uint32_t kReplacement = 0xfffd;

}  // namespace

namespace {
// Standard and URL-safe alphabets in one table (-1: not base64): one load per byte, since the
// base64-run finder looks at every decoded byte of every text body.
constexpr std::array<int8_t, 256> kBase64Values = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 26; ++i)
    t['A' + i] = static_cast<int8_t>(i), t['a' + i] = static_cast<int8_t>(26 + i);
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(52 + i);
  t['+'] = t['-'] = 62;
  t['/'] = t['_'] = 63;
  return t;
}();
}  // namespace

int base64_value(uint8_t c) noexcept { return kBase64Values[c]; }

// ---- percent ----------------------------------------------------------------------------------

void PercentDecoder::feed(std::span<const uint8_t> in, ByteOut out) noexcept {
  OutBuffer w(out);
  for (const uint8_t c : in) {
    if (n_held_ == 1 || n_held_ == 2) {
      if (hex_value(c) >= 0) {
        if (n_held_ == 1) {
          held_[n_held_++] = c;
          continue;
        }
        w.put(static_cast<uint8_t>(hex_value(held_[1]) << 4 | hex_value(c)));
        n_held_ = 0;
        continue;
      }
      w.put({held_, n_held_});  // not a %XX sequence: literal (WHATWG URL §1.3)
      n_held_ = 0;
    }
    if (c == '%') {
      held_[0] = c;
      n_held_ = 1;
    } else if (c == '+' && (mode_ == Mode::kForm || in_query_)) {
      w.put(' ');
    } else {
      if (c == '?') in_query_ = true;
      w.put(c);
    }
  }
}

void PercentDecoder::finish(ByteOut out) noexcept {
  out({held_, n_held_});
  n_held_ = 0;
}

// ---- JSON strings ----------------------------------------------------------------------------

void JsonDecoder::flush_high(OutBuffer& w) noexcept {
  if (high_ == 0) return;
  ++lone_;  // RFC 8259 §8.2: a lone surrogate; U+FFFD like a lenient UTF-8 decoder
  put_utf8(kReplacement, w);
  high_ = 0;
}

void JsonDecoder::hex_done(OutBuffer& w) noexcept {
  const uint16_t u = acc_;
  st_ = St::kIn;
  if (u >= 0xd800 && u <= 0xdbff) {
    flush_high(w);
    high_ = u;  // wait for the low half
  } else if (u >= 0xdc00 && u <= 0xdfff) {
    if (high_ == 0) {
      ++lone_;
      put_utf8(kReplacement, w);
      return;
    }
    put_utf8(0x10000 + ((uint32_t{high_} - 0xd800) << 10) + (u - 0xdc00), w);
    high_ = 0;
  } else {
    flush_high(w);
    put_utf8(u, w);
  }
}

// "\u" followed by fewer than four hex digits: kept literally.
void JsonDecoder::bad_hex(OutBuffer& w) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  flush_high(w);
  w.put('\\');
  w.put('u');
  for (int i = digits_ - 1; i >= 0; --i) w.put(static_cast<uint8_t>(kHex[(acc_ >> (4 * i)) & 15]));
  st_ = St::kIn;
}

void JsonDecoder::feed(std::span<const uint8_t> in, ByteOut out) noexcept {
  OutBuffer w(out);
  for (const uint8_t c : in) {
    switch (st_) {
      case St::kOut:
        if (c == '"') st_ = St::kIn;
        w.put(c);
        break;
      case St::kHex:
        if (hex_value(c) >= 0) {
          acc_ = static_cast<uint16_t>(acc_ << 4 | hex_value(c));
          if (++digits_ == 4) hex_done(w);
          break;
        }
        bad_hex(w);
        [[fallthrough]];
      case St::kIn:
        if (c == '\\') {
          st_ = St::kEsc;
          break;
        }
        flush_high(w);
        if (c == '"') st_ = St::kOut;
        w.put(c);
        break;
      case St::kEsc: {
        if (c == 'u') {
          st_ = St::kHex, acc_ = 0, digits_ = 0;
          break;
        }
        flush_high(w);
        st_ = St::kIn;
        const char* from = "\"\\/bfnrt";
        const char* to = "\"\\/\b\f\n\r\t";
        int k = 0;
        while (from[k] != '\0' && from[k] != static_cast<char>(c)) ++k;
        if (from[k] != '\0') {
          w.put(static_cast<uint8_t>(to[k]));
        } else {
          w.put('\\');  // not a JSON escape: kept literally
          w.put(c);
        }
        break;
      }
    }
  }
}

void JsonDecoder::finish(ByteOut out) noexcept {
  OutBuffer w(out);
  if (st_ == St::kHex) bad_hex(w);
  if (st_ == St::kEsc) w.put('\\');
  flush_high(w);
  st_ = St::kOut;
}

// ---- base64 (Content-Transfer-Encoding) -----------------------------------------------------

void Base64Decoder::feed(std::span<const uint8_t> in, ByteOut out) noexcept {
  OutBuffer w(out);
  for (const uint8_t c : in) {
    if (c == '=') {  // padding: the quantum ends; bits left over are not data
      acc_ = 0, bits_ = 0;
      continue;
    }
    const int v = base64_value(c);
    if (v < 0 || c == '-' || c == '_') continue;  // RFC 2045 §6.8: ignore other characters
    acc_ = (acc_ << 6) | static_cast<uint32_t>(v);
    bits_ = static_cast<uint8_t>(bits_ + 6);
    if (bits_ >= 8) {
      bits_ = static_cast<uint8_t>(bits_ - 8);
      w.put(static_cast<uint8_t>(acc_ >> bits_));
      acc_ &= (1u << bits_) - 1;
    }
  }
}

// ---- quoted-printable -------------------------------------------------------------------------

void QuotedPrintableDecoder::feed(std::span<const uint8_t> in, ByteOut out) noexcept {
  OutBuffer w(out);
  for (const uint8_t c : in) {
    if (n_held_ == 0) {
      if (c == '=') {
        held_[0] = c;
        n_held_ = 1;
      } else {
        w.put(c);
      }
      continue;
    }
    if (n_held_ == 1) {
      if (c == '\n') {  // soft line break (bare LF accepted, RFC 2045 §6.7 note)
        n_held_ = 0;
      } else if (c == '\r' || hex_value(c) >= 0) {
        held_[1] = c;
        n_held_ = 2;
      } else {
        w.put('=');
        n_held_ = 0;
        if (c == '=') {
          n_held_ = 1;
        } else {
          w.put(c);
        }
      }
      continue;
    }
    // n_held_ == 2: "=\r" or "=X"
    n_held_ = 0;
    if (held_[1] == '\r' && c == '\n') continue;  // soft line break
    if (held_[1] != '\r' && hex_value(c) >= 0) {
      w.put(static_cast<uint8_t>(hex_value(held_[1]) << 4 | hex_value(c)));
      continue;
    }
    w.put('=');
    w.put(held_[1]);
    if (c == '=') {
      held_[0] = c;
      n_held_ = 1;
    } else {
      w.put(c);
    }
  }
}

void QuotedPrintableDecoder::finish(ByteOut out) noexcept {
  out({held_, n_held_});
  n_held_ = 0;
}

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

void EntityDecoder::feed(std::span<const uint8_t> in, ByteOut out) noexcept {
  OutBuffer w(out);
  for (const uint8_t c : in) put(c, w);
}

void EntityDecoder::finish(ByteOut out) noexcept {
  OutBuffer w(out);
  flush(w);
}

// ---- base64 runs ------------------------------------------------------------------------------

template <class Emit>
void Base64RunDecoder::end_run(Run& r, Emit&& emit) noexcept {
  if (r.run >= kMinRun) emit('\n');
  r.run = 0, r.acc = 0, r.bits = 0;
}

template <class Emit>
void Base64RunDecoder::step(Run& r, uint8_t c, Emit&& emit) noexcept {
  const int v = base64_value(c);
  if (v < 0) return end_run(r, emit);
  if (r.run < kMinRun - 1) {  // not a run yet: hold the characters
    r.held[r.run++] = c;
    return;
  }
  auto push = [&](int value) {
    r.acc = (r.acc << 6) | static_cast<uint32_t>(value);
    r.bits = static_cast<uint8_t>(r.bits + 6);
    if (r.bits >= 8) {
      r.bits = static_cast<uint8_t>(r.bits - 8);
      emit(static_cast<uint8_t>(r.acc >> r.bits));
      r.acc &= (1u << r.bits) - 1;
    }
  };
  if (r.run == kMinRun - 1) {
    for (uint32_t i = 0; i < r.run; ++i) push(base64_value(r.held[i]));
  }
  ++r.run;
  push(v);
}

void Base64RunDecoder::feed(std::span<const uint8_t> in, ByteOut out, ByteOut nested) noexcept {
  OutBuffer w(out);
  if (nested.fn == nullptr) {
    for (const uint8_t c : in) step(outer_, c, [&](uint8_t b) { w.put(b); });
    return;
  }
  OutBuffer w2(nested);
  auto inner = [&](uint8_t b) { w2.put(b); };
  for (const uint8_t c : in) {
    step(outer_, c, [&](uint8_t b) {
      w.put(b);
      step(inner_, b, inner);
    });
  }
}

void Base64RunDecoder::finish(ByteOut out, ByteOut nested) noexcept {
  OutBuffer w(out);
  if (nested.fn == nullptr) return end_run(outer_, [&](uint8_t b) { w.put(b); });
  OutBuffer w2(nested);
  auto inner = [&](uint8_t b) { w2.put(b); };
  end_run(outer_, [&](uint8_t b) {
    w.put(b);
    step(inner_, b, inner);
  });
  end_run(inner_, inner);
}

}  // namespace dc::inspect::decoding
