// Policy loader, the policy's own test cases ([[test]]).
#include "policy/loader_reader.hpp"

namespace dc::policy::loader_detail {

namespace {

void read_findings(Fields& f, TestDoc& c) {
  const toml::node* n = f.table().get("findings");
  if (!n) return;
  c.has_findings = true;
  auto ft = n->as_table();
  if (!ft) {
    f.reader().wrong_type(*n, "findings", "a table { \"category.id\" = count }");
    return;
  }
  for (auto&& [k, v] : *ft) {
    if (auto i = v.as_integer()) {
      c.findings.push_back({LStr{std::string(k.str()), pos_of(k.source())},
                            Located<int64_t>{i->get(), pos_of(v.source())}});
    } else {
      f.reader().wrong_type(v, k.str(), "an integer (number of findings)");
    }
  }
}

}  // namespace

void read_tests(Reader& r, const toml::table& root, PolicyDoc& doc) {
  each_table(r, root, "test", [&](Fields& f, Pos pos) {
    TestDoc& c = doc.tests.emplace_back();
    c.pos = pos;
    f.keys({"name", "from", "to", "proto", "sni", "direction", "payload", "payload_file", "capture",
            "findings", "flags", "at", "expect", "expect_reasons"});
    f.req("name", c.name);
    f.req("from", c.from);
    f.req("to", c.to);
    f.opt("proto", c.proto);
    f.opt("sni", c.sni);
    f.opt("direction", c.direction);
    c.has_payload = f.opt("payload", c.payload);
    c.has_payload = f.opt("payload_file", c.payload_file) || c.has_payload;
    // A capture is decided by the real packet pipeline (the appliance runs it for `policy test`).
    f.list("capture", c.capture);
    const toml::table& t = f.table();
    if (!c.capture.empty() && (c.has_payload || t.get("findings") || t.get("flags")))
      r.diags().error(c.capture.front().pos,
                      "'capture' cannot be combined with payload, payload_file, findings or flags");
    f.req("expect", c.expect);
    f.list("expect_reasons", c.expect_reasons);
    f.list("flags", c.flags);
    f.time("at", c.at, false);
    read_findings(f, c);
  });
}

}  // namespace dc::policy::loader_detail
