#pragma once
// Small digit/letter helpers shared by the validator families (validators_*.cpp). Internal to
// inspect/detect; pure, noexcept.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "inspect/detect/validators.hpp"

namespace dc::inspect::detail {

constexpr int digit_value(uint8_t b) noexcept { return b - '0'; }

// ISO 7064 / ICAO / GB 11714 letter values: A=10 ... Z=35.
constexpr int alnum_value(uint8_t b) noexcept {
  if (is_digit(b)) return b - '0';
  if (is_upper(b)) return b - 'A' + 10;
  return -1;
}

// The weighted sum of the first N characters of `body` (ISO 7064-style check characters):
// sum of value(c_i) * w_i, or -1 when `body` is short or a character has no value (value < 0).
template <std::size_t N, class ValueFn>
inline long weighted_sum(Bytes body, const std::array<uint8_t, N>& w, ValueFn value) noexcept {
  if (body.size() < N) return -1;
  long s = 0;
  for (std::size_t i = 0; i < N; ++i) {
    const int v = value(body[i]);
    if (v < 0) return -1;
    s += static_cast<long>(v) * w[i];
  }
  return s;
}

inline bool all_digits(Bytes v) noexcept {
  for (uint8_t b : v)
    if (!is_digit(b)) return false;
  return true;
}

inline bool equals(Bytes v, std::string_view s) noexcept {
  if (v.size() != s.size()) return false;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != static_cast<uint8_t>(s[i])) return false;
  return true;
}

inline unsigned num(Bytes v, size_t pos, size_t n) noexcept {
  unsigned r = 0;
  for (size_t i = 0; i < n; ++i) r = r * 10 + digit_value(v[pos + i]);
  return r;
}

}  // namespace dc::inspect::detail
