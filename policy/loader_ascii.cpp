// The check run on policy text before toml++ sees it: non-ASCII bytes are allowed only inside TOML
// strings and comments (a small lexer; see parse_policy in loader.cpp for why).
#include "policy/loader.hpp"

namespace dc::policy {

std::optional<Pos> find_non_ascii_outside_strings(std::string_view text) noexcept {
  // A small TOML lexer: comments, basic/literal strings and their multi-line forms.
  enum class St { kCode, kComment, kBasic, kLiteral, kMlBasic, kMlLiteral } st = St::kCode;
  uint32_t line = 1, col = 1;
  const size_t n = text.size();
  auto at = [&](size_t i, std::string_view s) { return text.substr(i, s.size()) == s; };
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    size_t skip = 0;
    switch (st) {
      case St::kCode:
        if (c >= 0x80) return Pos{line, col};
        if (c == '#')
          st = St::kComment;
        else if (at(i, "\"\"\""))
          st = St::kMlBasic, skip = 2;
        else if (at(i, "'''"))
          st = St::kMlLiteral, skip = 2;
        else if (c == '"')
          st = St::kBasic;
        else if (c == '\'')
          st = St::kLiteral;
        break;
      case St::kComment:
        if (c == '\n') st = St::kCode;
        break;
      case St::kBasic:
        if (c == '\\')
          skip = 1;
        else if (c == '"' || c == '\n')
          st = St::kCode;
        break;
      case St::kLiteral:
        if (c == '\'' || c == '\n') st = St::kCode;
        break;
      case St::kMlBasic:
        if (c == '\\')
          skip = 1;
        else if (at(i, "\"\"\""))
          st = St::kCode, skip = 2;
        break;
      case St::kMlLiteral:
        if (at(i, "'''")) st = St::kCode, skip = 2;
        break;
    }
    for (size_t k = 0; k <= skip && i + k < n; ++k) {
      if (text[i + k] == '\n') {
        ++line;
        col = 1;
      } else if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
        ++col;  // columns count characters, not UTF-8 continuation bytes
      }
    }
    i += skip;
  }
  return std::nullopt;
}

}  // namespace dc::policy
