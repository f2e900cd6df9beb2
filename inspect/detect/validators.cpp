// Validator vocabulary shared by every family: confidence and check names. The checks themselves
// are in validators_identity.cpp, validators_finance.cpp and validators_contact.cpp.
#include "inspect/detect/validators.hpp"

#include <iterator>

#include "base/names.hpp"

namespace dc::inspect {

namespace {
constexpr const char* kConfidenceNames[] = {"very_unlikely", "unlikely", "possible", "likely",
                                            "very_likely"};
static_assert(std::size(kConfidenceNames) == static_cast<std::size_t>(Confidence::kVeryLikely) + 1);

constexpr const char* kCheckNames[] = {"valid",  "format",   "length",       "checksum", "date",
                                       "region", "org-code", "out-of-range", "blacklist"};
static_assert(std::size(kCheckNames) == static_cast<std::size_t>(Check::kBlacklist) + 1);
}  // namespace

std::string_view to_string(Confidence c) noexcept {
  return base::enum_name(c, kConfidenceNames, "?");
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

std::string_view to_string(Check c) noexcept { return base::enum_name(c, kCheckNames, "?"); }

}  // namespace dc::inspect
