// bench_person_store: memory per million persons and claims per second of each PersonStore
// (memory: heap; LMDB: data.mdb size; Redis: INFO used_memory delta of a redis-server started
// here on loopback). N distinct digests, each claimed in 3 scopes. Run by hand (not a test):
//   bench_person_store [persons=1000000] [batch=256]
#include <hiredis/hiredis.h>
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "audit/person_store.hpp"
#include "audit/person_store_backends.hpp"
#include "tests/unit/audit/redis_server.hpp"

namespace {
using namespace dc::audit;

struct Run {
  double seconds = 0;
  uint64_t bytes = 0;
};

const std::vector<ScopeLimit> kScopes = {
    {"2026/e=acme/n", 0}, {"2026/e=acme/b=SCC-1/n", 0}, {"2026/e=acme/c=cp1/b=SCC-1/n", 0}};

// Claims n pseudo-random digests (uniform like HMAC output), flushing every `batch`.
bool fill(PersonStore& s, uint64_t n, uint64_t batch, double& seconds) {
  std::mt19937_64 rng(42);
  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    PersonDigest d;
    uint64_t a = rng(), b = rng();
    std::memcpy(d.data(), &a, 8);
    std::memcpy(d.data() + 8, &b, 8);
    auto r = s.claim(d, kScopes);
    if (!r || r->refused) {
      std::fprintf(stderr, "claim %llu failed: %s\n", static_cast<unsigned long long>(i),
                   r ? "refused" : r.error().message.c_str());
      return false;
    }
    if ((i + 1) % batch == 0 && !s.flush()) return false;
  }
  if (!s.flush()) return false;
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto c = s.count(kScopes[0].scope);
  return c && *c == n;
}

uint64_t redis_used_memory(int port) {
  redisContext* c = redisConnect("127.0.0.1", port);
  if (c == nullptr || c->err) return 0;
  auto* r = static_cast<redisReply*>(redisCommand(c, "INFO memory"));
  uint64_t used = 0;
  if (r && r->type == REDIS_REPLY_STRING) {
    const char* p = std::strstr(r->str, "used_memory:");
    if (p) used = std::strtoull(p + 12, nullptr, 10);
  }
  freeReplyObject(r);
  redisFree(c);
  return used;
}

void report(const char* name, uint64_t n, const Run& r) {
  std::printf(
      "%-7s %9llu persons x %zu scopes: %8.1f MiB (%6.1f MiB per million persons, "
      "%5.1f B per member), %9.0f claims/s\n",
      name, static_cast<unsigned long long>(n), kScopes.size(), r.bytes / 1048576.0,
      r.bytes / 1048576.0 * 1e6 / static_cast<double>(n),
      r.bytes / static_cast<double>(n * kScopes.size()), n / r.seconds);
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const uint64_t batch = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 256;
  namespace fs = std::filesystem;
  fs::path tmp = fs::temp_directory_path() / ("dc-bench-pstore-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  int rc = 0;
  {  // memory: heap in use before and after (glibc mallinfo2)
    auto store = make_memory_store();
    Run r;
    auto heap = [] {  // small blocks + mmapped ones (the hash tables' bucket arrays)
      auto m = mallinfo2();
      return m.uordblks + m.hblkhd;
    };
    const auto before = heap();
    if (!fill(*store, n, batch, r.seconds)) rc = 1;
    r.bytes = heap() - before;
    report("memory", n, r);
  }
  {  // LMDB: the file, group-committed every `batch` claims
    auto store = make_lmdb_store((tmp / "lmdb").string());
    Run r;
    if (!store || !fill(**store, n, batch, r.seconds)) rc = 1;
    store = dc::make_error("closed");
    r.bytes = fs::file_size(tmp / "lmdb" / "data.mdb");
    report("lmdb", n, r);
  }
  {  // Redis: a private server; used_memory before and after
    dc::audit::testing::RedisServer server(tmp.string());
    if (!server.error().empty()) {
      std::fprintf(stderr, "%s\n", server.error().c_str());
      return 1;
    }
    const uint64_t before = redis_used_memory(server.port());
    auto store = make_redis_store({.port = server.port()});
    Run r;
    if (!store || !fill(**store, n, batch, r.seconds)) rc = 1;
    r.bytes = redis_used_memory(server.port()) - before;
    report("redis", n, r);
  }
  fs::remove_all(tmp);
  return rc;
}
