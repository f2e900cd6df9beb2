// The on-disk Hyperscan database cache of DetectorDb::compile() (inspect/detect/db_cache.hpp):
// a second compile loads what the first stored; a corrupt, truncated or foreign file is rejected
// and recompiled, never trusted; a cache that cannot be written never fails a compile.
#include "inspect/detect/db_cache.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "inspect/detect/detectors.hpp"

namespace dc::inspect {
namespace {

namespace fs = std::filesystem;

std::string serialized(const DetectorDb& db) {
  char* bytes = nullptr;
  std::size_t len = 0;
  if (hs_serialize_database(db.hs(), &bytes, &len) != HS_SUCCESS) return {};
  std::string s(bytes, len);
  std::free(bytes);
  return s;
}

struct Counts {
  uint64_t hits, misses, rejected, write_failures;
};
Counts counts() {
  auto& s = detector_cache_stats();
  return {s.hits.load(), s.misses.load(), s.rejected.load(), s.write_failures.load()};
}

class DbCache : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dc-db-cache-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    set_detector_cache_dir(dir_.string());
  }
  void TearDown() override {
    set_detector_cache_dir("");
    fs::remove_all(dir_);
  }
  // The one cache file of the built-in detectors (after a first compile).
  fs::path only_file() const {
    fs::path found;
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir_)) {
      found = e.path();
      ++n;
    }
    EXPECT_EQ(n, 1);
    return found;
  }
  fs::path dir_;
};

TEST_F(DbCache, SecondCompileLoadsTheSameDatabase) {
  const Counts c0 = counts();
  auto a = DetectorDb::compile_builtins();
  ASSERT_TRUE(a) << a.error().message;
  const Counts c1 = counts();
  EXPECT_EQ(c1.misses, c0.misses + 1);
  EXPECT_EQ(c1.write_failures, c0.write_failures);
  const fs::path file = only_file();
  EXPECT_EQ(file.filename().string().rfind("hsdb-", 0), 0u);
  auto b = DetectorDb::compile_builtins();
  ASSERT_TRUE(b) << b.error().message;
  const Counts c2 = counts();
  EXPECT_EQ(c2.hits, c1.hits + 1);
  EXPECT_EQ(c2.misses, c1.misses);
  EXPECT_EQ(b.value()->stream_size(), a.value()->stream_size());
  EXPECT_EQ(b.value()->pattern_count(), a.value()->pattern_count());
  EXPECT_EQ(serialized(*b.value()), serialized(*a.value()));
}

TEST_F(DbCache, CorruptTruncatedOrForeignFilesAreRecompiled) {
  auto a = DetectorDb::compile_builtins();
  ASSERT_TRUE(a);
  const fs::path file = only_file();
  const std::string good = serialized(*a.value());
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 200u);
  auto write = [&](const std::string& content) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << content;
  };
  auto expect_rejected_then_rewritten = [&](const char* what) {
    const Counts c0 = counts();
    auto b = DetectorDb::compile_builtins();
    ASSERT_TRUE(b) << what;
    EXPECT_EQ(counts().rejected, c0.rejected + 1) << what;
    EXPECT_EQ(counts().hits, c0.hits) << what;
    EXPECT_EQ(serialized(*b.value()), good) << what;
    auto c = DetectorDb::compile_builtins();  // the rewritten file is good again
    ASSERT_TRUE(c);
    EXPECT_EQ(counts().hits, c0.hits + 1) << what;
  };
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;  // a payload byte: the digest no longer matches
  write(flipped);
  expect_rejected_then_rewritten("payload byte flipped");
  write(bytes.substr(0, bytes.size() - 40));
  expect_rejected_then_rewritten("truncated");
  std::string foreign = bytes;
  foreign[10] ^= 0x01;  // a key byte: a file written for other patterns
  write(foreign);
  expect_rejected_then_rewritten("another key");
  write("");
  expect_rejected_then_rewritten("empty");
}

TEST_F(DbCache, UnwritableCacheNeverFailsACompile) {
  fs::create_directories(dir_);
  const fs::path blocker = dir_ / "not-a-dir";
  std::ofstream(blocker) << "x";
  set_detector_cache_dir((blocker / "cache").string());  // a directory under a regular file
  const Counts c0 = counts();
  auto a = DetectorDb::compile_builtins();
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(counts().write_failures, c0.write_failures + 1);
  EXPECT_GT(a.value()->stream_size(), 0u);
}

TEST(DbCacheKey, EveryInputChangesTheKey) {
  const std::vector<std::string> e{"abc", "d+"};
  const std::vector<unsigned> f{0, 0};
  const base::Sha256 k = db_cache_key(HS_MODE_STREAM, e, f);
  EXPECT_EQ(db_cache_key(HS_MODE_STREAM, e, f), k);
  EXPECT_NE(db_cache_key(HS_MODE_STREAM | HS_MODE_SOM_HORIZON_LARGE, e, f), k);
  EXPECT_NE(db_cache_key(HS_MODE_STREAM, {"abc", "d*"}, f), k);
  EXPECT_NE(db_cache_key(HS_MODE_STREAM, e, {0, HS_FLAG_CASELESS}), k);
  EXPECT_NE(db_cache_key(HS_MODE_STREAM, {"ab", "cd+"}, f), k);  // boundaries count
  EXPECT_NE(db_cache_key(HS_MODE_STREAM, {"abc"}, {0}), k);
}

TEST(DbCacheDir, DefaultFromTheEnvironment) {
  const char* old = std::getenv("DATACUSTOMS_CACHE_DIR");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("DATACUSTOMS_CACHE_DIR", "/tmp/dc-x", 1);
  EXPECT_EQ(default_detector_cache_dir(), "/tmp/dc-x");
  ::unsetenv("DATACUSTOMS_CACHE_DIR");
  ::setenv("CACHE_DIRECTORY", "/var/cache/datacustoms:/var/cache/other", 1);
  EXPECT_EQ(default_detector_cache_dir(), "/var/cache/datacustoms");
  ::unsetenv("CACHE_DIRECTORY");
  if (!saved.empty()) ::setenv("DATACUSTOMS_CACHE_DIR", saved.c_str(), 1);
}

}  // namespace
}  // namespace dc::inspect
