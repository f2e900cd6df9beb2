// Policy compiler, [accounting]: the timezone of the counting year, which detectors are person
// keys (of which kind), the warning fraction and the actions (docs/accounting.md).
#include "base/time.hpp"
#include "policy/compile_internal.hpp"

namespace dc::policy {

void SnapshotBuilder::accounting() {
  const AccountingDoc& a = doc_.accounting;
  AccountingPolicy& p = s_->accounting_;
  p.enabled = a.enabled.value;
  if (auto off = base::parse_utc_offset(a.utc_offset.value)) {
    p.utc_offset_minutes = *off;
  } else {
    d_.error(a.utc_offset.pos, "[accounting] utc_offset '" + a.utc_offset.value +
                                   "' must be a fixed UTC offset like \"+08:00\"");
  }
  if (!(a.warn_fraction.value > 0.0 && a.warn_fraction.value <= 1.0))
    d_.error(a.warn_fraction.pos, "[accounting] warn_fraction must be in (0, 1]");
  p.warn_fraction = a.warn_fraction.value;
  one_of(a.on_limit, kBlockOrAlert, p.on_limit, "on_limit action");
  one_of(a.on_unavailable, kBlockOrAlert, p.on_unavailable, "on_unavailable action");
  for (CategoryId c = 0; c < s_->categories_.size() && c < kMaxCategories; ++c) {
    if (s_->categories_[c].personal) s_->personal_mask_ |= 1ull << c;
    if (s_->categories_[c].personal && s_->categories_[c].sensitive)
      s_->sensitive_mask_ |= 1ull << c;
  }
  s_->person_key_kinds_.assign(s_->detector_names_.size(), PersonKeyKind::kNone);
  if (!p.enabled) return;
  std::vector<LStr> keys = a.person_keys;
  if (!a.has_person_keys)
    for (auto k : kDefaultPersonKeys) keys.push_back(LStr{std::string(k), a.pos});
  for (const LStr& k : keys) {
    const bool custom = custom_.count(k.value) != 0;
    const PersonKeyKind kind = custom ? PersonKeyKind::kOther : builtin_person_key_kind(k.value);
    if (kind == PersonKeyKind::kNone) {
      bool builtin = false;
      for (const auto& b : builtin_detectors()) builtin = builtin || b == k.value;
      if (builtin)
        d_.error(k.pos, "detector '" + k.value + "' does not identify a person (person_keys)");
      else
        d_.error(k.pos, unknown_ref("detector", k.value, builtin_detectors()) + " in person_keys");
      continue;
    }
    auto it = detector_index_.find(k.value);
    if (it == detector_index_.end()) {
      // Not used by any category: never scanned, so it yields no keys.
      if (a.has_person_keys)
        d_.warning(k.pos, "person key detector '" + k.value + "' is used by no category");
      continue;
    }
    s_->person_key_kinds_[it->second] = kind;
  }
}

}  // namespace dc::policy
