#pragma once
// Internal to the policy loader (policy/loader*.cpp): the toml++ adapter that reads typed,
// positioned fields with diagnostics, and the readers of each part of the file. toml++ is
// compiled header-only without exceptions (TOML_EXCEPTIONS=0, parse_result API); it must not
// appear anywhere else in policy/ (tests/check_includes.sh).
#include <toml++/toml.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "policy/diagnostics.hpp"
#include "policy/model.hpp"

namespace dc::policy::loader_detail {

inline Pos pos_of(const toml::source_region& r) {
  return Pos{static_cast<uint32_t>(r.begin.line), static_cast<uint32_t>(r.begin.column)};
}

// Reads typed values out of tables; every problem becomes a diagnostic at the value's position.
class Reader {
 public:
  explicit Reader(Diagnostics& d) : d_(d) {}

  void set_timezone(int32_t minutes) {
    tz_ = minutes;
    tz_set_ = true;
  }

  // Unknown keys are errors: a misspelt field would otherwise be silently ignored, and a
  // compliance rule that silently does not apply is the worst outcome.
  void keys(const toml::table& t, std::initializer_list<std::string_view> known,
            std::string_view what);
  void missing(const toml::table& t, std::string_view key, std::string_view what);
  void wrong_type(const toml::node& n, std::string_view key, std::string_view expected);
  bool str(const toml::table& t, std::string_view key, LStr& out, bool required,
           std::string_view what);

  // A value of toml++ type T (std::string, bool, int64_t); `expected` names it in the error.
  template <class T>
  bool scalar(const toml::table& t, std::string_view key, Located<T>& out,
              std::string_view expected) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    if (auto v = n->as<T>()) {
      out.value = v->get();
      out.pos = pos_of(n->source());
      return true;
    }
    wrong_type(*n, key, expected);
    return false;
  }

  // A string or an array of strings.
  bool strs(const toml::table& t, std::string_view key, LStrs& out);
  // Dates: a date-only value means the start of that day in the policy timezone, or - for the end
  // of a validity period (`end_of_period`) - the end of that day (the whole day is included).
  // A local date-time uses the policy timezone; an offset date-time is exact.
  bool time(const toml::table& t, std::string_view key, LTime& out, bool end_of_period);
  const toml::array* table_array(const toml::table& root, std::string_view key);
  const toml::table* sub_table(const toml::table& t, std::string_view key);

  Diagnostics& diags() { return d_; }

 private:
  void need_tz(Pos p, std::string_view key);

  Diagnostics& d_;
  int32_t tz_ = 0;
  bool tz_set_ = false;
};

// The fields of one table, read with that table's name in the diagnostics ("[[zones]]").
class Fields {
 public:
  Fields(Reader& r, const toml::table& t, std::string_view what) : r_(r), t_(t), what_(what) {}

  void keys(std::initializer_list<std::string_view> known) { r_.keys(t_, known, what_); }
  bool req(std::string_view key, LStr& out) { return r_.str(t_, key, out, true, what_); }
  bool opt(std::string_view key, LStr& out) { return r_.str(t_, key, out, false, what_); }
  bool opt(std::string_view key, Located<bool>& out) {
    return r_.scalar(t_, key, out, "true or false");
  }
  bool opt(std::string_view key, Located<int64_t>& out) {
    return r_.scalar(t_, key, out, "an integer");
  }
  bool list(std::string_view key, LStrs& out) { return r_.strs(t_, key, out); }
  bool time(std::string_view key, LTime& out, bool end_of_period) {
    return r_.time(t_, key, out, end_of_period);
  }
  void req_time(std::string_view key, LTime& out, bool end_of_period) {
    if (!time(key, out, end_of_period)) r_.missing(t_, key, what_);
  }
  const toml::table& table() const { return t_; }
  Reader& reader() { return r_; }

 private:
  Reader& r_;
  const toml::table& t_;
  std::string what_;
};

// Calls fn(fields, position) for each table of the array of tables `key` ([[key]]).
template <class Fn>
void each_table(Reader& r, const toml::table& root, std::string_view key, Fn fn) {
  const toml::array* a = r.table_array(root, key);
  if (!a) return;
  const std::string what = "[[" + std::string(key) + "]]";
  for (auto&& n : *a) {
    const toml::table& t = *n.as_table();
    Fields f(r, t, what);
    fn(f, pos_of(t.source()));
  }
}

// The readers of the file's parts, in the order parse_policy() calls them (the header first:
// its timezone is needed to read every date).
void read_header(Reader& r, const toml::table& root, PolicyDoc& doc);    // loader.cpp
void read_defaults(Reader& r, const toml::table& root, PolicyDoc& doc);  // loader.cpp
void read_zones(Reader& r, const toml::table& root, PolicyDoc& doc);     // loader.cpp
void read_links(Reader& r, const toml::table& root, PolicyDoc& doc);     // loader.cpp
void read_bases(Reader& r, const toml::table& root, PolicyDoc& doc);     // loader_whitelist.cpp
void read_counterparties(Reader& r, const toml::table& root, PolicyDoc& doc);  // loader_whitelist
void read_detectors(Reader& r, const toml::table& root, PolicyDoc& doc);   // loader_categories.cpp
void read_categories(Reader& r, const toml::table& root, PolicyDoc& doc);  // loader_categories.cpp
void read_tests(Reader& r, const toml::table& root, PolicyDoc& doc);       // loader_tests.cpp

}  // namespace dc::policy::loader_detail
