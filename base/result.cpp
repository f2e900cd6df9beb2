// Error's printable form and the names of error codes.
#include "base/result.hpp"

#include <iterator>

#include "base/names.hpp"

namespace dc {

const char* error_code_name(ErrorCode c) noexcept {
  static constexpr const char* kNames[] = {"failed",      "not_found", "invalid",    "too_large",
                                           "not_regular", "io",        "unavailable"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(ErrorCode::kUnavailable) + 1);
  return base::enum_name(c, kNames, "failed");
}

std::string Error::str() const {
  if (where.empty()) return message;
  std::string s = where.file;
  if (where.line != 0) {
    s += ':' + std::to_string(where.line);
    if (where.column != 0) s += ':' + std::to_string(where.column);
  }
  return s + ": " + message;
}

}  // namespace dc
