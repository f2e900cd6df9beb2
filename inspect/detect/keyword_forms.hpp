#pragma once
// Keyword byte forms: one UTF-8 keyword is scanned for as UTF-8, GBK (glibc iconv) and JSON
// \uXXXX bytes (detectors.md §3.1-3.2); ASCII keywords match in any case. Control plane only
// (allocates).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dc::inspect {

// UTF-8 -> GBK (GB 18030 two-byte subset) via iconv; nullopt when a character has no GBK form.
std::optional<std::string> utf8_to_gbk(std::string_view utf8);

// One form of a keyword, ready for Hyperscan.
struct KeywordForm {
  std::string expression;  // escaped byte literal
  uint16_t length;         // bytes matched (start = end - length)
  unsigned flags;          // Hyperscan flags (caseless or not)
};
// Every distinct byte form of `keyword` (empty for an empty keyword).
std::vector<KeywordForm> keyword_forms(std::string_view keyword);
// The same key for keywords that match the same bytes ("idNo" and "IDNO").
std::string keyword_key(std::string_view keyword);

}  // namespace dc::inspect
