// Policy loader, the negative list: custom [[detectors]] and the [[categories]] they feed.
#include "policy/loader_reader.hpp"

namespace dc::policy::loader_detail {

namespace {

void read_provenance(Fields& f, CategoryDoc& c) {
  const toml::node* p = f.table().get("provenance");
  if (!p) return;
  if (auto pt = p->as_table()) {
    Fields pf(f.reader(), *pt, "provenance");
    pf.keys({"list", "item"});
    pf.req("list", c.provenance_list);
    pf.opt("item", c.provenance_item);
  } else if (auto ps = p->as_string()) {
    c.provenance_list = {ps->get(), pos_of(p->source())};
  } else {
    f.reader().wrong_type(*p, "provenance", "a string or { list = \"...\", item = \"...\" }");
  }
}

}  // namespace

void read_detectors(Reader& r, const toml::table& root, PolicyDoc& doc) {
  each_table(r, root, "detectors", [&](Fields& f, Pos pos) {
    DetectorDoc& d = doc.detectors.emplace_back();
    d.pos = pos;
    f.keys({"id", "patterns", "words", "validator", "keywords", "negative_keywords", "proximity",
            "description"});
    f.req("id", d.id);
    f.opt("validator", d.validator);
    f.opt("description", d.description);
    LStrs pats, words;
    f.list("patterns", pats);
    f.list("words", words);
    for (auto& p : pats) d.patterns.push_back({p.value, false, p.pos});
    for (auto& w : words) d.patterns.push_back({w.value, true, w.pos});
    f.list("keywords", d.keywords);
    f.list("negative_keywords", d.negative_keywords);
    f.opt("proximity", d.proximity);
  });
}

void read_categories(Reader& r, const toml::table& root, PolicyDoc& doc) {
  each_table(r, root, "categories", [&](Fields& f, Pos pos) {
    CategoryDoc& c = doc.categories.emplace_back();
    c.pos = pos;
    f.keys({"id", "name", "level", "personal", "sensitive", "detectors", "min_confidence",
            "threshold", "action", "provenance", "description"});
    f.req("id", c.id);
    f.req("name", c.name);
    f.req("level", c.level);
    f.opt("min_confidence", c.min_confidence);
    f.opt("action", c.action);
    f.opt("description", c.description);
    f.opt("personal", c.personal);
    f.opt("sensitive", c.sensitive);
    f.list("detectors", c.detectors);
    f.opt("threshold", c.threshold);
    read_provenance(f, c);
  });
}

}  // namespace dc::policy::loader_detail
