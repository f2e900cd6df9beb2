// Customs accounting in the policy: person-key kinds of built-in detectors, the mechanism
// thresholds of regulation.md §1.2 as limits, the calendar year in the accounting timezone.
#include "policy/accounting.hpp"

#include "base/time.hpp"
#include "policy/snapshot.hpp"

namespace dc::policy {

std::string_view person_key_kind_name(PersonKeyKind k) noexcept {
  switch (k) {
    case PersonKeyKind::kResidentId:
      return "resident_id";
    case PersonKeyKind::kPassport:
      return "passport";
    case PersonKeyKind::kMobile:
      return "mobile";
    case PersonKeyKind::kBankCard:
      return "bank_card";
    case PersonKeyKind::kOther:
      return "other";
    default:
      return "none";
  }
}

PersonKeyKind builtin_person_key_kind(std::string_view d) noexcept {
  if (d == "cn_resident_id") return PersonKeyKind::kResidentId;
  if (d == "cn_passport" || d == "hkmo_permit" || d == "tw_permit") return PersonKeyKind::kPassport;
  if (d == "cn_mobile") return PersonKeyKind::kMobile;
  if (d == "bank_card" || d == "payment_card") return PersonKeyKind::kBankCard;
  return PersonKeyKind::kNone;
}

PersonLimits mechanism_limits(Mechanism m, std::string_view exemption, bool ciio) noexcept {
  if (m == Mechanism::kSecurityAssessment) return {};
  if (ciio) return {0, 0};  // CIIO: any PI export needs a security assessment
  switch (m) {
    case Mechanism::kStandardContract:
    case Mechanism::kCertification:
      return {1'000'000 - 1, 10'000 - 1};
    case Mechanism::kExemption:
      if (exemption == "small_volume") return {100'000 - 1, 0};
      return {};
    default:
      return {};
  }
}

uint16_t accounting_year(int64_t now_ns, int32_t offset_minutes) noexcept {
  return base::civil_date_at(now_ns, offset_minutes).year;
}

}  // namespace dc::policy
