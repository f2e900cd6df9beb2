#pragma once
// The detector table: one row per detector holding everything about it (patterns, length/prefix
// filter, validator, masking, confidences, keywords, proximity). DetectorDb::compile() reads
// rows; the scanner and evaluate() only look fields up, so adding a detector = one row + its
// validator (a Judge) + its tests. Built-in rows: inspect/detect/builtin_rows.cpp.
//
// Threads: rows and judges are immutable data; evaluate() and the Judge functions are noexcept,
// allocation-free and callable from any thread. DetectorTable::add() is control plane only.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "inspect/detect/validators.hpp"

namespace dc::inspect {

// ---- How a Hyperscan match becomes a token ---------------------------------------------------

enum class Extractor : uint8_t {
  kFixed,        // start = end - length (one pattern id per length, no SOM)
  kDigitRun,     // shared trigger: a digit run reached 11 digits; token = the maximal run
  kDigitGroups,  // shared trigger: "ddd[d][ -]dd"; token = digit groups joined by ' ' or '-'
  kLetterToken,  // shared trigger: 1-2 letters + 6 digits; token = letters, digits, "(c)"
  kMixedToken,   // `length` alphanumerics after a token start, not all digits (those come via
                 // the digit run), alnum boundary after
  kEmail,        // trigger "x@y": local part extended backwards, domain forwards
  kIban,         // trigger "CCkk[ ]XXXX" (length 8 or 9): read the country's fixed length
  kCoordinates,  // end of "d.dddd , d.dddd": extended both ways
  kSom,          // custom pattern compiled with HS_FLAG_SOM_LEFTMOST: start = from
};

// Which neighbouring bytes end a token (validators.hpp: digit_boundary_ok / alnum_boundary_ok).
enum class Boundary : uint8_t {
  kNone,
  kDigits,  // no digit before or after
  kAlnum,   // letter-led tokens: no [0-9A-Za-z] before (GBK trail bytes excepted) or after
  kToken,   // custom: an alnum first/last byte may not continue an alnum run
};

// ---- Judges: validator + normalised value + masking + confidences ----------------------------

// The outcome of validating one token (see evaluate()).
struct Evaluation {
  bool accept = false;
  bool keyword_required = false;                // report only when a positive keyword is near
  Confidence base = Confidence::kVeryUnlikely;  // no keyword near
  Confidence with_keyword = Confidence::kVeryUnlikely;  // a positive keyword near
  uint8_t value_len = 0;
  uint8_t value[48] = {};  // normalised value (digits only, upper case, no separators)
  char masked[40] = {};    // NUL-terminated, e.g. 340202********1234
};

// What a judge's check says about a token; each grade has its own confidences in the Judge.
enum class Grade : uint8_t {
  kReject,       // not this detector's value
  kValid,        // every check passed: Judge::valid
  kVariant,      // valid, in a form that changes the confidence (a +86 prefix, HKID "(c)", a
                 // published test card, a role mailbox): Judge::variant
  kKeywordOnly,  // a check failed in a way real values do (Fujian USCC pilot codes, pre-2002
                 // UnionPay BINs): Judge::keyword_only, reported only with a keyword
};

// Validates `token` and, unless it returns kReject, writes the normalised value into
// out->value / out->value_len (set_value()).
using CheckFn = Grade (*)(Bytes token, CivilDate today, Evaluation* out) noexcept;
// Writes out->masked (NUL-terminated) from the token and/or the normalised value.
using MaskFn = void (*)(Bytes token, unsigned head, unsigned tail, Evaluation* out) noexcept;

struct Confidences {
  Confidence base = Confidence::kVeryUnlikely;          // no keyword near
  Confidence with_keyword = Confidence::kVeryUnlikely;  // a positive keyword near
};

struct Judge {
  std::string_view name;  // validator name usable by custom detectors ("luhn"); "" = built-in only
  CheckFn check;
  MaskFn mask;
  uint8_t head = 0, tail = 0;  // mask_ends(): characters kept in clear at each end
  Confidences valid = {}, variant = {}, keyword_only = {};
};

// Validates `token` with judge `j` and applies its confidences. noexcept, no allocation;
// `today` bounds birth dates.
void evaluate(const Judge& j, Bytes token, CivilDate today, Evaluation* out) noexcept;

// Helpers for CheckFn / MaskFn implementations (inspect/detect/judges.cpp).
void set_value(Evaluation* e, const uint8_t* v, size_t n) noexcept;  // truncated to 48 bytes
// Copies the token without separators (' ', '-', '(' , ')'); cap + 1 when it does not fit.
size_t strip(Bytes token, uint8_t* out, size_t cap, bool upper) noexcept;
// head + '*'... + tail of the normalised value; never more than a third of it in clear for short
// values. PCI DSS 3.4 allows first 6 / last 4 of a PAN; we use the same for IDs.
void mask_ends(Bytes token, unsigned head, unsigned tail, Evaluation* e) noexcept;

// ---- Rows ----------------------------------------------------------------------------------

// Length/prefix filter applied before a detector's judge to tokens from the shared digit and
// letter triggers: most tokens (order numbers, timestamps) are turned away here without a
// validator call. Bit n of a mask allows n (n < 64); kAny allows everything.
struct TokenFilter {
  static constexpr uint64_t kAny = ~uint64_t{0};
  uint64_t lengths = kAny;                    // token bytes, separators included
  uint64_t digit_counts = kAny;               // digits in the token
  uint8_t first_min = 0, first_max = 0xFF;    // first byte
  uint8_t second_min = 0, second_max = 0xFF;  // second byte (0 when the token has one byte)

  // Cheapest test first: most shared tokens fail on their length or digit count.
  bool accepts(Bytes token, unsigned digits) const noexcept {
    const size_t n = token.size();
    if (!(n < 64 ? lengths >> n & 1 : lengths == kAny)) return false;
    if (!(digits < 64 ? digit_counts >> digits & 1 : digit_counts == kAny)) return false;
    if (n == 0) return first_min == 0 && second_min == 0;
    if (token[0] < first_min || token[0] > first_max) return false;
    const uint8_t b1 = n > 1 ? token[1] : 0;
    return b1 >= second_min && b1 <= second_max;
  }
};
// Bits lo..hi set (lo <= hi < 64), for TokenFilter masks.
constexpr uint64_t bits(unsigned lo, unsigned hi) noexcept {
  return (hi == 63 ? ~uint64_t{0} : (uint64_t{1} << (hi + 1)) - 1) & ~((uint64_t{1} << lo) - 1);
}
constexpr uint64_t bit(unsigned n) noexcept { return uint64_t{1} << n; }

// Which shared triggers offer their tokens to a row (see shared_triggers()).
enum class SharedTokens : uint8_t {
  kNone,
  kDigits,   // maximal digit runs (>= 11 digits) and digit groups
  kLetters,  // letter-led tokens: 1-2 letters + 6-10 digits + optional "(c)"
};

// Bytes before a shared token that belong to it.
enum class LeadIn : uint8_t {
  kNone,
  kCnCountryCode,  // "+86" / "0086", optionally followed by ' ' or '-' (E.164 country code 86)
};

// One Hyperscan pattern of its own for a row.
struct RowPattern {
  std::string_view expression;  // byte-mode Hyperscan regex (no SOM: fixed length or extractor)
  uint16_t length;              // fixed length in bytes; 0 = variable (the extractor finds it)
  Extractor extractor;
  Boundary boundary;
  const Judge* judge;
};

struct KeywordFinding {  // a keyword that is itself the finding (medical terms, HL7 header)
  std::string_view text;
  Confidence confidence;
};

struct DetectorRow {
  std::string_view name;            // stable name used by policies
  std::string_view title;           // human name, e.g. "PRC resident identity number (GB 11643)"
  std::string_view validator_doc;   // what confirms a candidate (docs, `scan --list`)
  std::string_view confidence_doc;  // the confidence rules in one line
  SharedTokens shared = SharedTokens::kNone;
  const Judge* token_judge = nullptr;     // judge for shared tokens
  TokenFilter filter = {};                // shared tokens: length/prefix check before the judge
  LeadIn lead_in = LeadIn::kNone;         // shared tokens: bytes before the token that belong to it
  std::vector<RowPattern> patterns = {};  // patterns of its own
  std::vector<std::string_view> keywords = {};  // UTF-8 (GBK and JSON \u forms are derived)
  bool negatives = false;                       // uses the shared negative keyword list
  std::vector<KeywordFinding> keyword_findings = {};
  uint32_t proximity = 300;  // keyword distance in bytes (Purview's patternsProximity, §2.1)
};

// A Hyperscan trigger shared by every row with the same SharedTokens.
struct SharedTrigger {
  std::string_view expression;
  uint16_t length;  // bytes matched after the leading boundary byte: start = end - length
  Extractor extractor;
};
std::span<const SharedTrigger> shared_triggers(SharedTokens kind) noexcept;
// Shared negative context: order / waybill / serial / trace numbers (§2.1, §2.2).
std::span<const std::string_view> negative_keywords() noexcept;

// An ordered set of rows with unique names. builtins() is the product's table; tests copy it and
// add() rows of their own. Control plane only.
class DetectorTable {
 public:
  static const DetectorTable& builtins();
  // False (and nothing added) when the name is empty or already in the table, or a judge or
  // pattern expression is missing.
  bool add(DetectorRow row);
  const DetectorRow* find(std::string_view name) const noexcept;
  std::span<const DetectorRow> rows() const noexcept { return rows_; }

 private:
  std::vector<DetectorRow> rows_;
};

// The rows of DetectorTable::builtins() (inspect/detect/builtin_rows.cpp).
std::vector<DetectorRow> builtin_rows();

}  // namespace dc::inspect
