#pragma once
// Compiler-style diagnostics for policy files: "file:line:col: error: message".
// Control plane only. Collected, never thrown: `policy check` reports all of them at once.
#include <cstdint>
#include <string>
#include <vector>

namespace dc::policy {

struct Pos {
  uint32_t line = 0, column = 0;  // 1-based; 0 = unknown (reported at the file level)
};

enum class Severity : uint8_t { kError, kWarning, kNote };

struct Diagnostic {
  Severity severity;
  Pos pos;
  std::string message;
};

class Diagnostics {
 public:
  explicit Diagnostics(std::string file = "policy.toml") : file_(std::move(file)) {}
  void error(Pos p, std::string msg) { add(Severity::kError, p, std::move(msg)); }
  void warning(Pos p, std::string msg) { add(Severity::kWarning, p, std::move(msg)); }
  void note(Pos p, std::string msg) { add(Severity::kNote, p, std::move(msg)); }
  void add(Severity s, Pos p, std::string msg) { items_.push_back({s, p, std::move(msg)}); }

  bool has_errors() const noexcept;
  std::size_t error_count() const noexcept;
  std::size_t warning_count() const noexcept;
  const std::vector<Diagnostic>& items() const noexcept { return items_; }
  const std::string& file() const noexcept { return file_; }
  // Sorted by position (stable), then formatted one per line.
  std::string format() const;
  static std::string format(const std::string& file, const Diagnostic& d);

 private:
  std::string file_;
  std::vector<Diagnostic> items_;
};

// Closest candidate by edit distance, for "did you mean" hints; empty when nothing is close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace dc::policy
