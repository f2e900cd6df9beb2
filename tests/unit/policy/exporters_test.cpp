// Exporters (docs/policy-reference.md "Exporters"): every border flow is attributed to the
// exporter of its domestic end (longest exporter prefix, else the exporter listing the zone), and
// [defaults] unattributed decides flows that no exporter owns. Compile errors name the value.
#include <gtest/gtest.h>

#include "base/time.hpp"
#include "policy/policy.hpp"

namespace {

using namespace dc::policy;

std::string policy(const std::string& defaults, const std::string& exporters) {
  return R"(
[policy]
id = "exporters"
version = "1"
timezone = "+08:00"

[defaults]
)" + defaults +
         R"(

[[zones]]
id = "dom"
kind = "domestic"
prefixes = ["10.1.0.0/16"]
[[zones]]
id = "plant"
kind = "domestic"
prefixes = ["10.7.0.0/16"]
[[zones]]
id = "ext"
kind = "foreign"
prefixes = ["203.0.113.0/24"]

[[links]]
from = "dom"
to = "ext"
[[links]]
from = "plant"
to = "ext"
[[links]]
from = "ext"
to = "dom"

[[categories]]
id = "pi.id"
name = "id"
level = "general"
personal = true
provenance = "t"

[[legal_bases]]
id = "SCC"
mechanism = "standard_contract"
issued = 2025-01-01
expires = 2027-12-31
categories = ["pi.id"]

[[counterparties]]
id = "hq"
name = "HQ"
country = "DE"
legal_bases = ["SCC"]
endpoints = [{ prefixes = ["203.0.113.10/32"] }]
)" + exporters;
}

// Two legal entities: "acme" owns zone dom except 10.1.99.0/24, which "lab-co" owns by prefix.
const std::string kExporters = R"(
[[exporters]]
id = "acme"
name = "Acme Trading (Wuhu) Co., Ltd."
uscc = "91310000775785552L"
zones = ["dom"]
[[exporters]]
id = "lab-co"
name = "Lab Co."
uscc = "91440300708461136T"
prefixes = ["10.1.99.0/24"]
ciio = true
)";

std::shared_ptr<const Snapshot> compile(const std::string& text, Diagnostics& d) {
  return compile_policy_text(text, "exporters.toml", d);
}

FlowQuery query(const Snapshot& s, const char* src, const char* dst) {
  FlowQuery q;
  EXPECT_TRUE(parse_address(src, q.src));
  EXPECT_TRUE(parse_address(dst, q.dst));
  q.sport = 50000;
  q.dport = 443;
  q.proto = 6;
  q.src_zone = s.zone_of(q.src);
  q.dst_zone = s.zone_of(q.dst);
  q.now_ns = *dc::base::parse_rfc3339("2026-06-15T10:00:00+08:00", 480);
  q.sni_state = SniState::kAbsent;
  return q;
}

std::string exporter_id(const Snapshot& s, const Admission& a) {
  return a.exporter == kNoExporter ? "-" : s.exporter(a.exporter).id;
}

TEST(Exporters, AttributedByLongestPrefixThenZone) {
  Diagnostics d("exporters.toml");
  auto s = compile(policy("", kExporters), d);
  ASSERT_TRUE(s) << d.format();
  ASSERT_EQ(s->exporter_count(), 2u);
  EXPECT_EQ(s->find_exporter("lab-co"), 1);
  EXPECT_EQ(s->find_exporter("nope"), kNoExporter);
  EXPECT_TRUE(s->exporter(1).ciio);
  EXPECT_EQ(s->exporter(0).uscc, "91310000775785552L");
  // Upload from the domestic opener: the opener's exporter.
  EXPECT_EQ(exporter_id(*s, s->admit(query(*s, "10.1.1.1", "203.0.113.10"))), "acme");
  EXPECT_EQ(exporter_id(*s, s->admit(query(*s, "10.1.99.7", "203.0.113.10"))), "lab-co");
  // A foreign client's request: the exported bytes are the domestic responder's, so its exporter.
  EXPECT_EQ(exporter_id(*s, s->admit(query(*s, "203.0.113.10", "10.1.99.7"))), "lab-co");
  EXPECT_EQ(exporter_id(*s, s->admit(query(*s, "203.0.113.10", "10.1.2.3"))), "acme");
  // No exporter lists zone plant: unattributed, and by default that changes nothing.
  Admission a = s->admit(query(*s, "10.7.0.1", "203.0.113.10"));
  EXPECT_EQ(a.exporter, kNoExporter);
  EXPECT_EQ(a.verdict.action, Action::kAllow);
  EXPECT_EQ(a.verdict.reasons[0].kind, ReasonKind::kWhitelisted);
}

TEST(Exporters, UnattributedActionAppliesAtAdmissionAndOnEveryDecision) {
  for (const char* action : {"alert", "block"}) {
    Diagnostics d("exporters.toml");
    auto s = compile(policy(std::string("unattributed = \"") + action + "\"", kExporters), d);
    ASSERT_TRUE(s) << d.format();
    Admission a = s->admit(query(*s, "10.7.0.1", "203.0.113.10"));
    EXPECT_EQ(action_name(a.verdict.action), action);
    ASSERT_GE(a.verdict.reason_count, 2);
    EXPECT_EQ(a.verdict.reasons[0].kind, ReasonKind::kUnattributed) << s->describe(a.verdict);
    Verdict v = s->decide(a, CategoryTally{}, 0, query(*s, "10.7.0.1", "203.0.113.10").now_ns);
    EXPECT_EQ(action_name(v.action), action);
    EXPECT_EQ(v.reasons[0].kind, ReasonKind::kUnattributed) << s->describe(v);
    // An attributed flow is untouched.
    Admission b = s->admit(query(*s, "10.1.1.1", "203.0.113.10"));
    EXPECT_EQ(b.verdict.action, Action::kAllow) << s->describe(b.verdict);
    // A flow from an unlisted zone without a counterparty keeps both reasons.
    Admission c = s->admit(query(*s, "10.7.0.1", "203.0.113.99"));
    EXPECT_EQ(c.verdict.action, Action::kBlock);
  }
}

TEST(Exporters, NoExportersMeansEveryBorderFlowIsUnattributed) {
  Diagnostics d("exporters.toml");
  auto s = compile(policy("unattributed = \"block\"", ""), d);
  ASSERT_TRUE(s) << d.format();
  EXPECT_EQ(s->exporter_count(), 0u);
  Admission a = s->admit(query(*s, "10.1.1.1", "203.0.113.10"));
  EXPECT_EQ(a.verdict.action, Action::kBlock);
  EXPECT_EQ(a.verdict.reasons[0].kind, ReasonKind::kUnattributed);
}

struct Bad {
  const char* name;
  const char* exporters;
  const char* message;  // a substring of the diagnostics
};

class BadExporters : public ::testing::TestWithParam<Bad> {};

TEST_P(BadExporters, ReportedAtTheValue) {
  Diagnostics d("exporters.toml");
  auto s = compile(policy("", GetParam().exporters), d);
  EXPECT_EQ(s, nullptr);
  EXPECT_NE(d.format().find(GetParam().message), std::string::npos) << d.format();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BadExporters,
    ::testing::Values(
        Bad{"unknown_zone",
            "[[exporters]]\nid = \"a\"\nname = \"A\"\nuscc = \"91310000775785552L\"\n"
            "zones = [\"dmo\"]\n",
            "57:10: error: unknown zone 'dmo' (did you mean 'dom'?) in exporter 'a'"},
        Bad{"foreign_zone",
            "[[exporters]]\nid = \"a\"\nname = \"A\"\nuscc = \"91310000775785552L\"\n"
            "zones = [\"ext\"]\n",
            "zone 'ext' is foreign: an exporter is a domestic data handler"},
        Bad{"foreign_prefix",
            "[[exporters]]\nid = \"a\"\nname = \"A\"\nuscc = \"91310000775785552L\"\n"
            "prefixes = [\"203.0.113.0/28\"]\n",
            "prefix 203.0.113.0/28 is in foreign zone 'ext'"},
        Bad{"bad_uscc",
            "[[exporters]]\nid = \"a\"\nname = \"A\"\nuscc = \"9131000077578555\"\nzones = "
            "[\"dom\"]\n",
            "uscc '9131000077578555' is not a unified social credit code"},
        Bad{"same_entity_twice",
            "[[exporters]]\nid = \"a\"\nname = \"A\"\nuscc = \"91310000775785552L\"\nzones = "
            "[\"dom\"]\n[[exporters]]\nid = \"b\"\nname = \"B\"\nuscc = \"91310000775785552L\"\n"
            "zones = [\"plant\"]\n",
            "uscc '91310000775785552L' is already exporter 'a'"},
        Bad{"zone_twice",
            "[[exporters]]\nid = \"a\"\nname = \"A\"\nuscc = \"91310000775785552L\"\nzones = "
            "[\"dom\"]\n[[exporters]]\nid = \"b\"\nname = \"B\"\nuscc = \"91440300708461136T\"\n"
            "zones = [\"dom\"]\n",
            "zone 'dom' already belongs to exporter 'a'"},
        Bad{"prefix_twice",
            "[[exporters]]\nid = \"a\"\nname = \"A\"\nuscc = \"91310000775785552L\"\nprefixes = "
            "[\"10.1.5.0/24\"]\n[[exporters]]\nid = \"b\"\nname = \"B\"\nuscc = "
            "\"91440300708461136T\"\nprefixes = [\"10.1.5.0/24\"]\n",
            "prefix 10.1.5.0/24 already belongs to exporter 'a'"},
        Bad{"owns_nothing",
            "[[exporters]]\nid = \"a\"\nname = \"A\"\nuscc = \"91310000775785552L\"\n",
            "exporter 'a' lists no zones and no prefixes"},
        Bad{"missing_uscc", "[[exporters]]\nid = \"a\"\nname = \"A\"\nzones = [\"dom\"]\n",
            "uscc"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Exporters, UnknownUnattributedActionIsAnError) {
  Diagnostics d("exporters.toml");
  auto s = compile(policy("unattributed = \"drop\"", kExporters), d);
  EXPECT_EQ(s, nullptr);
  EXPECT_NE(d.format().find("unknown unattributed action 'drop'"), std::string::npos) << d.format();
}

TEST(Exporters, WrongCheckCharacterIsOnlyAWarning) {
  Diagnostics d("exporters.toml");
  auto s = compile(policy("",
                          "[[exporters]]\nid = \"a\"\nname = \"A\"\nuscc = "
                          "\"91350211M0000XUF46\"\nzones = [\"dom\"]\n"),
                   d);
  EXPECT_TRUE(s) << d.format();
  EXPECT_NE(d.format().find("warning: uscc '91350211M0000XUF46' fails its GB 32100 check"),
            std::string::npos)
      << d.format();
}

}  // namespace
