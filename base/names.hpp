#pragma once
// Enum -> stable snake_case name through a table indexed by the enum's value, instead of a switch
// per enum. Callers pin the table's length to the enum with a static_assert, so adding a value
// without its name does not compile. Fast-path safe (no allocation).
#include <cstddef>

namespace dc::base {

template <class E, std::size_t N>
constexpr const char* enum_name(E e, const char* const (&names)[N],
                                const char* unknown = "unknown") noexcept {
  const auto i = static_cast<std::size_t>(e);
  return i < N ? names[i] : unknown;
}

}  // namespace dc::base
