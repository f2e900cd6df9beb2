// Policy loader: TOML text -> PolicyDoc (parse_policy), and the readers of the file's header,
// defaults, zones and links. The other tables are read in loader_*.cpp (see loader_reader.hpp);
// the keys of every table are in loader_schema.hpp.
#include "policy/loader.hpp"

#include "base/time.hpp"
#include "policy/loader_reader.hpp"

namespace dc::policy {

namespace loader_detail {

void read_header(Reader& r, const toml::table& root, PolicyDoc& doc) {
  const toml::table* t = r.sub_table(root, "policy");
  if (!t) {
    r.diags().error(Pos{1, 1}, "missing [policy] table (id, version, timezone)");
    return;
  }
  auto& h = doc.header;
  h.pos = pos_of(t->source());
  Fields f(r, *t, "[policy]");
  read_fields(f, h, kHeaderFields);
  if (h.timezone.pos.line != 0) {  // read (a string)
    if (auto off = base::parse_utc_offset(h.timezone.value)) {
      h.tz_offset_minutes = *off;
      r.set_timezone(*off);
    } else {
      r.diags().error(h.timezone.pos, "timezone '" + h.timezone.value +
                                          "' must be a fixed UTC offset like \"+08:00\"");
    }
  }
  f.time("test_time", h.test_time, false);
}

void read_defaults(Reader& r, const toml::table& root, PolicyDoc& doc) {
  const toml::table* t = r.sub_table(root, "defaults");
  if (!t) return;
  auto& d = doc.defaults;
  Fields f(r, *t, "[defaults]");
  read_fields(f, d, kDefaultsFields);
  if (const toml::table* fail = r.sub_table(*t, "on_failure")) {
    for (auto&& [k, v] : *fail) {
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
  read_tables(r, root, "zones", doc.zones, kZoneFields);
}

void read_exporters(Reader& r, const toml::table& root, PolicyDoc& doc) {
  read_tables(r, root, "exporters", doc.exporters, kExporterFields);
}

void read_links(Reader& r, const toml::table& root, PolicyDoc& doc) {
  read_tables(r, root, "links", doc.links, kLinkFields);
}

}  // namespace loader_detail

PolicyDoc parse_policy(std::string_view text, const std::string& path, Diagnostics& diags) {
  using namespace loader_detail;
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
         {"policy", "defaults", "zones", "exporters", "links", "legal_bases", "counterparties",
          "detectors", "categories", "test", "declarations", "approvers", "accounting"},
         "the policy file");
  read_header(r, root, doc);  // first: the timezone is needed to read every date
  read_defaults(r, root, doc);
  read_zones(r, root, doc);
  read_exporters(r, root, doc);
  read_links(r, root, doc);
  read_bases(r, root, doc);
  read_counterparties(r, root, doc);
  read_detectors(r, root, doc);
  read_categories(r, root, doc);
  read_tests(r, root, doc);
  read_declarations(r, root, doc);
  read_accounting(r, root, doc);
  return doc;
}

}  // namespace dc::policy
