// The base64-run search's hot loop (text.hpp: skip_plain_runs, base64_run_length): one
// classification pass over the text, 64 bytes at a time (AVX-512BW, AVX2 or SSE2, chosen at
// start-up).
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

#include "inspect/decode/text.hpp"
#include "inspect/decode/text_util.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DC_BASE64_X86 1
#include <immintrin.h>
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dc::inspect::decoding {

namespace {

// Per 64-byte block: bit k of `b64` when p[k] is a base64 character of either alphabet, of `nd`
// when it is one other than a digit (a run without an `nd` bit is a number in clear: not decoded).
struct Classes {
  uint64_t b64 = 0, nd = 0;
};

// Scalar classes: bit 0 base64, bit 1 base64 other than a digit.
constexpr std::array<uint8_t, 256> kClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = t[c + 32] = 3;
  for (int c = '0'; c <= '9'; ++c) t[c] = 1;
  t['+'] = t['-'] = t['/'] = t['_'] = 3;
  return t;
}();

[[gnu::always_inline]] inline void scalar_classes(const uint8_t* p, std::size_t k, std::size_t n,
                                                  Classes& c) noexcept {
  for (; k < n; ++k) {
    const uint64_t v = kClass[p[k]];
    c.b64 |= (v & 1) << k;
    c.nd |= (v >> 1) << k;
  }
}

#if defined(__SSE2__)
// Baseline x86-64 (no pshufb): ranges by subtraction and unsigned min.
struct Sse2Classify {
  Classes operator()(const uint8_t* p, std::size_t n) const noexcept {
    Classes c;
    std::size_t k = 0;
    for (; k + 16 <= n; k += 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k));
      auto in_range = [](__m128i v, char lo, char span) {  // lo <= v <= lo + span (unsigned)
        const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8(lo));
        return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(span)), d);
      };
      const __m128i letter = in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 25);
      const __m128i sym = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('+')),
                                                    _mm_cmpeq_epi8(x, _mm_set1_epi8('/'))),
                                       _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
                                                    _mm_cmpeq_epi8(x, _mm_set1_epi8('_'))));
      const __m128i nd = _mm_or_si128(letter, sym);
      const __m128i all = _mm_or_si128(nd, in_range(x, '0', 9));
      c.b64 |= uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(all))} << k;
      c.nd |= uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(nd))} << k;
    }
    scalar_classes(p, k, n, c);
    return c;
  }
};
using BaselineClassify = Sse2Classify;
#else
struct ScalarClassify {
  Classes operator()(const uint8_t* p, std::size_t n) const noexcept {
    Classes c;
    scalar_classes(p, 0, n, c);
    return c;
  }
};
using BaselineClassify = ScalarClassify;
#endif

#if defined(DC_BASE64_X86)
// Nibble tables (pshufb): class bits of the high and of the low nibble; a byte is base64 when
// hi[c >> 4] & lo[c & 15] != 0, a digit when that is bit 2 alone. Bits: 1 = 'A'-'O' 'a'-'o'
// (high 4/6, low 1-F), 2 = 'P'-'Z' 'p'-'z' (high 5/7, low 0-A), 4 = '0'-'9', 8 = '+' '-' '/'
// (high 2, low B/D/F), 16 = '_' (high 5, low F). Bytes >= 0x80 get 0 from both tables.
#define DC_HI_NIBBLES 0, 0, 8, 4, 1, 18, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0
#define DC_LO_NIBBLES 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 3, 9, 1, 9, 1, 25

struct Avx2Classify {
  [[gnu::target("avx2")]] Classes operator()(const uint8_t* p, std::size_t n) const noexcept {
    if (n < 64) return BaselineClassify{}(p, n);
    const __m256i hi_t = _mm256_setr_epi8(DC_HI_NIBBLES, DC_HI_NIBBLES);
    const __m256i lo_t = _mm256_setr_epi8(DC_LO_NIBBLES, DC_LO_NIBBLES);
    const __m256i zero = _mm256_setzero_si256(), not_digit = _mm256_set1_epi8(~4);
    Classes c;
    for (int half = 0; half < 2; ++half) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * half));
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), _mm256_set1_epi8(0x0f));
      const __m256i cls =
          _mm256_and_si256(_mm256_shuffle_epi8(hi_t, hi), _mm256_shuffle_epi8(lo_t, x));
      const auto none = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(cls, zero)));
      const auto digit_or_none = static_cast<uint32_t>(
          _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(cls, not_digit), zero)));
      c.b64 |= uint64_t{~none} << (32 * half);
      c.nd |= uint64_t{~digit_or_none} << (32 * half);
    }
    return c;
  }
};

// The nibble tables once per 128-bit lane of a 512-bit vector (pshufb looks up within a lane).
constexpr std::array<uint8_t, 16> kHi16 = {DC_HI_NIBBLES}, kLo16 = {DC_LO_NIBBLES};
constexpr auto by_lane = [](const std::array<uint8_t, 16>& t) {
  std::array<uint8_t, 64> v{};
  for (std::size_t i = 0; i < 64; ++i) v[i] = t[i % 16];
  return v;
};
alignas(64) constexpr std::array<uint8_t, 64> kHi64 = by_lane(kHi16), kLo64 = by_lane(kLo16);

// One 64-byte vector, and a masked load for the last, short block.
struct Avx512Classify {
  [[gnu::target("avx512bw")]] Classes operator()(const uint8_t* p, std::size_t n) const noexcept {
    const __m512i hi_t = _mm512_loadu_si512(kHi64.data());
    const __m512i lo_t = _mm512_loadu_si512(kLo64.data());
    const __mmask64 load = n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
    const __m512i x = _mm512_maskz_loadu_epi8(load, p);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(x, 4), _mm512_set1_epi8(0x0f));
    const __m512i cls =
        _mm512_and_si512(_mm512_shuffle_epi8(hi_t, hi), _mm512_shuffle_epi8(lo_t, x));
    return Classes{_mm512_test_epi8_mask(cls, cls),
                   _mm512_test_epi8_mask(cls, _mm512_set1_epi8(~4))};
  }
};
#undef DC_HI_NIBBLES
#undef DC_LO_NIBBLES

enum class Isa : uint8_t { kBaseline, kAvx2, kAvx512 };
const Isa kIsa = [] {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512bw") != 0) return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") != 0) return Isa::kAvx2;
  return Isa::kBaseline;
}();
#endif

// The window masks of the block before (carried into the next block) and where the current
// run of base64 characters started.
struct Window {
  // base64 at k, and 2, 4, 8 base64 bytes ending at k; a non-digit at k, and among the 2, 4, 8
  // bytes ending at k.
  uint64_t m = 0, w1 = 0, w2 = 0, w4 = 0;
  uint64_t nd = 0, n1 = 0, n2 = 0, n4 = 0;
  std::size_t run_start = 0;  // just after the last byte that is not base64 (before this block)
};

// Just after the last byte that is not base64 of a block at offset `at` (`gaps`: bit k set when
// byte k is not base64), or `otherwise` when there is none.
inline std::size_t after_gap(uint64_t gaps, std::size_t at, std::size_t otherwise) noexcept {
  return gaps == 0 ? otherwise : at + 64 - static_cast<std::size_t>(std::countl_zero(gaps));
}

template <class Classify>
[[gnu::always_inline]] inline std::size_t skip_plain_from(const uint8_t* p, std::size_t at,
                                                          std::size_t n, Window& s,
                                                          Classify classify) noexcept {
  static_assert(Base64RunDecoder::kMinRun == 16);
  // (cur << k) with the top k bits of the previous block's `prev` shifted in.
  auto up = [](uint64_t cur, uint64_t prev, int k) { return cur << k | prev >> (64 - k); };
  for (; at < n; at += 64) {
    const std::size_t len = std::min<std::size_t>(64, n - at);
    const Classes c = classify(p + at, len);
    const uint64_t a1 = c.b64 & up(c.b64, s.m, 1);
    const uint64_t a2 = a1 & up(a1, s.w1, 2);
    const uint64_t a4 = a2 & up(a2, s.w2, 4);
    const uint64_t a8 = a4 & up(a4, s.w4, 8);
    const uint64_t d1 = c.nd | up(c.nd, s.nd, 1);
    const uint64_t d2 = d1 | up(d1, s.n1, 2);
    const uint64_t d4 = d2 | up(d2, s.n2, 4);
    const uint64_t d8 = d4 | up(d4, s.n4, 8);
    const uint64_t hit = a8 & d8;
    const uint64_t all = len == 64 ? ~uint64_t{0} : (uint64_t{1} << len) - 1;
    if (hit != 0)  // the run holding the lowest hit starts after the last gap before it
      return after_gap(~c.b64 & ((hit & (0 - hit)) - 1), at, s.run_start);
    s.run_start = after_gap(~c.b64 & all, at, s.run_start);
    s.m = c.b64, s.w1 = a1, s.w2 = a2, s.w4 = a4;
    s.nd = c.nd, s.n1 = d1, s.n2 = d2, s.n4 = d4;
  }
  // A run reaching the end (undecided: it may go on in the next input) starts at run_start.
  return n > 0 && s.run_start < n ? s.run_start : n;
}

// Precondition: the byte before p is not a base64 character (or p starts the text). The offset
// of the first run of base64 characters that is at least kMinRun long and holds a non-digit, or
// that reaches the end of the n bytes (n when there is none). Short runs and long runs of digits
// only (order ids, timestamps: nothing to decode, text.hpp) are passed over.
//
// Such a run is one that holds 16 consecutive base64 characters (a window) with a non-digit
// among them (the run is at least 16 long, so a window around any of its non-digits fits in it).
// Per 64-byte block, bit k of `win` is set when the 16 bytes ending at k are all base64, of
// `near` when one of them is a non-digit; windows reaching back into earlier blocks take those
// blocks' bits through funnel shifts. The lowest bit of win & near lies in the first such run.
// Cost: one classification and ~30 scalar operations per 64 bytes, no data-dependent branch
// until a run is found (skip_plain_avx512 does the window steps for 8 blocks at once).
template <class Classify>
[[gnu::always_inline]] inline std::size_t skip_plain_with(const uint8_t* p, std::size_t n,
                                                          Classify classify) noexcept {
  Window s;
  return skip_plain_from(p, 0, n, s, classify);
}

// Base64 characters at the start of p[0..n).
template <class Classify>
[[gnu::always_inline]] inline std::size_t run_length_with(const uint8_t* p, std::size_t n,
                                                          Classify classify) noexcept {
  for (std::size_t at = 0; at < n; at += 64) {
    const std::size_t len = std::min<std::size_t>(64, n - at);
    const uint64_t m = classify(p + at, len).b64;
    if (m != (len == 64 ? ~uint64_t{0} : (uint64_t{1} << len) - 1))
      return at + static_cast<std::size_t>(std::countr_one(m));
  }
  return n;
}

#if defined(DC_BASE64_X86)
[[gnu::target("avx2"), gnu::flatten]] std::size_t skip_plain_avx2(const uint8_t* p,
                                                                  std::size_t n) noexcept {
  return skip_plain_with(p, n, Avx2Classify{});
}
[[gnu::target("avx2"), gnu::flatten]] std::size_t run_length_avx2(const uint8_t* p,
                                                                  std::size_t n) noexcept {
  return run_length_with(p, n, Avx2Classify{});
}
// skip_plain_from for 8 blocks (512 bytes) at a time: the 64-bit masks of the 8 blocks side by
// side in one vector, the block before each taken from the lane before (the last group's lane 7
// for lane 0), so each window step is one shift pair for the 8 blocks instead of one per block.
struct Avx512Group {
  __m512i m, w1, w2, w4, nd, n1, n2, n4;  // the last group's masks (Window, per lane)
};

template <unsigned K>
[[gnu::target("avx512bw"), gnu::always_inline]] inline __m512i up8(__m512i cur,
                                                                   __m512i last) noexcept {
  // The maskz forms (all lanes): GCC 12's plain forms pass an "undefined" vector that
  // -Wmaybe-uninitialized reports.
  constexpr __mmask8 kAll = 0xff;
  const __m512i prev = _mm512_maskz_alignr_epi64(kAll, cur, last, 7);  // lane i: cur[i - 1]
  return _mm512_or_si512(_mm512_maskz_slli_epi64(kAll, cur, K),
                         _mm512_maskz_srli_epi64(kAll, prev, 64 - K));
}

// The 8 masks as the 8 lanes of a vector, built from 8-byte pieces (a 64-byte load of
// 8-byte stores just made would wait for them: no store forwarding).
[[gnu::target("avx512bw"), gnu::always_inline]] inline __m512i lanes8(
    const uint64_t (&x)[8]) noexcept {
  __m128i q[4];
  for (int j = 0; j < 4; ++j)
    q[j] = _mm_insert_epi64(_mm_cvtsi64_si128(static_cast<long long>(x[2 * j])),
                            static_cast<long long>(x[2 * j + 1]), 1);
  const __m256i lo = _mm256_inserti128_si256(_mm256_zextsi128_si256(q[0]), q[1], 1);
  const __m256i hi = _mm256_inserti128_si256(_mm256_zextsi128_si256(q[2]), q[3], 1);
  const __m512i low = _mm512_maskz_inserti64x4(0xff, _mm512_setzero_si512(), lo, 0);
  return _mm512_maskz_inserti64x4(0xff, low, hi, 1);
}

// One group of up to 512 bytes (m = its length): returns the offset of the run found (a hit),
// or n after updating run_start and the carried masks.
[[gnu::target("avx512bw"), gnu::always_inline]] inline std::size_t skip_group_avx512(
    const uint8_t* p, std::size_t at, std::size_t m, std::size_t n, Avx512Group& g,
    std::size_t& run_start) noexcept {
  alignas(64) uint64_t b[8], d[8], h[8];
  if (m == 512) {
#pragma GCC unroll 8
    for (std::size_t j = 0; j < 8; ++j) {
      const Classes c = Avx512Classify{}(p + at + 64 * j, 64);
      b[j] = c.b64, d[j] = c.nd;
    }
  } else {
    for (std::size_t j = 0; j < 8; ++j) {
      const std::size_t off = 64 * j;
      const Classes c = off < m ? Avx512Classify{}(p + at + off, m - off) : Classes{};
      b[j] = c.b64, d[j] = c.nd;
    }
  }
  const __m512i vb = lanes8(b), vd = lanes8(d);
  const __m512i a1 = _mm512_and_si512(vb, up8<1>(vb, g.m));
  const __m512i a2 = _mm512_and_si512(a1, up8<2>(a1, g.w1));
  const __m512i a4 = _mm512_and_si512(a2, up8<4>(a2, g.w2));
  const __m512i a8 = _mm512_and_si512(a4, up8<8>(a4, g.w4));
  const __m512i d1 = _mm512_or_si512(vd, up8<1>(vd, g.nd));
  const __m512i d2 = _mm512_or_si512(d1, up8<2>(d1, g.n1));
  const __m512i d4 = _mm512_or_si512(d2, up8<4>(d2, g.n2));
  const __m512i d8 = _mm512_or_si512(d4, up8<8>(d4, g.n4));
  const __m512i hit = _mm512_and_si512(a8, d8);  // no hit past m: no base64 byte there
  const __mmask8 lanes = _mm512_test_epi64_mask(hit, hit);
  if (lanes != 0) {  // the run holding the lowest hit starts after the last gap before it
    _mm512_store_si512(h, hit);
    const auto j = static_cast<std::size_t>(std::countr_zero(static_cast<unsigned>(lanes)));
    std::size_t start = after_gap(~b[j] & ((h[j] & (0 - h[j])) - 1), at + 64 * j, n);
    for (std::size_t k = j; start == n && k-- > 0;) start = after_gap(~b[k], at + 64 * k, n);
    return start == n ? run_start : start;
  }
  for (std::size_t j = (m + 63) / 64; j-- > 0;) {  // the last gap (bytes past m are none)
    const std::size_t len = std::min<std::size_t>(64, m - 64 * j);
    const uint64_t gaps = ~b[j] & (len == 64 ? ~uint64_t{0} : (uint64_t{1} << len) - 1);
    if (gaps != 0) {
      run_start = after_gap(gaps, at + 64 * j, run_start);
      break;
    }
  }
  g = Avx512Group{vb, a1, a2, a4, vd, d1, d2, d4};
  return n;
}

[[gnu::target("avx512bw"), gnu::flatten]] std::size_t skip_plain_avx512(const uint8_t* p,
                                                                        std::size_t n) noexcept {
  if (n < 256) return skip_plain_with(p, n, Avx512Classify{});
  const __m512i zero = _mm512_setzero_si512();
  Avx512Group g{zero, zero, zero, zero, zero, zero, zero, zero};
  std::size_t run_start = 0;
  for (std::size_t at = 0; at < n; at += 512) {
    const std::size_t hit =
        skip_group_avx512(p, at, std::min<std::size_t>(512, n - at), n, g, run_start);
    if (hit != n) return hit;
  }
  return run_start < n ? run_start : n;
}
[[gnu::target("avx512bw"), gnu::flatten]] std::size_t run_length_avx512(const uint8_t* p,
                                                                        std::size_t n) noexcept {
  return run_length_with(p, n, Avx512Classify{});
}
#endif

// Per 64-byte block, bit k of `a` / `b` when p[k] is the byte a / b (n <= 64; bits >= n clear).
struct Pair {
  uint64_t a = 0, b = 0;
};

[[gnu::always_inline]] inline Pair pair_baseline(const uint8_t* p, std::size_t n, uint8_t a,
                                                 uint8_t b) noexcept {
  Pair m;
  std::size_t k = 0;
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(static_cast<char>(a)), vb = _mm_set1_epi8(static_cast<char>(b));
  for (; k + 16 <= n; k += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k));
    m.a |= uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, va)))} << k;
    m.b |= uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, vb)))} << k;
  }
#endif
  for (; k < n; ++k) {
    m.a |= uint64_t{p[k] == a} << k;
    m.b |= uint64_t{p[k] == b} << k;
  }
  return m;
}

#if defined(DC_BASE64_X86)
[[gnu::target("avx2"), gnu::always_inline]] inline Pair pair_avx2(const uint8_t* p, std::size_t n,
                                                                  uint8_t a, uint8_t b) noexcept {
  if (n < 64) return pair_baseline(p, n, a, b);
  const __m256i va = _mm256_set1_epi8(static_cast<char>(a));
  const __m256i vb = _mm256_set1_epi8(static_cast<char>(b));
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  const auto a_lo = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, va)));
  const auto a_hi = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, va)));
  const auto b_lo = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, vb)));
  const auto b_hi = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, vb)));
  return Pair{a_lo | uint64_t{a_hi} << 32, b_lo | uint64_t{b_hi} << 32};
}

[[gnu::target("avx512bw"), gnu::always_inline]] inline Pair pair_avx512(const uint8_t* p,
                                                                        std::size_t n, uint8_t a,
                                                                        uint8_t b) noexcept {
  const __mmask64 load = n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
  const __m512i x = _mm512_maskz_loadu_epi8(load, p);
  return Pair{_mm512_mask_cmpeq_epi8_mask(load, x, _mm512_set1_epi8(static_cast<char>(a))),
              _mm512_mask_cmpeq_epi8_mask(load, x, _mm512_set1_epi8(static_cast<char>(b)))};
}
#endif

// Offset of the first `stop` byte in p[0..n) (n when none); `count` gets the parity of the
// `counted` bytes before it added (bit 0).
template <class PairFn>
[[gnu::always_inline]] inline std::size_t stop_and_parity_with(const uint8_t* p, std::size_t n,
                                                               uint8_t stop, uint8_t counted,
                                                               unsigned& count,
                                                               PairFn pair) noexcept {
  for (std::size_t at = 0; at < n; at += 64) {
    const std::size_t len = std::min<std::size_t>(64, n - at);
    const Pair m = pair(p + at, len, stop, counted);
    if (m.a != 0) {
      count += static_cast<unsigned>(std::popcount(m.b & ((m.a & (0 - m.a)) - 1)));
      return at + static_cast<std::size_t>(std::countr_zero(m.a));
    }
    count += static_cast<unsigned>(std::popcount(m.b));
  }
  return n;
}

// Offset of the first byte a or b in p[0..n) (n when none).
template <class PairFn>
[[gnu::always_inline]] inline std::size_t find_either_with(const uint8_t* p, std::size_t n,
                                                           uint8_t a, uint8_t b,
                                                           PairFn pair) noexcept {
  for (std::size_t at = 0; at < n; at += 64) {
    const Pair m = pair(p + at, std::min<std::size_t>(64, n - at), a, b);
    if ((m.a | m.b) != 0) return at + static_cast<std::size_t>(std::countr_zero(m.a | m.b));
  }
  return n;
}

#if defined(DC_BASE64_X86)
[[gnu::target("avx2"), gnu::flatten]] std::size_t stop_and_parity_avx2(const uint8_t* p,
                                                                       std::size_t n, uint8_t s,
                                                                       uint8_t c,
                                                                       unsigned& count) noexcept {
  return stop_and_parity_with(p, n, s, c, count, pair_avx2);
}
[[gnu::target("avx512bw"), gnu::flatten]] std::size_t stop_and_parity_avx512(
    const uint8_t* p, std::size_t n, uint8_t s, uint8_t c, unsigned& count) noexcept {
  return stop_and_parity_with(p, n, s, c, count, pair_avx512);
}
[[gnu::target("avx2"), gnu::flatten]] std::size_t find_either_avx2(const uint8_t* p, std::size_t n,
                                                                   uint8_t a, uint8_t b) noexcept {
  return find_either_with(p, n, a, b, pair_avx2);
}
[[gnu::target("avx512bw"), gnu::flatten]] std::size_t find_either_avx512(const uint8_t* p,
                                                                         std::size_t n, uint8_t a,
                                                                         uint8_t b) noexcept {
  return find_either_with(p, n, a, b, pair_avx512);
}
#endif

}  // namespace

std::size_t skip_plain_runs(const uint8_t* p, std::size_t n) noexcept {
#if defined(DC_BASE64_X86)
  if (kIsa == Isa::kAvx512) return skip_plain_avx512(p, n);
  if (kIsa == Isa::kAvx2) return skip_plain_avx2(p, n);
#endif
  return skip_plain_with(p, n, BaselineClassify{});
}

std::size_t base64_run_length(const uint8_t* p, std::size_t n) noexcept {
#if defined(DC_BASE64_X86)
  if (kIsa == Isa::kAvx512) return run_length_avx512(p, n);
  if (kIsa == Isa::kAvx2) return run_length_avx2(p, n);
#endif
  return run_length_with(p, n, BaselineClassify{});
}

namespace text_detail {

std::size_t stop_and_parity(const uint8_t* p, std::size_t n, uint8_t stop, uint8_t counted,
                            unsigned& count) noexcept {
#if defined(DC_BASE64_X86)
  if (kIsa == Isa::kAvx512) return stop_and_parity_avx512(p, n, stop, counted, count);
  if (kIsa == Isa::kAvx2) return stop_and_parity_avx2(p, n, stop, counted, count);
#endif
  return stop_and_parity_with(p, n, stop, counted, count, pair_baseline);
}

std::size_t find_either(const uint8_t* p, std::size_t n, uint8_t a, uint8_t b) noexcept {
#if defined(DC_BASE64_X86)
  if (kIsa == Isa::kAvx512) return find_either_avx512(p, n, a, b);
  if (kIsa == Isa::kAvx2) return find_either_avx2(p, n, a, b);
#endif
  return find_either_with(p, n, a, b, pair_baseline);
}

unsigned base64_scan_isas() noexcept {
#if defined(DC_BASE64_X86)
  return kIsa == Isa::kAvx512 ? 7u : kIsa == Isa::kAvx2 ? 3u : 1u;
#else
  return 1u;
#endif
}

std::size_t skip_plain_runs_on(unsigned isa, const uint8_t* p, std::size_t n) noexcept {
#if defined(DC_BASE64_X86)
  if (isa == 2 && (base64_scan_isas() & 4u) != 0) return skip_plain_avx512(p, n);
  if (isa == 1 && (base64_scan_isas() & 2u) != 0) return skip_plain_avx2(p, n);
#endif
  return skip_plain_with(p, n, BaselineClassify{});
}

std::size_t stop_and_parity_on(unsigned isa, const uint8_t* p, std::size_t n, uint8_t stop,
                               uint8_t counted, unsigned& count) noexcept {
#if defined(DC_BASE64_X86)
  if (isa == 2 && (base64_scan_isas() & 4u) != 0)
    return stop_and_parity_avx512(p, n, stop, counted, count);
  if (isa == 1 && (base64_scan_isas() & 2u) != 0)
    return stop_and_parity_avx2(p, n, stop, counted, count);
#endif
  return stop_and_parity_with(p, n, stop, counted, count, pair_baseline);
}

std::size_t find_either_on(unsigned isa, const uint8_t* p, std::size_t n, uint8_t a,
                           uint8_t b) noexcept {
#if defined(DC_BASE64_X86)
  if (isa == 2 && (base64_scan_isas() & 4u) != 0) return find_either_avx512(p, n, a, b);
  if (isa == 1 && (base64_scan_isas() & 2u) != 0) return find_either_avx2(p, n, a, b);
#endif
  return find_either_with(p, n, a, b, pair_baseline);
}

std::size_t base64_run_length_on(unsigned isa, const uint8_t* p, std::size_t n) noexcept {
#if defined(DC_BASE64_X86)
  if (isa == 2 && (base64_scan_isas() & 4u) != 0) return run_length_avx512(p, n);
  if (isa == 1 && (base64_scan_isas() & 2u) != 0) return run_length_avx2(p, n);
#endif
  return run_length_with(p, n, BaselineClassify{});
}

}  // namespace text_detail

}  // namespace dc::inspect::decoding
