// Policy loader, the negative list: custom [[detectors]] and the [[categories]] they feed.
#include "policy/loader_reader.hpp"

namespace dc::policy::loader_detail {

namespace {

void read_provenance(Fields& f, CategoryDoc& c) {
  const toml::node* p = f.table().get("provenance");
  if (!p) return;
  if (auto pt = p->as_table()) {
    Fields pf(f.reader(), *pt, "provenance");
    read_fields(pf, c, kProvenanceFields);
  } else if (auto ps = p->as_string()) {
    c.provenance_list = {ps->get(), pos_of(p->source())};
  } else {
    f.reader().wrong_type(*p, "provenance", "a string or { list = \"...\", item = \"...\" }");
  }
}

void read_patterns(Fields& f, DetectorDoc& d) {
  LStrs pats, words;
  f.list("patterns", pats);
  f.list("words", words);
  for (auto& p : pats) d.patterns.push_back({p.value, false, p.pos});
  for (auto& w : words) d.patterns.push_back({w.value, true, w.pos});
}

}  // namespace

void read_detectors(Reader& r, const toml::table& root, PolicyDoc& doc) {
  read_tables(r, root, "detectors", doc.detectors, kDetectorFields, read_patterns);
}

void read_categories(Reader& r, const toml::table& root, PolicyDoc& doc) {
  read_tables(r, root, "categories", doc.categories, kCategoryFields, read_provenance);
}

}  // namespace dc::policy::loader_detail
