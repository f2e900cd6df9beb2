#pragma once
// Validators: pure checks that confirm (or refute) a candidate that a Hyperscan pattern proposed.
//
// Every function here is a pure function over a byte span: noexcept, no allocation, no I/O, no
// clock. They run on worker threads inside the scan callback and may be called from any thread.
// The engine never reads the wall clock: checks that depend on "today" (a birth date may not lie
// in the future) take the date as a parameter; the caller derives it from the packet timestamp.
//
// Inputs are the candidate bytes only (already cut to the token). Boundary rules (the byte before
// and after the candidate) are separate helpers because they need the neighbouring bytes, which
// the streaming scanner keeps in its per-stream tail buffer (see inspect/detect/scanner.hpp).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/time.hpp"

namespace dc::inspect {

using Bytes = std::span<const uint8_t>;

inline Bytes as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Likelihood buckets, lowest to highest (Google SDP / detectors.md §2.1). Ordered: compare with <.
enum class Confidence : uint8_t { kVeryUnlikely, kUnlikely, kPossible, kLikely, kVeryLikely };
std::string_view to_string(Confidence c) noexcept;  // "very_unlikely" ... "very_likely"
bool parse_confidence(std::string_view s, Confidence* out) noexcept;
// Moves c by `delta` buckets, clamped to the scale.
Confidence shift(Confidence c, int delta) noexcept;

// Why a candidate was accepted or rejected. kValid means "every check passed".
enum class Check : uint8_t {
  kValid,
  kFormat,      // characters or layout wrong
  kLength,      // length not allowed for this type / country
  kChecksum,    // check character mismatch
  kDate,        // not a real calendar date, before 1800, or after "today"
  kRegion,      // province / country / prefix not allocated
  kOrgCode,     // USCC: GB 32100 check passes but the embedded GB 11714 code does not
  kOutOfRange,  // coordinates outside the box
  kBlacklist,   // structurally valid but a known reserved / invalid value
};
std::string_view to_string(Check c) noexcept;

// Dates come from base/time.hpp (one calendar for the whole product).
using base::CivilDate;
using base::kNoDateLimit;
using base::parse_civil_date;

// ---- Byte classes and boundary rules (detectors.md §2.0, §3.1) -----------------------------
constexpr bool is_digit(int b) noexcept { return b >= '0' && b <= '9'; }
constexpr bool is_upper(int b) noexcept { return b >= 'A' && b <= 'Z'; }
constexpr bool is_alpha(int b) noexcept { return is_upper(b) || (b >= 'a' && b <= 'z'); }
constexpr bool is_alnum(int b) noexcept { return is_digit(b) || is_alpha(b); }

// Neighbour byte values passed to the boundary helpers: a byte 0..255, or kNoByte when the
// candidate touches the start/end of the stream.
inline constexpr int kNoByte = -1;

// Digit detectors (ID, USCC-all-digit, cards, mobile, SSN): the neighbours must not be digits.
// Letters are allowed on purpose: GBK trail bytes are 0x40..0xFE and include A-Z/a-z, so "證" (D7
// 43) before an ID puts a 'C' right before it (§3.1); \b would miss it. Trail bytes are never
// digits.
constexpr bool digit_boundary_ok(int before, int after) noexcept {
  return !is_digit(before) && !is_digit(after);
}
// Tokens that start with a letter (passport, permits, HKID, Taiwan ID, IBAN, USCC): neither
// neighbour may be [0-9A-Za-z], except that a letter directly after a possible GBK lead byte
// (0x81..0xFE) is taken as a trail byte, i.e. as a boundary (§3.1).
constexpr bool alnum_boundary_ok(int before2, int before, int after) noexcept {
  if (is_digit(before) || is_alnum(after)) return false;
  if (is_alpha(before)) return before2 >= 0x81 && before2 <= 0xFE;
  return true;
}

// ---- PRC resident identity number, GB 11643-1999 -------------------------------------------
// ISO 7064 MOD 11-2 check character of the first 17 digits: '0'..'9' or 'X'; 0 on bad input.
char gb11643_check_char(Bytes body17) noexcept;
// Province (first two digits) is allocated: 11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81-83.
bool gb11643_region_ok(uint8_t d0, uint8_t d1) noexcept;
// The 2023 foreign permanent-residence card (same MOD 11-2): '9', a mainland province code (the
// issuing province), then a three-digit nationality code (004-894, not 156). Reads 6 digits.
bool foreign_pr_prefix_ok(Bytes id) noexcept;
// Full check of an 18-character number: format, region (or the foreign permanent-residence
// prefix when it starts with 9), a real birth date with
// 1800 <= year and date <= today, then MOD 11-2. Accepts a lower-case 'x'.
Check validate_cn_resident_id(Bytes id, CivilDate today) noexcept;

// ---- Unified Social Credit Code, GB 32100-2015 (+ GB 11714-1997 organisation code) ---------
// Check character over the 31-symbol alphabet 0-9 A-H J-N P-R T U W-Y; 0 on bad input.
char gb32100_check_char(Bytes body17) noexcept;
// GB 11714 check character of an 8-character organisation code body: '0'..'9' or 'X'; 0 on bad.
char gb11714_check_char(Bytes body8) noexcept;
// kValid: format + GB 32100 check + the embedded organisation code check (char 17) all pass.
// kOrgCode: GB 32100 passes, org code fails. kChecksum: GB 32100 fails (see the Fujian pilot
// codes in docs/detectors.md: the detector may still report those, with a keyword only).
Check validate_uscc(Bytes code) noexcept;

// ---- Payment cards, ISO/IEC 7812 -------------------------------------------------------------
enum class CardBrand : uint8_t {
  kNone,
  kUnionPay,
  kVisa,
  kMastercard,
  kAmex,
  kDiscover,
  kJcb,
  kDiners
};
std::string_view to_string(CardBrand b) noexcept;
bool luhn_valid(Bytes digits) noexcept;
// Brand from the IIN prefix *and* the length (a prefix with a length the brand does not issue
// gives kNone). UnionPay: 62, 16-19 digits. Visa: 4, 13/16/19. Mastercard 51-55 / 2221-2720, 16.
// Amex 34/37, 15. Discover 6011 / 644-649 / 65, 16-19. JCB 3528-3589, 16-19. Diners 300-305 /
// 36 / 38-39, 14-19.
CardBrand card_brand(Bytes digits) noexcept;
// Published test PANs (Stripe, Adyen, PayPal sandbox lists). They pass Luhn; the detector
// downgrades them to kVeryUnlikely rather than dropping them (see docs/detectors.md).
bool is_test_card(Bytes digits) noexcept;
struct CardCheck {
  Check check =
      Check::kFormat;  // kValid, kFormat (non-digits), kLength/kRegion (no brand), kChecksum
  CardBrand brand = CardBrand::kNone;
  bool test_number = false;
};
// `digits` must be digits only (separators already removed).
CardCheck validate_card(Bytes digits) noexcept;

// ---- PRC mobile numbers ----------------------------------------------------------------------
// The three-digit network prefix is allocated (MIIT table as of 2019 + 162/190/192/193/195-197).
bool cn_mobile_prefix_ok(Bytes first3) noexcept;
// Accepts 11 digits, optionally with +86 / 0086 (optionally followed by ' ' or '-') and
// 3-4-4 grouping with ' ' or '-'. Writes the 11 normalised digits to `out` when non-null.
Check validate_cn_mobile(Bytes v, uint8_t* out11 = nullptr) noexcept;

// ---- Passports and travel permits (format only: the numbers carry no check digit) -----------
// ICAO Doc 9303 Part 3 §4.9: weights 7 3 1, 0-9 = value, A-Z = 10..35, '<' = 0; sum mod 10.
// Returns 0..9, or -1 on a character outside [0-9A-Z<].
int icao9303_check_digit(Bytes field) noexcept;
// PRC / HKSAR / MSAR passport numbers: E+8d, E+letter(not I/O)+7d, G+8d, DE/SE/PE+7d, K+8d, MA+7d.
Check validate_cn_passport(Bytes v) noexcept;
// First 28 characters of an ICAO 9303 TD3 MRZ line 2 issued by CHN: document number (9) + check,
// "CHN", birth date + check, sex, expiry + check. kValid when all three check digits pass.
Check validate_mrz_td3_chn(Bytes line2_28) noexcept;
// Exit-entry permits (往来港澳通行证 C+8d / C+letter+7d; 回乡证 H/M+8d or +10d).
Check validate_hkmo_permit(Bytes v) noexcept;
// 大陆居民往来台湾通行证: L+8d.
Check validate_tw_permit(Bytes v) noexcept;

// ---- Hong Kong identity card (mod 11) and Taiwan national ID (weighted mod 10) -------------
// Accepts "A123456(3)", "A1234563", and the two-letter forms. A single-letter prefix counts as
// a leading space worth 36; weights 9..2; check = (11 - S mod 11) mod 11, 10 = 'A'.
Check validate_hkid(Bytes v) noexcept;
// Letter + 1/2 + 8 digits; letter values by the order ABCDEFGHJKLMNPQRSTUVXYWZIO = 10..35.
Check validate_tw_id(Bytes v) noexcept;

// ---- E-mail (RFC 5321 sizes, conservative ASCII syntax) -------------------------------------
Check validate_email(Bytes v) noexcept;

// ---- Coordinates inside China ---------------------------------------------------------------
// "lat,lon" or "lon,lat" in decimal degrees with >= 4 decimals, optional spaces around the
// comma. kValid when one of the two readings lies inside the wide China box (lat 3.8..53.6 N,
// lon 73.4..135.1 E). *mainland is set when it also lies in the mainland-only box (lat >= 18).
Check validate_cn_coordinates(Bytes v, bool* mainland = nullptr) noexcept;

// ---- IBAN, ISO 13616 (MOD 97-10, ISO 7064) --------------------------------------------------
// Expected length of an IBAN for a country (0 when the country is not in our table).
unsigned iban_length(uint8_t c0, uint8_t c1) noexcept;
// Accepts single spaces between 4-character groups. Checks country length and mod 97 == 1.
Check validate_iban(Bytes v) noexcept;

// ---- US Social Security Number (structure only: no check digit) -----------------------------
Check validate_us_ssn(Bytes v) noexcept;

}  // namespace dc::inspect
