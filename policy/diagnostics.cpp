// Policy diagnostics: sorting and "file:line:col: severity: message" formatting, and the
// edit-distance "did you mean" hint.
#include "policy/diagnostics.hpp"

#include <algorithm>
#include <tuple>

namespace dc::policy {

bool Diagnostics::has_errors() const noexcept { return error_count() > 0; }

std::size_t Diagnostics::error_count() const noexcept {
  return std::count_if(items_.begin(), items_.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

std::size_t Diagnostics::warning_count() const noexcept {
  return std::count_if(items_.begin(), items_.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::kWarning; });
}

std::string Diagnostics::format(const std::string& file, const Diagnostic& d) {
  std::string out = file;
  if (d.pos.line > 0) {
    out += ":" + std::to_string(d.pos.line) + ":" + std::to_string(d.pos.column);
  }
  out += d.severity == Severity::kError     ? ": error: "
         : d.severity == Severity::kWarning ? ": warning: "
                                            : ": note: ";
  out += d.message;
  return out;
}

std::string Diagnostics::format() const {
  // File-order output reads like a compiler's. A note belongs to the diagnostic before it, so
  // groups (diagnostic + its notes) are sorted by the leading diagnostic's position.
  std::vector<std::vector<const Diagnostic*>> groups;
  for (const auto& d : items_) {
    if (d.severity == Severity::kNote && !groups.empty()) {
      groups.back().push_back(&d);
    } else {
      groups.push_back({&d});
    }
  }
  std::stable_sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
    return std::tie(a[0]->pos.line, a[0]->pos.column) < std::tie(b[0]->pos.line, b[0]->pos.column);
  });
  std::string out;
  for (const auto& g : groups)
    for (const auto* d : g) out += format(file_, *d) + "\n";
  return out;
}

namespace {
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

}  // namespace dc::policy
