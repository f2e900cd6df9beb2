// Prefix parsing, the range table behind zone_of() and endpoint lookup, and policy time parsing.
#include "policy/prefix_table.hpp"

#include <gtest/gtest.h>

#include "base/time.hpp"

namespace {

using namespace dc::policy;

dc::inspect::IpAddr ip(const char* s) {
  dc::inspect::IpAddr a;
  EXPECT_TRUE(parse_address(s, a)) << s;
  return a;
}

struct PrefixRow {
  const char* text;
  bool ok;
  const char* canonical;  // to_string() when ok; a fragment of the error otherwise
};

class PrefixParse : public ::testing::TestWithParam<PrefixRow> {};

TEST_P(PrefixParse, Table) {
  const auto& r = GetParam();
  Prefix p;
  auto err = parse_prefix(r.text, p);
  EXPECT_EQ(!err.has_value(), r.ok) << r.text << ": " << err.value_or("");
  if (r.ok) {
    EXPECT_EQ(p.to_string(), r.canonical);
  } else if (err) {
    EXPECT_NE(err->find(r.canonical), std::string::npos) << *err;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Prefixes, PrefixParse,
    ::testing::Values(
        PrefixRow{"10.1.0.0/16", true, "10.1.0.0/16"}, PrefixRow{"10.1.2.3", true, "10.1.2.3/32"},
        PrefixRow{"0.0.0.0/0", true, "0.0.0.0/0"},
        PrefixRow{"2001:db8::/32", true, "2001:db8::/32"},
        PrefixRow{"2001:DB8:0:0::1", true, "2001:db8::1/128"}, PrefixRow{"::/0", true, "::/0"},
        PrefixRow{"10.1.0.1/16", false, "did you mean 10.1.0.0/16"},
        PrefixRow{"2001:db8::1/32", false, "did you mean 2001:db8::/32"},
        PrefixRow{"10.0.0.0/33", false, "exceeds /32"}, PrefixRow{"::/129", false, "exceeds /128"},
        PrefixRow{"10.0.0.0/", false, "missing prefix length"},
        PrefixRow{"10.0.0.0/1a", false, "not a number"},
        PrefixRow{"256.0.0.0/8", false, "not an IPv4 or IPv6"},
        PrefixRow{"", false, "not an IPv4 or IPv6"}));

TEST(RangeTable, LongestPrefixWinsAcrossFamilies) {
  Prefix a, b, c, d, e;
  ASSERT_FALSE(parse_prefix("10.0.0.0/8", a));
  ASSERT_FALSE(parse_prefix("10.1.0.0/16", b));
  ASSERT_FALSE(parse_prefix("10.1.2.0/24", c));
  ASSERT_FALSE(parse_prefix("2001:db8::/32", d));
  ASSERT_FALSE(parse_prefix("0.0.0.0/0", e));  // IPv4 default route only (::ffff:0:0/96)
  auto t = RangeTable::longest_prefix({{a, 1}, {b, 2}, {c, 3}, {d, 4}, {e, 5}});
  struct {
    const char* addr;
    uint32_t want;
  } rows[] = {{"10.0.0.0", 1},
              {"10.1.0.0", 2},
              {"10.1.2.255", 3},
              {"10.1.3.0", 2},
              {"10.255.255.255", 1},
              {"11.0.0.0", 5},
              {"9.255.255.255", 5},
              {"2001:db8::1", 4},
              {"2001:db9::", RangeTable::kNone},
              {"::1", RangeTable::kNone},
              {"255.255.255.255", 5},
              {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RangeTable::kNone}};
  for (const auto& r : rows) EXPECT_EQ(t.lookup(ip(r.addr)), r.want) << r.addr;
}

TEST(RangeTable, AllCoveringListsEveryCandidate) {
  Prefix wide, narrow, other;
  ASSERT_FALSE(parse_prefix("203.0.113.0/24", wide));
  ASSERT_FALSE(parse_prefix("203.0.113.8/29", narrow));
  ASSERT_FALSE(parse_prefix("198.51.100.0/24", other));
  auto t = RangeTable::all_covering({{wide, 7}, {narrow, 3}, {other, 9}, {narrow, 4}});
  auto got = [&](const char* a) {
    std::vector<uint32_t> v;
    for (uint32_t x : t.candidates(ip(a))) v.push_back(x);
    return v;
  };
  EXPECT_EQ(got("203.0.113.1"), (std::vector<uint32_t>{7}));
  EXPECT_EQ(got("203.0.113.9"), (std::vector<uint32_t>{3, 4, 7}));
  EXPECT_EQ(got("198.51.100.200"), (std::vector<uint32_t>{9}));
  EXPECT_TRUE(got("192.0.2.1").empty());
}

TEST(RangeTable, PrefixLengthsAroundTheSixtyFourBitHalfCoverTheirHosts) {
  // Regression (fuzz_policy): /64 used to build its mask with a 64-bit shift by 64.
  struct Row {
    const char* prefix;
    const char* inside;
    const char* outside;
  } rows[] = {
      {"2001:db8:1:2::/63", "2001:db8:1:3:ffff::1", "2001:db8:1:4::"},
      {"2001:db8:1:2::/64", "2001:db8:1:2:abcd::1", "2001:db8:1:3::"},
      {"2001:db8:1:2::/65", "2001:db8:1:2:7fff::1", "2001:db8:1:2:8000::"},
      {"2001:db8:1:2:3::/96", "2001:db8:1:2:3:0:ffff:1", "2001:db8:1:2:3:1::"},
  };
  for (const auto& r : rows) {
    Prefix p;
    ASSERT_FALSE(parse_prefix(r.prefix, p)) << r.prefix;
    auto t = RangeTable::longest_prefix({{p, 1}});
    EXPECT_EQ(t.lookup(ip(r.inside)), 1u) << r.prefix << " " << r.inside;
    EXPECT_EQ(t.lookup(ip(r.outside)), RangeTable::kNone) << r.prefix << " " << r.outside;
  }
}

TEST(RangeTable, EmptyTable) {
  auto t = RangeTable::longest_prefix({});
  EXPECT_EQ(t.lookup(ip("10.0.0.1")), RangeTable::kNone);
  EXPECT_EQ(t.candidates(ip("10.0.0.1")).size, 0u);
}

struct TimeRow {
  const char* text;
  int64_t epoch_seconds;  // -1: invalid
};

class Rfc3339 : public ::testing::TestWithParam<TimeRow> {};

TEST_P(Rfc3339, Table) {
  auto r = GetParam();
  auto ns = dc::base::parse_rfc3339(r.text, 8 * 60);  // default offset +08:00 for date-only / local
  if (r.epoch_seconds < 0) {
    EXPECT_FALSE(ns.has_value()) << r.text;
  } else {
    ASSERT_TRUE(ns.has_value()) << r.text;
    EXPECT_EQ(*ns, r.epoch_seconds * dc::base::kNsPerSec) << r.text;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Times, Rfc3339,
    ::testing::Values(TimeRow{"1970-01-01T00:00:00Z", 0}, TimeRow{"1970-01-01T08:00:00+08:00", 0},
                      TimeRow{"1970-01-02", 86400 - 8 * 3600},
                      TimeRow{"2026-06-15T10:00:00+08:00", 1781488800},
                      TimeRow{"2024-02-29T00:00:00Z", 1709164800},
                      TimeRow{"2025-02-29T00:00:00Z", -1}, TimeRow{"2026-13-01", -1},
                      TimeRow{"2026-06-15T25:00:00Z", -1}, TimeRow{"2026-06-15T10:00:00+8", -1},
                      TimeRow{"yesterday", -1}));

TEST(TimeFormat, RoundTripsAtOffset) {
  int64_t ns = *dc::base::parse_rfc3339("2026-12-31T23:59:59+08:00", 0);
  EXPECT_EQ(dc::base::format_rfc3339(ns, 8 * 60), "2026-12-31T23:59:59+08:00");
  EXPECT_EQ(dc::base::format_rfc3339(ns, 0), "2026-12-31T15:59:59Z");
  EXPECT_EQ(dc::base::format_rfc3339(0, -330), "1969-12-31T18:30:00-05:30");
  EXPECT_EQ(dc::base::parse_utc_offset("-05:30"), -330);
  EXPECT_FALSE(dc::base::parse_utc_offset("+15:00").has_value());
}

}  // namespace
