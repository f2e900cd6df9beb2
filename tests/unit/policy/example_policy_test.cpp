// The shipped example policy must check cleanly and pass every one of its own [[test]] cases
// (which exercise every decision rule, with payloads scanned by the real detector database).
#include <gtest/gtest.h>

#include <set>

#include "base/time.hpp"
#include "policy/policy.hpp"
#include "policy/test_runner.hpp"

namespace {

using namespace dc::policy;
const std::string kExample = std::string(DC_SOURCE_DIR) + "/examples/policy/ftz-demo.toml";

TEST(ExamplePolicy, ChecksWithoutErrors) {
  Diagnostics d(kExample);
  CompileOptions o;
  o.warn_expired_at_ns = *dc::base::parse_rfc3339("2026-06-15", 8 * 60);
  auto snap = load_policy_file(kExample, d, nullptr, o);
  ASSERT_TRUE(snap) << snap.error().message;
  ASSERT_TRUE(*snap) << d.format();
  EXPECT_EQ(d.error_count(), 0u) << d.format();
  // The one expected warning: the deliberately expired standard contract.
  EXPECT_EQ(d.warning_count(), 1u) << d.format();
  EXPECT_NE(d.format().find("SCC-2024-0007"), std::string::npos);
  EXPECT_EQ((*snap)->sha256_hex().size(), 64u);
  EXPECT_TRUE((*snap)->detector_db()) << "the example's detectors compile into one database";
}

TEST(ExamplePolicy, AllItsCasesPass) {
  Diagnostics d(kExample);
  PolicyDoc doc;
  auto snap = load_policy_file(kExample, d, &doc);
  ASSERT_TRUE(snap && *snap) << d.format();
  auto results = run_tests(doc, **snap);
  ASSERT_GE(results.size(), 25u);
  for (const auto& r : results) {
    EXPECT_TRUE(r.passed || r.skipped)
        << r.name << "\n expected: " << r.expected << "\n actual:   " << r.actual << "\n"
        << r.detail;
  }
}

// The issue asks for each rule to fire in the example: collect the reason kinds its cases show.
TEST(ExamplePolicy, CasesCoverEveryRule) {
  Diagnostics d(kExample);
  PolicyDoc doc;
  auto snap = load_policy_file(kExample, d, &doc);
  ASSERT_TRUE(snap && *snap);
  std::set<std::string> kinds;
  for (const auto& t : doc.tests) {
    Verdict v;
    std::string err;
    ASSERT_TRUE(evaluate_case(doc, t, **snap, v, err)) << t.name.value << ": " << err;
    for (std::size_t i = 0; i < v.reason_count; ++i)
      kinds.insert(std::string(reason_name(v.reasons[i].kind)));
  }
  for (const char* k :
       {"no_link", "no_counterparty", "counterparty_not_on_link", "counterparty_suspended",
        "basis_expired", "one_way_violation", "core_data", "category_denied",
        "category_not_allowed", "important_without_assessment", "personal_without_basis",
        "important_under_assessment", "personal_under_basis", "whitelisted", "evasion",
        "scan_error", "opaque_payload"}) {
    EXPECT_TRUE(kinds.count(k)) << "no example case shows " << k;
  }
}

// A case whose expectation is wrong must be reported as a failure (the runner can fail).
TEST(ExamplePolicy, WrongExpectationFails) {
  Diagnostics d(kExample);
  PolicyDoc doc;
  auto snap = load_policy_file(kExample, d, &doc);
  ASSERT_TRUE(snap && *snap);
  ASSERT_FALSE(doc.tests.empty());
  doc.tests.resize(2);
  doc.tests[0].expect.value = doc.tests[0].expect.value == "allow" ? "block" : "allow";
  doc.tests[1].expect_reasons.push_back({"core_data", {}});
  auto results = run_tests(doc, **snap);
  EXPECT_FALSE(results[0].passed);
  EXPECT_FALSE(results[1].passed);
}

}  // namespace
