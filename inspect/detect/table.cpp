// DetectorTable: the ordered, name-unique set of rows DetectorDb::compile() reads.
#include "inspect/detect/table.hpp"

namespace dc::inspect {

const DetectorTable& DetectorTable::builtins() {
  static const DetectorTable k = [] {
    DetectorTable t;
    for (auto& row : builtin_rows()) t.add(std::move(row));
    return t;
  }();
  return k;
}

bool DetectorTable::add(DetectorRow row) {
  if (row.name.empty() || find(row.name)) return false;
  // The scanner dereferences judges without checking: a row without one is refused here.
  if (row.shared != SharedTokens::kNone && !row.token_judge) return false;
  for (const auto& p : row.patterns)
    if (!p.judge || p.expression.empty()) return false;
  rows_.push_back(std::move(row));
  return true;
}

const DetectorRow* DetectorTable::find(std::string_view name) const noexcept {
  for (const auto& r : rows_)
    if (r.name == name) return &r;
  return nullptr;
}

}  // namespace dc::inspect
