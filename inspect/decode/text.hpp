#pragma once
// Small streaming text decoders, a few bytes of state each: percent-decoding (forms, query
// strings), JSON string unescaping, base64 (MIME Content-Transfer-Encoding), quoted-printable,
// and base64 runs found inside text. Each takes input in any split and produces the same output;
// feed() writes through a stack buffer to a ByteOut, finish() flushes what a split held back.
#include <cstddef>
#include <cstdint>
#include <span>

#include "inspect/decode/codec.hpp"

namespace dc::inspect::decoding {

// application/x-www-form-urlencoded (WHATWG URL §5.1) or a request-target (only the query
// turns '+' into a space). Invalid %-sequences are kept literally.
class PercentDecoder {
 public:
  enum class Mode : uint8_t { kForm, kTarget };
  void begin(Mode m) noexcept { *this = PercentDecoder{}, mode_ = m; }
  void feed(std::span<const uint8_t> in, ByteOut out) noexcept;
  void finish(ByteOut out) noexcept;

 private:
  uint8_t held_[2]{};
  uint8_t n_held_ = 0;  // 1: '%' seen, 2: '%' and one hex digit
  Mode mode_ = Mode::kForm;
  bool in_query_ = false;
};

// JSON text with the contents of strings unescaped (RFC 8259 §7): \" \\ \/ \b \f \n \r \t and
// \uXXXX to UTF-8, surrogate pairs joined; a lone surrogate becomes U+FFFD and is counted.
class JsonDecoder {
 public:
  void begin() noexcept { *this = JsonDecoder{}; }
  void feed(std::span<const uint8_t> in, ByteOut out) noexcept;
  void finish(ByteOut out) noexcept;
  // Lone surrogates seen since the last call (the owner reports kLoneSurrogate).
  uint32_t take_lone_surrogates() noexcept {
    const uint32_t n = lone_;
    lone_ = 0;
    return n;
  }

 private:
  enum class St : uint8_t { kOut, kIn, kEsc, kHex };
  void flush_high(OutBuffer& w) noexcept;
  void hex_done(OutBuffer& w) noexcept;
  void bad_hex(OutBuffer& w) noexcept;
  uint32_t lone_ = 0;
  uint16_t high_ = 0;  // pending high surrogate, 0 = none
  uint16_t acc_ = 0;
  uint8_t digits_ = 0;
  St st_ = St::kOut;
};

// RFC 2045 §6.8 base64 body: characters outside the alphabet are ignored; '=' ends a quantum.
class Base64Decoder {
 public:
  void begin() noexcept { *this = Base64Decoder{}; }
  void feed(std::span<const uint8_t> in, ByteOut out) noexcept;

 private:
  uint32_t acc_ = 0;
  uint8_t bits_ = 0;
};

// RFC 2045 §6.7 quoted-printable: =XX (either case), soft line breaks "=\r\n" and "=\n";
// '=' followed by anything else is kept literally.
class QuotedPrintableDecoder {
 public:
  void begin() noexcept { *this = QuotedPrintableDecoder{}; }
  void feed(std::span<const uint8_t> in, ByteOut out) noexcept;
  void finish(ByteOut out) noexcept;

 private:
  uint8_t held_[2]{};
  uint8_t n_held_ = 0;  // bytes after '=' kept while undecided ('=' itself counted)
};

// Finds runs of at least kMinRun base64 characters (standard and URL-safe alphabets) in text
// and decodes each; the decoded runs are separated by '\n' so values do not join across runs.
class Base64RunDecoder {
 public:
  static constexpr std::size_t kMinRun = 16;
  void begin() noexcept { *this = Base64RunDecoder{}; }
  void feed(std::span<const uint8_t> in, ByteOut out) noexcept;
  void finish(ByteOut out) noexcept;

 private:
  void end_run(OutBuffer& w) noexcept;
  uint8_t held_[kMinRun]{};
  uint32_t run_ = 0;  // characters in the current run
  uint32_t acc_ = 0;
  uint8_t bits_ = 0;
};

// -1 when c is not a base64 character; '+'/'-' are 62 and '/'/'_' are 63 (RFC 4648 §4, §5).
int base64_value(uint8_t c) noexcept;

}  // namespace dc::inspect::decoding
