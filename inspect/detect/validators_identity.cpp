// Validators for identity documents: PRC resident ID (GB 11643), USCC (GB 32100 + GB 11714),
// passports, ICAO 9303 MRZ, travel permits, Hong Kong ID, Taiwan ID. Pure functions.
#include "inspect/detect/validators.hpp"
#include "inspect/detect/validators_util.hpp"

namespace dc::inspect {

using namespace detail;  // NOLINT: digit helpers

// ---- GB 11643 ------------------------------------------------------------------------------

char gb11643_check_char(Bytes body) noexcept {
  // GB 11643-1999 §8.2 / ISO 7064 MOD 11-2: W_i = 2^(17-i) mod 11.
  static constexpr std::array<uint8_t, 17> kW{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kMap[] = "10X98765432";
  const long s =
      weighted_sum(body, kW, [](uint8_t b) { return is_digit(b) ? int{digit_value(b)} : -1; });
  return s < 0 ? 0 : kMap[s % 11];
}

namespace {
// GB/T 2260 province-level codes of the mainland.
bool mainland_province(int p) noexcept {
  return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
         (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65);
}
}  // namespace

bool gb11643_region_ok(uint8_t d0, uint8_t d1) noexcept {
  if (!is_digit(d0) || !is_digit(d1)) return false;
  const int p = digit_value(d0) * 10 + digit_value(d1);
  // 71 Taiwan; 81/82/83 HK/Macao/Taiwan residence permits. A leading 9 is the 2023 foreign
  // permanent-residence card: its prefix is checked by foreign_pr_prefix_ok().
  return mainland_province(p) || p == 71 || (p >= 81 && p <= 83);
}

bool foreign_pr_prefix_ok(Bytes v) noexcept {
  if (v.size() < 6 || v[0] != '9' || !all_digits(v.first(6))) return false;
  // 9, the two-digit code of the province that issued it, a three-digit nationality code
  // (ISO 3166-1 numeric: 004 Afghanistan .. 894 Zambia; never 156, China).
  const unsigned nationality = num(v, 3, 3);
  return mainland_province(static_cast<int>(num(v, 1, 2))) && nationality >= 4 &&
         nationality <= 894 && nationality != 156;
}

Check validate_cn_resident_id(Bytes v, CivilDate today) noexcept {
  if (v.size() != 18) return Check::kLength;
  if (!all_digits(v.first(17))) return Check::kFormat;
  uint8_t last = v[17];
  if (last == 'x') last = 'X';
  if (!is_digit(last) && last != 'X') return Check::kFormat;
  const bool foreign_pr = v[0] == '9';  // its prefix is judged last (after the check character)
  if (!foreign_pr && !gb11643_region_ok(v[0], v[1])) return Check::kRegion;
  const unsigned y = num(v, 6, 4), m = num(v, 10, 2), d = num(v, 12, 2);
  if (y < 1800 || !base::valid_date(y, m, d)) return Check::kDate;
  if (CivilDate{static_cast<uint16_t>(y), static_cast<uint8_t>(m), static_cast<uint8_t>(d)} > today)
    return Check::kDate;
  if (gb11643_check_char(v) != static_cast<char>(last)) return Check::kChecksum;
  return foreign_pr && !foreign_pr_prefix_ok(v) ? Check::kRegion : Check::kValid;
}

// ---- GB 32100 / GB 11714 -------------------------------------------------------------------

namespace {
constexpr std::string_view kUsccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
int uscc_value(uint8_t b) noexcept {
  size_t p = kUsccAlphabet.find(static_cast<char>(b));
  return p == std::string_view::npos ? -1 : static_cast<int>(p);
}
}  // namespace

char gb32100_check_char(Bytes body) noexcept {
  // GB 32100-2015 §4.3: W_i = 3^(i-1) mod 31; C18 = 31 - (sum mod 31), 31 -> 0.
  static constexpr std::array<uint8_t, 17> kW{1,  3,  9,  27, 19, 26, 16, 17, 20,
                                              29, 25, 13, 8,  24, 10, 30, 28};
  const long s = weighted_sum(body, kW, uscc_value);
  if (s < 0) return 0;
  unsigned c = 31 - static_cast<unsigned>(s % 31);
  if (c == 31) c = 0;
  return kUsccAlphabet[c];
}

char gb11714_check_char(Bytes body) noexcept {
  // GB 11714-1997 §5: weights 3 7 9 10 5 8 4 2; C9 = 11 - (sum mod 11), 10 -> X, 11 -> 0.
  static constexpr std::array<uint8_t, 8> kW{3, 7, 9, 10, 5, 8, 4, 2};
  const long s = weighted_sum(body, kW, alnum_value);
  if (s < 0) return 0;
  unsigned c = 11 - static_cast<unsigned>(s % 11);
  if (c == 10) return 'X';
  if (c == 11) return '0';
  return static_cast<char>('0' + c);
}

Check validate_uscc(Bytes v) noexcept {
  if (v.size() != 18) return Check::kLength;
  for (size_t i = 0; i < 18; ++i)
    if (uscc_value(v[i]) < 0) return Check::kFormat;
  if (!all_digits(v.subspan(2, 6))) return Check::kFormat;  // chars 3-8: GB/T 2260 division code
  if (gb32100_check_char(v) != static_cast<char>(v[17])) return Check::kChecksum;
  if (gb11714_check_char(v.subspan(8, 8)) != static_cast<char>(v[16])) return Check::kOrgCode;
  return Check::kValid;
}

// ---- Passports, MRZ, permits ---------------------------------------------------------------

int icao9303_check_digit(Bytes f) noexcept {
  static constexpr std::array<uint8_t, 3> kW{7, 3, 1};
  unsigned s = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    int v = f[i] == '<' ? 0 : alnum_value(f[i]);
    if (v < 0) return -1;
    s += v * kW[i % 3];
  }
  return static_cast<int>(s % 10);
}

namespace {
bool letter_not_io(uint8_t b) noexcept { return is_upper(b) && b != 'I' && b != 'O'; }
}  // namespace

Check validate_cn_passport(Bytes v) noexcept {
  if (v.size() != 9) return Check::kLength;
  const uint8_t a = v[0], b = v[1];
  if (a == 'E' && letter_not_io(b))
    return all_digits(v.subspan(2)) ? Check::kValid : Check::kFormat;
  if ((a == 'E' || a == 'G' || a == 'K') && all_digits(v.subspan(1))) return Check::kValid;
  if (((a == 'D' || a == 'S' || a == 'P') && b == 'E') || (a == 'M' && b == 'A'))
    return all_digits(v.subspan(2)) ? Check::kValid : Check::kFormat;
  return Check::kFormat;
}

Check validate_mrz_td3_chn(Bytes v) noexcept {
  // ICAO 9303 Part 4 §4.2.2 (TD3 line 2): 0-8 number, 9 check, 10-12 nationality, 13-18 birth
  // date, 19 check, 20 sex, 21-26 expiry, 27 check.
  if (v.size() != 28) return Check::kLength;
  if (!equals(v.subspan(10, 3), "CHN")) return Check::kFormat;
  if (!all_digits(v.subspan(13, 6)) || !all_digits(v.subspan(21, 6))) return Check::kFormat;
  if (!(v[20] == 'M' || v[20] == 'F' || v[20] == '<')) return Check::kFormat;
  if (!is_digit(v[9]) || !is_digit(v[19]) || !is_digit(v[27])) return Check::kFormat;
  if (icao9303_check_digit(v.subspan(0, 9)) != digit_value(v[9])) return Check::kChecksum;
  if (icao9303_check_digit(v.subspan(13, 6)) != digit_value(v[19])) return Check::kChecksum;
  if (icao9303_check_digit(v.subspan(21, 6)) != digit_value(v[27])) return Check::kChecksum;
  return Check::kValid;
}

Check validate_hkmo_permit(Bytes v) noexcept {
  if (v.empty()) return Check::kLength;
  if (v[0] == 'C') {
    if (v.size() != 9) return Check::kLength;
    if (all_digits(v.subspan(1))) return Check::kValid;
    return letter_not_io(v[1]) && all_digits(v.subspan(2)) ? Check::kValid : Check::kFormat;
  }
  if (v[0] == 'H' || v[0] == 'M') {
    if (v.size() != 9 && v.size() != 11) return Check::kLength;
    return all_digits(v.subspan(1)) ? Check::kValid : Check::kFormat;
  }
  return Check::kFormat;
}

Check validate_tw_permit(Bytes v) noexcept {
  if (v.size() != 9) return Check::kLength;
  return v[0] == 'L' && all_digits(v.subspan(1)) ? Check::kValid : Check::kFormat;
}

// ---- HKID / Taiwan ID ----------------------------------------------------------------------

Check validate_hkid(Bytes v) noexcept {
  // Strip an optional "(c)" around the check character.
  uint8_t body[9];
  size_t n = 0;
  if (v.size() >= 3 && v.back() == ')' && v[v.size() - 3] == '(') {
    if (v.size() - 3 + 1 > 9) return Check::kLength;
    for (size_t i = 0; i + 3 < v.size(); ++i) body[n++] = v[i];
    body[n++] = v[v.size() - 2];
  } else {
    if (v.size() > 9) return Check::kLength;
    for (uint8_t b : v) body[n++] = b;
  }
  if (n != 8 && n != 9) return Check::kLength;
  const size_t letters = n - 7;
  for (size_t i = 0; i < letters; ++i)
    if (!is_upper(body[i])) return Check::kFormat;
  for (size_t i = letters; i < letters + 6; ++i)
    if (!is_digit(body[i])) return Check::kFormat;
  const uint8_t c = body[n - 1];
  if (!is_digit(c) && c != 'A') return Check::kFormat;
  unsigned s = letters == 1 ? 36 * 9 : 0;  // a single letter is padded with a space worth 36
  unsigned w = letters == 1 ? 8 : 9;
  for (size_t i = 0; i + 1 < n; ++i, --w) s += alnum_value(body[i]) * w;
  const unsigned check = (11 - s % 11) % 11;
  const uint8_t expect = check == 10 ? 'A' : static_cast<uint8_t>('0' + check);
  return c == expect ? Check::kValid : Check::kChecksum;
}

Check validate_tw_id(Bytes v) noexcept {
  if (v.size() != 10) return Check::kLength;
  static constexpr std::string_view kOrder = "ABCDEFGHJKLMNPQRSTUVXYWZIO";
  size_t li = kOrder.find(static_cast<char>(v[0]));
  if (li == std::string_view::npos) return Check::kFormat;
  if (!(v[1] == '1' || v[1] == '2')) return Check::kFormat;
  if (!all_digits(v.subspan(1))) return Check::kFormat;
  const unsigned n = static_cast<unsigned>(li) + 10;
  static constexpr std::array<uint8_t, 9> kW{8, 7, 6, 5, 4, 3, 2, 1, 1};
  unsigned s = (n / 10) * 1 + (n % 10) * 9;
  for (size_t i = 0; i < 9; ++i) s += digit_value(v[i + 1]) * kW[i];
  return s % 10 == 0 ? Check::kValid : Check::kChecksum;
}

}  // namespace dc::inspect
