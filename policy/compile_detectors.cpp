// Policy compiler, detectors: the policy's own [[detectors]] (ids, validators, each regex compiled
// alone so that an error points at its pattern) and the detector database of the snapshot.
#include <algorithm>

#include "inspect/detect/detectors.hpp"
#include "inspect/detect/patterns.hpp"
#include "policy/compile_internal.hpp"

namespace dc::policy {

void SnapshotBuilder::custom_detectors() {
  // Detector index space: every detector some category references, in first-reference order.
  const auto& builtins = builtin_detectors();
  auto& custom = custom_;
  std::vector<const PatternDoc*> regexes;
  for (const auto& det : doc_.detectors) {
    if (!check_id(det.id, "detector")) continue;
    if (std::find(builtins.begin(), builtins.end(), det.id.value) != builtins.end()) {
      d_.error(det.id.pos, "detector id '" + det.id.value + "' is a built-in detector name");
      continue;
    }
    if (custom.count(det.id.value)) {
      d_.error(det.id.pos, "duplicate detector id '" + det.id.value + "'");
      continue;
    }
    custom[det.id.value] = &det;
    if (det.patterns.empty()) {
      d_.error(det.pos, "detector '" + det.id.value + "' has no patterns or words");
    }
    if (!det.validator.value.empty()) {
      std::vector<std::string> vals;
      for (auto v : inspect::validator_names()) vals.emplace_back(v);
      if (std::find(vals.begin(), vals.end(), det.validator.value) == vals.end()) {
        d_.error(det.validator.pos, unknown_ref("validator", det.validator.value, vals));
      }
    }
    if (det.proximity.value < 1 || det.proximity.value > 1000) {
      d_.error(det.proximity.pos, "proximity must be 1..1000 bytes");
    }
    for (const auto& p : det.patterns) {
      if (p.expression.empty()) {
        d_.error(p.pos, "empty pattern");
        continue;
      }
      if (!p.literal) regexes.push_back(&p);
    }
  }
  // Every regex of every detector (used or not) is checked with inspect's flags and mode
  // (inspect/detect/patterns.hpp): all in one compile, each alone only when that fails, so that
  // an error maps to its pattern's own line:col.
  std::vector<std::string> exprs;
  for (const auto* p : regexes) exprs.push_back(p->expression);
  for (const auto& [i, msg] : inspect::check_custom_patterns(exprs)) {
    d_.error(regexes[i]->pos, "invalid pattern: " + msg);
    bad_patterns_.insert({regexes[i]->pos.line, regexes[i]->pos.column});
  }
}

void SnapshotBuilder::detector_db() {
  // Detector index i of the database == index i of detector_names_ (the finding -> category map
  // relies on it). Compiling is skipped when earlier errors make the result useless.
  if (s_->detector_names_.empty() || d_.has_errors()) return;
  std::vector<inspect::DetectorSpec> specs;
  for (const auto& name : s_->detector_names_) {
    inspect::DetectorSpec spec;
    spec.name = name;
    auto it = custom_.find(name);
    if (it != custom_.end()) {
      const DetectorDoc& d = *it->second;
      spec.builtin = false;
      for (const auto& p : d.patterns) {
        spec.patterns.push_back({p.expression, p.literal, static_cast<int>(p.pos.line),
                                 static_cast<int>(p.pos.column)});
      }
      spec.validator = d.validator.value.empty() ? "none" : d.validator.value;
      for (const auto& k : d.keywords) spec.keywords.push_back(k.value);
      for (const auto& k : d.negative_keywords) spec.negative_keywords.push_back(k.value);
      spec.proximity = static_cast<uint32_t>(std::clamp<int64_t>(d.proximity.value, 1, 1000));
    }
    specs.push_back(std::move(spec));
  }
  std::vector<inspect::PatternError> errors;
  auto db = inspect::DetectorDb::compile(specs, &errors);
  if (db) {
    s_->db_ = std::move(db.value());
    return;
  }
  if (errors.empty()) d_.error(Pos{}, "detector database: " + db.error().message);
  for (const auto& e : errors) {
    Pos pos{};
    if (e.detector_index < specs.size()) {
      const auto& spec = specs[e.detector_index];
      auto it = custom_.find(spec.name);
      if (it != custom_.end()) {
        pos = it->second->pos;
        if (e.pattern_index < spec.patterns.size()) {
          pos = Pos{static_cast<uint32_t>(spec.patterns[e.pattern_index].line),
                    static_cast<uint32_t>(spec.patterns[e.pattern_index].column)};
        }
      }
    }
    if (bad_patterns_.count({pos.line, pos.column})) continue;  // already reported above
    d_.error(pos, "detector '" +
                      (e.detector_index < specs.size() ? specs[e.detector_index].name
                                                       : std::string("?")) +
                      "': " + e.message);
  }
}

const std::vector<std::string>& builtin_detectors() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (auto n : inspect::builtin_detector_names()) v.emplace_back(n);
    return v;
  }();
  return names;
}

}  // namespace dc::policy
