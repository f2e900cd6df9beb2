// The on-disk Hyperscan database cache of DetectorDb::compile() (db_cache.hpp): key, load with
// verification, store by rename.
#include "inspect/detect/db_cache.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "base/file.hpp"

namespace dc::inspect {
namespace {

// File: magic, key (32), payload length (8, little endian), payload, SHA-256 of the payload (32).
constexpr char kMagic[8] = {'D', 'C', 'H', 'S', 'D', 'B', '1', '\n'};
constexpr std::size_t kHeader = sizeof(kMagic) + 32 + 8;
constexpr std::size_t kMaxCacheBytes = 256u << 20;

std::mutex g_mu;
std::string g_dir;

void put_u64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// Writes all of `bytes` to a new file `path`; false on any failure (the file is removed).
bool write_new(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  std::size_t off = 0;
  bool ok = true;
  while (ok && off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<std::size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok) ::unlink(path.c_str());
  return ok;
}

}  // namespace

void set_detector_cache_dir(std::string dir) {
  std::lock_guard lock(g_mu);
  g_dir = std::move(dir);
}

std::string detector_cache_dir() {
  std::lock_guard lock(g_mu);
  return g_dir;
}

std::string default_detector_cache_dir() {
  if (std::string d = env("DATACUSTOMS_CACHE_DIR"); !d.empty()) return d;
  if (std::string d = env("CACHE_DIRECTORY"); !d.empty()) {
    // systemd may list several directories separated by ':'; the first is ours.
    return d.substr(0, d.find(':'));
  }
  if (std::string d = env("XDG_CACHE_HOME"); !d.empty()) return d + "/datacustoms";
  if (std::string d = env("HOME"); !d.empty()) return d + "/.cache/datacustoms";
  return {};
}

DetectorCacheStats& detector_cache_stats() {
  static DetectorCacheStats stats;
  return stats;
}

base::Sha256 db_cache_key(unsigned mode, const std::vector<std::string>& exprs,
                          const std::vector<unsigned>& flags) {
  std::string in(kMagic, sizeof(kMagic));
  in += hs_version();
  in.push_back('\0');
  hs_platform_info_t plat{};
  if (hs_populate_platform(&plat) == HS_SUCCESS) {
    put_u64(in, plat.tune);
    put_u64(in, plat.cpu_features);
  }
  put_u64(in, mode);
  put_u64(in, exprs.size());
  for (std::size_t i = 0; i < exprs.size(); ++i) {
    put_u64(in, i < flags.size() ? flags[i] : 0);
    put_u64(in, exprs[i].size());
    in += exprs[i];
  }
  return base::sha256(in);
}

std::string db_cache_path(const std::string& dir, const base::Sha256& key) {
  return dir + "/hsdb-" + base::to_hex(key) + ".bin";
}

HsDatabasePtr db_cache_load(const std::string& dir, const base::Sha256& key) {
  auto& stats = detector_cache_stats();
  const std::string path = db_cache_path(dir, key);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    ++stats.misses;
    return nullptr;
  }
  auto text = base::read_file(path, {.max_bytes = kMaxCacheBytes});
  const std::string* s = text ? &text.value() : nullptr;
  bool ok = s != nullptr && s->size() >= kHeader + 32 &&
            std::memcmp(s->data(), kMagic, sizeof(kMagic)) == 0 &&
            std::memcmp(s->data() + sizeof(kMagic), key.data(), key.size()) == 0;
  const uint64_t len = ok ? get_u64(s->data() + sizeof(kMagic) + 32) : 0;
  ok = ok && len == s->size() - kHeader - 32;
  if (ok) {
    const std::string_view payload(s->data() + kHeader, len);
    const base::Sha256 digest = base::sha256(payload);
    ok = std::memcmp(digest.data(), s->data() + kHeader + len, digest.size()) == 0;
  }
  hs_database_t* raw = nullptr;
  if (ok && hs_deserialize_database(s->data() + kHeader, len, &raw) != HS_SUCCESS) {
    raw = nullptr;
    ok = false;
  }
  if (!ok) {
    ++stats.rejected;
    return nullptr;
  }
  ++stats.hits;
  return HsDatabasePtr(raw);
}

void db_cache_store(const std::string& dir, const base::Sha256& key, const hs_database_t* db) {
  auto& stats = detector_cache_stats();
  char* bytes = nullptr;
  std::size_t len = 0;
  if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS) {
    ++stats.write_failures;
    return;
  }
  std::string out(kMagic, sizeof(kMagic));
  out.append(reinterpret_cast<const char*>(key.data()), key.size());
  put_u64(out, len);
  out.append(bytes, len);
  std::free(bytes);  // hs_serialize_database allocates with the misc allocator (malloc)
  const base::Sha256 digest = base::sha256(std::string_view(out).substr(kHeader, len));
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = db_cache_path(dir, key);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  if (!write_new(tmp, out) || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    ++stats.write_failures;
  }
}

}  // namespace dc::inspect
