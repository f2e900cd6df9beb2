#pragma once
// Internal to the policy loader (policy/loader*.cpp): the toml++ adapter that reads typed,
// positioned fields with diagnostics, read_fields()/read_tables() that read a table by its
// schema rows (loader_schema.hpp), and the readers of each part of the file. toml++ is
// compiled header-only without exceptions (TOML_EXCEPTIONS=0, parse_result API); it must not
// appear anywhere else in policy/ (tests/check_includes.sh).
#include <toml++/toml.h>

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "policy/diagnostics.hpp"
#include "policy/loader_schema.hpp"
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
  void keys(const toml::table& t, std::span<const std::string_view> known, std::string_view what);
  void keys(const toml::table& t, std::initializer_list<std::string_view> known,
            std::string_view what) {
    keys(t, std::span(known.begin(), known.size()), what);
  }
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

  void keys(std::span<const std::string_view> known) { r_.keys(t_, known, what_); }
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
  bool req_time(std::string_view key, LTime& out, bool end_of_period) {
    if (time(key, out, end_of_period)) return true;
    r_.missing(t_, key, what_);  // also after a wrong type: the period needs this bound
    return false;
  }
  const toml::table& table() const { return t_; }
  Reader& reader() { return r_; }

 private:
  Reader& r_;
  const toml::table& t_;
  std::string what_;
};

// ---- Field tables: one row per key of a TOML table, read by read_fields() ----------------------

// The reading of one value by its type; true when it was present with the right type.
inline bool read_value(Fields& f, std::string_view key, LStr& out, uint8_t flags) {
  return (flags & kRequired) ? f.req(key, out) : f.opt(key, out);
}
inline bool read_value(Fields& f, std::string_view key, LStrs& out, uint8_t) {
  return f.list(key, out);
}
inline bool read_value(Fields& f, std::string_view key, LTime& out, uint8_t flags) {
  const bool end = flags & kEndOfPeriod;
  return (flags & kRequired) ? f.req_time(key, out, end) : f.time(key, out, end);
}
template <class T>
bool read_value(Fields& f, std::string_view key, Located<T>& out, uint8_t) {
  return f.opt(key, out);  // bool, int64_t
}

// Reports keys the table does not list (with a "did you mean"), then reads every listed key
// into `doc`, in the table's order (missing-key errors share the table's position, so the order
// is the order they are reported in).
template <class Doc>
void read_fields(Fields& f, Doc& doc, std::type_identity_t<std::span<const Field<Doc>>> table) {
  std::vector<std::string_view> known;
  for (const auto& row : table) known.push_back(row.key);
  f.keys(known);
  for (const auto& row : table) {
    const bool got = std::visit(
        [&](auto member) {
          if constexpr (std::is_same_v<decltype(member), std::monostate>) {
            return false;
          } else {
            return read_value(f, row.key, doc.*member, row.flags);
          }
        },
        row.member);
    if (got && row.given) doc.*row.given = true;
  }
}

// Reads the array of tables `key` ([[key]]): for each table, a new element of `out` with its
// position and the fields of `table`, then `rest(fields, element)` for the keys read by hand.
template <class Doc, class Rest>
void read_tables(Reader& r, const toml::table& root, std::string_view key, std::vector<Doc>& out,
                 std::type_identity_t<std::span<const Field<Doc>>> table, Rest rest) {
  const toml::array* a = r.table_array(root, key);
  if (!a) return;
  const std::string what = "[[" + std::string(key) + "]]";
  for (auto&& n : *a) {
    const toml::table& t = *n.as_table();
    Doc& doc = out.emplace_back();
    doc.pos = pos_of(t.source());
    Fields f(r, t, what);
    read_fields(f, doc, table);
    rest(f, doc);
  }
}

template <class Doc>
void read_tables(Reader& r, const toml::table& root, std::string_view key, std::vector<Doc>& out,
                 std::type_identity_t<std::span<const Field<Doc>>> table) {
  read_tables(r, root, key, out, table, [](Fields&, Doc&) {});
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
// [declarations] and [[approvers]] (loader_declarations.cpp)
void read_declarations(Reader& r, const toml::table& root, PolicyDoc& doc);
void read_accounting(Reader& r, const toml::table& root, PolicyDoc& doc);  // loader_accounting

}  // namespace dc::policy::loader_detail
