// Names and texts of the verdict vocabulary (actions, reason kinds, failure conditions) and of the
// policy's enumerations, from the tables in reasons.hpp and spelling.hpp.
#include "policy/reasons.hpp"

#include <array>

#include "policy/snapshot.hpp"
#include "policy/spelling.hpp"

namespace dc::policy {

namespace {
constexpr std::array<std::string_view, kReasonKindCount> kNames = {
#define DC_X(e, name, text) name,
    DC_POLICY_REASONS(DC_X)
#undef DC_X
};
constexpr std::array<std::string_view, kReasonKindCount> kTexts = {
#define DC_X(e, name, text) text,
    DC_POLICY_REASONS(DC_X)
#undef DC_X
};
constexpr std::array<std::string_view, kFailureCount> kFailures = {
    "flow_table_full", "reorder_queue_full", "stream_unavailable",
    "scan_error",      "audit_unavailable",  "evidence_unavailable"};
}  // namespace

std::string_view action_name(Action a) noexcept { return spelling_of(kActionSpellings, a); }

std::string_view reason_name(ReasonKind k) noexcept {
  auto i = static_cast<std::size_t>(k);
  return i < kReasonKindCount ? kNames[i] : "unknown";
}

std::string_view reason_text(ReasonKind k) noexcept {
  auto i = static_cast<std::size_t>(k);
  return i < kReasonKindCount ? kTexts[i] : "unknown reason";
}

ReasonKind reason_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kReasonKindCount; ++i) {
    if (kNames[i] == name) return static_cast<ReasonKind>(i);
  }
  return ReasonKind::kCount;
}

std::string_view failure_name(std::size_t i) noexcept {
  return i < kFailureCount ? kFailures[i] : "unknown";
}

std::string_view zone_kind_name(ZoneKind k) noexcept { return spelling_of(kZoneKindSpellings, k); }

std::string_view level_name(Level l) noexcept { return spelling_of(kLevelSpellings, l); }

std::string_view mechanism_name(Mechanism m) noexcept {
  return spelling_of(kMechanismSpellings, m);
}

std::string_view status_name(Status s) noexcept { return spelling_of(kStatusSpellings, s); }

std::string_view confidence_name(Confidence c) noexcept {
  return inspect::to_string(c);  // one spelling: the detectors' (docs/detectors.md)
}

const std::array<Spelling<Confidence>, 5>& confidence_spellings() noexcept {
  static const std::array<Spelling<Confidence>, 5> table = [] {
    std::array<Spelling<Confidence>, 5> t{};
    for (std::size_t i = 0; i < t.size(); ++i) {
      auto c = static_cast<Confidence>(i);
      t[i] = {confidence_name(c), c};
    }
    return t;
  }();
  return table;
}

}  // namespace dc::policy
