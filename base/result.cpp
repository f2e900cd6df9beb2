// Error's printable form and the names of error codes.
#include "base/result.hpp"

namespace dc {

const char* error_code_name(ErrorCode c) noexcept {
  switch (c) {
    case ErrorCode::kFailed:
      return "failed";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kInvalid:
      return "invalid";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kNotRegular:
      return "not_regular";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kUnavailable:
      return "unavailable";
  }
  return "failed";
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
