#pragma once
// Verdicts by counterparty and findings by category for /metrics: the workers count by the
// policy's indices (dataplane::LabelledCounters); this turns indices into the live policy's ids
// and keeps each id's count across reloads that renumber or remove ids. Control plane only.
#include <array>
#include <map>
#include <string>
#include <vector>

#include "dataplane/counters.hpp"
#include "policy/snapshot.hpp"

namespace dc::appliance {

class LabelledTotals {
 public:
  // Called (under the registry lock) before the live policy or the dataplane changes: counts
  // made under the old policy's indices stay with the old policy's ids. Ids the new policy no
  // longer has are reported as "other" from then on.
  void rebase(const void* plane, const policy::Snapshot* next,
              const dataplane::LabelledCounters& now);

  struct Row {
    std::string label;
    std::array<uint64_t, 3> v{};  // verdicts: allow, alert, block; findings: v[0]
  };
  // Rows for the live policy: its counterparty (category) ids in policy order up to the bound,
  // then "none" and "other".
  std::vector<Row> counterparties(const dataplane::LabelledCounters& now) const;
  std::vector<Row> categories(const dataplane::LabelledCounters& now) const;

 private:
  const void* plane_ = nullptr;
  std::vector<std::string> cp_ids_, cat_ids_;  // index -> id under the live policy
  dataplane::LabelledCounters base_{};         // counts already folded into folded_*
  std::map<std::string, std::array<uint64_t, 3>> folded_cp_;
  std::map<std::string, uint64_t> folded_cat_;
};

}  // namespace dc::appliance
