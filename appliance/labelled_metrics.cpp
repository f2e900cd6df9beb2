// Index-to-id translation of the labelled outcome counters (appliance/labelled_metrics.hpp).
#include "appliance/labelled_metrics.hpp"

#include <algorithm>

namespace dc::appliance {
namespace {

using dataplane::kCategoryLabels;
using dataplane::kCatNone;
using dataplane::kCounterpartyLabels;
using dataplane::kCpNone;
using dataplane::kCpOther;

std::string cp_label(const std::vector<std::string>& ids, std::size_t i) {
  if (i == kCpNone) return "none";
  return i < ids.size() && i < kCounterpartyLabels ? ids[i] : "other";
}
std::string cat_label(const std::vector<std::string>& ids, std::size_t i) {
  if (i == kCatNone) return "none";
  return i < ids.size() ? ids[i] : "other";
}

}  // namespace

void LabelledTotals::rebase(const void* plane, const policy::Snapshot* next,
                            const dataplane::LabelledCounters& now) {
  if (plane != plane_) {  // a new dataplane counts from zero
    *this = LabelledTotals{};
    plane_ = plane;
  } else {
    for (std::size_t i = 0; i < kCounterpartyLabels + 2; ++i)
      for (std::size_t v = 0; v < 3; ++v)
        folded_cp_[cp_label(cp_ids_, i)][v] += now.verdicts[i][v] - base_.verdicts[i][v];
    for (std::size_t i = 0; i <= kCategoryLabels; ++i)
      folded_cat_[cat_label(cat_ids_, i)] += now.category_findings[i] - base_.category_findings[i];
    base_ = now;
  }
  cp_ids_.clear();
  cat_ids_.clear();
  if (next == nullptr) return;
  for (std::size_t i = 0; i < next->counterparty_count(); ++i)
    cp_ids_.push_back(next->counterparty(static_cast<policy::CounterpartyId>(i)).id);
  for (std::size_t i = 0; i < next->category_count(); ++i)
    cat_ids_.push_back(next->category(static_cast<policy::CategoryId>(i)).id);
}

std::vector<LabelledTotals::Row> LabelledTotals::counterparties(
    const dataplane::LabelledCounters& now) const {
  std::vector<Row> rows;
  std::map<std::string, std::size_t> at;
  auto row = [&](const std::string& label) -> Row& {
    auto [it, fresh] = at.try_emplace(label, rows.size());
    if (fresh) rows.push_back(Row{label, {}});
    return rows[it->second];
  };
  std::size_t shown = std::min(cp_ids_.size(), kCounterpartyLabels);
  for (std::size_t i = 0; i < shown; ++i) row(cp_ids_[i]);
  row("none");
  row("other");
  for (std::size_t i = 0; i < kCounterpartyLabels + 2; ++i)
    for (std::size_t v = 0; v < 3; ++v)
      row(cp_label(cp_ids_, i)).v[v] += now.verdicts[i][v] - base_.verdicts[i][v];
  for (const auto& [id, v] : folded_cp_) {
    Row& r = at.count(id) != 0 ? rows[at[id]] : row("other");  // an id the policy dropped
    for (std::size_t k = 0; k < 3; ++k) r.v[k] += v[k];
  }
  return rows;
}

std::vector<LabelledTotals::Row> LabelledTotals::categories(
    const dataplane::LabelledCounters& now) const {
  std::vector<Row> rows;
  std::map<std::string, std::size_t> at;
  auto row = [&](const std::string& label) -> Row& {
    auto [it, fresh] = at.try_emplace(label, rows.size());
    if (fresh) rows.push_back(Row{label, {}});
    return rows[it->second];
  };
  for (const auto& id : cat_ids_) row(id);
  row("none");
  row("other");
  for (std::size_t i = 0; i <= kCategoryLabels; ++i)
    row(cat_label(cat_ids_, i)).v[0] += now.category_findings[i] - base_.category_findings[i];
  for (const auto& [id, n] : folded_cat_)
    (at.count(id) != 0 ? rows[at[id]] : row("other")).v[0] += n;
  return rows;
}

}  // namespace dc::appliance
