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

// A capture is decided by the real packet pipeline (the appliance runs it for `policy test`);
// it replaces the payload and the pipeline's own findings and flags.
void check_capture(Fields& f, TestDoc& c) {
  const toml::table& t = f.table();
  if (!c.capture.empty() && (c.has_payload || t.get("findings") || t.get("flags")))
    f.reader().diags().error(
        c.capture.front().pos,
        "'capture' cannot be combined with payload, payload_file, findings or flags");
}

}  // namespace

void read_tests(Reader& r, const toml::table& root, PolicyDoc& doc) {
  read_tables(r, root, "test", doc.tests, kTestFields, [](Fields& f, TestDoc& c) {
    check_capture(f, c);
    read_findings(f, c);
  });
}

}  // namespace dc::policy::loader_detail
