#pragma once
// Small streaming text decoders, a few bytes of state each: percent-decoding (forms, query
// strings), JSON string unescaping, base64 (MIME Content-Transfer-Encoding), quoted-printable,
// HTML/XML character references, and base64 runs found inside text (nested once). Each takes input
// in any split and produces the same output; feed() writes through a stack buffer to a ByteOut,
// finish() flushes what a split held back.
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
  // How many leading bytes of `in` feed() would copy unchanged (form mode, nothing held): the
  // bytes before the first '%' or '+'. They need not be fed (nothing to remember).
  std::size_t identity_prefix(std::span<const uint8_t> in) const noexcept;

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
  // Consumes the leading bytes of `in` that feed() would copy unchanged, up to the first escape
  // inside a string, and returns how many (0 inside an escape or after a high surrogate).
  std::size_t identity_prefix(std::span<const uint8_t> in) noexcept;
  // Lone surrogates seen since the last call (the owner reports kLoneSurrogate).
  uint32_t take_lone_surrogates() noexcept {
    const uint32_t n = lone_;
    lone_ = 0;
    return n;
  }

 private:
  enum class St : uint8_t { kOut, kIn, kEsc, kHex };
  void step(uint8_t c, OutBuffer& w) noexcept;
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

// Character references in HTML or XML text (WHATWG HTML §13.2.5.72 ff., XML 1.0 §4.1):
// &#49; &#x32; (decimal/hex, to UTF-8; 0, surrogates and values above U+10FFFF become U+FFFD;
// a missing ';' is accepted as HTML parsers do) and the named basics &amp; &lt; &gt; &quot;
// &apos; (';' required). Anything else is kept literally. put() is the per-byte form used by
// other decoders (the XML text extractor) with their own OutBuffer.
class EntityDecoder {
 public:
  void begin() noexcept { *this = EntityDecoder{}; }
  void feed(std::span<const uint8_t> in, ByteOut out) noexcept;
  void finish(ByteOut out) noexcept;
  void put(uint8_t c, OutBuffer& w) noexcept;
  void flush(OutBuffer& w) noexcept;  // end of text: what a reference held back
  // How many leading bytes of `in` feed() would copy unchanged (the bytes before the first '&'
  // when no reference is open). They need not be fed.
  std::size_t identity_prefix(std::span<const uint8_t> in) const noexcept;

 private:
  enum class St : uint8_t { kText, kAmp, kHash, kHexMark, kDec, kHex, kName };
  void emit_code(OutBuffer& w) noexcept;
  uint32_t value_ = 0;
  char name_[5]{};  // letters after '&' (the longest basic name is 4); name_[0] = 'x'/'X' mark
  uint8_t n_ = 0;
  St st_ = St::kText;
};

// Finds runs of at least kMinRun base64 characters (standard and URL-safe alphabets) in text
// and decodes each; the decoded runs are separated by '\n' so values do not join across runs.
// With a `nested` output, the decoded bytes are searched the same way once more (a base64 run
// that decodes to another base64 run, e.g. a base64 value inside a base64 JSON blob); what that
// second level decodes is not searched again.
//
// A run made only of digits (an order id, a timestamp, a card or ID number in clear) is not a
// base64 text and is not handed on: no detectable value is lost. Base64 maps every 3 bytes to
// 4 characters; the first character carries the top 6 bits of the first byte, and the digits are
// the values 52..61 (binary 11xxxx), so four digits decode to a first byte of 0xD3..0xF7.
// Whatever the alignment, any 3 consecutive decoded bytes of digits-only text hold such a byte:
// an ASCII value (IDs, numbers, e-mail addresses, JSON-escaped keywords) of 3 or more bytes is
// never in it, i.e. base64 of printable ASCII never encodes to digits only. The multi-byte
// UTF-8/GBK forms of the built-in keywords were checked the same way (decode_units_test
// `Base64Runs.DigitOnlyRunsHideNoDetectableValue`); a custom keyword whose every byte fits the
// digits-only pattern (each third byte 0xD3..0xF7, ...) would be the only exception. A run that
// starts with digits and goes on with other base64 characters is decoded from its start as
// before, except that of the bytes decoded from its leading digits only the last two are handed
// on (the others cannot be part of a 3-byte ASCII value, by the same argument).
class Base64RunDecoder {
 public:
  static constexpr std::size_t kMinRun = 16;
  void begin() noexcept { *this = Base64RunDecoder{}; }
  void feed(std::span<const uint8_t> in, ByteOut out, ByteOut nested = {}) noexcept;
  void finish(ByteOut out, ByteOut nested = {}) noexcept;

 private:
  struct Run {
    uint8_t held[kMinRun]{};
    uint32_t run = 0;  // characters in the current run
    uint16_t acc = 0;  // bits not yet decoded (fewer than 8)
    uint8_t bits = 0;
    bool digits = true;  // every character of the run so far is a digit
    uint8_t n_tail = 0;
    uint8_t tail[2]{};  // digits only so far: the last two decoded bytes, not handed on yet
  };
  // Feeds one text byte to `r`; decoded bytes (and the '\n' ending a run) go to emit(byte).
  template <class Emit>
  static void step(Run& r, uint8_t c, Emit&& emit) noexcept;
  template <class Emit>
  static void end_run(Run& r, Emit&& emit) noexcept;
  // Finds and decodes the runs in p[0..n), continuing r.
  template <class Emit>
  static void search(Run& r, const uint8_t* p, std::size_t n, Emit&& emit) noexcept;
  // Decodes n base64 characters that continue (or, with r.run == 0, start) a run of kMinRun;
  // while the run holds only digits, the decoded bytes are kept in r.tail instead.
  template <class Emit>
  static void decode(Run& r, const uint8_t* p, std::size_t n, Emit&& emit) noexcept;
  Run outer_, inner_;
};

// -1 when c is not a base64 character; '+'/'-' are 62 and '/'/'_' are 63 (RFC 4648 §4, §5).
int base64_value(uint8_t c) noexcept;
// Given that the byte before `p` is not a base64 character, the offset of the first run of
// base64 characters in p[0..n) that is at least Base64RunDecoder::kMinRun long and holds a
// character other than a digit, or that reaches p[n-1] (n when there is none). One pass, 64
// bytes at a time (AVX-512BW, AVX2 or SSE2, chosen at start-up; base64_scan.cpp).
std::size_t skip_plain_runs(const uint8_t* p, std::size_t n) noexcept;
// Base64 characters at the start of p[0..n).
std::size_t base64_run_length(const uint8_t* p, std::size_t n) noexcept;

}  // namespace dc::inspect::decoding
