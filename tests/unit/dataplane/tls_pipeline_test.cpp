// TLS with escrowed keys in the pipeline, live timing: a real TLS 1.3 upload (tests/support) whose
// keys arrive after its application data (held, then decrypted and judged), or never (the key
// wait ends and [defaults] opaque_payload applies). Replay cases cover keys known from the start.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audit/flow_outcome.hpp"
#include "dataplane/pipeline.hpp"
#include "inspect/tls/keylog.hpp"
#include "policy/policy.hpp"
#include "tests/support/tls_session.hpp"
#include "tests/unit/dataplane/frames.hpp"

namespace dc::dataplane {
namespace {

namespace tf = inspect::tcpflag;
constexpr int64_t kT0 = 1772409600LL * 1'000'000'000;  // 2026-03-02T00:00:00Z
constexpr const char* kClient = "10.1.0.21";
constexpr const char* kServer = "198.51.100.20";  // sg-analytics: may not receive pi.identity

class CollectSink final : public FlowEventSink {
 public:
  audit::FlowOutcome* acquire() noexcept override { return &slot_; }
  void commit(audit::FlowOutcome* ev) noexcept override { events.push_back(*ev); }
  std::vector<audit::FlowOutcome> events;

 private:
  audit::FlowOutcome slot_;
};

std::string body(bool with_id) {
  const std::string json = with_id ? R"({"name":"x","idcard":"11010519491231002X"})"
                                   : R"({"shipment":"SH-1","containers":4})";
  return "POST /upload HTTP/1.1\r\nHost: collector.example.net\r\nContent-Type: "
         "application/json\r\nContent-Length: " +
         std::to_string(json.size()) + "\r\n\r\n" + json;
}

class TlsPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static rte_mempool* pool = nullptr;
    if (pool == nullptr)
      pool = rte_pktmbuf_pool_create("tls_pl_pool", 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool, nullptr);
    pool_ = pool;
    std::ifstream in(DC_SOURCE_DIR "/examples/policy/ftz-demo.toml");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    text.replace(text.find("\n[defaults]\n"), 12, "\n[defaults]\ntls_escrow = \"optional\"\n");
    text = text.substr(0, text.find("\n[[test]]")) + "\n";
    policy::Diagnostics d("escrow.toml");
    snap_ = policy::compile_policy_text(text, "escrow.toml", d);
    ASSERT_TRUE(snap_) << d.format();
    static int n = 0;
    auto ft =
        FlowTable::create(("tls_pl_flows_" + std::to_string(n++)).c_str(), 256, FlowTimeouts{}, 0);
    ASSERT_TRUE(ft);
    flows_ = std::move(ft.value());
    settings_.policy = snap_.get();
    settings_.inspect_flows = 16;
    settings_.tls_sessions = 4;
    settings_.tls_key_wait_ns = 200'000'000;
    auto p = Pipeline::create(0, *flows_, settings_, counters_, &sink_);
    ASSERT_TRUE(p) << p.error().message;
    pipeline_ = std::move(p.value());
  }
  void TearDown() override {
    pipeline_->expire_all(now_);
    pipeline_.reset();
  }

  // Counts what one burst (or one release turn) forwarded / dropped, and frees it.
  void collect() {
    for (uint32_t i = 0; i < out_.n_fwd; ++i) {
      const uint8_t* d = rte_pktmbuf_mtod(out_.fwd[i], const uint8_t*);
      // Client -> server packets with payload (IPv4 total length > 40).
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
  // The connection's packets: handshake, then each side's writes in 1400-byte segments.
  void play(const test::TlsTranscript& t) {
    uint32_t cseq = 1000, sseq = 5000;
    send(test::tcp4(kClient, 40000, kServer, 8443, cseq++, 0, tf::kSyn));
    send(test::tcp4(kServer, 8443, kClient, 40000, sseq++, cseq, tf::kSyn | tf::kAck));
    send(test::tcp4(kClient, 40000, kServer, 8443, cseq, sseq, tf::kAck));
    for (const auto& ch : t.chunks) {
      for (std::size_t i = 0; i < ch.bytes.size(); i += 1400) {
        const std::string_view piece = std::string_view(ch.bytes).substr(i, 1400);
        if (ch.from_client) {
          send(test::tcp4(kClient, 40000, kServer, 8443, cseq, sseq, tf::kAck | tf::kPsh, piece));
          cseq += static_cast<uint32_t>(piece.size());
        } else {
          send(test::tcp4(kServer, 8443, kClient, 40000, sseq, cseq, tf::kAck | tf::kPsh, piece));
          sseq += static_cast<uint32_t>(piece.size());
        }
      }
    }
  }
  void escrow(const std::string& keylog) {
    std::istringstream lines(keylog);
    for (std::string line; std::getline(lines, line);) {
      auto e = inspect::tls::parse_keylog_line(line);
      ASSERT_TRUE(e) << e.error().message;
      if (e.value()) (void)pipeline_->add_key(*e.value(), now_);
    }
  }
  static test::TlsTranscript connection(bool with_id) {
    test::TlsSessionOptions o;
    using S = test::TlsStep;
    o.steps = {{S::kClientWrite, body(with_id)},
               {S::kServerWrite, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}};
    o.close = false;
    auto t = test::make_tls_session(o);
    EXPECT_TRUE(t) << t.error().message;
    return t.value();
  }

  rte_mempool* pool_ = nullptr;
  std::shared_ptr<const policy::Snapshot> snap_;
  std::unique_ptr<FlowTable> flows_;
  PipelineSettings settings_;
  WorkerCounters counters_{};
  CollectSink sink_;
  std::unique_ptr<Pipeline> pipeline_;
  BurstOutput out_;
  int64_t now_ = kT0;
  uint32_t client_data_fwd_ = 0, dropped_ = 0;
};

TEST_F(TlsPipelineTest, LateKeysUnlockHeldRecordsAndTheIdIsBlockedBeforeItLeaves) {
  const test::TlsTranscript t = connection(true);
  play(t);
  const uint32_t before = client_data_fwd_;  // the ClientHello only: the rest waits for keys
  EXPECT_GT(counters_.tls_key_held, 0u);
  EXPECT_EQ(before, 1u);
  escrow(t.keylog);
  release(1'000'000);
  EXPECT_EQ(client_data_fwd_, before);  // the upload with the ID never crossed
  EXPECT_GT(dropped_, 0u);
  pipeline_->expire_all(now_);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_EQ(sink_.events[0].payload, audit::PayloadInspection::kDecrypted);
  EXPECT_TRUE(sink_.events[0].has_key_line);
}

TEST_F(TlsPipelineTest, LateKeysReleaseACleanUploadAfterInspection) {
  const test::TlsTranscript t = connection(false);
  play(t);
  EXPECT_EQ(client_data_fwd_, 1u);
  escrow(t.keylog);
  release(1'000'000);
  EXPECT_GT(client_data_fwd_, 1u);  // Finished and the request, once decrypted and inspected
  EXPECT_EQ(counters_.tls_key_wait_timeouts, 0u);
  pipeline_->expire_all(now_);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kAllow);
  EXPECT_EQ(sink_.events[0].payload, audit::PayloadInspection::kDecrypted);
}

TEST_F(TlsPipelineTest, KeysThatNeverComeEndTheWaitWithTheOpaqueAction) {
  play(connection(true));
  EXPECT_EQ(client_data_fwd_, 1u);
  release(100'000'000);  // within the key wait: still held
  EXPECT_EQ(client_data_fwd_, 1u);
  release(200'000'000);
  EXPECT_EQ(counters_.tls_key_wait_timeouts, 1u);
  EXPECT_GT(client_data_fwd_, 1u);  // ftz-demo: opaque_payload = "alert" lets it cross
  pipeline_->expire_all(now_);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kAlert);
  EXPECT_EQ(sink_.events[0].payload, audit::PayloadInspection::kOpaque);
  EXPECT_TRUE((sink_.events[0].flags & policy::flag::kPayloadOpaque) != 0);
}

// An escrowed key no flow claims is wiped by the worker's once-a-second sweep after key_ttl_s,
// not when its slot is next needed (docs/security.md "How long keys live").
TEST_F(TlsPipelineTest, UnclaimedKeysAreWipedSoonAfterTheirTtl) {
  escrow(connection(false).keylog);
  ASSERT_GT(counters_.tls_keys_stored, 0u);
  pipeline_->expire(now_ + settings_.tls_key_ttl_ns / 2);
  EXPECT_EQ(counters_.tls_keys_expired, 0u);  // still usable
  pipeline_->expire(now_ + settings_.tls_key_ttl_ns + 1'000'000'000);
  EXPECT_EQ(counters_.tls_keys_expired, 1u);  // one connection's entry
}

}  // namespace
}  // namespace dc::dataplane
