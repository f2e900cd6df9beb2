// Validator vocabulary shared by every family: confidence and check names. The checks themselves
// are in validators_identity.cpp, validators_finance.cpp and validators_contact.cpp.
#include "inspect/detect/validators.hpp"

namespace dc::inspect {

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

}  // namespace dc::inspect
