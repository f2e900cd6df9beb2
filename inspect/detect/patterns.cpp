// Hyperscan pattern helpers: byte-literal escaping and the single-pattern check used by the
// policy compiler and DetectorDb::compile().
#include "inspect/detect/patterns.hpp"

#include <cstdio>
#include <cstdlib>

namespace dc::inspect {

std::string escape_literal(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 4);
  char buf[5];
  for (unsigned char c : s) {
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  }
  return out;
}

Result<void> check_custom_pattern(std::string_view expression, bool literal) {
  const std::string expr = literal ? escape_literal(expression) : std::string(expression);
  if (expr.empty()) return make_error(ErrorCode::kInvalid, "empty pattern");
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile(expr.c_str(), kCustomFlags, kCustomMode, nullptr, &db, &err) != HS_SUCCESS) {
    std::string msg = err && err->message ? err->message : "pattern does not compile";
    hs_free_compile_error(err);
    return make_error(ErrorCode::kInvalid, std::move(msg));
  }
  hs_free_database(db);
  return {};
}

bool custom_pattern_matches_at_eod(std::string_view expression, bool literal) {
  const std::string expr = literal ? escape_literal(expression) : std::string(expression);
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_expression_info(expr.c_str(), kCustomFlags, &info, &err) != HS_SUCCESS) {
    hs_free_compile_error(err);
    return true;
  }
  const bool eod = info == nullptr || info->matches_at_eod != 0;
  std::free(info);  // allocated with malloc (the product sets no Hyperscan allocator)
  return eod;
}

}  // namespace dc::inspect
