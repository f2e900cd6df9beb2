// Golden diagnostics: every tests/policy/bad/<case>.toml is checked and its full diagnostic
// output (errors, warnings, notes; "file:line:col: severity: message") must equal
// <case>.expected byte for byte. A case with no "error:" line must compile.
// Regenerate after an intended change with DC_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/time.hpp"
#include "policy/policy.hpp"

namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(DC_SOURCE_DIR) / "tests" / "policy" / "bad";

std::vector<std::string> cases() {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() == ".toml") v.push_back(e.path().stem().string());
  }
  std::sort(v.begin(), v.end());
  return v;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class BadPolicy : public ::testing::TestWithParam<std::string> {};

TEST_P(BadPolicy, DiagnosticsMatchGolden) {
  const std::string name = GetParam();
  const std::string text = read(kDir / (name + ".toml"));
  ASSERT_FALSE(text.empty());
  dc::policy::Diagnostics diags(name + ".toml");
  dc::policy::CompileOptions opts;
  // Fixed reference time for "expired" warnings: golden files must not depend on the date.
  opts.warn_expired_at_ns = *dc::base::parse_rfc3339("2026-06-15T00:00:00+08:00", 0);
  auto snap = dc::policy::compile_policy_text(text, name + ".toml", diags, nullptr, opts);
  const std::string actual = diags.format();
  const fs::path golden = kDir / (name + ".expected");
  if (std::getenv("DC_UPDATE_GOLDEN")) {
    std::ofstream(golden, std::ios::binary) << actual;
    GTEST_SKIP() << "golden file rewritten: " << golden;
  }
  ASSERT_TRUE(fs::exists(golden)) << "missing " << golden;
  const std::string expected = read(golden);
  EXPECT_EQ(expected, actual) << "diagnostics of " << name << ".toml changed";
  const bool expects_errors = expected.find(": error: ") != std::string::npos;
  EXPECT_EQ(expects_errors, snap == nullptr) << "compiles iff the golden file has no errors";
  EXPECT_EQ(expects_errors, diags.has_errors());
}

INSTANTIATE_TEST_SUITE_P(Golden, BadPolicy, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param; });

// Every case must report at least one diagnostic, otherwise it tests nothing.
TEST(BadPolicyCorpus, EveryCaseHasAGoldenFileWithDiagnostics) {
  auto all = cases();
  ASSERT_GE(all.size(), 10u);
  for (const auto& c : all) {
    EXPECT_FALSE(read(kDir / (c + ".expected")).empty()) << c;
  }
}

}  // namespace
