#pragma once
// Detector specs (what a policy asks for) and the compiled detector database.
//
// A detector = Hyperscan byte-mode patterns that propose candidates + a validator that confirms
// them (checksums, dates, region codes, boundaries) + keywords that raise confidence when they
// occur within `proximity` bytes + negative keywords (订单号, orderId ...) that lower it.
// Every built-in detector is one row of the detector table (inspect/detect/table.hpp,
// builtin_rows.cpp); docs/detectors.md describes each one's format, rules and test vectors.
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
#include "inspect/detect/keyword_forms.hpp"
#include "inspect/detect/patterns.hpp"
#include "inspect/detect/table.hpp"
#include "inspect/detect/validators.hpp"

namespace dc::inspect {

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

// ---- Built-in detectors (DetectorTable::builtins()) ----------------------------------------

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

// ---- The compiled database (consumed by inspect/detect/scanner.hpp) -----------------------------

enum class Role : uint8_t {
  kCandidate,        // a value to validate
  kKeyword,          // positive context keyword
  kNegativeKeyword,  // negative context keyword
  kKeywordFinding,   // the keyword itself is the finding (medical terms, HL7 header)
};

struct PatternInfo {  // indexed by Hyperscan pattern id
  uint16_t detector = 0;
  Role role = Role::kCandidate;
  Extractor extractor = Extractor::kFixed;
  const Judge* judge = nullptr;  // candidates: validator, masking, confidences
  Boundary boundary = Boundary::kNone;
  uint16_t length = 0;  // fixed length in bytes (kFixed, keywords, triggers)
  uint16_t text = 0;    // keywords: index into DetectorDb::text()
  uint16_t group = 0;   // keywords: index into DetectorDb::group() (detectors it supports)
  Confidence fixed_confidence = Confidence::kPossible;  // keyword findings
  // Shared triggers: the rows they feed, DetectorDb::shared_members() (fits the padding).
  uint16_t shared_begin = 0;
  uint16_t shared_count = 0;
};

struct DetectorInfo {
  std::string name;
  bool builtin = true;
  uint32_t proximity = 300;
  // Built-in rows fed by the shared digit/letter triggers (DetectorRow::shared ...).
  const Judge* token_judge = nullptr;
  TokenFilter filter = {};
  LeadIn lead_in = LeadIn::kNone;
};

// A row fed by a shared trigger, as offer_shared() reads it: the members of a trigger sit side by
// side (40 bytes each) instead of one DetectorInfo each (its name string first; a cache line per
// row, each a likely miss after Hyperscan's scan evicted it).
struct SharedMember {
  TokenFilter filter = {};
  const Judge* judge = nullptr;
  uint16_t detector = 0;
  LeadIn lead_in = LeadIn::kNone;
};

class DetectorDb {
 public:
  // Compiles every detector into one streaming database; built-in names are looked up in
  // `table` (tests pass a copy of the built-in table with rows of their own). Reports EVERY bad
  // custom pattern (each is compiled alone first so errors are attributed) and every unknown
  // built-in name into *errors (when non-null), then fails. Control thread only.
  static Result<std::shared_ptr<const DetectorDb>> compile(
      const std::vector<DetectorSpec>& specs, std::vector<PatternError>* errors,
      const DetectorTable& table = DetectorTable::builtins());
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
  // The rows a shared trigger's token is offered to, in detector order (= group(p.group)).
  std::span<const SharedMember> shared_members(const PatternInfo& p) const noexcept {
    return {shared_.data() + p.shared_begin, p.shared_count};
  }
  bool in_group(uint16_t g, uint16_t detector) const noexcept {
    for (uint16_t d : groups_[g])
      if (d == detector) return true;
    return false;
  }
  uint32_t max_proximity() const noexcept { return max_proximity_; }
  size_t stream_size() const noexcept { return stream_size_; }  // Hyperscan state per stream
  // True when some pattern can report a match only at end of data (a custom pattern with "$" or
  // a trailing "\b"; built-in patterns and keywords never do). Only then does settle() need
  // its end-of-data probe (scanner.hpp).
  bool eod_matches() const noexcept { return eod_matches_; }
  // Index of a detector by name, or -1.
  int find(std::string_view name) const noexcept;

 private:
  DetectorDb() = default;
  HsDatabasePtr db_;
  std::vector<DetectorInfo> detectors_;
  std::vector<PatternInfo> patterns_;
  std::vector<std::string> texts_;
  std::vector<std::vector<uint16_t>> groups_;
  std::vector<SharedMember> shared_;
  uint32_t max_proximity_ = 0;
  size_t stream_size_ = 0;
  bool eod_matches_ = false;
  friend struct DetectorDbBuilder;
};

}  // namespace dc::inspect
