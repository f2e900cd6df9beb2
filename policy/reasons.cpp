#include "policy/reasons.hpp"

#include <array>

#include "policy/snapshot.hpp"

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

std::string_view action_name(Action a) noexcept {
  switch (a) {
    case Action::kAllow:
      return "allow";
    case Action::kAlert:
      return "alert";
    case Action::kBlock:
      return "block";
  }
  return "?";
}

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

std::string_view zone_kind_name(ZoneKind k) noexcept {
  switch (k) {
    case ZoneKind::kDomestic:
      return "domestic";
    case ZoneKind::kProcessing:
      return "processing";
    case ZoneKind::kForeign:
      return "foreign";
  }
  return "?";
}

std::string_view level_name(Level l) noexcept {
  switch (l) {
    case Level::kCore:
      return "core";
    case Level::kImportant:
      return "important";
    case Level::kGeneral:
      return "general";
  }
  return "?";
}

std::string_view mechanism_name(Mechanism m) noexcept {
  switch (m) {
    case Mechanism::kSecurityAssessment:
      return "security_assessment";
    case Mechanism::kStandardContract:
      return "standard_contract";
    case Mechanism::kCertification:
      return "certification";
    case Mechanism::kExemption:
      return "exemption";
  }
  return "?";
}

std::string_view status_name(Status s) noexcept {
  switch (s) {
    case Status::kActive:
      return "active";
    case Status::kSuspended:
      return "suspended";
    case Status::kRevoked:
      return "revoked";
  }
  return "?";
}

std::string_view confidence_name(Confidence c) noexcept {
  return inspect::to_string(c);  // one spelling: the detectors' (docs/detectors.md)
}

}  // namespace dc::policy
