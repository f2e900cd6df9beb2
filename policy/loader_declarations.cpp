// Policy loader, declarations: the policy's [declarations] and [[approvers]] tables, and the
// declaration files themselves (one flat TOML table per file, docs/policy-reference.md).
#include <cstdio>

#include "policy/declarations.hpp"
#include "policy/loader.hpp"
#include "policy/loader_reader.hpp"

namespace dc::policy {

namespace loader_detail {

void read_declarations(Reader& r, const toml::table& root, PolicyDoc& doc) {
  if (const toml::table* t = r.sub_table(root, "declarations")) {
    doc.declarations.pos = pos_of(t->source());
    Fields f(r, *t, "[declarations]");
    read_fields(f, doc.declarations, kDeclarationsFields);
  }
  read_tables(r, root, "approvers", doc.approvers, kApproverFields);
}

namespace {

// The keys of a declaration file (read_fields rows; dates and the signature by hand).
inline constexpr Field<DeclarationDoc> kDeclarationFields[] = {
    {"id", &DeclarationDoc::id, kRequired},
    {"exporter", &DeclarationDoc::exporter, kRequired},
    {"counterparty", &DeclarationDoc::counterparty, kRequired},
    {"legal_basis", &DeclarationDoc::legal_basis, kRequired},
    {"categories", &DeclarationDoc::categories},
    {"max_persons", &DeclarationDoc::max_persons},
    {"max_sensitive_persons", &DeclarationDoc::max_sensitive_persons},
    {"max_bytes", &DeclarationDoc::max_bytes},
    {"valid_from"},  // by hand: the canonical text is kept too
    {"valid_until"},
    {"purpose", &DeclarationDoc::purpose, kRequired},
    {"approved_by", &DeclarationDoc::approved_by, kRequired},
    {"signature", &DeclarationDoc::signature},
};

std::string two(unsigned v) {
  char b[8];
  std::snprintf(b, sizeof b, "%02u", v % 100);
  return b;
}

std::string date_text(const toml::date& d) {
  char b[16];
  std::snprintf(b, sizeof b, "%04d-%02u-%02u", static_cast<int>(d.year), unsigned{d.month},
                unsigned{d.day});
  return b;
}

// 2026-01-01T08:00:00[.nnnnnnnnn][+08:00]: the same instant written another way (Z, lower-case
// t, fewer fraction digits) gives the same text.
std::string date_time_text(const toml::date_time& v) {
  std::string s = date_text(v.date) + "T" + two(v.time.hour) + ":" + two(v.time.minute) + ":" +
                  two(v.time.second);
  if (v.time.nanosecond != 0) {
    char b[16];
    std::snprintf(b, sizeof b, ".%09u", static_cast<unsigned>(v.time.nanosecond));
    s += b;
  }
  if (v.offset) {
    int m = v.offset->minutes;
    s += m < 0 ? "-" : "+";
    m = m < 0 ? -m : m;
    s += two(static_cast<unsigned>(m / 60)) + ":" + two(static_cast<unsigned>(m % 60));
  }
  return s;
}

void read_bound(Fields& f, std::string_view key, LTime& out, std::string& text, bool end) {
  const toml::node* n = f.table().get(key);
  if (!n) {
    f.reader().missing(f.table(), key, "the declaration");
    return;
  }
  if (!f.time(key, out, end)) return;
  if (auto d = n->as_date()) text = date_text(d->get());
  if (auto dt = n->as_date_time()) text = date_time_text(dt->get());
}

}  // namespace
}  // namespace loader_detail

DeclarationDoc parse_declaration(std::string_view text, const std::string& path, int32_t tz_minutes,
                                 Diagnostics& d) {
  using namespace loader_detail;
  DeclarationDoc decl;
  decl.path = path;
  if (auto bad = find_non_ascii_outside_strings(text)) {
    d.error(Pos{bad->line, bad->column},
            "non-ASCII character outside a string or comment (TOML keys and syntax are ASCII)");
    return decl;
  }
  toml::parse_result res = toml::parse(text, path);
  if (!res) {
    d.error(pos_of(res.error().source()), std::string(res.error().description()));
    return decl;
  }
  Reader r(d);
  r.set_timezone(tz_minutes);
  Fields f(r, res.table(), "the declaration");
  read_fields(f, decl, kDeclarationFields);
  read_bound(f, "valid_from", decl.valid_from, decl.valid_from_text, false);
  read_bound(f, "valid_until", decl.valid_until, decl.valid_until_text, true);
  if (const toml::node* s = res.table().get("signature")) decl.signature_line = pos_of(s->source());
  return decl;
}

}  // namespace dc::policy
