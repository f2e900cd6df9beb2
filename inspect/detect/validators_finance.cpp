// Validators for financial numbers: ISO/IEC 7812 cards (brand, Luhn, test PANs), IBAN
// (ISO 13616, MOD 97-10), US SSN. Pure functions.
#include <iterator>

#include "base/names.hpp"
#include "inspect/detect/validators.hpp"
#include "inspect/detect/validators_util.hpp"

namespace dc::inspect {

using namespace detail;  // NOLINT: digit helpers

// ---- ISO 7812 cards ------------------------------------------------------------------------

namespace {
constexpr const char* kBrandNames[] = {"none", "unionpay", "visa", "mastercard",
                                       "amex", "discover", "jcb",  "diners"};
static_assert(std::size(kBrandNames) == static_cast<std::size_t>(CardBrand::kDiners) + 1);
}  // namespace

std::string_view to_string(CardBrand b) noexcept { return base::enum_name(b, kBrandNames, "?"); }

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
