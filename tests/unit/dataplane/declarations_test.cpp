// Declarations in the per-packet pipeline (docs/policy-reference.md §2.10): a flow released under
// a declaration is cut at its next packet once a reload revokes the declaration; exported bytes
// past max_bytes block the flow; the flow record names the declaration.
#include "policy/declarations.hpp"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "audit/crypto.hpp"
#include "audit/flow_format.hpp"
#include "dataplane/pipeline.hpp"
#include "dataplane/policy_epoch.hpp"
#include "policy/loader.hpp"
#include "policy/policy.hpp"
#include "tests/unit/dataplane/frames.hpp"

namespace dc::dataplane {
namespace {

using test::tcp4;
namespace tf = inspect::tcpflag;
constexpr int64_t kT0 = 1767225600LL * 1'000'000'000;  // 2026-01-01T00:00:00Z

class CollectSink final : public FlowEventSink {
 public:
  audit::FlowOutcome* acquire() noexcept override { return &slot_; }
  void commit(audit::FlowOutcome* ev) noexcept override { events.push_back(*ev); }
  std::vector<audit::FlowOutcome> events;

 private:
  audit::FlowOutcome slot_;
};

std::string kind_names(const audit::FlowOutcome& ev) {
  std::string s;
  for (uint8_t i = 0; i < ev.verdict_detail.reason_count; ++i)
    s += std::string(s.empty() ? "" : ",") +
         std::string(policy::reason_name(ev.verdict_detail.reasons[i].kind));
  return s;
}

// The example policy with sg-analytics requiring a declaration and one approver.
std::string policy_text(const std::string& public_key_b64) {
  std::ifstream in(DC_SOURCE_DIR "/examples/policy/ftz-demo.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  const std::string cp = "id = \"sg-analytics\"";
  s.insert(s.find(cp) + cp.size(), "\nrequire_declaration = true");
  return s + "\n[[approvers]]\nid = \"officer\"\nname = \"Officer\"\npublic_key = \"" +
         public_key_b64 + "\"\n";
}

class DeclarationPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (pool_ == nullptr)
      pool_ = rte_pktmbuf_pool_create("decl_test_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
  }

  void SetUp() override {
    auto key = audit::SigningKey::generate();
    ASSERT_TRUE(key);
    char tmpl[] = "/tmp/dc-decl-dp-XXXXXX";
    const std::string dir = ::mkdtemp(tmpl);
    std::ofstream(dir + "/k.pub") << key->public_pem();
    auto raw = policy::load_public_key(dir + "/k.pub", "/");
    std::remove((dir + "/k.pub").c_str());
    ::rmdir(dir.c_str());
    ASSERT_TRUE(raw);
    text_ = policy_text(policy::encode_base64(*raw));
    key_ = std::make_unique<audit::SigningKey>(std::move(*key));
  }

  void TearDown() override {
    if (pipeline_) pipeline_->expire_all(now_);
    pipeline_.reset();
    flows_.reset();
  }

  std::string declaration(uint64_t max_bytes) {
    std::string d =
        "id = \"d-sg\"\nexporter = \"acme\"\ncounterparty = \"sg-analytics\"\n"
        "legal_basis = \"EX-TRANSIT-2026\"\ncategories = [\"pi.contact\"]\nmax_persons = 10\n"
        "max_bytes = " +
        std::to_string(max_bytes) +
        "\nvalid_from = 2025-01-01\nvalid_until = 2026-12-31\npurpose = \"t\"\n"
        "approved_by = \"officer\"\n";
    policy::Diagnostics diags("d.toml");
    auto doc = policy::parse_declaration(d, "d.toml", 480, diags);
    auto sig = key_->sign(policy::canonical_form(doc));
    EXPECT_TRUE(sig);
    return d + "signature = \"" + policy::encode_base64(*sig) + "\"\n";
  }

  std::shared_ptr<const policy::Snapshot> compile(uint64_t max_bytes, bool revoked) {
    files_.push_back({{"d.toml", declaration(max_bytes)}});
    policy::CompileOptions o;
    o.check_tests = false;
    o.declaration_files = &files_.back();
    if (revoked) o.revoked_declarations = {"d-sg"};
    o.declaration_usage = usage_;
    policy::Diagnostics d("policy.toml");
    auto s =
        policy::compile_policy_text(text_, DC_SOURCE_DIR "/examples/policy/x.toml", d, nullptr, o);
    EXPECT_NE(s, nullptr) << d.format();
    return s;
  }

  void build(const std::atomic<const PolicyEpoch*>* live) {
    static int n = 0;
    std::string name = "decl_test_flows_" + std::to_string(n++);
    auto ft = FlowTable::create(name.c_str(), 256, FlowTimeouts{}, 0);
    ASSERT_TRUE(ft);
    flows_ = std::move(ft.value());
    settings_.epoch = live;
    settings_.inspect_flows = 16;
    auto p = Pipeline::create(0, *flows_, settings_, counters_, &sink_);
    ASSERT_TRUE(p) << p.error().message;
    pipeline_ = std::move(p.value());
  }

  // Sends one frame; the number of frames forwarded as a result.
  size_t send(const std::vector<uint8_t>& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    EXPECT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), frame.data(), frame.size());
    m->data_len = static_cast<uint16_t>(frame.size());
    m->pkt_len = static_cast<uint32_t>(frame.size());
    BurstOutput out;
    now_ += 1'000'000;
    pipeline_->process(kReplayPort, &m, 1, now_, out);
    for (uint32_t i = 0; i < out.n_fwd; ++i) rte_pktmbuf_free(out.fwd[i]);
    for (uint32_t i = 0; i < out.n_back; ++i) rte_pktmbuf_free(out.back[i]);
    for (uint32_t i = 0; i < out.n_drop; ++i) rte_pktmbuf_free(out.drop[i]);
    return out.n_fwd;
  }

  // An upload from a domestic host to sg-analytics (198.51.100.20:8443).
  std::vector<uint8_t> syn() { return tcp4(kClient, 40000, kServer, 8443, 1000, 0, tf::kSyn); }
  std::vector<uint8_t> synack() {
    return tcp4(kServer, 8443, kClient, 40000, 5000, 1001, tf::kSyn | tf::kAck);
  }
  std::vector<uint8_t> ack() { return tcp4(kClient, 40000, kServer, 8443, 1001, 5001, tf::kAck); }
  std::vector<uint8_t> data(uint32_t off, std::string_view b) {
    return tcp4(kClient, 40000, kServer, 8443, 1001 + off, 5001, tf::kAck | tf::kPsh, b);
  }
  void open_flow() {
    EXPECT_EQ(send(syn()), 1u);
    send(synack());
    send(ack());
  }

  static constexpr const char* kClient = "10.1.0.11";
  static constexpr const char* kServer = "198.51.100.20";
  static inline rte_mempool* pool_ = nullptr;
  std::string text_;
  std::unique_ptr<audit::SigningKey> key_;
  std::vector<std::vector<std::pair<std::string, std::string>>> files_ =
      std::vector<std::vector<std::pair<std::string, std::string>>>();
  std::shared_ptr<policy::DeclarationUsage> usage_ = std::make_shared<policy::DeclarationUsage>();
  std::unique_ptr<FlowTable> flows_;
  PipelineSettings settings_;
  WorkerCounters counters_{};
  CollectSink sink_;
  std::unique_ptr<Pipeline> pipeline_;
  int64_t now_ = kT0;
};

TEST_F(DeclarationPipelineTest, RevocationByReloadCutsTheLiveFlowAtItsNextPacket) {
  files_.reserve(4);
  auto gen1 = compile(1000, false);
  auto gen2 = compile(1000, true);
  ASSERT_TRUE(gen1 && gen2);
  std::vector<uint16_t> no_ports;
  auto e1 = PolicyEpoch::build(1, gen1, no_ports, no_ports, 1, 16);
  auto e2 = PolicyEpoch::build(2, gen2, no_ports, no_ports, 1, 16);
  ASSERT_TRUE(e1 && e2);
  std::atomic<const PolicyEpoch*> live{e1.value().get()};
  build(&live);
  open_flow();
  EXPECT_EQ(send(data(0, "{\"shipment\":1}")), 1u) << "released under d-sg";
  live.store(e2.value().get());  // the reload that revokes d-sg
  EXPECT_EQ(send(data(14, "{\"shipment\":2}")), 0u) << "cut at its next packet";
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_EQ(kind_names(sink_.events[0]), "declaration_missing,whitelisted");
  EXPECT_EQ(audit::to_flow_record(sink_.events[0], "").declaration, "");
  pipeline_->expire_all(now_);
  pipeline_.reset();
}

TEST_F(DeclarationPipelineTest, BytesPastMaxBytesBlockTheFlowAndTheRecordNamesTheDeclaration) {
  files_.reserve(2);
  auto snap = compile(20, false);
  ASSERT_TRUE(snap);
  settings_.policy = snap.get();
  build(nullptr);
  open_flow();
  EXPECT_EQ(send(data(0, "{\"shipment\":1}")), 1u) << "14 of 20 bytes";
  EXPECT_EQ(send(data(14, "{\"shipment\":2}")), 0u) << "28 > 20: declaration_exceeded";
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(kind_names(sink_.events[0]), "declaration_exceeded,whitelisted");
  EXPECT_EQ(audit::to_flow_record(sink_.events[0], "").declaration, "d-sg");
  pipeline_->expire_all(now_);
  pipeline_.reset();
}

}  // namespace
}  // namespace dc::dataplane
