#pragma once
// TOML -> PolicyDoc. The loader (loader*.cpp, loader_reader.hpp) is the only place toml++ is
// used (tests/check_includes.sh enforces it).
// Reports syntax errors (toml++ stops at the first), unknown keys (with "did you mean"), wrong
// types and missing required fields; everything else (references, prefixes, patterns, dates
// against each other) is the compiler's job (policy/compile.hpp), which sees the whole file.
// Control plane only.
#include <optional>
#include <string>
#include <string_view>

#include "policy/diagnostics.hpp"
#include "policy/model.hpp"

namespace dc::policy {

// `path` is used for diagnostics and to resolve relative payload files; `text` is the file.
// Always returns a document (possibly partial); check diags.has_errors().
PolicyDoc parse_policy(std::string_view text, const std::string& path, Diagnostics& diags);

// Position of the first non-ASCII byte outside TOML strings and comments (TOML 1.0 allows
// non-ASCII only there), or nullopt. Used before handing text to toml++ (see loader.cpp).
std::optional<Pos> find_non_ascii_outside_strings(std::string_view text) noexcept;

}  // namespace dc::policy
