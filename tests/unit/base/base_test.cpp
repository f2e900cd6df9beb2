// base/: Result/Error, calendar and RFC 3339, hashing, bounded file reading.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/file.hpp"
#include "base/hash.hpp"
#include "base/result.hpp"
#include "base/time.hpp"

namespace fs = std::filesystem;
using namespace dc;

TEST(Error, PositionPrefixesTheMessage) {
  EXPECT_EQ(make_error("plain").str(), "plain");
  EXPECT_EQ(make_error(ErrorCode::kInvalid, "bad", {"p.toml", 12, 9}).str(), "p.toml:12:9: bad");
  EXPECT_EQ(make_error(ErrorCode::kInvalid, "bad", {"p.toml", 12, 0}).str(), "p.toml:12: bad");
  EXPECT_EQ(make_error(ErrorCode::kIo, "bad", {"p.toml"}).str(), "p.toml: bad");
  EXPECT_STREQ(error_code_name(ErrorCode::kTooLarge), "too_large");
}

struct CivilRow {
  int64_t days;
  int64_t y;
  unsigned m, d;
};

TEST(Time, CivilDaysRoundTrip) {
  const CivilRow rows[] = {{0, 1970, 1, 1},      {-1, 1969, 12, 31},   {11016, 2000, 2, 29},
                           {19782, 2024, 2, 29}, {-25567, 1900, 1, 1}, {2932896, 9999, 12, 31},
                           {-719468, 0, 3, 1}};
  for (const auto& r : rows) {
    EXPECT_EQ(base::days_from_civil(r.y, r.m, r.d), r.days) << r.y << "-" << r.m << "-" << r.d;
    auto c = base::civil_from_days(r.days);
    EXPECT_EQ(c.year, r.y);
    EXPECT_EQ(c.month, r.m);
    EXPECT_EQ(c.day, r.d);
  }
  // Every day of 1899..2101 round-trips.
  for (int64_t d = base::days_from_civil(1899, 1, 1); d < base::days_from_civil(2101, 1, 1); ++d) {
    auto c = base::civil_from_days(d);
    ASSERT_EQ(base::days_from_civil(c.year, c.month, c.day), d);
  }
}

TEST(Time, ParseCivilDate) {
  base::CivilDate d;
  EXPECT_TRUE(base::parse_civil_date("2024-02-29", &d));
  EXPECT_EQ(d, (base::CivilDate{2024, 2, 29}));
  for (const char* bad : {"2023-02-29", "2023-2-28", "2023-02-28T", "2023/02/28", "", "1900-02-29"})
    EXPECT_FALSE(base::parse_civil_date(bad, &d)) << bad;
}

TEST(Time, LocalDateOfThePacketClock) {
  // 2026-12-31T16:00:00Z is already 2027-01-01 at UTC+8.
  int64_t ns = *base::parse_rfc3339("2026-12-31T16:00:00Z", 0);
  EXPECT_EQ(base::civil_date_at(ns, 0), (base::CivilDate{2026, 12, 31}));
  EXPECT_EQ(base::civil_date_at(ns, base::kChinaOffsetMinutes), (base::CivilDate{2027, 1, 1}));
  EXPECT_EQ(base::civil_date_at(ns - 1, base::kChinaOffsetMinutes),
            (base::CivilDate{2026, 12, 31}));
  EXPECT_EQ(base::civil_date_at(-1, 0), (base::CivilDate{1969, 12, 31}));
}

TEST(Time, Rfc3339) {
  EXPECT_EQ(*base::parse_rfc3339("1970-01-01T00:00:00Z", 0), 0);
  EXPECT_EQ(*base::parse_rfc3339("1970-01-01T08:00:00+08:00", 0), 0);
  EXPECT_EQ(*base::parse_rfc3339("1970-01-01T08:00:00+0800", 0), 0);
  EXPECT_EQ(*base::parse_rfc3339("1970-01-01T00:00:00.5Z", 0), 500'000'000);
  EXPECT_EQ(*base::parse_rfc3339("1970-01-02", 0), base::kNsPerDay);
  EXPECT_EQ(*base::parse_rfc3339("1970-01-02", 60), base::kNsPerDay - 3600 * base::kNsPerSec);
  for (const char* bad : {"1970-01-01T", "1970-01-01T00:00:00+8", "1970-13-01",
                          "1970-01-01T24:00:00Z", "1970-01-01T00:00:00.Z", "x"})
    EXPECT_FALSE(base::parse_rfc3339(bad, 0).has_value()) << bad;
  EXPECT_EQ(base::format_rfc3339(0, 0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(base::format_rfc3339(0, -330), "1969-12-31T18:30:00-05:30");
  EXPECT_EQ(base::format_rfc3339_utc_micros(1'714'566'896'123'456'789),
            "2024-05-01T12:34:56.123456Z");
  EXPECT_EQ(base::format_rfc3339_utc_micros(-1'000), "1969-12-31T23:59:59.999999Z");
}

TEST(Hash, KnownDigestsAndHex) {
  EXPECT_EQ(base::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const uint8_t b[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(base::to_hex(b), "000fa5ff");
  // RFC 4231 test case 2.
  EXPECT_EQ(base::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dc_base_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string dir_;
};

TEST_F(FileTest, ReadsRegularFiles) {
  auto r = base::read_file(write("a.toml", "x = 1\n"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "x = 1\n");
  auto empty = base::read_file(write("e", ""));
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");
}

TEST_F(FileTest, RefusesWhatIsNotARegularFileOrTooLarge) {
  struct Row {
    std::string path;
    base::ReadOptions opt;
    ErrorCode code;
    const char* says;
  };
  std::string big = write("big", std::string(100, 'x'));
  std::string target = write("t", "secret");
  fs::create_symlink(target, dir_ + "/link");
  fs::create_directory(dir_ + "/sub");
  const Row rows[] = {
      {"/dev/zero", {}, ErrorCode::kNotRegular, "not a regular file (character device)"},
      {dir_ + "/sub", {}, ErrorCode::kNotRegular, "not a regular file (directory)"},
      {dir_ + "/missing", {}, ErrorCode::kNotFound, "cannot open"},
      {big, {.max_bytes = 99}, ErrorCode::kTooLarge, "larger than 99 bytes"},
      {dir_ + "/link", {.follow_symlinks = false}, ErrorCode::kNotRegular, "symbolic link"},
  };
  for (const auto& r : rows) {
    auto got = base::read_file(r.path, r.opt);
    ASSERT_FALSE(got) << r.path;
    EXPECT_EQ(got.error().code, r.code) << r.path << ": " << got.error().message;
    EXPECT_NE(got.error().message.find(r.says), std::string::npos) << got.error().message;
    EXPECT_EQ(got.error().message.rfind(r.path, 0), 0u) << "error names the path";
  }
  EXPECT_TRUE(base::read_file(big, {.max_bytes = 100}));
  EXPECT_TRUE(base::read_file(dir_ + "/link"));  // followed by default
}

// Chunked reading (read_file and sha256_file_hex share it): chunks arrive in order, the whole
// file is seen, and a file that grows past the cap after it was opened is still refused.
TEST_F(FileTest, ReadsInChunksAndStopsAtTheCap) {
  std::string text;
  for (int i = 0; i < 30000; ++i) text += std::to_string(i) + ",";  // ~160 KiB: several chunks
  const std::string path = write("chunks", text);
  auto f = base::open_regular_file(path);
  ASSERT_TRUE(f) << f.error().message;
  std::string seen;
  int calls = 0;
  auto n = f->read_chunks(text.size(), [&](std::string_view c) {
    seen.append(c);
    ++calls;
  });
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, text.size());
  EXPECT_EQ(seen, text);
  EXPECT_GT(calls, 1);
  auto hex = base::sha256_file_hex(path);
  ASSERT_TRUE(hex) << hex.error().message;
  EXPECT_EQ(*hex, base::sha256_hex(text));

  const std::string grows = write("grows", std::string(90, 'x'));
  auto g = base::open_regular_file(grows, {.max_bytes = 100});
  ASSERT_TRUE(g) << g.error().message;
  std::ofstream(grows, std::ios::binary | std::ios::app) << std::string(20, 'y');
  auto r = g->read_chunks(100, [](std::string_view) {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(r.error().message, grows + ": larger than 100 bytes");
}
