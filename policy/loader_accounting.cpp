// Policy loader, [accounting]: customs accounting's switch, timezone, person-key detectors, warning
// fraction and actions (checked by compile_accounting.cpp; docs/policy-reference.md).
#include "policy/loader_reader.hpp"

namespace dc::policy::loader_detail {

void read_accounting(Reader& r, const toml::table& root, PolicyDoc& doc) {
  const toml::table* t = r.sub_table(root, "accounting");
  if (!t) return;
  AccountingDoc& a = doc.accounting;
  a.present = true;
  a.pos = pos_of(t->source());
  Fields f(r, *t, "[accounting]");
  static constexpr std::string_view kKeys[] = {"enabled",       "utc_offset", "person_keys",
                                               "warn_fraction", "on_limit",   "on_unavailable"};
  f.keys(kKeys);
  f.opt("enabled", a.enabled);
  f.opt("utc_offset", a.utc_offset);
  a.has_person_keys = f.list("person_keys", a.person_keys);
  if (const toml::node* n = t->get("warn_fraction")) {
    if (auto d = n->as_floating_point()) {
      a.warn_fraction = {d->get(), pos_of(n->source())};
    } else if (auto i = n->as_integer()) {
      a.warn_fraction = {static_cast<double>(i->get()), pos_of(n->source())};
    } else {
      r.wrong_type(*n, "warn_fraction", "a number between 0 and 1");
    }
  }
  f.opt("on_limit", a.on_limit);
  f.opt("on_unavailable", a.on_unavailable);
}

}  // namespace dc::policy::loader_detail
