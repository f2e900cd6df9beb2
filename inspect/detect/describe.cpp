// Names and descriptions read off the detector table: built-in detector names, custom
// validator names, describe_builtin() for docs and `datacustoms scan --list`.
#include "inspect/detect/detectors.hpp"
#include "inspect/detect/judges.hpp"

namespace dc::inspect {

const std::vector<std::string_view>& builtin_detector_names() {
  static const std::vector<std::string_view> k = [] {
    std::vector<std::string_view> v;
    for (const auto& r : DetectorTable::builtins().rows()) v.push_back(r.name);
    return v;
  }();
  return k;
}

const std::vector<std::string_view>& validator_names() {
  static const std::vector<std::string_view> k = [] {
    std::vector<std::string_view> v;
    for (const Judge* j : judges::named()) v.push_back(j->name);
    return v;
  }();
  return k;
}

std::optional<BuiltinDescription> describe_builtin(std::string_view name) {
  const DetectorRow* d = DetectorTable::builtins().find(name);
  if (!d) return std::nullopt;
  BuiltinDescription r;
  r.name = d->name;
  r.title = d->title;
  r.validator = d->validator_doc;
  r.confidence = d->confidence_doc;
  r.proximity = d->proximity;
  for (const auto& p : d->patterns) r.patterns.emplace_back(p.expression);
  const char* shared =
      d->shared == SharedTokens::kDigits ? "  (shared digit trigger)" : "  (shared letter trigger)";
  for (const auto& t : shared_triggers(d->shared))
    r.patterns.push_back(std::string(t.expression) + shared);
  for (auto kw : d->keywords) r.keywords.emplace_back(kw);
  for (const auto& kf : d->keyword_findings) r.keywords.emplace_back(kf.text);
  if (d->negatives)
    for (auto kw : negative_keywords()) r.negative_keywords.emplace_back(kw);
  return r;
}

}  // namespace dc::inspect
