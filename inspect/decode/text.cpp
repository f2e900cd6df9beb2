// Streaming percent, JSON-string, base64, quoted-printable and base64-run decoders (text.hpp);
// HTML character references are in entities.cpp.
#include "inspect/decode/text.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "inspect/decode/text_util.hpp"

namespace dc::inspect::decoding {

using namespace text_detail;

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

std::size_t PercentDecoder::identity_prefix(std::span<const uint8_t> in) const noexcept {
  if (n_held_ != 0 || mode_ != Mode::kForm) return 0;
  return find_either(in.data(), in.size(), '%', '+');
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

void JsonDecoder::step(uint8_t c, OutBuffer& w) noexcept {
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

void JsonDecoder::feed(std::span<const uint8_t> in, ByteOut out) noexcept {
  OutBuffer w(out);
  const uint8_t* p = in.data();
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n) {
    // Bytes that are copied as they are (outside strings up to '"', inside up to '"' or '\\')
    // go in bulk; the state machine takes the byte that ends them.
    if (st_ == St::kOut || (st_ == St::kIn && high_ == 0)) {
      const std::size_t k =
          st_ == St::kOut ? find_byte(p + i, n - i, '"') : find_either(p + i, n - i, '"', '\\');
      w.put({p + i, k});
      i += k;
      if (i == n) break;
    }
    step(p[i++], w);
  }
}

std::size_t JsonDecoder::identity_prefix(std::span<const uint8_t> in) noexcept {
  if (st_ == St::kEsc || st_ == St::kHex || high_ != 0) return 0;  // inside an escape
  const uint8_t* p = in.data();
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n) {
    unsigned quotes = 0;  // '"' before the next '\\': an odd count toggles in/out of a string
    const std::size_t k = stop_and_parity(p + i, n - i, '\\', '"', quotes);
    if ((quotes & 1u) != 0) st_ = st_ == St::kIn ? St::kOut : St::kIn;
    i += k;
    if (i == n || st_ == St::kIn) return i;  // the end, or an escape inside a string
    ++i;                                     // a '\\' outside strings is kept as it is
  }
  return n;
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

// ---- base64 runs ------------------------------------------------------------------------------

template <class Emit>
void Base64RunDecoder::end_run(Run& r, Emit&& emit) noexcept {
  if (r.run >= kMinRun && !r.digits) emit('\n');
  r.run = 0, r.acc = 0, r.bits = 0, r.digits = true, r.n_tail = 0;
}

template <class Emit>
void Base64RunDecoder::step(Run& r, uint8_t c, Emit&& emit) noexcept {
  if (base64_value(c) < 0) return end_run(r, emit);
  if (r.run < kMinRun - 1) {  // not a run yet: hold the characters
    r.held[r.run++] = c;
    return;
  }
  if (r.run == kMinRun - 1) {  // the run is long enough: decode what was held
    r.run = 0;
    decode(r, r.held, kMinRun - 1, emit);
  }
  decode(r, &c, 1, emit);
}

namespace {
// Digits at the start of p[0..n).
std::size_t digit_prefix(const uint8_t* p, std::size_t n) noexcept {
  std::size_t k = 0;
  while (k < n && static_cast<uint8_t>(p[k] - '0') < 10) ++k;
  return k;
}

// Decodes n base64 characters continuing acc/bits; every completed byte goes to emit(byte).
template <class Emit>
[[gnu::always_inline]] inline void decode_bits(uint16_t& acc_io, uint8_t& bits_io, const uint8_t* p,
                                               std::size_t n, Emit&& emit) {
  uint32_t acc = acc_io, bits = bits_io;
  for (std::size_t k = 0; k < n; ++k) {
    acc = (acc << 6) | static_cast<uint32_t>(kBase64Values[p[k]]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      emit(static_cast<uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  acc_io = static_cast<uint16_t>(acc), bits_io = static_cast<uint8_t>(bits);
}
}  // namespace

template <class Emit>
void Base64RunDecoder::decode(Run& r, const uint8_t* p, std::size_t n, Emit&& emit) noexcept {
  r.run = static_cast<uint32_t>(std::min<std::size_t>(r.run + n, 0xffffffffu));
  std::size_t k = 0;
  if (r.digits) {  // digits only so far: decoded, but only the last two bytes are kept
    k = digit_prefix(p, n);
    decode_bits(r.acc, r.bits, p, k, [&r](uint8_t b) {
      if (r.n_tail == 2) r.tail[0] = r.tail[1];
      r.tail[r.n_tail == 2 ? 1 : r.n_tail++] = b;
    });
    if (k == n) return;
    r.digits = false;  // the first non-digit: the run is decoded from here on
    for (uint8_t i = 0; i < r.n_tail; ++i) emit(r.tail[i]);
    r.n_tail = 0;
  }
  decode_bits(r.acc, r.bits, p + k, n - k, emit);
}

template <class Emit>
void Base64RunDecoder::search(Run& r, const uint8_t* p, std::size_t n, Emit&& emit) noexcept {
  std::size_t i = 0;
  while (i < n) {
    if (r.run == 0) {
      // Between runs (the byte before is not base64): short runs and whole runs of digits (order
      // ids: nothing to decode) are passed over in bulk; what stops the skip is a run of kMinRun
      // with a non-digit, decoded in one go, or a run reaching the end of the input.
      i += skip_plain_runs(p + i, n - i);
      if (i == n) break;
      const std::size_t len = base64_run_length(p + i, n - i);
      if (len >= kMinRun) {
        decode(r, p + i, len, emit);
        i += len;
        if (i < n) end_run(r, emit), ++i;  // the byte after the run is not base64
        continue;
      }
    } else if (r.run >= kMinRun) {  // a long run goes on from the last input
      const std::size_t len = base64_run_length(p + i, n - i);
      decode(r, p + i, len, emit);
      i += len;
      if (i < n) end_run(r, emit), ++i;
      continue;
    }
    step(r, p[i++], emit);
  }
}

void Base64RunDecoder::feed(std::span<const uint8_t> in, ByteOut out, ByteOut nested) noexcept {
  OutBuffer w(out);
  if (nested.fn == nullptr) {
    search(outer_, in.data(), in.size(), [&](uint8_t b) { w.put(b); });
    return;
  }
  // The decoded bytes are searched once more, in batches (the same bytes in the same order).
  OutBuffer w2(nested);
  auto inner = [&](uint8_t b) { w2.put(b); };
  uint8_t batch[512];
  std::size_t k = 0;
  search(outer_, in.data(), in.size(), [&](uint8_t b) {
    w.put(b);
    batch[k++] = b;
    if (k == sizeof batch) search(inner_, batch, k, inner), k = 0;
  });
  search(inner_, batch, k, inner);
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
