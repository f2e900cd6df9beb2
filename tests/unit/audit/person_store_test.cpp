// The PersonStore contract, run against every store (memory, LMDB, a real redis-server on
// loopback), then what only some stores have: LMDB persistence and crash recovery, Redis going
// down, and the site store's block / count_locally modes with reconciliation.
#include "audit/person_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "audit/ledger.hpp"
#include "audit/person_store_backends.hpp"
#include "policy/policy.hpp"
#include "tests/unit/audit/audit_fixture.hpp"
#include "tests/unit/audit/redis_server.hpp"
#include "tests/unit/policy/border_fixture.hpp"

namespace dc::audit {
namespace {
using namespace dc::audit::testing;

PersonDigest person(uint32_t n) {
  PersonDigest d{};
  for (int i = 0; i < 4; ++i) d[i] = static_cast<uint8_t>(n >> (8 * i));
  d[15] = 0xa5;
  return d;
}

RedisStoreOptions redis_options(int port) {
  RedisStoreOptions o;
  o.port = port;
  o.connect_timeout = std::chrono::milliseconds(200);
  o.command_timeout = std::chrono::milliseconds(500);
  return o;
}

const std::vector<ScopeLimit> two = {{"2026/e=a/n", 0}, {"2026/e=a/b=x/n", 0}};

std::vector<ScopeLimit> one(const std::string& scope, uint64_t limit = 0) {
  return {ScopeLimit{scope, limit}};
}

enum class Kind { kMemory, kLmdb, kRedis };

class StoreContract : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<TempDir>("pstore");
    switch (GetParam()) {
      case Kind::kMemory:
        store_ = make_memory_store();
        break;
      case Kind::kLmdb: {
        auto s = make_lmdb_store(tmp_->str() + "/acct");
        ASSERT_TRUE(s) << s.error().message;
        store_ = std::move(*s);
        break;
      }
      case Kind::kRedis: {
        redis_ = std::make_unique<RedisServer>(tmp_->str());
        ASSERT_TRUE(redis_->error().empty()) << redis_->error();
        auto s = make_redis_store(redis_options(redis_->port()));
        ASSERT_TRUE(s) << s.error().message;
        store_ = std::move(*s);
        break;
      }
    }
  }
  ClaimResult claim(uint32_t who, const std::vector<ScopeLimit>& scopes) {
    auto r = store_->claim(person(who), scopes);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ClaimResult{};
  }
  uint64_t count(const std::string& scope) {
    auto r = store_->count(scope);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ~uint64_t{0};
  }

  std::unique_ptr<TempDir> tmp_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<PersonStore> store_;
};

TEST_P(StoreContract, CountsDistinctPersonsAndRepeatsAreIdempotent) {
  for (uint32_t i = 0; i < 50; ++i) claim(i, one("2026/e=a/n"));
  for (uint32_t i = 0; i < 50; i += 2) {
    auto r = claim(i, one("2026/e=a/n"));
    EXPECT_FALSE(r.refused);
    EXPECT_FALSE(r.added[0]);
    EXPECT_EQ(r.counts[0], 50u);
  }
  ASSERT_TRUE(store_->flush());
  EXPECT_EQ(count("2026/e=a/n"), 50u);
  EXPECT_EQ(count("2026/e=a/s"), 0u);
  EXPECT_TRUE((store_->contains("2026/e=a/n", person(7))).value());
  EXPECT_FALSE((store_->contains("2026/e=a/n", person(70))).value());
  EXPECT_FALSE((store_->contains("2026/e=a/s", person(7))).value());
}

TEST_P(StoreContract, LimitAdmitsExactlyNAndRefusesTheNextFreshPerson) {
  const uint64_t n = 10;
  for (uint32_t i = 0; i < n - 1; ++i) EXPECT_FALSE(claim(i, one("2026/e=a/b=x/s", n)).refused);
  EXPECT_EQ(count("2026/e=a/b=x/s"), n - 1);  // N-1
  auto at_n = claim(100, one("2026/e=a/b=x/s", n));
  EXPECT_FALSE(at_n.refused);  // the N-th person reaches the limit: allowed
  EXPECT_EQ(at_n.counts[0], n);
  auto past = claim(101, one("2026/e=a/b=x/s", n));  // N+1: refused, nothing changes
  EXPECT_TRUE(past.refused);
  EXPECT_EQ(past.refused_scope, 0u);
  EXPECT_FALSE(past.added[0]);
  EXPECT_EQ(past.counts[0], n);
  EXPECT_EQ(count("2026/e=a/b=x/s"), n);
  EXPECT_FALSE((store_->contains("2026/e=a/b=x/s", person(101))).value());
  // A person already counted is never refused at the limit.
  auto again = claim(3, one("2026/e=a/b=x/s", n));
  EXPECT_FALSE(again.refused);
  EXPECT_EQ(again.counts[0], n);
}

TEST_P(StoreContract, OneRefusedScopeRefusesTheWholeClaim) {
  std::vector<ScopeLimit> scopes = {
      {"2026/e=a/n", 0}, {"2026/e=a/b=x/n", 2}, {"2026/e=a/c=k/b=x/n", 0}};
  EXPECT_FALSE(claim(1, scopes).refused);
  EXPECT_FALSE(claim(2, scopes).refused);
  claim(3, one("2026/e=a/n"));  // counted elsewhere only
  auto r = claim(3, scopes);
  ASSERT_TRUE(r.refused);
  EXPECT_EQ(r.refused_scope, 1u);
  EXPECT_EQ(r.counts, (std::vector<uint64_t>{3, 2, 2}));
  EXPECT_EQ(r.added, (std::vector<bool>{false, false, false}));
  EXPECT_FALSE((store_->contains("2026/e=a/c=k/b=x/n", person(3))).value());
  auto ok = claim(2, scopes);  // already in all three: never refused
  EXPECT_FALSE(ok.refused);
  EXPECT_EQ(ok.added, (std::vector<bool>{false, false, false}));
  auto partly = claim(3, {{"2026/e=a/n", 0}, {"2026/e=a/d=D1/n", 5}});
  EXPECT_FALSE(partly.refused);
  EXPECT_EQ(partly.added, (std::vector<bool>{false, true}));
  EXPECT_EQ(partly.counts, (std::vector<uint64_t>{3, 1}));
}

TEST_P(StoreContract, ScopesByPrefixAreSorted) {
  claim(1, {{"2026/e=b/n", 0}, {"2026/e=a/s", 0}, {"2025/e=a/n", 0}});
  claim(2, {{"2026/e=a/b=x/n", 0}, {"2026/e=a/s", 0}});
  ASSERT_TRUE(store_->flush());
  auto all = store_->scopes("2026/");
  ASSERT_TRUE(all) << all.error().message;
  using V = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(*all, (V{{"2026/e=a/b=x/n", 1}, {"2026/e=a/s", 2}, {"2026/e=b/n", 1}}));
  EXPECT_EQ((store_->scopes("2026/e=a/")).value(), (V{{"2026/e=a/b=x/n", 1}, {"2026/e=a/s", 2}}));
  EXPECT_EQ(store_->scopes("").value().size(), 4u);
  EXPECT_TRUE(store_->scopes("2027/").value().empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract,
                         ::testing::Values(Kind::kMemory, Kind::kLmdb, Kind::kRedis),
                         [](const auto& info) {
                           switch (info.param) {
                             case Kind::kMemory:
                               return std::string("memory");
                             case Kind::kLmdb:
                               return std::string("lmdb");
                             default:
                               return std::string("redis");
                           }
                         });

TEST(LmdbStore, CountsSurviveCloseAndReopenAndAReadOnlyReader) {
  TempDir tmp("lmdb");
  const std::string dir = tmp.str() + "/acct";
  {
    auto s = make_lmdb_store(dir);
    ASSERT_TRUE(s) << s.error().message;
    for (uint32_t i = 0; i < 100; ++i) ASSERT_TRUE((*s)->claim(person(i), one("2026/e=a/n")));
    ASSERT_TRUE((*s)->flush());
  }
  auto ro = make_lmdb_store(dir, {.read_only = true});
  ASSERT_TRUE(ro) << ro.error().message;
  EXPECT_EQ(((*ro)->count("2026/e=a/n")).value(), 100u);
  EXPECT_FALSE((*ro)->claim(person(1), one("2026/e=a/n")));
  auto s = make_lmdb_store(dir);
  ASSERT_TRUE(s);
  auto r = (*s)->claim(person(5), one("2026/e=a/n", 100));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->added[0]);
  EXPECT_TRUE((*s)->claim(person(500), one("2026/e=a/n", 100))->refused);
}

TEST(LmdbStore, MapFullGrowsTheMapAndKeepsTheBatch) {
  TempDir tmp("lmdb");
  // 64 KiB cannot hold 20,000 members: the store must grow the map several times mid-batch.
  auto s = make_lmdb_store(tmp.str() + "/acct", {.map_size = 64 << 10});
  ASSERT_TRUE(s) << s.error().message;
  for (uint32_t i = 0; i < 20000; ++i) {
    auto r = (*s)->claim(person(i), two);
    ASSERT_TRUE(r) << i << ": " << r.error().message;
    ASSERT_EQ(r->counts[0], i + 1);
    if (i % 5000 == 4999) ASSERT_TRUE((*s)->flush());
  }
  ASSERT_TRUE((*s)->flush());
  EXPECT_EQ(((*s)->count("2026/e=a/b=x/n")).value(), 20000u);
  auto full =
      make_lmdb_store(tmp.str() + "/full", {.map_size = 64 << 10, .max_map_size = 64 << 10});
  ASSERT_TRUE(full);
  Result<ClaimResult> last = ClaimResult{};
  for (uint32_t i = 0; i < 20000 && last; ++i) last = (*full)->claim(person(i), one("x"));
  EXPECT_FALSE(last);  // at max_map_size a claim is an Error, never a silent pass
}

// A child claims and flushes, claims more without flushing, and dies without closing anything.
TEST(LmdbStore, CrashKeepsEveryFlushedClaim) {
  TempDir tmp("lmdb");
  const std::string dir = tmp.str() + "/acct";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto s = make_lmdb_store(dir);
    if (!s) ::_exit(2);
    for (uint32_t i = 0; i < 3000; ++i) {
      if (!(*s)->claim(person(i), two)) ::_exit(3);
      if (i % 1000 == 999 && !(*s)->flush()) ::_exit(4);
    }
    for (uint32_t i = 3000; i < 3500; ++i) (void)(*s)->claim(person(i), one("2026/e=a/n"));
    ::_exit(0);  // no flush, no destructor: the open transaction dies with the process
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto s = make_lmdb_store(dir);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(((*s)->count("2026/e=a/n")).value(), 3000u);
  EXPECT_EQ(((*s)->count("2026/e=a/b=x/n")).value(), 3000u);
  for (uint32_t i = 0; i < 3000; i += 97)
    EXPECT_TRUE(((*s)->contains("2026/e=a/n", person(i))).value());
  EXPECT_FALSE(((*s)->contains("2026/e=a/n", person(3100))).value());
}

TEST(RedisStore, DownServerIsAnErrorAndARestartedOneIsUsedAgain) {
  TempDir tmp("redis");
  RedisServer server(tmp.str());
  ASSERT_TRUE(server.error().empty()) << server.error();
  auto s = make_redis_store(redis_options(server.port()));
  ASSERT_TRUE(s);
  ASSERT_TRUE((*s)->claim(person(1), one("2026/e=a/n")));
  server.stop();
  auto r = (*s)->claim(person(2), one("2026/e=a/n"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE((*s)->count("2026/e=a/n"));
  EXPECT_FALSE((*s)->flush());
  ASSERT_TRUE(server.restart()) << server.error();
  auto again = (*s)->claim(person(2), one("2026/e=a/n"));  // reconnects; the script is loaded
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->counts[0], 1u);  // the restarted server is empty (no persistence here)
}

TEST(RedisStore, UnreachableAtStartIsAnError) {
  auto s = make_redis_store(redis_options(free_port()));
  ASSERT_TRUE(s);
  EXPECT_FALSE((*s)->claim(person(1), one("x")));
  EXPECT_FALSE(make_redis_store({.host = "", .port = 1}));
  EXPECT_FALSE(parse_redis_address("localhost"));
  EXPECT_FALSE(parse_redis_address("localhost:0"));
  EXPECT_EQ(parse_redis_address("[::1]:6380")->second, 6380);
}

struct Site {
  Site(TempDir& tmp, int port, SiteMode mode, const std::string& name = "a") {
    auto redis = make_redis_store(redis_options(port));
    auto local = make_lmdb_store(tmp.str() + "/" + name);
    SiteStoreOptions o;
    o.mode = mode;
    o.queue_file = tmp.str() + "/" + name + ".queue";
    o.retry_interval = std::chrono::milliseconds(0);
    auto s = make_site_store(std::move(*redis), std::move(*local), o);
    EXPECT_TRUE(s) << s.error().message;
    if (s) store = std::move(*s);
  }
  std::unique_ptr<PersonStore> store;
};

TEST(SiteStore, BlockModeFailsClosedWhileRedisIsDown) {
  TempDir tmp("site");
  RedisServer server(tmp.str());
  ASSERT_TRUE(server.error().empty()) << server.error();
  Site site(tmp, server.port(), SiteMode::kBlock);
  ASSERT_TRUE(site.store->claim(person(1), one("2026/e=a/n", 10)));
  server.stop();
  EXPECT_FALSE(site.store->claim(person(1), one("2026/e=a/n", 10)));
  EXPECT_FALSE(site.store->claim(person(2), one("2026/e=a/n", 10)));
  ASSERT_TRUE(server.restart());
  auto r = site.store->claim(person(2), one("2026/e=a/n", 10));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->counts[0], 1u);  // empty restarted server; person 2 was never counted while down
}

TEST(SiteStore, CountLocallyQueuesAndReconcilesIntoRedis) {
  TempDir tmp("site");
  RedisServer server(tmp.str());
  ASSERT_TRUE(server.error().empty()) << server.error();
  Site a(tmp, server.port(), SiteMode::kCountLocally, "a");
  Site b(tmp, server.port(), SiteMode::kCountLocally, "b");
  const std::string sc = "2026/e=a/b=x/n";
  for (uint32_t i = 0; i < 6; ++i) ASSERT_TRUE(a.store->claim(person(i), one(sc, 10)));
  for (uint32_t i = 4; i < 8; ++i) ASSERT_TRUE(b.store->claim(person(i), one(sc, 10)));
  EXPECT_EQ((a.store->count(sc)).value(), 8u);  // the site's union
  // Partition: Redis dies; a keeps counting against the room b had left (10 - 8 = 2).
  server.stop();
  auto r = a.store->claim(person(20), one(sc, 10));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->refused);
  EXPECT_EQ(r->counts[0], 9u);
  EXPECT_FALSE(a.store->claim(person(21), one(sc, 10))->refused);  // 10: at the cap
  EXPECT_TRUE(a.store->claim(person(22), one(sc, 10))->refused);   // 11: refused
  EXPECT_FALSE(a.store->claim(person(5), one(sc, 10))->refused);   // already counted by a
  EXPECT_TRUE(a.store->claim(person(7), one(sc, 10))->refused);    // b's, unknown here
  ASSERT_TRUE(a.store->flush());
  const SiteStatus* st = site_status(*a.store);
  ASSERT_NE(st, nullptr);
  EXPECT_TRUE(st->degraded);
  EXPECT_EQ(st->queued, 3u);  // 20, 21, 5
  // Redis comes back empty (it lost everything): the queue is replayed, never lower than truth
  // for what a counted while down.
  ASSERT_TRUE(server.restart());
  auto c = a.store->count(sc);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(st->degraded);
  EXPECT_EQ(st->queued, 0u);
  EXPECT_EQ(*c, 3u);
  EXPECT_TRUE((a.store->contains(sc, person(21))).value());
}

TEST(SiteStore, AQueueLeftByACrashIsReplayedAtTheNextStart) {
  TempDir tmp("site");
  RedisServer server(tmp.str());
  ASSERT_TRUE(server.error().empty()) << server.error();
  const int port = server.port();
  server.stop();
  {
    Site a(tmp, port, SiteMode::kCountLocally);
    for (uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(a.store->claim(person(i), one("s", 0)));
    ASSERT_TRUE(a.store->flush());
  }
  {  // a torn last line (a crash mid-write, never fsync'd nor answered) is cut off
    std::ofstream q(tmp.str() + "/a.queue", std::ios::app);
    q << "00112233";
  }
  ASSERT_TRUE(server.restart());
  Site a(tmp, port, SiteMode::kCountLocally);
  ASSERT_NE(site_status(*a.store), nullptr);
  EXPECT_EQ(site_status(*a.store)->queued, 5u);
  auto r = a.store->claim(person(9), one("s", 0));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->counts[0], 6u);
  EXPECT_FALSE(site_status(*a.store)->degraded);
}

// The ledger's crash rule end to end (docs/accounting.md "Crash rule"): a process counting with
// the LMDB store is killed with SIGKILL after it answered some claims (flush, then answer, as
// AccountingService::run_once does) and while a later claim was decided but not yet flushed nor
// answered. The answered persons are all on disk; the restarted ledger still enforces the cap
// with them, and a known person is still never refused.
constexpr const char* kCrashPolicy = R"(
[policy]
id = "crash"
version = "1"
timezone = "+08:00"
[accounting]
enabled = true
)" DC_TEST_DOM_EXT_BORDER R"([[categories]]
id = "pi.id"
name = "ids"
level = "general"
personal = true
detectors = ["cn_mobile"]
provenance = "t"
[[legal_bases]]
id = "CAP4"
mechanism = "standard_contract"
reference = "r"
issued = 2025-01-01
expires = 2030-01-01
categories = ["pi.id"]
max_persons = 4
[[counterparties]]
id = "hq"
name = "HQ"
country = "DE"
legal_bases = ["CAP4"]
endpoints = [{ prefixes = ["203.0.113.10/32"] }]
)";

struct CrashLedger {
  explicit CrashLedger(PersonStore& store) : ledger(store, key()) {
    policy::Diagnostics d;
    snap = policy::compile_policy_text(kCrashPolicy, "crash.toml", d);
    if (snap) ledger.adopt(snap);
  }
  static AccountingKey key() {
    AccountingKey k{};
    k.fill(3);
    return k;
  }
  ClaimStatus claim(uint64_t flow, int person) {
    PersonClaim c;
    c.kinds = policy::kPersonsNonSensitive;
    c.key_kind = policy::PersonKeyKind::kMobile;
    const std::string n = "138000000" + std::to_string(10 + person);
    c.key_len = static_cast<uint8_t>(n.size());
    std::copy(n.begin(), n.end(), c.key);
    c.year = 2026;
    c.counterparty = snap->find_counterparty("hq");
    c.basis = 0;
    c.flow_id = flow;
    c.policy = snap.get();
    ClaimAnswer a;
    if (!ledger.handle(c, a)) return ClaimStatus::kUnavailable;
    return a.status;
  }
  std::shared_ptr<const policy::Snapshot> snap;
  Ledger ledger;
};

TEST(LedgerCrash, SigkillAfterTheAnswerKeepsEveryAnsweredPerson) {
  TempDir tmp("crash");
  const std::string dir = tmp.str() + "/acct";
  int answers[2];
  ASSERT_EQ(::pipe(answers), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(answers[0]);
    auto s = make_lmdb_store(dir);
    if (!s) ::_exit(2);
    CrashLedger l(**s);
    if (!l.snap) ::_exit(3);
    for (int p = 1; p <= 2; ++p)  // one round: two claims, one flush, then both answers
      if (l.claim(static_cast<uint64_t>(p), p) != ClaimStatus::kCounted) ::_exit(4);
    if (!l.ledger.flush() || ::write(answers[1], "AA", 2) != 2) ::_exit(5);
    if (l.claim(3, 3) != ClaimStatus::kCounted || !l.ledger.flush() ||
        ::write(answers[1], "A", 1) != 1)
      ::_exit(6);
    // Decided in the store's open transaction, never flushed, so never answered: its flow's
    // bytes are still held. SIGKILL comes now.
    if (l.claim(4, 4) != ClaimStatus::kCounted || ::write(answers[1], "d", 1) != 1) ::_exit(7);
    for (;;) ::pause();
  }
  ::close(answers[1]);
  char got[4];
  std::size_t n = 0;
  while (n < sizeof got) {
    ssize_t r = ::read(answers[0], got + n, sizeof got - n);
    if (r <= 0) break;
    n += static_cast<std::size_t>(r);
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(answers[0]);
  ASSERT_EQ(std::string(got, n), "AAAd") << "child exit " << WEXITSTATUS(status);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  auto s = make_lmdb_store(dir);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(((*s)->count("2026/e=-/b=CAP4/n")).value(), 3u);  // persons 1-3; 4 was never answered
  EXPECT_EQ(((*s)->count("2026/e=-/n")).value(), 3u);
  EXPECT_EQ(((*s)->count("2026/e=-/c=hq/b=CAP4/n")).value(), 3u);
  CrashLedger l(**s);
  ASSERT_TRUE(l.snap);
  EXPECT_EQ(l.claim(10, 4), ClaimStatus::kCounted);  // 4 of max_persons = 4
  EXPECT_EQ(l.claim(11, 5), ClaimStatus::kRefused);  // the 5th: persons 1-3 still count
  EXPECT_EQ(l.claim(12, 2), ClaimStatus::kCounted);  // answered before the crash: known
  ASSERT_TRUE(l.ledger.flush());
  EXPECT_EQ(((*s)->count("2026/e=-/b=CAP4/n")).value(), 4u);
}

}  // namespace
}  // namespace dc::audit
