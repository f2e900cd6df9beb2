#pragma once
// Customs accounting in the policy (issue 15, docs/accounting.md): the compiled [accounting]
// section, which detectors yield person keys, and the legal volume thresholds of each export
// mechanism (regulation.md §1.2) as count limits. Pure data and functions, no allocation.
#include <cstdint>
#include <limits>
#include <string_view>

#include "policy/reasons.hpp"

namespace dc::policy {

enum class Mechanism : uint8_t;

// The kind of a person key: how its value is normalised, and part of the keyed digest (the same
// digits as a mobile number and as a bank card are two persons' keys, not one).
enum class PersonKeyKind : uint8_t {
  kNone = 0,
  kResidentId = 1,  // cn_resident_id: 18 characters, upper-case X
  kPassport = 2,    // cn_passport, hkmo_permit, tw_permit: upper-case, no spaces
  kMobile = 3,      // cn_mobile: 11 digits, no +86 / 0086, spaces or dashes
  kBankCard = 4,    // bank_card: digits only
  kOther = 5,       // a custom detector listed in person_keys: upper-case, no spaces or dashes
};
std::string_view person_key_kind_name(PersonKeyKind k) noexcept;
// The kind of a built-in detector name (kNone when it is not a person-key built-in).
PersonKeyKind builtin_person_key_kind(std::string_view detector) noexcept;
// The default [accounting] person_keys.
inline constexpr std::string_view kDefaultPersonKeys[] = {
    "cn_resident_id", "cn_passport", "hkmo_permit", "tw_permit", "cn_mobile", "bank_card"};

// Sensitive / non-sensitive counters: bits of a flow's "kinds".
inline constexpr uint8_t kPersonsNonSensitive = 1;
inline constexpr uint8_t kPersonsSensitive = 2;

// The compiled [accounting] section.
struct AccountingPolicy {
  bool enabled = false;
  int32_t utc_offset_minutes = 8 * 60;     // the calendar year is counted in this fixed offset
  double warn_fraction = 0.9;              // a count reaching this share of a limit: volume_warn
  Action on_limit = Action::kBlock;        // a refused person: volume_cap with this action
  Action on_unavailable = Action::kBlock;  // no decision in time: accounting_unavailable
};

// The largest number of distinct persons a scope may count. kUnlimited: no limit; 0: not one.
inline constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();
struct PersonLimits {
  uint64_t nonsensitive = kUnlimited;
  uint64_t sensitive = kUnlimited;
};
// The exporter's yearly limits under the mechanism of the basis a flow exports under
// (regulation.md §1.2, "以上" inclusive, "不满" strict: a count reaching the threshold needs the
// next mechanism, so the limit is threshold - 1):
//   standard_contract, certification: non-sensitive < 1,000,000, sensitive < 10,000
//   exemption small_volume:           non-sensitive < 100,000, sensitive < 1 (none)
//   security_assessment, the other exemptions: no volume limit
//   a CIIO exporter: any personal information needs a security assessment (0 under the others).
PersonLimits mechanism_limits(Mechanism m, std::string_view exemption, bool ciio) noexcept;
// A basis cap as written (max_persons = N: the Nth person is allowed, the N+1th refused);
// 0 in the policy means no cap.
inline uint64_t cap_limit(uint64_t cap) noexcept { return cap == 0 ? kUnlimited : cap; }

// The calendar year of `now_ns` at `offset_minutes` east of UTC.
uint16_t accounting_year(int64_t now_ns, int32_t offset_minutes) noexcept;

}  // namespace dc::policy
