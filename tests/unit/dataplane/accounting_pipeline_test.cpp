// Customs accounting in the pipeline (docs/accounting.md): an upload carrying a person key waits
// while its claim is pending; the ledger's answer releases it (counted) or blocks the flow
// (refused, volume_cap); without an answer the decision wait ends with accounting_unavailable.
// A clean upload never waits; an idle ledger still flushes its store once a second.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "audit/flow_outcome.hpp"
#include "audit/ledger.hpp"
#include "dataplane/pipeline.hpp"
#include "policy/policy.hpp"
#include "tests/unit/dataplane/frames.hpp"
#include "tests/unit/policy/border_fixture.hpp"

namespace dc::dataplane {
namespace {

namespace tf = inspect::tcpflag;
constexpr int64_t kT0 = 1772409600LL * 1'000'000'000;  // 2026-03-02T00:00:00Z
constexpr const char* kClient = "10.1.0.21";
constexpr const char* kServer = "203.0.113.10";

constexpr const char* kPolicy = R"(
[policy]
id = "acct-dp"
version = "1"
timezone = "+08:00"
[accounting]
enabled = true
)" DC_TEST_DOM_EXT_BORDER R"([[categories]]
id = "pi.identity"
name = "ids"
level = "general"
personal = true
detectors = ["cn_resident_id"]
provenance = "t"
[[legal_bases]]
id = "CAP1"
mechanism = "standard_contract"
reference = "r"
issued = 2026-01-01
expires = 2027-12-31
categories = ["pi.identity"]
max_persons = 1
[[counterparties]]
id = "hq"
name = "HQ"
country = "DE"
legal_bases = ["CAP1"]
endpoints = [{ prefixes = ["203.0.113.10/32"] }]
)";

class CollectSink final : public FlowEventSink {
 public:
  audit::FlowOutcome* acquire() noexcept override { return &slot_; }
  void commit(audit::FlowOutcome* ev) noexcept override { events.push_back(*ev); }
  std::vector<audit::FlowOutcome> events;

 private:
  audit::FlowOutcome slot_;
};

std::string upload(const char* id) {
  const std::string json = std::string(R"({"name":"x","idcard":")") + id + R"("})";
  return "POST /upload HTTP/1.1\r\nHost: hq.example\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(json.size()) + "\r\n\r\n" + json;
}

class AccountingPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static rte_mempool* pool = nullptr;
    if (pool == nullptr)
      pool = rte_pktmbuf_pool_create("acct_pl_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool, nullptr);
    pool_ = pool;
    policy::Diagnostics d("acct.toml");
    snap_ = policy::compile_policy_text(kPolicy, "acct.toml", d);
    ASSERT_TRUE(snap_) << d.format();
    static int n = 0;
    auto ft =
        FlowTable::create(("acct_pl_flows_" + std::to_string(n++)).c_str(), 256, FlowTimeouts{}, 0);
    ASSERT_TRUE(ft);
    flows_ = std::move(ft.value());
    auto ch = AccountingChannel::create(1, 64);
    ASSERT_TRUE(ch) << ch.error().message;
    channel_ = std::move(ch.value());
    store_ = audit::make_memory_store();
    ledger_ = std::make_unique<audit::Ledger>(*store_, audit::test_accounting_key());
    ledger_->adopt(snap_);
    service_ = std::make_unique<AccountingService>(*channel_, *ledger_);
    settings_.policy = snap_.get();
    settings_.inspect_flows = 16;
    settings_.accounting = channel_.get();
    settings_.accounting_wait_ns = 50'000'000;
    auto p = Pipeline::create(0, *flows_, settings_, counters_, &sink_);
    ASSERT_TRUE(p) << p.error().message;
    pipeline_ = std::move(p.value());
  }
  void TearDown() override {
    pipeline_->expire_all(now_);
    collect();
    pipeline_.reset();
  }
  void collect() {
    for (uint32_t i = 0; i < out_.n_fwd; ++i) {
      const uint8_t* d = rte_pktmbuf_mtod(out_.fwd[i], const uint8_t*);
      if (d[26] == 10 && (d[16] << 8 | d[17]) > 40) ++client_data_fwd_;
      rte_pktmbuf_free(out_.fwd[i]);
    }
    dropped_ += out_.n_drop;
    for (uint32_t i = 0; i < out_.n_drop; ++i) rte_pktmbuf_free(out_.drop[i]);
    for (uint32_t i = 0; i < out_.n_back; ++i) rte_pktmbuf_free(out_.back[i]);
    out_.clear();
  }
  void send(const std::vector<uint8_t>& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), frame.data(), frame.size());
    m->data_len = static_cast<uint16_t>(frame.size());
    m->pkt_len = static_cast<uint32_t>(frame.size());
    now_ += 1'000'000;
    pipeline_->process(kReplayPort, &m, 1, now_, out_);
    pipeline_->release_held(kReplayPort, now_, out_);
    collect();
  }
  void release(int64_t advance_ns) {
    now_ += advance_ns;
    pipeline_->release_held(kReplayPort, now_, out_);
    collect();
  }
  // Handshake and one upload from client port `port`; returns the next client sequence number.
  uint32_t open_and_upload(uint16_t port, const std::string& body) {
    uint32_t cseq = 1000, sseq = 5000;
    send(test::tcp4(kClient, port, kServer, 80, cseq++, 0, tf::kSyn));
    send(test::tcp4(kServer, 80, kClient, port, sseq++, cseq, tf::kSyn | tf::kAck));
    send(test::tcp4(kClient, port, kServer, 80, cseq, sseq, tf::kAck));
    send(test::tcp4(kClient, port, kServer, 80, cseq, sseq, tf::kAck | tf::kPsh, body));
    return cseq + static_cast<uint32_t>(body.size());
  }
  const audit::FlowOutcome* record_of(uint16_t port) const {
    for (const auto& e : sink_.events)
      if (e.initiator.sport == port) return &e;
    return nullptr;
  }

  rte_mempool* pool_ = nullptr;
  std::shared_ptr<const policy::Snapshot> snap_;
  std::unique_ptr<FlowTable> flows_;
  std::unique_ptr<AccountingChannel> channel_;
  std::unique_ptr<audit::PersonStore> store_;
  std::unique_ptr<audit::Ledger> ledger_;
  std::unique_ptr<AccountingService> service_;
  PipelineSettings settings_;
  WorkerCounters counters_{};
  CollectSink sink_;
  std::unique_ptr<Pipeline> pipeline_;
  BurstOutput out_;
  int64_t now_ = kT0;
  int client_data_fwd_ = 0;
  uint32_t dropped_ = 0;
};

TEST_F(AccountingPipelineTest, HeldUntilCountedThenRefusedBlocks) {
  open_and_upload(41001, upload("11010519491231002X"));
  EXPECT_EQ(client_data_fwd_, 0);  // the claim is pending: the upload waits
  EXPECT_EQ(counters_.accounting_claims.load(), 1u);
  EXPECT_EQ(service_->run_once(), 1u);  // the ledger counts person 1 (1 of max_persons = 1)
  release(1'000'000);
  EXPECT_EQ(client_data_fwd_, 1);  // counted: released
  // A second person: refused, the flow is blocked and its upload never crosses.
  open_and_upload(41002, upload("110105198001011019"));
  EXPECT_EQ(client_data_fwd_, 1);
  service_->run_once();
  release(1'000'000);
  EXPECT_EQ(client_data_fwd_, 1);
  const audit::FlowOutcome* r = record_of(41002);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_STREQ(r->block_reason, "volume_cap");
  EXPECT_TRUE(r->acct.refused);
  EXPECT_EQ(r->acct.counts[audit::kBasisN], 1u);
  EXPECT_EQ(r->acct.limits[audit::kBasisN], 1u);
  EXPECT_TRUE(r->flags & policy::flag::kVolumeCap);
}

TEST_F(AccountingPipelineTest, DecisionTimeoutAppliesOnUnavailable) {
  open_and_upload(41003, upload("11010519491231002X"));
  release(49'000'000);  // no ledger: still waiting before decision_wait_ms
  EXPECT_EQ(client_data_fwd_, 0);
  EXPECT_EQ(sink_.events.size(), 0u);
  release(2'000'000);  // past 50 ms: on_unavailable = block
  EXPECT_EQ(client_data_fwd_, 0);
  EXPECT_EQ(counters_.accounting_timeouts.load(), 1u);
  const audit::FlowOutcome* r = record_of(41003);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_TRUE(r->flags & policy::flag::kAccountingUnavailable);
  EXPECT_TRUE(r->acct.unavailable);
  // No answer came, yet the record names the scopes the person was claimed in (count unknown).
  EXPECT_EQ(r->acct.used, 0u);
  EXPECT_EQ(r->acct.kinds, policy::kPersonsNonSensitive);
  const auto j = audit::accounting_json(r->acct, *snap_);
  ASSERT_GE(j["scopes"].size(), 2u) << j.dump();
  EXPECT_TRUE(j["scopes"][0]["count"].is_null());
  EXPECT_EQ(j["scopes"][1]["limit"], 1u) << j.dump();  // the basis's max_persons = 1
}

TEST_F(AccountingPipelineTest, CleanUploadNeverWaits) {
  open_and_upload(41004, upload("none"));
  EXPECT_EQ(client_data_fwd_, 1);
  EXPECT_EQ(counters_.accounting_claims.load(), 0u);
  EXPECT_EQ(counters_.accounting_held.load(), 0u);
}

// With no claim for a second, the service thread flushes the store on its own: the site store's
// reconciliation (replaying its queue into Redis once Redis is back) needs no traffic.
class CountingStore final : public audit::PersonStore {
 public:
  Result<audit::ClaimResult> claim(const audit::PersonDigest& who,
                                   std::span<const audit::ScopeLimit> scopes) override {
    return inner_->claim(who, scopes);
  }
  Result<uint64_t> count(std::string_view scope) override { return inner_->count(scope); }
  Result<std::vector<std::pair<std::string, uint64_t>>> scopes(std::string_view prefix) override {
    return inner_->scopes(prefix);
  }
  Result<bool> contains(std::string_view scope, const audit::PersonDigest& who) override {
    return inner_->contains(scope, who);
  }
  Result<uint64_t> reserve_bytes(std::string_view id, uint64_t want, uint64_t cap) override {
    return inner_->reserve_bytes(id, want, cap);
  }
  Result<void> release_bytes(std::string_view id, uint64_t n) override {
    return inner_->release_bytes(id, n);
  }
  Result<uint64_t> reserved_bytes(std::string_view id) override {
    return inner_->reserved_bytes(id);
  }
  Result<std::vector<std::pair<std::string, uint64_t>>> all_reserved_bytes() override {
    return inner_->all_reserved_bytes();
  }
  Result<void> flush() override {
    ++flushes;
    return inner_->flush();
  }
  std::string describe() const override { return "counting"; }
  std::atomic<int> flushes{0};

 private:
  std::unique_ptr<audit::PersonStore> inner_ = audit::make_memory_store();
};

TEST(AccountingServiceIdle, FlushesTheStoreAfterASecondWithoutClaims) {
  auto ch = AccountingChannel::create(1, 64);
  ASSERT_TRUE(ch) << ch.error().message;
  CountingStore store;
  audit::Ledger ledger(store, audit::test_accounting_key());
  AccountingService service(**ch, ledger);
  service.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(store.flushes.load(), 0) << "not before a second without claims";
  for (int i = 0; i < 40 && store.flushes.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  service.stop();
  EXPECT_GE(store.flushes.load(), 1);
}

}  // namespace
}  // namespace dc::dataplane
