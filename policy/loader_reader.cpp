// The toml++ adapter of the policy loader: typed, positioned values out of TOML tables, each
// problem (missing, unknown or mistyped key, out-of-range date) reported as a diagnostic.
#include "policy/loader_reader.hpp"

#include <iterator>

#include "base/names.hpp"
#include "base/time.hpp"

namespace dc::policy::loader_detail {

namespace {
// "'key' must be X, not <this>", indexed by toml::node_type (none, table, ..., date_time).
constexpr const char* kTypeNames[] = {"nothing",    "a table",    "an array",  "a string",
                                      "an integer", "a float",    "a boolean", "a date",
                                      "a time",     "a date-time"};
static_assert(std::size(kTypeNames) == static_cast<std::size_t>(toml::node_type::date_time) + 1);

std::string type_name(const toml::node& n) {
  return base::enum_name(n.type(), kTypeNames, "nothing");
}
}  // namespace

void Reader::keys(const toml::table& t, std::span<const std::string_view> known,
                  std::string_view what) {
  std::vector<std::string> cands(known.begin(), known.end());
  for (auto&& [k, v] : t) {
    bool ok = false;
    for (auto kn : known) ok = ok || kn == k.str();
    if (ok) continue;
    std::string msg = "unknown key '" + std::string(k.str()) + "' in " + std::string(what);
    std::string hint = closest_match(std::string(k.str()), cands);
    if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
    d_.error(pos_of(k.source()), msg);
  }
}

void Reader::missing(const toml::table& t, std::string_view key, std::string_view what) {
  d_.error(pos_of(t.source()),
           std::string(what) + " is missing required key '" + std::string(key) + "'");
}

void Reader::wrong_type(const toml::node& n, std::string_view key, std::string_view expected) {
  d_.error(pos_of(n.source()),
           "'" + std::string(key) + "' must be " + std::string(expected) + ", not " + type_name(n));
}

bool Reader::str(const toml::table& t, std::string_view key, LStr& out, bool required,
                 std::string_view what) {
  if (!t.get(key)) {
    if (required) missing(t, key, what);
    return false;
  }
  return scalar(t, key, out, "a string");
}

bool Reader::strs(const toml::table& t, std::string_view key, LStrs& out) {
  const toml::node* n = t.get(key);
  if (!n) return false;
  if (auto s = n->as_string()) {
    out.push_back({s->get(), pos_of(n->source())});
    return true;
  }
  auto a = n->as_array();
  if (!a) {
    wrong_type(*n, key, "a string or an array of strings");
    return false;
  }
  for (auto&& e : *a) {
    if (auto s = e.as_string()) {
      out.push_back({s->get(), pos_of(e.source())});
    } else {
      wrong_type(e, key, "an array of strings");
    }
  }
  return true;
}

bool Reader::time(const toml::table& t, std::string_view key, LTime& out, bool end_of_period) {
  const toml::node* n = t.get(key);
  if (!n) return false;
  out.pos = pos_of(n->source());
  // Times are int64 nanoseconds since the epoch: years 1678..2261 only (wider would overflow).
  auto year_ok = [&](int64_t y) {
    if (y >= 1678 && y <= 2261) return true;
    d_.error(out.pos, "'" + std::string(key) + "': year " + std::to_string(y) +
                          " is out of range (1678 to 2261)");
    return false;
  };
  if (auto d = n->as_date()) {
    toml::date v = d->get();
    if (!year_ok(v.year)) return true;  // present but invalid: reported above
    need_tz(out.pos, key);
    int64_t day = base::days_from_civil(v.year, v.month, v.day) + (end_of_period ? 1 : 0);
    out.ns = day * base::kNsPerDay - static_cast<int64_t>(tz_) * 60 * base::kNsPerSec;
    out.set = true;
    out.date_only = true;
    return true;
  }
  if (auto dt = n->as_date_time()) {
    toml::date_time v = dt->get();
    if (!year_ok(v.date.year)) return true;
    int32_t off = tz_;
    if (v.offset) {
      off = v.offset->minutes;
    } else {
      need_tz(out.pos, key);
    }
    out.ns = base::to_epoch_ns(v.date.year, v.date.month, v.date.day, v.time.hour, v.time.minute,
                               v.time.second, v.time.nanosecond, off);
    out.set = true;
    return true;
  }
  wrong_type(*n, key, "a date (2026-12-31) or a date-time (2026-12-31T18:00:00+08:00)");
  return false;
}

const toml::array* Reader::table_array(const toml::table& root, std::string_view key) {
  const toml::node* n = root.get(key);
  if (!n) return nullptr;
  auto a = n->as_array();
  if (!a || !a->is_array_of_tables()) {
    d_.error(pos_of(n->source()), "'" + std::string(key) + "' must be an array of tables ([[" +
                                      std::string(key) + "]])");
    return nullptr;
  }
  return a;
}

const toml::table* Reader::sub_table(const toml::table& t, std::string_view key) {
  const toml::node* n = t.get(key);
  if (!n) return nullptr;
  if (auto tt = n->as_table()) return tt;
  wrong_type(*n, key, "a table");
  return nullptr;
}

void Reader::need_tz(Pos p, std::string_view key) {
  if (!tz_set_) {
    d_.error(p, "'" + std::string(key) +
                    "' has no UTC offset; set [policy] timezone (e.g. \"+08:00\") or write an "
                    "offset date-time");
  }
}

}  // namespace dc::policy::loader_detail
