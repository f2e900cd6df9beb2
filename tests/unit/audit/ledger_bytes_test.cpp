// Durable declaration bytes (docs/accounting.md "Durable declaration bytes"): every store's byte
// reservations at N-1 / N / N+1 of a cap, the ledger's budgets granted ahead (nothing crosses
// before the store holds it), restart from the durable total, a SIGKILL that never under-counts,
// and two ledgers sharing one real redis-server.
#include "audit/ledger_bytes.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "audit/crypto.hpp"
#include "audit/ledger.hpp"
#include "audit/person_store_backends.hpp"
#include "policy/declarations.hpp"
#include "policy/policy.hpp"
#include "tests/unit/audit/audit_fixture.hpp"
#include "tests/unit/audit/redis_server.hpp"
#include "tests/unit/policy/border_fixture.hpp"

namespace dc::audit {
namespace {
using namespace dc::audit::testing;
using Charge = policy::Snapshot::Charge;

RedisStoreOptions redis_options(int port) {
  RedisStoreOptions o;
  o.port = port;
  o.connect_timeout = std::chrono::milliseconds(200);
  o.command_timeout = std::chrono::milliseconds(500);
  return o;
}

// ---- every store --------------------------------------------------------------------------

enum class Kind { kMemory, kLmdb, kRedis };

class StoreBytes : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<TempDir>("bytes");
    if (GetParam() == Kind::kMemory) {
      store_ = make_memory_store();
    } else if (GetParam() == Kind::kLmdb) {
      auto s = make_lmdb_store(tmp_->str() + "/acct");
      ASSERT_TRUE(s) << s.error().message;
      store_ = std::move(*s);
    } else {
      redis_ = std::make_unique<RedisServer>(tmp_->str());
      ASSERT_TRUE(redis_->error().empty()) << redis_->error();
      auto s = make_redis_store(redis_options(redis_->port()));
      ASSERT_TRUE(s) << s.error().message;
      store_ = std::move(*s);
    }
  }
  uint64_t reserve(const char* id, uint64_t want, uint64_t cap) {
    auto r = store_->reserve_bytes(id, want, cap);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ~uint64_t{0};
  }
  std::unique_ptr<TempDir> tmp_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<PersonStore> store_;
};

TEST_P(StoreBytes, ReservesUpToTheCapAndGivesBack) {
  EXPECT_EQ(store_->reserved_bytes("d-1").value(), 0u);
  EXPECT_EQ(reserve("d-1", 60, 100), 60u);
  EXPECT_EQ(reserve("d-1", 39, 100), 39u);  // N-1 = 99
  EXPECT_EQ(reserve("d-1", 1, 100), 1u);    // N = 100
  EXPECT_EQ(reserve("d-1", 1, 100), 0u);    // N+1: nothing left
  EXPECT_EQ(reserve("d-2", 500, 100), 100u);
  ASSERT_TRUE(store_->flush());
  EXPECT_EQ(store_->reserved_bytes("d-1").value(), 100u);
  ASSERT_TRUE(store_->release_bytes("d-1", 30));
  EXPECT_EQ(reserve("d-1", 50, 100), 30u);
  ASSERT_TRUE(store_->release_bytes("d-2", 1000));  // never below 0
  ASSERT_TRUE(store_->flush());
  auto all = store_->all_reserved_bytes();
  ASSERT_TRUE(all) << all.error().message;
  using Row = std::pair<std::string, uint64_t>;
  EXPECT_EQ(*all, (std::vector<Row>{{"d-1", 100}, {"d-2", 0}}));
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreBytes,
                         ::testing::Values(Kind::kMemory, Kind::kLmdb, Kind::kRedis),
                         [](const auto& p) {
                           return std::string(p.param == Kind::kMemory ? "memory"
                                              : p.param == Kind::kLmdb ? "lmdb"
                                                                       : "redis");
                         });

TEST(LmdbBytes, SurviveReopenAndAReadOnlyReaderSeesThem) {
  TempDir tmp("lmdb-bytes");
  const std::string dir = tmp.str() + "/acct";
  {
    auto s = make_lmdb_store(dir);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_EQ((*s)->reserve_bytes("d-1", 4096, 1 << 20).value(), 4096u);
    ASSERT_TRUE((*s)->flush());
    ASSERT_EQ((*s)->reserve_bytes("d-1", 4096, 1 << 20).value(), 4096u);  // never flushed
  }
  auto ro = make_lmdb_store(dir, {.read_only = true, .create = false});
  ASSERT_TRUE(ro) << ro.error().message;
  // The destructor commits an open batch (over-counting is the safe side).
  EXPECT_EQ((*ro)->reserved_bytes("d-1").value(), 8192u);
  EXPECT_FALSE((*ro)->reserve_bytes("d-1", 1, 1 << 20));
}

// ---- the ledger's budgets -----------------------------------------------------------------

// A policy with one declaration (max_bytes from the test), signed by a key made for the run.
class Declared {
 public:
  explicit Declared(const std::string& dir) : dir_(dir) {
    auto k = SigningKey::generate();
    EXPECT_TRUE(k);
    key_ = std::make_unique<SigningKey>(std::move(*k));
    std::ofstream(dir_ + "/officer.pub") << key_->public_pem();
  }

  std::shared_ptr<const policy::Snapshot> compile(
      uint64_t max_bytes, const std::shared_ptr<policy::DeclarationUsage>& usage) {
    const std::string decl =
        "id = \"d-sg\"\nexporter = \"acme\"\ncounterparty = \"sg\"\n"
        "legal_basis = \"scc\"\ncategories = [\"pi.contact\"]\n"
        "max_persons = 10\nmax_bytes = " +
        std::to_string(max_bytes) +
        "\nvalid_from = 2025-01-01\nvalid_until = 2030-12-31\n"
        "purpose = \"t\"\napproved_by = \"officer\"\n";
    policy::Diagnostics dd("d.toml");
    auto doc = policy::parse_declaration(decl, "d.toml", 480, dd);
    auto sig = key_->sign(policy::canonical_form(doc));
    EXPECT_TRUE(sig);
    files_.push_back({{"d.toml", decl + "signature = \"" + policy::encode_base64(*sig) + "\"\n"}});
    policy::CompileOptions o;
    o.check_tests = false;
    o.declaration_files = &files_.back();
    o.declaration_usage = usage;
    policy::Diagnostics d("policy.toml");
    auto s = policy::compile_policy_text(policy_text(), dir_ + "/policy.toml", d, nullptr, o);
    EXPECT_NE(s, nullptr) << d.format();
    if (s) {
      EXPECT_EQ(s->declaration(0).state, policy::DeclarationState::kValid) << d.format();
    }
    return s;
  }

 private:
  std::string policy_text() const {
    return R"(
[policy]
id = "bytes"
version = "1"
timezone = "+08:00"
[accounting]
enabled = true
)" DC_TEST_DOM_EXT_BORDER R"([[categories]]
id = "pi.contact"
name = "contact"
level = "general"
personal = true
provenance = "t"
[[legal_bases]]
id = "scc"
mechanism = "standard_contract"
reference = "r"
issued = 2025-01-01
expires = 2030-12-31
categories = ["pi.*"]
[[counterparties]]
id = "sg"
name = "SG"
country = "SG"
legal_bases = ["scc"]
endpoints = [{ prefixes = ["203.0.113.10/32"] }]
[declarations]
dir = "declarations"
[[approvers]]
id = "officer"
name = "Officer"
public_key = ")" +
           dir_ +
           R"(/officer.pub"
)";
  }

  std::string dir_;
  std::unique_ptr<SigningKey> key_;
  std::vector<std::vector<std::pair<std::string, std::string>>> files_;
};

AccountingKey test_key() {
  AccountingKey k{};
  k.fill(7);
  return k;
}

// One appliance: its byte accounts (shared by its snapshots), a snapshot, a ledger on `store`.
struct Appliance {
  Appliance(Declared& decl, PersonStore& store, uint64_t max_bytes)
      : usage(std::make_shared<policy::DeclarationUsage>()),
        snap(decl.compile(max_bytes, usage)),
        ledger(store, test_key()) {
    if (snap) ledger.adopt(snap);
  }
  // One ledger round without claims, as AccountingService::run_once does it.
  bool round() {
    if (!ledger.plan_bytes()) return false;
    const bool ok = static_cast<bool>(ledger.flush());
    ledger.publish_bytes(ok);
    return ok;
  }
  Charge charge(uint64_t n) { return snap->charge_declaration(0, n); }
  policy::DeclarationBytes& bytes() { return *snap->declaration(0).bytes; }

  std::shared_ptr<policy::DeclarationUsage> usage;
  std::shared_ptr<const policy::Snapshot> snap;
  Ledger ledger;
};

TEST(ByteGrants, GrantSize) {
  EXPECT_EQ(ByteGrants::grant_size(1000), 131072u);  // half a grant holds any IP payload
  EXPECT_EQ(ByteGrants::grant_size(64u << 20), 1u << 20);
}

constexpr uint64_t kG = 131072;  // the grant of the caps below (max(128 KiB, cap / 64))

// The cap 300,000 takes two grants and the remainder: N-1, N pass, N+1 exceeds.
TEST(ByteGrants, BudgetAheadThenTheCapAtNMinus1NNPlus1) {
  TempDir tmp("grants");
  Declared decl(tmp.str());
  auto store = make_memory_store();
  Appliance a(decl, *store, 300000);
  ASSERT_TRUE(a.snap);
  ASSERT_EQ(ByteGrants::grant_size(300000), kG);
  // Compiled before the ledger adopted it: no budget yet, max_bytes alone (taken over below).
  EXPECT_EQ(a.bytes().granted.load(), policy::DeclarationBytes::kUngranted);
  EXPECT_EQ(a.charge(1000), Charge::kCharged);
  ASSERT_TRUE(a.round());
  EXPECT_EQ(a.bytes().granted.load(), 1000 + kG);  // used + one grant
  EXPECT_EQ(store->reserved_bytes("d-sg").value(), 1000 + kG);
  EXPECT_FALSE(a.round());  // more than half the grant left: nothing to do
  EXPECT_EQ(a.charge(kG), Charge::kCharged);
  EXPECT_EQ(a.charge(1), Charge::kWait);  // past the budget, not past max_bytes
  EXPECT_EQ(a.bytes().used.load(), 1000 + kG);
  ASSERT_TRUE(a.round());
  EXPECT_EQ(a.bytes().granted.load(), 1000 + 2 * kG);
  EXPECT_FALSE(a.bytes().exhausted.load());
  EXPECT_EQ(a.charge(kG), Charge::kCharged);
  ASSERT_TRUE(a.round());  // the store has only 36,856 more: the budget is final
  EXPECT_EQ(a.bytes().granted.load(), 300000u);
  EXPECT_TRUE(a.bytes().exhausted.load());
  EXPECT_EQ(a.charge(300000 - 1 - 1000 - 2 * kG), Charge::kCharged);  // N-1 = 299,999
  EXPECT_EQ(a.charge(1), Charge::kCharged);                           // N = 300,000
  EXPECT_EQ(a.charge(1), Charge::kExceeded);                          // N+1
  EXPECT_EQ(store->reserved_bytes("d-sg").value(), 300000u);
  // A declaration first compiled after the ledger adopted a generation starts with no budget.
  EXPECT_EQ(a.usage->counter("d-new")->granted.load(), 0u);
  auto again = decl.compile(300000, a.usage);  // the same accounts: kept across a reload
  EXPECT_EQ(again->declaration(0).bytes, &a.bytes());
}

TEST(ByteGrants, RestartStartsFromTheDurableTotalAndACleanStopGivesBack) {
  TempDir tmp("grants");
  Declared decl(tmp.str());
  const std::string dir = tmp.str() + "/acct";
  const uint64_t cap = 1000000;
  ASSERT_EQ(ByteGrants::grant_size(cap), kG);
  {
    auto store = make_lmdb_store(dir);
    ASSERT_TRUE(store) << store.error().message;
    Appliance a(decl, **store, cap);
    ASSERT_TRUE(a.round());
    EXPECT_EQ(a.charge(10000), Charge::kCharged);
    // No clean stop: the whole budget stays reserved (over-count by the unused part).
  }
  {
    auto store = make_lmdb_store(dir);
    ASSERT_TRUE(store);
    EXPECT_EQ((*store)->reserved_bytes("d-sg").value(), kG);
    Appliance a(decl, **store, cap);
    ASSERT_TRUE(a.round());
    EXPECT_EQ(a.bytes().granted.load(), kG);  // this run's budget
    EXPECT_EQ((*store)->reserved_bytes("d-sg").value(), 2 * kG);
    EXPECT_EQ(a.charge(20000), Charge::kCharged);
    ASSERT_TRUE(a.ledger.release_bytes());  // clean stop: the unused part goes back
    EXPECT_EQ((*store)->reserved_bytes("d-sg").value(), kG + 20000);
  }
  auto store = make_lmdb_store(dir);
  ASSERT_TRUE(store);
  Appliance a(decl, **store, cap);
  const uint64_t left = cap - kG - 20000;  // 848,928 = 32 x 26,529
  uint64_t crossed = 0;
  for (int i = 0; i < 32; ++i) {
    a.round();
    ASSERT_EQ(a.charge(left / 32), Charge::kCharged) << i;
    crossed += left / 32;
  }
  a.round();
  EXPECT_TRUE(a.bytes().exhausted.load());
  EXPECT_EQ(crossed, left);  // exactly to the cap over the three runs
  EXPECT_EQ(a.charge(1), Charge::kExceeded);
  EXPECT_EQ((*store)->reserved_bytes("d-sg").value(), cap);
}

TEST(ByteGrants, AFailedFlushPublishesNothing) {
  TempDir tmp("grants");
  Declared decl(tmp.str());
  auto store = make_memory_store();
  Appliance a(decl, *store, 1 << 20);
  ASSERT_TRUE(a.ledger.plan_bytes());
  a.ledger.publish_bytes(false);
  EXPECT_EQ(a.bytes().granted.load(), policy::DeclarationBytes::kUngranted);
  ASSERT_TRUE(a.round());
  EXPECT_EQ(a.bytes().granted.load(), kG);
}

// A process charging under the ledger's budgets is killed with SIGKILL: the store holds at least
// every byte it charged (never an under-count) and at most one grant more.
TEST(ByteGrants, SigkillNeverUnderCounts) {
  TempDir tmp("grants-crash");
  Declared decl(tmp.str());
  const std::string dir = tmp.str() + "/acct";
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    auto store = make_lmdb_store(dir);
    if (!store) ::_exit(2);
    Appliance a(decl, **store, 10u << 20);
    if (!a.snap) ::_exit(3);
    uint64_t crossed = 0;
    for (int i = 0; i < 500; ++i) {  // 1,400-byte packets, a ledger round every 10
      if (i % 10 == 0) a.round();
      if (a.charge(1400) == Charge::kCharged) crossed += 1400;
    }
    if (::write(pipefd[1], &crossed, sizeof crossed) != sizeof crossed) ::_exit(4);
    for (;;) ::pause();
  }
  ::close(pipefd[1]);
  uint64_t crossed = 0;
  ASSERT_EQ(::read(pipefd[0], &crossed, sizeof crossed), static_cast<ssize_t>(sizeof crossed));
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(pipefd[0]);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_EQ(crossed, 500u * 1400u);
  auto store = make_lmdb_store(dir);
  ASSERT_TRUE(store) << store.error().message;
  const uint64_t durable = (*store)->reserved_bytes("d-sg").value();
  EXPECT_GE(durable, crossed);
  EXPECT_LE(durable, crossed + ByteGrants::grant_size(10u << 20));
}

// Two appliances (two ledgers, their own byte accounts) share one redis-server: together they
// never pass max_bytes, and the site total is what they reserved.
TEST(ByteGrants, TwoLedgersShareOneRedisTotal) {
  TempDir tmp("grants-redis");
  RedisServer server(tmp.str());
  ASSERT_TRUE(server.error().empty()) << server.error();
  Declared decl(tmp.str());
  auto ra = make_redis_store(redis_options(server.port()));
  auto rb = make_redis_store(redis_options(server.port()));
  ASSERT_TRUE(ra && rb);
  Appliance a(decl, **ra, 200000), b(decl, **rb, 200000);
  uint64_t crossed[2] = {0, 0};
  bool done[2] = {false, false};
  for (int i = 0; i < 1000000 && !(done[0] && done[1]); ++i) {  // one byte at a time
    Appliance& x = i % 2 ? b : a;
    x.round();
    switch (x.charge(1)) {
      case Charge::kCharged:
        crossed[i % 2] += 1;
        break;
      case Charge::kExceeded:
        done[i % 2] = true;
        break;
      default:
        break;
    }
  }
  EXPECT_TRUE(done[0] && done[1]);
  EXPECT_EQ(crossed[0] + crossed[1], 200000u);  // exactly the cap, over both appliances
  EXPECT_GT(crossed[0], 0u);
  EXPECT_GT(crossed[1], 0u);
  EXPECT_EQ((*ra)->reserved_bytes("d-sg").value(), 200000u);
  // Redis down, a site store in mode block: no new budget, the workers wait.
  auto la = make_lmdb_store(tmp.str() + "/a");
  ASSERT_TRUE(la);
  auto sa = make_site_store(std::move(*ra), std::move(*la), {.mode = SiteMode::kBlock});
  ASSERT_TRUE(sa);
  Appliance c(decl, **sa, 300000);
  server.stop();
  EXPECT_FALSE(c.round());
  EXPECT_EQ(c.bytes().granted.load(), policy::DeclarationBytes::kUngranted);
  ASSERT_TRUE(server.restart());
}

// count_locally: while Redis is down the budget comes from the local store against the cap
// lowered by the others' share when last seen, and is added to Redis once it is back.
TEST(ByteGrants, CountLocallyReservesLocallyAndReconciles) {
  TempDir tmp("grants-site");
  RedisServer server(tmp.str());
  ASSERT_TRUE(server.error().empty()) << server.error();
  Declared decl(tmp.str());
  auto other = make_redis_store(redis_options(server.port()));
  ASSERT_TRUE(other);
  ASSERT_EQ((*other)->reserve_bytes("d-sg", 100000, 300000).value(), 100000u);  // appliance B
  SiteStoreOptions so;
  so.mode = SiteMode::kCountLocally;
  so.queue_file = tmp.str() + "/a.queue";
  so.retry_interval = std::chrono::milliseconds(0);
  auto redis = make_redis_store(redis_options(server.port()));
  auto local = make_lmdb_store(tmp.str() + "/a");
  ASSERT_TRUE(redis && local);
  auto site = make_site_store(std::move(*redis), std::move(*local), so);
  ASSERT_TRUE(site) << site.error().message;
  Appliance a(decl, **site, 300000);
  ASSERT_TRUE(a.round());  // from Redis: one grant (site total 231,072)
  EXPECT_EQ(a.bytes().granted.load(), kG);
  EXPECT_EQ((*site)->reserved_bytes("d-sg").value(), 100000 + kG);
  server.stop();
  EXPECT_EQ(a.charge(kG), Charge::kCharged);
  ASSERT_TRUE(a.round());  // locally, B's 100,000 remembered: 300,000 - 100,000 - 131,072 left
  EXPECT_TRUE(a.bytes().exhausted.load());
  EXPECT_EQ(a.bytes().granted.load(), 200000u);
  EXPECT_EQ(a.charge(200000 - kG), Charge::kCharged);
  EXPECT_EQ(a.charge(1), Charge::kExceeded);
  ASSERT_TRUE(server.restart());  // an empty server: the queue puts back what A reserved locally
  ASSERT_TRUE((*site)->flush());
  EXPECT_EQ((*site)->reserved_bytes("d-sg").value(), 200000 - kG);
}

}  // namespace
}  // namespace dc::audit
