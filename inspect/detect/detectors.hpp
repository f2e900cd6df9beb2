#pragma once
// Detector catalogue and the compiled detector database.
//
// A detector = Hyperscan byte-mode patterns that propose candidates + a validator that confirms
// them (checksums, dates, region codes, boundaries) + keywords that raise confidence when they
// occur within `proximity` bytes + negative keywords (订单号, orderId ...) that lower it.
// See docs/detectors.md for every built-in detector's format, pattern, rules and test vectors.
//
// Threads: DetectorDb::compile() runs on the control thread (allocates, may take ~100 ms).
// The resulting DetectorDb is immutable and shared (std::shared_ptr<const DetectorDb>) by every
// worker; evaluate() and the accessors are noexcept and allocation-free, callable from any thread.
#include <hs/hs.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "inspect/detect/validators.hpp"

namespace dc::inspect {

// RAII for Hyperscan handles (stateless deleters).
struct HsDatabaseDeleter {
  void operator()(hs_database_t* p) const noexcept { hs_free_database(p); }
};
using HsDatabasePtr = std::unique_ptr<hs_database_t, HsDatabaseDeleter>;

// ---- What the policy module hands us ------------------------------------------------------

struct PatternSpec {
  std::string expression;  // Hyperscan regex (byte mode), or a literal when `literal`
  bool literal = false;
  int line = 0, column = 0;  // where the policy wrote it, for diagnostics
};

struct DetectorSpec {  // one detector as a policy refers to it
  std::string name;    // built-in name, or the id of a custom detector
  bool builtin = true;
  std::vector<PatternSpec> patterns;  // custom only
  std::string validator;              // custom only: optional built-in validator name ("luhn", ...)
  std::vector<std::string> keywords, negative_keywords;  // custom only (UTF-8; GBK added)
  uint32_t proximity = 300;                              // custom only, bytes
};

// One problem found by compile(). pattern_index is kNoPattern for detector-level errors
// (unknown built-in name, unknown validator).
struct PatternError {
  size_t detector_index;
  size_t pattern_index;
  std::string message;
};
inline constexpr size_t kNoPattern = static_cast<size_t>(-1);

// ---- Built-in catalogue --------------------------------------------------------------------

// Stable names: cn_resident_id, cn_uscc, bank_card, payment_card, cn_mobile, cn_passport,
// hkmo_permit, tw_permit, hkid, tw_id, email, cn_coordinates, iban, us_ssn, medical_keywords.
const std::vector<std::string_view>& builtin_detector_names();

struct BuiltinDescription {
  std::string_view name;
  std::string_view title;             // human name, e.g. "PRC resident identity number (GB 11643)"
  std::string_view validator;         // what confirms a candidate
  std::string_view confidence;        // the confidence rules in one line
  std::vector<std::string> patterns;  // Hyperscan expressions as compiled
  std::vector<std::string> keywords;  // UTF-8 forms (GBK and JSON \u forms are derived)
  std::vector<std::string> negative_keywords;
  uint32_t proximity = 300;
};
// nullopt for an unknown name. For docs and `datacustoms scan --list`.
std::optional<BuiltinDescription> describe_builtin(std::string_view name);

// Validator names usable by custom detectors: none, luhn, gb11643, gb32100, iban, hkid, tw_id,
// cn_mobile, email, icao9303_passport.
const std::vector<std::string_view>& validator_names();

// UTF-8 -> GBK (GB 18030 two-byte subset) via iconv; nullopt when a character has no GBK form.
// Control plane only (allocates).
std::optional<std::string> utf8_to_gbk(std::string_view utf8);

// ---- The compiled database (consumed by inspect/detect/scanner.hpp) -----------------------------

// How a Hyperscan match becomes a token (start, end) in the stream.
enum class Extractor : uint8_t {
  kFixed,        // start = end - length (one pattern id per length, no SOM)
  kDigitRun,     // shared trigger: a digit run reached 11 digits; token = the maximal run
  kDigitGroups,  // shared trigger: "ddd[d][ -]dd"; token = digit groups joined by ' ' or '-'
  kLetterToken,  // shared trigger: 1-2 letters + 6 digits; token = letters, digits, "(c)"
  kUsccToken,    // USCC: 18 characters after a token start, not all digits

  kEmail,        // trigger "x@y": local part extended backwards, domain forwards
  kIban,         // trigger "CCkk[ ]XXXX": read the country's fixed length forwards
  kCoordinates,  // end of "d.dddd , d.dddd": extended both ways
  kSom,          // custom pattern compiled with HS_FLAG_SOM_LEFTMOST: start = from
};

enum class Role : uint8_t {
  kCandidate,        // a value to validate
  kKeyword,          // positive context keyword
  kNegativeKeyword,  // negative context keyword
  kKeywordFinding,   // the keyword itself is the finding (medical terms, HL7 header)
};

enum class Validator : uint8_t {
  kNone,
  kResidentId,
  kUscc,
  kUnionPay,
  kPaymentCard,
  kLuhn,
  kMobile,
  kPassport,
  kMrz,
  kHkmoPermit,
  kTwPermit,
  kHkid,
  kTwId,
  kEmail,
  kCoordinates,
  kIban,
  kSsn,
};

// Which neighbouring bytes end a token (validators.hpp: digit_boundary_ok / alnum_boundary_ok).
enum class Boundary : uint8_t {
  kNone,
  kDigits,  // no digit before or after
  kAlnum,   // letter-led tokens: no [0-9A-Za-z] before (GBK trail bytes excepted) or after
  kToken,   // custom: an alnum first/last byte may not continue an alnum run
};

struct PatternInfo {  // indexed by Hyperscan pattern id
  uint16_t detector = 0;
  Role role = Role::kCandidate;
  Extractor extractor = Extractor::kFixed;
  Validator validator = Validator::kNone;
  Boundary boundary = Boundary::kNone;
  uint16_t length = 0;  // fixed length in bytes (kFixed, keywords, triggers)
  uint16_t text = 0;    // keywords: index into DetectorDb::text()
  uint16_t group = 0;   // keywords: index into DetectorDb::group() (detectors it supports)
  Confidence fixed_confidence = Confidence::kPossible;  // keyword findings
};

struct DetectorInfo {
  std::string name;
  bool builtin = true;
  uint32_t proximity = 300;
  Validator digits = Validator::kNone;   // digit detectors: validator for digit-run tokens
  Validator letters = Validator::kNone;  // letter-led detectors: validator for letter tokens
};

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

// Validates `token` (the full candidate bytes) with validator `v` and applies the confidence
// rules of docs/detectors.md. noexcept, no allocation; `today` bounds birth dates.
void evaluate(Validator v, Bytes token, CivilDate today, Evaluation* out) noexcept;

class DetectorDb {
 public:
  // Compiles every detector into one streaming database. Reports EVERY bad custom pattern
  // (each is compiled alone first so errors are attributed) and every unknown built-in name
  // into *errors (when non-null), then fails. Control thread only.
  static Result<std::shared_ptr<const DetectorDb>> compile(const std::vector<DetectorSpec>& specs,
                                                           std::vector<PatternError>* errors);
  // All built-in detectors (the `scan` CLI, tests, benchmarks).
  static Result<std::shared_ptr<const DetectorDb>> compile_builtins();

  DetectorDb(const DetectorDb&) = delete;
  DetectorDb& operator=(const DetectorDb&) = delete;

  const hs_database_t* hs() const noexcept { return db_.get(); }
  size_t detector_count() const noexcept { return detectors_.size(); }
  const DetectorInfo& detector(size_t i) const noexcept { return detectors_[i]; }
  size_t pattern_count() const noexcept { return patterns_.size(); }
  const PatternInfo& pattern(unsigned id) const noexcept { return patterns_[id]; }
  std::string_view text(uint16_t i) const noexcept { return texts_[i]; }
  // The detectors a keyword pattern speaks for. A keyword shared by several detectors (卡号,
  // orderId ...) is compiled once, so one occurrence costs one Hyperscan match.
  std::span<const uint16_t> group(uint16_t i) const noexcept { return groups_[i]; }
  bool in_group(uint16_t g, uint16_t detector) const noexcept {
    for (uint16_t d : groups_[g])
      if (d == detector) return true;
    return false;
  }
  uint32_t max_proximity() const noexcept { return max_proximity_; }
  size_t stream_size() const noexcept { return stream_size_; }  // Hyperscan state per stream
  // Index of a detector by name, or -1.
  int find(std::string_view name) const noexcept;

 private:
  DetectorDb() = default;
  HsDatabasePtr db_;
  std::vector<DetectorInfo> detectors_;
  std::vector<PatternInfo> patterns_;
  std::vector<std::string> texts_;
  std::vector<std::vector<uint16_t>> groups_;
  uint32_t max_proximity_ = 0;
  size_t stream_size_ = 0;
  friend struct DetectorDbBuilder;
};

}  // namespace dc::inspect
