// TOML reader for policy files. toml++ is compiled header-only without exceptions here
// (TOML_EXCEPTIONS=0, parse_result API); it must not appear anywhere else in policy/.
#include "policy/loader.hpp"

#include <toml++/toml.h>

#include <initializer_list>

#include "base/time.hpp"

namespace dc::policy {
namespace {

Pos pos_of(const toml::source_region& r) {
  return Pos{static_cast<uint32_t>(r.begin.line), static_cast<uint32_t>(r.begin.column)};
}

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

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

  void missing(const toml::table& t, std::string_view key, std::string_view what) {
    d_.error(pos_of(t.source()),
             std::string(what) + " is missing required key '" + std::string(key) + "'");
  }

  void wrong_type(const toml::node& n, std::string_view key, std::string_view expected) {
    d_.error(pos_of(n.source()), "'" + std::string(key) + "' must be " + std::string(expected) +
                                     ", not " + type_name(n));
  }

  bool str(const toml::table& t, std::string_view key, LStr& out, bool required,
           std::string_view what) {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) missing(t, key, what);
      return false;
    }
    if (auto s = n->as_string()) {
      out.value = s->get();
      out.pos = pos_of(n->source());
      return true;
    }
    wrong_type(*n, key, "a string");
    return false;
  }

  bool boolean(const toml::table& t, std::string_view key, Located<bool>& out) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    if (auto b = n->as_boolean()) {
      out.value = b->get();
      out.pos = pos_of(n->source());
      return true;
    }
    wrong_type(*n, key, "true or false");
    return false;
  }

  bool integer(const toml::table& t, std::string_view key, Located<int64_t>& out) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    if (auto i = n->as_integer()) {
      out.value = i->get();
      out.pos = pos_of(n->source());
      return true;
    }
    wrong_type(*n, key, "an integer");
    return false;
  }

  // A string or an array of strings.
  bool strs(const toml::table& t, std::string_view key, LStrs& out) {
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

  // Dates: a date-only value means the start of that day in the policy timezone, or - for the end
  // of a validity period (`end_of_period`) - the end of that day (the whole day is included).
  // A local date-time uses the policy timezone; an offset date-time is exact.
  bool time(const toml::table& t, std::string_view key, LTime& out, bool end_of_period) {
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

  const toml::array* table_array(const toml::table& root, std::string_view key) {
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

  const toml::table* sub_table(const toml::table& t, std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (auto tt = n->as_table()) return tt;
    wrong_type(*n, key, "a table");
    return nullptr;
  }

  Diagnostics& diags() { return d_; }

 private:
  void need_tz(Pos p, std::string_view key) {
    if (!tz_set_) {
      d_.error(p, "'" + std::string(key) +
                      "' has no UTC offset; set [policy] timezone (e.g. \"+08:00\") or write an "
                      "offset date-time");
    }
  }

  Diagnostics& d_;
  int32_t tz_ = 0;
  bool tz_set_ = false;
};

void read_ports(Reader& r, const toml::table& t, EndpointDoc& e) {
  const toml::node* n = t.get("ports");
  if (!n) return;
  auto one = [&](const toml::node& x) {
    Pos p = pos_of(x.source());
    if (auto i = x.as_integer()) {
      e.ports.push_back({{i->get(), i->get()}, p});
    } else if (auto s = x.as_string()) {
      const std::string& v = s->get();
      auto dash = v.find('-');
      long long lo = -1, hi = -1;
      try {
        if (dash == std::string::npos) {
          lo = hi = std::stoll(v);
        } else {
          lo = std::stoll(v.substr(0, dash));
          hi = std::stoll(v.substr(dash + 1));
        }
      } catch (...) {
        lo = hi = -1;
      }
      if (lo < 0) {
        r.diags().error(p, "port range '" + v + "' must look like \"8000-8080\"");
        return;
      }
      e.ports.push_back({{lo, hi}, p});
    } else {
      r.wrong_type(x, "ports", "an integer or a \"low-high\" string");
    }
  };
  if (auto a = n->as_array()) {
    for (auto&& x : *a) one(x);
  } else {
    one(*n);
  }
}

void read_header(Reader& r, const toml::table& root, PolicyDoc& doc) {
  const toml::table* t = r.sub_table(root, "policy");
  if (!t) {
    r.diags().error(Pos{1, 1}, "missing [policy] table (id, version, timezone)");
    return;
  }
  auto& h = doc.header;
  h.pos = pos_of(t->source());
  r.keys(*t, {"id", "version", "description", "timezone", "test_time"}, "[policy]");
  r.str(*t, "id", h.id, true, "[policy]");
  r.str(*t, "version", h.version, true, "[policy]");
  r.str(*t, "description", h.description, false, "[policy]");
  if (r.str(*t, "timezone", h.timezone, false, "[policy]")) {
    if (auto off = base::parse_utc_offset(h.timezone.value)) {
      h.tz_offset_minutes = *off;
      r.set_timezone(*off);
    } else {
      r.diags().error(h.timezone.pos, "timezone '" + h.timezone.value +
                                          "' must be a fixed UTC offset like \"+08:00\"");
    }
  }
  r.time(*t, "test_time", h.test_time, false);
}

void read_defaults(Reader& r, const toml::table& root, PolicyDoc& doc) {
  const toml::table* t = r.sub_table(root, "defaults");
  if (!t) return;
  auto& d = doc.defaults;
  r.keys(*t, {"no_counterparty", "monitor", "opaque_payload", "on_failure"}, "[defaults]");
  r.str(*t, "no_counterparty", d.no_counterparty, false, "[defaults]");
  r.str(*t, "opaque_payload", d.opaque_payload, false, "[defaults]");
  r.boolean(*t, "monitor", d.monitor);
  if (const toml::table* f = r.sub_table(*t, "on_failure")) {
    for (auto&& [k, v] : *f) {
      LStr val;
      if (auto s = v.as_string()) {
        val = {s->get(), pos_of(v.source())};
      } else {
        r.wrong_type(v, k.str(), "\"closed\" or \"open\"");
        continue;
      }
      // Key names are checked by the compiler against the failure list (it knows them).
      d.on_failure.push_back({LStr{std::string(k.str()), pos_of(k.source())}, val});
    }
  }
}

void read_zones(Reader& r, const toml::table& root, PolicyDoc& doc) {
  const toml::array* a = r.table_array(root, "zones");
  if (!a) return;
  for (auto&& n : *a) {
    const toml::table& t = *n.as_table();
    ZoneDoc z;
    z.pos = pos_of(t.source());
    r.keys(t, {"id", "kind", "prefixes", "description"}, "[[zones]]");
    r.str(t, "id", z.id, true, "[[zones]]");
    r.str(t, "kind", z.kind, true, "[[zones]]");
    r.str(t, "description", z.description, false, "[[zones]]");
    r.strs(t, "prefixes", z.prefixes);
    doc.zones.push_back(std::move(z));
  }
}

void read_links(Reader& r, const toml::table& root, PolicyDoc& doc) {
  const toml::array* a = r.table_array(root, "links");
  if (!a) return;
  for (auto&& n : *a) {
    const toml::table& t = *n.as_table();
    LinkDoc l;
    l.pos = pos_of(t.source());
    r.keys(t, {"from", "to", "inspect", "reply", "counterparties", "description"}, "[[links]]");
    r.str(t, "from", l.from, true, "[[links]]");
    r.str(t, "to", l.to, true, "[[links]]");
    r.boolean(t, "inspect", l.inspect);
    r.str(t, "reply", l.reply, false, "[[links]]");
    r.str(t, "description", l.description, false, "[[links]]");
    l.has_counterparties = r.strs(t, "counterparties", l.counterparties);
    doc.links.push_back(std::move(l));
  }
}

void read_bases(Reader& r, const toml::table& root, PolicyDoc& doc) {
  const toml::array* a = r.table_array(root, "legal_bases");
  if (!a) return;
  for (auto&& n : *a) {
    const toml::table& t = *n.as_table();
    BasisDoc b;
    b.pos = pos_of(t.source());
    r.keys(t,
           {"id", "mechanism", "exemption", "reference", "processor", "issued", "expires",
            "categories", "max_persons", "max_sensitive_persons", "status", "description"},
           "[[legal_bases]]");
    r.str(t, "id", b.id, true, "[[legal_bases]]");
    r.str(t, "mechanism", b.mechanism, true, "[[legal_bases]]");
    r.str(t, "exemption", b.exemption, false, "[[legal_bases]]");
    r.str(t, "reference", b.reference, false, "[[legal_bases]]");
    r.str(t, "processor", b.processor, false, "[[legal_bases]]");
    r.str(t, "status", b.status, false, "[[legal_bases]]");
    r.str(t, "description", b.description, false, "[[legal_bases]]");
    if (!r.time(t, "issued", b.issued, false)) r.missing(t, "issued", "[[legal_bases]]");
    if (!r.time(t, "expires", b.expires, true)) r.missing(t, "expires", "[[legal_bases]]");
    r.strs(t, "categories", b.categories);
    r.integer(t, "max_persons", b.max_persons);
    r.integer(t, "max_sensitive_persons", b.max_sensitive_persons);
    doc.bases.push_back(std::move(b));
  }
}

void read_counterparties(Reader& r, const toml::table& root, PolicyDoc& doc) {
  const toml::array* a = r.table_array(root, "counterparties");
  if (!a) return;
  for (auto&& n : *a) {
    const toml::table& t = *n.as_table();
    CounterpartyDoc c;
    c.pos = pos_of(t.source());
    r.keys(t,
           {"id", "name", "country", "endpoints", "legal_bases", "allowed_categories",
            "denied_categories", "status", "valid_from", "valid_until", "description"},
           "[[counterparties]]");
    r.str(t, "id", c.id, true, "[[counterparties]]");
    r.str(t, "name", c.name, true, "[[counterparties]]");
    r.str(t, "country", c.country, true, "[[counterparties]]");
    r.str(t, "status", c.status, false, "[[counterparties]]");
    r.str(t, "description", c.description, false, "[[counterparties]]");
    r.time(t, "valid_from", c.valid_from, false);
    r.time(t, "valid_until", c.valid_until, true);
    r.strs(t, "legal_bases", c.legal_bases);
    c.has_allowed = r.strs(t, "allowed_categories", c.allowed_categories);
    r.strs(t, "denied_categories", c.denied_categories);
    const toml::node* eps = t.get("endpoints");
    if (!eps) {
      r.missing(t, "endpoints", "[[counterparties]]");
    } else if (auto arr = eps->as_array()) {
      for (auto&& en : *arr) {
        auto et = en.as_table();
        if (!et) {
          r.wrong_type(en, "endpoints", "an array of tables");
          continue;
        }
        EndpointDoc e;
        e.pos = pos_of(en.source());
        r.keys(*et, {"prefixes", "ports", "sni", "protocols"}, "endpoint");
        r.strs(*et, "prefixes", e.prefixes);
        r.strs(*et, "sni", e.sni);
        r.strs(*et, "protocols", e.protocols);
        read_ports(r, *et, e);
        c.endpoints.push_back(std::move(e));
      }
    } else {
      r.wrong_type(*eps, "endpoints", "an array of tables");
    }
    doc.counterparties.push_back(std::move(c));
  }
}

void read_detectors(Reader& r, const toml::table& root, PolicyDoc& doc) {
  const toml::array* a = r.table_array(root, "detectors");
  if (!a) return;
  for (auto&& n : *a) {
    const toml::table& t = *n.as_table();
    DetectorDoc d;
    d.pos = pos_of(t.source());
    r.keys(t,
           {"id", "patterns", "words", "validator", "keywords", "negative_keywords", "proximity",
            "description"},
           "[[detectors]]");
    r.str(t, "id", d.id, true, "[[detectors]]");
    r.str(t, "validator", d.validator, false, "[[detectors]]");
    r.str(t, "description", d.description, false, "[[detectors]]");
    LStrs pats, words;
    r.strs(t, "patterns", pats);
    r.strs(t, "words", words);
    for (auto& p : pats) d.patterns.push_back({p.value, false, p.pos});
    for (auto& w : words) d.patterns.push_back({w.value, true, w.pos});
    r.strs(t, "keywords", d.keywords);
    r.strs(t, "negative_keywords", d.negative_keywords);
    r.integer(t, "proximity", d.proximity);
    doc.detectors.push_back(std::move(d));
  }
}

void read_categories(Reader& r, const toml::table& root, PolicyDoc& doc) {
  const toml::array* a = r.table_array(root, "categories");
  if (!a) return;
  for (auto&& n : *a) {
    const toml::table& t = *n.as_table();
    CategoryDoc c;
    c.pos = pos_of(t.source());
    r.keys(t,
           {"id", "name", "level", "personal", "sensitive", "detectors", "min_confidence",
            "threshold", "action", "provenance", "description"},
           "[[categories]]");
    r.str(t, "id", c.id, true, "[[categories]]");
    r.str(t, "name", c.name, true, "[[categories]]");
    r.str(t, "level", c.level, true, "[[categories]]");
    r.str(t, "min_confidence", c.min_confidence, false, "[[categories]]");
    r.str(t, "action", c.action, false, "[[categories]]");
    r.str(t, "description", c.description, false, "[[categories]]");
    r.boolean(t, "personal", c.personal);
    r.boolean(t, "sensitive", c.sensitive);
    r.strs(t, "detectors", c.detectors);
    r.integer(t, "threshold", c.threshold);
    if (const toml::node* p = t.get("provenance")) {
      if (auto pt = p->as_table()) {
        r.keys(*pt, {"list", "item"}, "provenance");
        r.str(*pt, "list", c.provenance_list, true, "provenance");
        r.str(*pt, "item", c.provenance_item, false, "provenance");
      } else if (auto ps = p->as_string()) {
        c.provenance_list = {ps->get(), pos_of(p->source())};
      } else {
        r.wrong_type(*p, "provenance", "a string or { list = \"...\", item = \"...\" }");
      }
    }
    doc.categories.push_back(std::move(c));
  }
}

void read_tests(Reader& r, const toml::table& root, PolicyDoc& doc) {
  const toml::array* a = r.table_array(root, "test");
  if (!a) return;
  for (auto&& n : *a) {
    const toml::table& t = *n.as_table();
    TestDoc c;
    c.pos = pos_of(t.source());
    r.keys(t,
           {"name", "from", "to", "proto", "sni", "direction", "payload", "payload_file", "capture",
            "findings", "flags", "at", "expect", "expect_reasons"},
           "[[test]]");
    r.str(t, "name", c.name, true, "[[test]]");
    r.str(t, "from", c.from, true, "[[test]]");
    r.str(t, "to", c.to, true, "[[test]]");
    r.str(t, "proto", c.proto, false, "[[test]]");
    r.str(t, "sni", c.sni, false, "[[test]]");
    r.str(t, "direction", c.direction, false, "[[test]]");
    c.has_payload = r.str(t, "payload", c.payload, false, "[[test]]");
    c.has_payload = r.str(t, "payload_file", c.payload_file, false, "[[test]]") || c.has_payload;
    // A capture is decided by the real packet pipeline (the appliance runs it for `policy test`).
    r.strs(t, "capture", c.capture);
    if (!c.capture.empty() && (c.has_payload || t.get("findings") || t.get("flags")))
      r.diags().error(c.capture.front().pos,
                      "'capture' cannot be combined with payload, payload_file, findings or flags");
    r.str(t, "expect", c.expect, true, "[[test]]");
    r.strs(t, "expect_reasons", c.expect_reasons);
    r.strs(t, "flags", c.flags);
    r.time(t, "at", c.at, false);
    if (const toml::node* f = t.get("findings")) {
      c.has_findings = true;
      if (auto ft = f->as_table()) {
        for (auto&& [k, v] : *ft) {
          if (auto i = v.as_integer()) {
            c.findings.push_back({LStr{std::string(k.str()), pos_of(k.source())},
                                  Located<int64_t>{i->get(), pos_of(v.source())}});
          } else {
            r.wrong_type(v, k.str(), "an integer (number of findings)");
          }
        }
      } else {
        r.wrong_type(*f, "findings", "a table { \"category.id\" = count }");
      }
    }
    doc.tests.push_back(std::move(c));
  }
}

}  // namespace

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

PolicyDoc parse_policy(std::string_view text, const std::string& path, Diagnostics& diags) {
  PolicyDoc doc;
  doc.path = path;
  doc.bytes = std::string(text);
  // toml++ 3.3.0 reaches __builtin_unreachable() (undefined behaviour) on some non-ASCII
  // characters where it expects whitespace (upstream marzer/tomlplusplus#295, fixed after 3.3.0).
  // Outside strings and comments TOML allows only ASCII, so refuse such a file before parsing.
  if (auto bad = find_non_ascii_outside_strings(text)) {
    diags.error(Pos{bad->line, bad->column},
                "non-ASCII character outside a string or comment (TOML keys and syntax are ASCII)");
    return doc;
  }
  toml::parse_result res = toml::parse(text, path);
  if (!res) {
    const auto& err = res.error();
    diags.error(pos_of(err.source()), std::string(err.description()));
    return doc;
  }
  const toml::table& root = res.table();
  Reader r(diags);
  r.keys(root,
         {"policy", "defaults", "zones", "links", "legal_bases", "counterparties", "detectors",
          "categories", "test"},
         "the policy file");
  read_header(r, root, doc);  // first: the timezone is needed to read every date
  read_defaults(r, root, doc);
  read_zones(r, root, doc);
  read_links(r, root, doc);
  read_bases(r, root, doc);
  read_counterparties(r, root, doc);
  read_detectors(r, root, doc);
  read_categories(r, root, doc);
  read_tests(r, root, doc);
  return doc;
}

}  // namespace dc::policy
