// Policy compiler, legal bases: mechanism and exemption, validity period, the categories a basis
// covers (core never, important only by security assessment), volume caps.
#include <algorithm>

#include "policy/compile_internal.hpp"

namespace dc::policy {

void SnapshotBuilder::bases() {
  for (const auto& b : doc_.bases) {
    BasisInfo info{};
    info.id = b.id.value;
    info.reference = b.reference.value;
    info.processor = b.processor.value;
    info.exemption = b.exemption.value;
    info.mechanism = Mechanism::kStandardContract;
    info.status = Status::kActive;
    info.require_declaration = b.require_declaration.value;
    bool ok = new_id(b.id, "legal basis", basis_ids_);
    one_of(b.mechanism, kMechanismSpellings, info.mechanism, "mechanism");
    one_of(b.status, kStatusSpellings, info.status, "status");
    basis_exemption(b, info);
    info.valid_from_ns = b.issued.ns;
    info.valid_until_ns = b.expires.ns;
    if (b.issued.set && b.expires.set && b.expires.ns <= b.issued.ns) {
      d_.error(b.expires.pos, "legal basis '" + b.id.value + "' expires before it is issued");
    }
    if (expired(b.expires)) {
      d_.warning(b.expires.pos, "legal basis '" + b.id.value + "' expired " + ended(b.expires) +
                                    "; flows relying on it are blocked");
    }
    info.categories = resolve_categories(b.categories, "legal basis '" + b.id.value + "'");
    if (b.categories.empty())
      d_.error(b.pos, "legal basis '" + b.id.value + "' covers no categories");
    basis_coverage(b, info);
    if (b.max_persons.value < 0 || b.max_sensitive_persons.value < 0) {
      d_.error(b.max_persons.value < 0 ? b.max_persons.pos : b.max_sensitive_persons.pos,
               "volume caps must not be negative");
    }
    info.max_persons = static_cast<uint64_t>(std::max<int64_t>(0, b.max_persons.value));
    info.max_sensitive_persons =
        static_cast<uint64_t>(std::max<int64_t>(0, b.max_sensitive_persons.value));
    if (ok) basis_ids_[b.id.value] = static_cast<BasisId>(s_->bases_.size());
    s_->bases_.push_back(std::move(info));
  }
  if (s_->bases_.size() > 64) d_.error(Pos{}, "at most 64 legal bases are supported");
}

// An exemption names which one; other mechanisms name none. Bases without a reference number
// (exemptions have none) are reported.
void SnapshotBuilder::basis_exemption(const BasisDoc& b, const BasisInfo& info) {
  if (info.mechanism == Mechanism::kExemption) {
    static const std::vector<std::string> kExemptions = {
        "contract_performance", "hr_management", "emergency",   "small_volume",
        "no_personal_trade",    "transit",       "ftz_off_list"};
    if (b.exemption.value.empty()) {
      d_.error(b.mechanism.pos, "mechanism \"exemption\" needs 'exemption' naming which one");
    } else if (std::find(kExemptions.begin(), kExemptions.end(), b.exemption.value) ==
               kExemptions.end()) {
      d_.error(b.exemption.pos, unknown_ref("exemption", b.exemption.value, kExemptions));
    }
  } else if (!b.exemption.value.empty()) {
    d_.error(b.exemption.pos, "'exemption' only applies to mechanism \"exemption\"");
  }
  if (b.reference.value.empty() && info.mechanism != Mechanism::kExemption) {
    d_.warning(b.pos, "legal basis '" + b.id.value + "' has no reference number");
  }
}

// What a basis may cover: never core data, important data only by a security assessment, no
// sensitive personal information under the small-volume exemption.
void SnapshotBuilder::basis_coverage(const BasisDoc& b, const BasisInfo& info) {
  for (size_t c = 0; c < s_->categories_.size() && c < kMaxCategories; ++c) {
    if (!(info.categories >> c & 1)) continue;
    const auto& cat = s_->categories_[c];
    if (cat.level == Level::kCore) {
      d_.error(b.pos, "legal basis '" + b.id.value + "' lists core category '" + cat.id +
                          "'; core data never leaves and no basis can cover it");
    } else if (cat.level == Level::kImportant && info.mechanism != Mechanism::kSecurityAssessment) {
      d_.warning(b.pos, "legal basis '" + b.id.value + "' (" + b.mechanism.value +
                            ") lists important category '" + cat.id +
                            "'; only a security assessment covers important data");
    } else if (cat.sensitive && b.exemption.value == "small_volume") {
      d_.error(b.pos,
               "the small-volume exemption does not cover sensitive personal information ('" +
                   cat.id + "')");
    }
  }
}

}  // namespace dc::policy
