// The spelling tables (policy/spelling.hpp): each enumeration's names read the same both ways,
// the compiler's "expected:" lists come from them, and confidences are spelt as the detectors do.
#include "policy/spelling.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "policy/policy.hpp"

namespace {

using namespace dc::policy;

template <class E, std::size_t N, class NameFn>
void expect_round_trip(const std::array<Spelling<E>, N>& table, NameFn name_of) {
  std::set<std::string_view> names;
  for (const auto& s : table) {
    EXPECT_EQ(name_of(s.value), s.name);
    EXPECT_EQ(spelling_of(table, s.value), s.name);
    EXPECT_TRUE(names.insert(s.name).second) << "duplicate name " << s.name;
  }
}

TEST(Spelling, NamesRoundTrip) {
  expect_round_trip(kActionSpellings, action_name);
  expect_round_trip(kZoneKindSpellings, zone_kind_name);
  expect_round_trip(kLevelSpellings, level_name);
  expect_round_trip(kMechanismSpellings, mechanism_name);
  expect_round_trip(kStatusSpellings, status_name);
  expect_round_trip(confidence_spellings(), confidence_name);
  EXPECT_EQ(spelling_of(kReplySpellings, Reply::kNone), "none");
  EXPECT_EQ(action_name(static_cast<Action>(7)), "?");
}

TEST(Spelling, ConfidencesAreTheDetectorsOwn) {
  const auto& t = confidence_spellings();
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t.front().name, "very_unlikely");
  EXPECT_EQ(t.back().name, "very_likely");
  for (const auto& s : t) {
    dc::inspect::Confidence c{};
    ASSERT_TRUE(dc::inspect::parse_confidence(s.name, &c)) << s.name;
    EXPECT_EQ(c, s.value);
  }
}

// An unknown value is reported with the table's names, in the table's order.
TEST(Spelling, CompilerListsTheTable) {
  constexpr const char* kPolicy = R"(
[policy]
id = "spelling"
version = "1"
timezone = "+08:00"

[[zones]]
id = "lan"
kind = "inland"
prefixes = ["10.0.0.0/8"]

[[categories]]
id = "c"
name = "C"
level = "secret"
min_confidence = "sure"
provenance = "x"
)";
  Diagnostics d("p.toml");
  EXPECT_EQ(compile_policy_text(kPolicy, "p.toml", d), nullptr);
  std::string out = d.format();
  EXPECT_NE(out.find("unknown zone kind 'inland' (expected: domestic, processing, foreign)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("unknown level 'secret' (expected: core, important, general)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("unknown confidence 'sure' (expected: very_unlikely, unlikely, possible, "
                     "likely, very_likely)"),
            std::string::npos)
      << out;
}

}  // namespace
