#pragma once
// The shared vocabulary of every module: a control-plane Result<T> and its Error.
// std::expected needs C++23 with g++ 12 and does not build with clang 14 (our fuzzing compiler),
// so this is a small std::expected-shaped type. Not for the per-packet path (it may allocate):
// fast-path functions return enums and bump counters instead.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace dc {

// What kind of failure an Error is, for callers that branch on it (exit codes, retries). The
// message is for people; the code is for programs.
enum class ErrorCode : uint8_t {
  kFailed,       // generic
  kNotFound,     // a file, key, name that does not exist
  kInvalid,      // malformed or out-of-range input
  kTooLarge,     // input above its size limit
  kNotRegular,   // a directory, device, FIFO or symlink where a regular file was expected
  kIo,           // the operating system refused a read or write
  kUnavailable,  // a resource (memory, pool, device) could not be had
};
const char* error_code_name(ErrorCode c) noexcept;

// Where in an input an error is: a file and, when known, a 1-based line and column.
struct Position {
  std::string file;
  uint32_t line = 0;    // 0: no line
  uint32_t column = 0;  // 0: no column
  bool empty() const noexcept { return file.empty() && line == 0; }
};

struct Error {
  std::string message;
  ErrorCode code = ErrorCode::kFailed;
  Position where{};
  // "file:line:col: message" (as much of the position as is known, then the message).
  std::string str() const;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }
inline Error make_error(ErrorCode code, std::string message, Position where = {}) {
  return Error{std::move(message), code, std::move(where)};
}

}  // namespace dc
