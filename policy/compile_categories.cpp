// Policy compiler, the negative list: categories (level, action, confidence floor, threshold),
// the detectors each one is fed by, and the order in which categories are evaluated.
#include <algorithm>

#include "policy/compile_internal.hpp"

namespace dc::policy {

void SnapshotBuilder::categories() {
  std::set<std::string> used_custom;
  for (const auto& c : doc_.categories) {
    CategoryInfo info{.id = c.id.value, .name = c.name.value};  // the defaults until checked
    bool ok = new_id(c.id, "category", category_ids_);
    one_of(c.level, kLevelSpellings, info.level, "level");
    one_of(c.action, kBlockOrAlert, info.action, "action");
    one_of(c.min_confidence, confidence_spellings(), info.min_confidence, "confidence");
    info.personal = c.personal.value || c.sensitive.value;
    info.sensitive = c.sensitive.value;
    if (c.sensitive.value && c.personal.pos.line && !c.personal.value) {
      d_.error(c.personal.pos,
               "a sensitive category is personal information: personal must be true");
    }
    if (info.level == Level::kCore && info.action != Action::kBlock && c.action.pos.line) {
      d_.error(c.action.pos, "core data never leaves: a core category's action must be \"block\"");
    }
    if (c.threshold.value < 1 || c.threshold.value > 65535) {
      d_.error(c.threshold.pos, "threshold must be 1..65535 findings per flow");
    }
    info.threshold = static_cast<uint32_t>(std::clamp<int64_t>(c.threshold.value, 1, 65535));
    info.provenance_list = c.provenance_list.value;
    info.provenance_item = c.provenance_item.value;
    if (c.provenance_list.value.empty()) {
      d_.warning(c.pos, "category '" + c.id.value +
                            "' has no provenance (which official list and item it comes from)");
    }
    CategoryId id = static_cast<CategoryId>(s_->categories_.size());
    category_detectors(c, id, used_custom);
    if (ok) category_ids_[c.id.value] = id;
    s_->categories_.push_back(std::move(info));
  }
  if (s_->categories_.size() > kMaxCategories) {
    d_.error(doc_.categories[kMaxCategories].pos, "at most 64 categories are supported");
  }
  for (const auto& det : doc_.detectors) {
    if (custom_.count(det.id.value) && !used_custom.count(det.id.value)) {
      d_.warning(det.id.pos, "detector '" + det.id.value + "' is not used by any category");
    }
  }
  category_precedence();
}

// Detector index space: every detector some category references, in first-reference order.
void SnapshotBuilder::category_detectors(const CategoryDoc& c, CategoryId id,
                                         std::set<std::string>& used_custom) {
  const auto& builtins = builtin_detectors();
  for (const auto& dref : c.detectors) {
    bool is_builtin = std::find(builtins.begin(), builtins.end(), dref.value) != builtins.end();
    if (!is_builtin && !custom_.count(dref.value)) {
      std::vector<std::string> known(builtins.begin(), builtins.end());
      for (const auto& [k, _] : custom_) known.push_back(k);
      d_.error(dref.pos, unknown_ref("detector", dref.value, known));
      continue;
    }
    if (!is_builtin) used_custom.insert(dref.value);
    auto [it, inserted] = detector_index_.emplace(dref.value, 0);
    if (inserted) {
      it->second = static_cast<uint32_t>(s_->detector_names_.size());
      s_->detector_names_.push_back(dref.value);
      s_->detector_categories_.push_back(0);
    }
    if (id < kMaxCategories) s_->detector_categories_[it->second] |= 1ull << id;
  }
  if (c.detectors.empty()) {
    d_.warning(c.pos, "category '" + c.id.value +
                          "' has no detectors; only [[test]] findings can trigger it");
  }
}

// Evaluation order (docs/policy-reference.md §4): core, important, sensitive personal,
// personal, general; file order within each class.
void SnapshotBuilder::category_precedence() {
  auto rank = [](const CategoryInfo& c) {
    if (c.level == Level::kCore) return 0;
    if (c.level == Level::kImportant) return 1;
    if (c.sensitive) return 2;
    if (c.personal) return 3;
    return 4;
  };
  for (size_t i = 0; i < s_->categories_.size() && i < kMaxCategories; ++i) {
    s_->precedence_.push_back(static_cast<CategoryId>(i));
  }
  std::stable_sort(s_->precedence_.begin(), s_->precedence_.end(), [&](CategoryId a, CategoryId b) {
    return rank(s_->categories_[a]) < rank(s_->categories_[b]);
  });
}

}  // namespace dc::policy
