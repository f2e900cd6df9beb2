// Keyword byte forms (UTF-8, GBK, JSON \u escapes) for DetectorDb::compile().
#include "inspect/detect/keyword_forms.hpp"

#include <iconv.h>

#include <algorithm>
#include <cstdio>

#include "inspect/detect/patterns.hpp"

namespace dc::inspect {
namespace {

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// JSON \uXXXX form of a UTF-8 string (Python json.dumps ensure_ascii default, §3.2). BMP only.
std::optional<std::string> json_escaped(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    unsigned cp = 0, n = 0;
    if (c < 0x80)
      cp = c, n = 1;
    else if ((c & 0xE0) == 0xC0)
      cp = c & 0x1F, n = 2;
    else if ((c & 0xF0) == 0xE0)
      cp = c & 0x0F, n = 3;
    else
      return std::nullopt;
    if (i + n > s.size()) return std::nullopt;
    for (unsigned k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n;
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      out += buf;
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> utf8_to_gbk(std::string_view utf8) {
  iconv_t cd = iconv_open("GBK", "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string out(utf8.size() * 2 + 4, '\0');
  char* in = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size();
  char* o = out.data();
  size_t o_left = out.size();
  size_t r = iconv(cd, &in, &in_left, &o, &o_left);
  iconv_close(cd);
  if (r == static_cast<size_t>(-1) || in_left != 0) return std::nullopt;
  out.resize(out.size() - o_left);
  return out;
}

std::vector<KeywordForm> keyword_forms(std::string_view kw) {
  std::vector<KeywordForm> out;
  if (kw.empty()) return out;
  auto push = [&](std::string_view bytes, unsigned flags) {
    out.push_back({escape_literal(bytes), static_cast<uint16_t>(bytes.size()), flags});
  };
  if (is_ascii(kw)) {
    push(kw, kAsciiKeywordFlags);
    return out;
  }
  push(kw, kKeywordFlags);
  if (auto g = utf8_to_gbk(kw); g && *g != kw) push(*g, kKeywordFlags);
  if (auto j = json_escaped(kw)) push(*j, kAsciiKeywordFlags);  // "\u8eab" == "\U8EAB"
  return out;
}

std::string keyword_key(std::string_view kw) {
  std::string s(kw);
  if (is_ascii(s))
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

}  // namespace dc::inspect
