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

Result<bool> custom_pattern_info(std::string_view expression, bool literal) {
  if (expression.empty()) return make_error(ErrorCode::kInvalid, "empty pattern");
  if (literal) return false;
  const std::string expr(expression);
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_expression_info(expr.c_str(), kCustomFlags, &info, &err) != HS_SUCCESS) {
    std::string msg = err && err->message ? err->message : "pattern does not compile";
    hs_free_compile_error(err);
    return make_error(ErrorCode::kInvalid, std::move(msg));
  }
  const bool eod = info == nullptr || info->matches_at_eod != 0;
  std::free(info);  // allocated with malloc (the product sets no Hyperscan allocator)
  return eod;
}

std::vector<std::pair<size_t, std::string>> check_custom_patterns(
    const std::vector<std::string>& expressions) {
  std::vector<std::pair<size_t, std::string>> bad;
  std::vector<const char*> ptrs;
  std::vector<unsigned> flags(expressions.size(), kCustomFlags);
  std::vector<unsigned> ids;
  for (size_t i = 0; i < expressions.size(); ++i) {
    ptrs.push_back(expressions[i].c_str());
    ids.push_back(static_cast<unsigned>(i));
  }
  if (!ptrs.empty()) {
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    const bool ok =
        hs_compile_multi(ptrs.data(), flags.data(), ids.data(), static_cast<unsigned>(ptrs.size()),
                         kCustomMode, nullptr, &db, &err) == HS_SUCCESS;
    hs_free_compile_error(err);
    hs_free_database(db);
    if (ok) return bad;
  }
  for (size_t i = 0; i < expressions.size(); ++i)
    if (auto r = check_custom_pattern(expressions[i]); !r) bad.emplace_back(i, r.error().message);
  return bad;
}

}  // namespace dc::inspect
