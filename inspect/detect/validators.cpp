#include "inspect/detect/validators.hpp"

#include <array>

namespace dc::inspect {
namespace {

constexpr int digit_value(uint8_t b) noexcept { return b - '0'; }

// ISO 7064 / ICAO / GB 11714 letter values: A=10 ... Z=35.
constexpr int alnum_value(uint8_t b) noexcept {
  if (is_digit(b)) return b - '0';
  if (is_upper(b)) return b - 'A' + 10;
  return -1;
}

bool all_digits(Bytes v) noexcept {
  for (uint8_t b : v)
    if (!is_digit(b)) return false;
  return true;
}

bool equals(Bytes v, std::string_view s) noexcept {
  if (v.size() != s.size()) return false;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != static_cast<uint8_t>(s[i])) return false;
  return true;
}

unsigned num(Bytes v, size_t pos, size_t n) noexcept {
  unsigned r = 0;
  for (size_t i = 0; i < n; ++i) r = r * 10 + digit_value(v[pos + i]);
  return r;
}

}  // namespace

std::string_view to_string(Confidence c) noexcept {
  switch (c) {
    case Confidence::kVeryUnlikely:
      return "very_unlikely";
    case Confidence::kUnlikely:
      return "unlikely";
    case Confidence::kPossible:
      return "possible";
    case Confidence::kLikely:
      return "likely";
    case Confidence::kVeryLikely:
      return "very_likely";
  }
  return "?";
}

bool parse_confidence(std::string_view s, Confidence* out) noexcept {
  for (int i = 0; i <= static_cast<int>(Confidence::kVeryLikely); ++i) {
    if (to_string(static_cast<Confidence>(i)) == s) {
      *out = static_cast<Confidence>(i);
      return true;
    }
  }
  return false;
}

Confidence shift(Confidence c, int delta) noexcept {
  int v = static_cast<int>(c) + delta;
  if (v < 0) v = 0;
  if (v > static_cast<int>(Confidence::kVeryLikely)) v = static_cast<int>(Confidence::kVeryLikely);
  return static_cast<Confidence>(v);
}

std::string_view to_string(Check c) noexcept {
  switch (c) {
    case Check::kValid:
      return "valid";
    case Check::kFormat:
      return "format";
    case Check::kLength:
      return "length";
    case Check::kChecksum:
      return "checksum";
    case Check::kDate:
      return "date";
    case Check::kRegion:
      return "region";
    case Check::kOrgCode:
      return "org-code";
    case Check::kOutOfRange:
      return "out-of-range";
    case Check::kBlacklist:
      return "blacklist";
  }
  return "?";
}

// ---- GB 11643 ------------------------------------------------------------------------------

char gb11643_check_char(Bytes body) noexcept {
  // GB 11643-1999 §8.2 / ISO 7064 MOD 11-2: W_i = 2^(17-i) mod 11.
  static constexpr std::array<uint8_t, 17> kW{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kMap[] = "10X98765432";
  if (body.size() < 17) return 0;
  unsigned s = 0;
  for (size_t i = 0; i < 17; ++i) {
    if (!is_digit(body[i])) return 0;
    s += digit_value(body[i]) * kW[i];
  }
  return kMap[s % 11];
}

bool gb11643_region_ok(uint8_t d0, uint8_t d1) noexcept {
  if (!is_digit(d0) || !is_digit(d1)) return false;
  if (d0 == '9') return true;  // foreign permanent resident (2023 card), same MOD 11-2
  const int p = digit_value(d0) * 10 + digit_value(d1);
  // GB/T 2260 province-level codes; 71 Taiwan; 81/82/83 HK/Macao/Taiwan residence permits.
  return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
         (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 ||
         (p >= 81 && p <= 83);
}

Check validate_cn_resident_id(Bytes v, CivilDate today) noexcept {
  if (v.size() != 18) return Check::kLength;
  if (!all_digits(v.first(17))) return Check::kFormat;
  uint8_t last = v[17];
  if (last == 'x') last = 'X';
  if (!is_digit(last) && last != 'X') return Check::kFormat;
  if (!gb11643_region_ok(v[0], v[1])) return Check::kRegion;
  const unsigned y = num(v, 6, 4), m = num(v, 10, 2), d = num(v, 12, 2);
  if (y < 1800 || !base::valid_date(y, m, d)) return Check::kDate;
  if (CivilDate{static_cast<uint16_t>(y), static_cast<uint8_t>(m), static_cast<uint8_t>(d)} > today)
    return Check::kDate;
  return gb11643_check_char(v) == static_cast<char>(last) ? Check::kValid : Check::kChecksum;
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
  if (body.size() < 17) return 0;
  unsigned s = 0;
  for (size_t i = 0; i < 17; ++i) {
    int v = uscc_value(body[i]);
    if (v < 0) return 0;
    s += v * kW[i];
  }
  unsigned c = 31 - s % 31;
  if (c == 31) c = 0;
  return kUsccAlphabet[c];
}

char gb11714_check_char(Bytes body) noexcept {
  // GB 11714-1997 §5: weights 3 7 9 10 5 8 4 2; C9 = 11 - (sum mod 11), 10 -> X, 11 -> 0.
  static constexpr std::array<uint8_t, 8> kW{3, 7, 9, 10, 5, 8, 4, 2};
  if (body.size() < 8) return 0;
  unsigned s = 0;
  for (size_t i = 0; i < 8; ++i) {
    int v = alnum_value(body[i]);
    if (v < 0) return 0;
    s += v * kW[i];
  }
  unsigned c = 11 - s % 11;
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

// ---- ISO 7812 cards ------------------------------------------------------------------------

std::string_view to_string(CardBrand b) noexcept {
  switch (b) {
    case CardBrand::kNone:
      return "none";
    case CardBrand::kUnionPay:
      return "unionpay";
    case CardBrand::kVisa:
      return "visa";
    case CardBrand::kMastercard:
      return "mastercard";
    case CardBrand::kAmex:
      return "amex";
    case CardBrand::kDiscover:
      return "discover";
    case CardBrand::kJcb:
      return "jcb";
    case CardBrand::kDiners:
      return "diners";
  }
  return "?";
}

bool luhn_valid(Bytes d) noexcept {
  // ISO/IEC 7812-1 Annex B (Luhn): double every second digit from the right.
  if (d.empty()) return false;
  unsigned s = 0;
  bool dbl = false;
  for (size_t i = d.size(); i-- > 0;) {
    if (!is_digit(d[i])) return false;
    unsigned x = digit_value(d[i]);
    if (dbl) {
      x *= 2;
      if (x > 9) x -= 9;
    }
    s += x;
    dbl = !dbl;
  }
  return s % 10 == 0;
}

CardBrand card_brand(Bytes d) noexcept {
  const size_t n = d.size();
  if (n < 12 || n > 19 || !all_digits(d)) return CardBrand::kNone;
  const unsigned p2 = num(d, 0, 2), p3 = num(d, 0, 3), p4 = num(d, 0, 4);
  if (p2 == 62) return n >= 16 ? CardBrand::kUnionPay : CardBrand::kNone;
  if (d[0] == '4') return (n == 13 || n == 16 || n == 19) ? CardBrand::kVisa : CardBrand::kNone;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
    return n == 16 ? CardBrand::kMastercard : CardBrand::kNone;
  if (p2 == 34 || p2 == 37) return n == 15 ? CardBrand::kAmex : CardBrand::kNone;
  if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65)
    return n >= 16 ? CardBrand::kDiscover : CardBrand::kNone;
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 ? CardBrand::kJcb : CardBrand::kNone;
  if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39)
    return n >= 14 ? CardBrand::kDiners : CardBrand::kNone;
  return CardBrand::kNone;
}

bool is_test_card(Bytes d) noexcept {
  // Public sandbox numbers (Stripe, Adyen, PayPal/Braintree docs). They appear in source code,
  // fixtures and logs far more often than as real cards.
  static constexpr std::string_view kTest[] = {
      "4111111111111111", "4012888888881881", "4222222222222",       "4242424242424242",
      "4000056655665556", "4000000000000002", "4917610000000000",    "5555555555554444",
      "5105105105105100", "5200828282828210", "2223003122003222",    "2223000048400011",
      "378282246310005",  "371449635398431",  "378734493671000",     "6011111111111117",
      "6011000990139424", "6011000000000004", "3530111333300000",    "3566002020360505",
      "3566111111111113", "30569309025904",   "38520000023237",      "36227206271667",
      "6200000000000005", "6200000000000047", "6205500000000000004", "6250941006528599",
  };
  for (auto t : kTest)
    if (equals(d, t)) return true;
  return false;
}

CardCheck validate_card(Bytes d) noexcept {
  CardCheck r;
  if (!all_digits(d) || d.empty()) return r;
  r.brand = card_brand(d);
  if (r.brand == CardBrand::kNone) {
    r.check = Check::kRegion;
    return r;
  }
  if (!luhn_valid(d)) {
    r.check = Check::kChecksum;
    return r;
  }
  r.check = Check::kValid;
  r.test_number = is_test_card(d);
  return r;
}

// ---- PRC mobile ----------------------------------------------------------------------------

bool cn_mobile_prefix_ok(Bytes p) noexcept {
  if (p.size() < 3 || p[0] != '1' || !is_digit(p[1]) || !is_digit(p[2])) return false;
  const int a = digit_value(p[1]), b = digit_value(p[2]);
  // MIIT number plan (VincentSit/ChinaMobilePhoneNumberRegex, 2019) + later 162/190/192/193/
  // 195/196/197. 140-144/146/148 are 13-digit IoT ranges, so not 11-digit mobiles.
  switch (a) {
    case 3:
      return true;
    case 4:
      return b == 5 || b == 7 || b == 9;
    case 5:
      return b != 4;
    case 6:
      return b == 2 || b == 5 || b == 6 || b == 7;
    case 7:
      return b <= 8;
    case 8:
      return true;
    case 9:
      return b != 4;
    default:
      return false;
  }
}

Check validate_cn_mobile(Bytes v, uint8_t* out) noexcept {
  size_t i = 0;
  if (v.size() >= 3 && v[0] == '+' && v[1] == '8' && v[2] == '6') {
    i = 3;
  } else if (v.size() >= 4 && v[0] == '0' && v[1] == '0' && v[2] == '8' && v[3] == '6') {
    i = 4;
  }
  if (i > 0 && i < v.size() && (v[i] == ' ' || v[i] == '-')) ++i;
  Bytes r = v.subspan(i);
  uint8_t buf[11];
  if (r.size() == 11) {
    if (!all_digits(r)) return Check::kFormat;
    for (size_t k = 0; k < 11; ++k) buf[k] = r[k];
  } else if (r.size() == 13) {
    // 3-4-4 grouping with one separator kind used twice.
    if (!(r[3] == ' ' || r[3] == '-') || r[8] != r[3]) return Check::kFormat;
    size_t k = 0;
    for (size_t j = 0; j < 13; ++j) {
      if (j == 3 || j == 8) continue;
      if (!is_digit(r[j])) return Check::kFormat;
      buf[k++] = r[j];
    }
  } else {
    return Check::kLength;
  }
  if (!cn_mobile_prefix_ok(Bytes(buf, 3))) return Check::kRegion;
  if (out)
    for (size_t k = 0; k < 11; ++k) out[k] = buf[k];
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

// ---- E-mail --------------------------------------------------------------------------------

Check validate_email(Bytes v) noexcept {
  size_t at = v.size();
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == '@') {
      if (at != v.size()) return Check::kFormat;  // two '@'
      at = i;
    }
  if (at == v.size() || at == 0 || at > 64) return Check::kFormat;
  for (size_t i = 0; i < at; ++i) {
    uint8_t b = v[i];
    if (!(is_alnum(b) || b == '.' || b == '_' || b == '%' || b == '+' || b == '-'))
      return Check::kFormat;
  }
  if (v[0] == '.' || v[at - 1] == '.') return Check::kFormat;
  Bytes dom = v.subspan(at + 1);
  if (dom.empty() || dom.size() > 253) return Check::kLength;
  size_t labels = 0, start = 0;
  for (size_t i = 0; i <= dom.size(); ++i) {
    if (i == dom.size() || dom[i] == '.') {
      size_t len = i - start;
      if (len == 0 || len > 63) return Check::kFormat;
      if (dom[start] == '-' || dom[i - 1] == '-') return Check::kFormat;
      ++labels;
      if (i == dom.size()) {  // TLD: alphabetic, 2..24 (IANA root zone, no IDN here)
        if (len < 2 || len > 24) return Check::kFormat;
        for (size_t k = start; k < i; ++k)
          if (!is_alpha(dom[k])) return Check::kFormat;
      }
      start = i + 1;
    } else if (!(is_alnum(dom[i]) || dom[i] == '-')) {
      return Check::kFormat;
    }
  }
  return labels >= 2 ? Check::kValid : Check::kFormat;
}

// ---- Coordinates ---------------------------------------------------------------------------

namespace {
// Parses [-]d{1,3}.d{4,10} at v[i...]; value in 1e-4 degrees (truncated). Advances i.
bool parse_degree(Bytes v, size_t& i, long* out) noexcept {
  bool neg = false;
  if (i < v.size() && v[i] == '-') {
    neg = true;
    ++i;
  }
  long ip = 0;
  size_t n = 0;
  while (i < v.size() && is_digit(v[i]) && n < 4) ip = ip * 10 + digit_value(v[i++]), ++n;
  if (n == 0 || n > 3 || i >= v.size() || v[i] != '.') return false;
  ++i;
  long frac = 0;
  size_t f = 0;
  while (i < v.size() && is_digit(v[i])) {
    if (f < 4) frac = frac * 10 + digit_value(v[i]);
    ++f, ++i;
  }
  if (f < 4 || f > 10) return false;
  *out = (ip * 10000 + frac) * (neg ? -1 : 1);
  return true;
}
bool in_box(long lat, long lon, long lat_min) noexcept {
  return lat >= lat_min && lat <= 536000 && lon >= 734000 && lon <= 1351000;
}
}  // namespace

Check validate_cn_coordinates(Bytes v, bool* mainland) noexcept {
  size_t i = 0;
  long a = 0, b = 0;
  if (!parse_degree(v, i, &a)) return Check::kFormat;
  while (i < v.size() && v[i] == ' ') ++i;
  if (i >= v.size() || v[i] != ',') return Check::kFormat;
  ++i;
  while (i < v.size() && v[i] == ' ') ++i;
  if (!parse_degree(v, i, &b) || i != v.size()) return Check::kFormat;
  // Wide box: lat 3.8-53.6 N (incl. the South China Sea islands), lon 73.4-135.1 E.
  // Mainland-only box: lat >= 18.0 (Hainan's southern tip).
  const bool wide = in_box(a, b, 38000) || in_box(b, a, 38000);
  if (mainland) *mainland = in_box(a, b, 180000) || in_box(b, a, 180000);
  return wide ? Check::kValid : Check::kOutOfRange;
}

// ---- IBAN ----------------------------------------------------------------------------------

unsigned iban_length(uint8_t c0, uint8_t c1) noexcept {
  // ISO 13616 IBAN registry (SWIFT, release 2024): the countries our trade traffic carries.
  struct Entry {
    char cc[3];
    uint8_t len;
  };
  static constexpr Entry kTable[] = {
      {"AD", 24}, {"AE", 23}, {"AT", 20}, {"BE", 16}, {"BG", 22}, {"BH", 22}, {"BR", 29},
      {"CH", 21}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DK", 18}, {"EE", 20}, {"EG", 29},
      {"ES", 24}, {"FI", 18}, {"FR", 27}, {"GB", 22}, {"GI", 23}, {"GR", 27}, {"HR", 21},
      {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30},
      {"KZ", 20}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MT", 31},
      {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24}, {"PL", 28}, {"PT", 25}, {"QA", 29},
      {"RO", 24}, {"SA", 24}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"TR", 26}, {"UA", 29},
  };
  for (const auto& e : kTable)
    if (e.cc[0] == c0 && e.cc[1] == c1) return e.len;
  return 0;
}

Check validate_iban(Bytes v) noexcept {
  uint8_t c[34];
  size_t n = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == ' ') {
      // ISO 13616-1 §5: the paper format groups by four; allow a single space between groups.
      if (n == 0 || n % 4 != 0 || i + 1 >= v.size() || v[i + 1] == ' ') return Check::kFormat;
      continue;
    }
    if (n >= 34) return Check::kLength;
    c[n++] = v[i];
  }
  if (n < 5 || !is_upper(c[0]) || !is_upper(c[1]) || !is_digit(c[2]) || !is_digit(c[3]))
    return Check::kFormat;
  const unsigned want = iban_length(c[0], c[1]);
  if (want == 0) return Check::kRegion;
  if (n != want) return Check::kLength;
  // ISO 7064 MOD 97-10 over BBAN + country + check, letters as two digits; incremental mod.
  unsigned r = 0;
  for (size_t k = 0; k < n; ++k) {
    const uint8_t b = c[(k + 4) % n];
    const int val = alnum_value(b);
    if (val < 0) return Check::kFormat;
    r = val >= 10 ? (r * 100 + val) % 97 : (r * 10 + val) % 97;
  }
  return r == 1 ? Check::kValid : Check::kChecksum;
}

// ---- US SSN --------------------------------------------------------------------------------

Check validate_us_ssn(Bytes v) noexcept {
  if (v.size() != 11 || v[3] != '-' || v[6] != '-') return Check::kFormat;
  if (!all_digits(v.subspan(0, 3)) || !all_digits(v.subspan(4, 2)) || !all_digits(v.subspan(7, 4)))
    return Check::kFormat;
  const unsigned area = num(v, 0, 3), group = num(v, 4, 2), serial = num(v, 7, 4);
  // SSA rules (python-stdnum us/ssn.py): no 000/666/9xx area, no 00 group, no 0000 serial.
  if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) return Check::kRegion;
  if (equals(v, "078-05-1120") || equals(v, "219-09-9999") || equals(v, "457-55-5462"))
    return Check::kBlacklist;
  return Check::kValid;
}

}  // namespace dc::inspect
