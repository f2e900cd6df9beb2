// The audit side of the dataplane boundary without DPDK: the flow-record formatter on a
// FlowOutcome, and the writer thread draining a plain in-memory OutcomeSource (records, skipped
// flows, evidence kept only for blocked flows, health reported back to the producers).
#include "audit/writer_thread.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include "audit/flow_format.hpp"
#include "policy/policy.hpp"
#include "tests/unit/audit/audit_fixture.hpp"

namespace dc::audit {
namespace {

using testing::FakeClock;
using testing::TempDir;

// An OutcomeSource over a queue: what the dataplane's ring does, minus DPDK.
class QueueSource final : public OutcomeSource {
 public:
  struct Evidence {
    uint64_t flow_id;
    int64_t ts_ns;
    std::vector<uint8_t> frame;
  };
  std::deque<std::variant<FlowOutcome, Evidence>> items;
  std::vector<bool> health;  // every set_writer_healthy() call
  uint64_t released = 0;

  unsigned drain(OutcomeConsumer& c, unsigned max) override {
    unsigned n = 0;
    while (n < max && !items.empty()) {
      auto item = std::move(items.front());
      items.pop_front();
      ++n;
      ++released;
      if (auto* o = std::get_if<FlowOutcome>(&item))
        c.on_outcome(*o);
      else
        c.on_evidence(std::get<Evidence>(item).flow_id, std::get<Evidence>(item).ts_ns,
                      std::get<Evidence>(item).frame);
    }
    return n;
  }
  void set_writer_healthy(bool ok) noexcept override { health.push_back(ok); }
  uint64_t lost_outcomes() const noexcept override { return 3; }
  uint64_t lost_evidence() const noexcept override { return 5; }
};

class BoundaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    policy::Diagnostics d("ftz-demo.toml");
    auto s = policy::load_policy_file(DC_SOURCE_DIR "/examples/policy/ftz-demo.toml", d);
    ASSERT_TRUE(s && s.value()) << d.format();
    snap_ = s.value();
  }
  static void TearDownTestSuite() { snap_.reset(); }

  static uint16_t zone(const std::string& id) {
    for (uint16_t z = 0; z < snap_->zone_count(); ++z)
      if (snap_->zone(z).id == id) return z;
    ADD_FAILURE() << "no zone " << id;
    return 0xffff;
  }

  // A border-crossing TCP flow 10.1.0.5:40000 -> 203.0.113.7:443, domestic -> crossborder.
  static FlowOutcome border_flow(uint64_t id, OutcomeVerdict v) {
    FlowOutcome o;
    o.flow_id = id;
    o.time_ns = 1767225600LL * 1'000'000'000 + static_cast<int64_t>(id);
    o.initiator.src = inspect::IpAddr::from_v4(0x0A010005);
    o.initiator.dst = inspect::IpAddr::from_v4(0xCB007107);
    o.initiator.sport = 40000;
    o.initiator.dport = 443;
    o.initiator.proto = 6;
    o.src_zone = zone("domestic");
    o.dst_zone = zone("crossborder");
    o.dir[0] = {5, 1500};
    o.dir[1] = {4, 800};
    o.verdict = v;
    o.action = v == OutcomeVerdict::kBlock ? OutcomeAction::kReset : OutcomeAction::kForward;
    o.policy = snap_.get();
    o.adm.border = true;
    if (v == OutcomeVerdict::kBlock) {
      o.block_reason = "not_whitelisted";
      o.verdict_detail.action = policy::Action::kBlock;
      o.verdict_detail.reason_count = 1;
      o.verdict_detail.reasons[0].kind = policy::ReasonKind::kNoCounterparty;
      o.verdict_detail.reasons[0].action = policy::Action::kBlock;
    }
    std::snprintf(o.sni, sizeof o.sni, "upload.example.net");
    return o;
  }

  static inline std::shared_ptr<const policy::Snapshot> snap_;
};

TEST_F(BoundaryTest, FormatterNamesEverythingFromTheSnapshot) {
  FlowOutcome o = border_flow(7, OutcomeVerdict::kBlock);
  o.samples_n = 1;
  o.samples[0].detector = 0;
  std::snprintf(o.samples[0].masked, sizeof o.samples[0].masked, "110105********002X");
  o.samples[0].value_len = 3;
  FlowRecord r = to_flow_record(o, "");
  EXPECT_EQ(r.src_ip, "10.1.0.5");
  EXPECT_EQ(r.dest_ip, "203.0.113.7");
  EXPECT_EQ(r.src_port, 40000);
  EXPECT_EQ(r.dest_port, 443);
  EXPECT_EQ(r.proto, "TCP");
  EXPECT_EQ(r.community_id.rfind("1:", 0), 0u);
  EXPECT_EQ(r.src_zone, "domestic");
  EXPECT_EQ(r.dest_zone, "crossborder");
  EXPECT_EQ(r.verdict, "block");
  EXPECT_EQ(r.action, "reset");
  ASSERT_EQ(r.reasons.size(), 1u);
  EXPECT_EQ(r.reasons[0]["kind"], "no_counterparty");
  EXPECT_EQ(r.reasons[0]["action"], "block");
  EXPECT_EQ(r.sni, "upload.example.net");
  EXPECT_EQ(r.pkts_toserver, 5u);
  EXPECT_EQ(r.bytes_toclient, 800u);
  EXPECT_EQ(r.policy_sha256, snap_->sha256_hex());
  ASSERT_EQ(r.values.size(), 1u);
  EXPECT_EQ(r.values[0].masked, "110105********002X");
  EXPECT_TRUE(r.values[0].hmac.empty()) << "no key (replay): masked form only";
  EXPECT_EQ(to_flow_record(o, "key").values[0].hmac.size(), 64u);
  EXPECT_EQ(r.values[0].path, "raw") << "no decoding path: found in the TCP bytes";
  // A value found through the decoding layer: its fixed-size path is rendered here.
  namespace dec = inspect::decoding;
  dec::Path{}
      .child(dec::LayerKind::kRequestBody)
      .child(dec::LayerKind::kGzip)
      .child(dec::LayerKind::kMultipart, 2)
      .child(dec::LayerKind::kBase64)
      .format(o.samples[0].path, sizeof o.samples[0].path);
  EXPECT_EQ(to_flow_record(o, "").values[0].path,
            "http.request.body > gzip > multipart[2] > base64");
  EXPECT_EQ(flow_record_body(to_flow_record(o, ""))["values"][0]["path"],
            "http.request.body > gzip > multipart[2] > base64");
  // Without a snapshot nothing is named, and nothing is audit-worthy.
  o.policy = nullptr;
  FlowRecord bare = to_flow_record(o, "");
  EXPECT_EQ(bare.src_zone, "");
  EXPECT_TRUE(bare.reasons.empty());
  EXPECT_FALSE(audit_worthy(o));
}

// Index of the snapshot entity whose id is `id` (counterparty, basis or category).
template <class Count, class At>
uint16_t index_of(Count count, At at, const std::string& id) {
  for (std::size_t i = 0; i < count(); ++i)
    if (at(static_cast<uint16_t>(i)).id == id) return static_cast<uint16_t>(i);
  ADD_FAILURE() << "no " << id;
  return 0xffff;
}

TEST_F(BoundaryTest, RecordNamesTheCoveringBasisOrWhyNoneCovered) {
  const auto& s = *snap_;
  const uint16_t eu =
      index_of([&] { return s.counterparty_count(); },
               [&](uint16_t i) -> const auto& { return s.counterparty(i); }, "eu-hq");
  auto basis = [&](const char* id) {
    return index_of(
        [&] { return s.basis_count(); }, [&](uint16_t i) -> const auto& { return s.basis(i); }, id);
  };
  auto category = [&](const char* id) {
    return index_of([&] { return s.category_count(); },
                    [&](uint16_t i) -> const auto& { return s.category(i); }, id);
  };
  // An ID number to eu-hq, covered by its standard contract.
  FlowOutcome o = border_flow(8, OutcomeVerdict::kAllow);
  o.adm.counterparty = eu;
  o.adm.foreign = policy::Side::kResponder;
  o.crossed[0] = {5, 1500};
  o.crossed[1] = {4, 800};
  auto& v = o.verdict_detail;
  v.reason_count = 2;
  v.reasons[0] = {};
  v.reasons[0].kind = policy::ReasonKind::kWhitelisted;
  v.reasons[0].counterparty = eu;
  v.reasons[0].basis = basis("SCC-2025-0042");
  v.reasons[1] = {};
  v.reasons[1].kind = policy::ReasonKind::kPersonalUnderBasis;
  v.reasons[1].category = category("pi.identity");
  v.reasons[1].basis = basis("SCC-2025-0042");
  FlowRecord r = to_flow_record(o, "");
  EXPECT_EQ(r.legal_basis, "standard_contract");
  EXPECT_EQ(r.legal_basis_id, "SCC-2025-0042");
  ASSERT_EQ(r.bases_considered.size(), 2u);
  EXPECT_EQ(r.bases_considered[0]["outcome"], "covers");
  EXPECT_EQ(r.bases_considered[1]["id"], "SA-2025-0001");
  EXPECT_EQ(r.bases_considered[1]["outcome"], "valid");
  EXPECT_EQ(r.foreign_side, "dest");
  EXPECT_EQ(r.exported_bytes, 1500u);
  EXPECT_EQ(r.received_bytes, 800u);
  auto body = flow_record_body(r);
  EXPECT_EQ(body["legal_basis"]["id"], "SCC-2025-0042");
  EXPECT_EQ(body["exported"]["bytes"], 1500u);
  // Card numbers: no basis covers them; blocked. The record names no basis, and says why.
  o.verdict = OutcomeVerdict::kBlock;
  v.reasons[1].kind = policy::ReasonKind::kPersonalWithoutBasis;
  v.reasons[1].category = category("pi.financial_account");
  v.reasons[1].basis = policy::kNoBasis;
  std::swap(v.reasons[0], v.reasons[1]);
  r = to_flow_record(o, "");
  EXPECT_EQ(r.legal_basis, "");
  EXPECT_TRUE(flow_record_body(r)["legal_basis"].is_null());
  ASSERT_EQ(r.bases_considered.size(), 2u);
  for (const auto& b : r.bases_considered) {
    EXPECT_EQ(b["outcome"], "does_not_cover") << b.dump();
    EXPECT_EQ(b["category"], "pi.financial_account");
  }
  // A flow that does not cross the border has no direction.
  o.adm.border = false;
  EXPECT_TRUE(flow_record_body(to_flow_record(o, ""))["exported"].is_null());
}

TEST_F(BoundaryTest, WriterRecordsBorderFlowsAndKeepsEvidenceOfBlockedOnes) {
  TempDir dir("boundary");
  FakeClock clock;
  auto w = LogWriter::open(testing::sample_options(dir.str(), clock), testing::test_key());
  ASSERT_TRUE(w) << w.error().message;
  auto store = EvidenceStore::open(dir.str(), EvidenceLimits{});
  ASSERT_TRUE(store) << store.error().message;
  QueueSource src;
  const std::vector<uint8_t> frame(60, 0x42);
  src.items.push_back(QueueSource::Evidence{1, 10, frame});
  src.items.push_back(QueueSource::Evidence{1, 20, frame});
  src.items.push_back(QueueSource::Evidence{1, 30, frame});  // over the per-flow bound of 2
  src.items.push_back(QueueSource::Evidence{2, 40, frame});
  src.items.push_back(border_flow(1, OutcomeVerdict::kBlock));
  src.items.push_back(border_flow(2, OutcomeVerdict::kAllow));
  FlowOutcome starved = border_flow(4, OutcomeVerdict::kBlock);  // no packet reached the writer
  starved.flags |= policy::flag::kEvidenceUnavailable;
  src.items.push_back(starved);
  FlowOutcome domestic = border_flow(3, OutcomeVerdict::kAllow);
  domestic.adm.border = false;
  src.items.push_back(domestic);

  WriterThread t(src, std::move(w.value()), std::move(store.value()), "key", 2);
  EXPECT_EQ(t.drain_once(), 8u);
  EXPECT_EQ(src.released, 8u);
  WriterThreadStats st = t.stats();
  EXPECT_EQ(st.records, 3u);
  EXPECT_EQ(st.skipped, 1u);
  EXPECT_EQ(st.evidence_files, 1u);
  EXPECT_EQ(st.evidence_dropped, 1u) << "the third packet of flow 1 (flow 2's is kept pending)";
  EXPECT_FALSE(src.health.empty());
  EXPECT_TRUE(src.health.back()) << "nothing waits to be written";
  ASSERT_TRUE(t.stop({{"reason", "test"}}));

  std::vector<nlohmann::json> flows;
  nlohmann::json stop;
  for (const auto& l : testing::read_lines(dir.str())) {
    auto j = nlohmann::json::parse(l.raw);
    if (l.type == "flow") flows.push_back(j);
    if (l.type == "stop") stop = j;
  }
  ASSERT_EQ(flows.size(), 3u);
  const auto& blocked = flows[0].contains("flow_record") ? flows[0]["flow_record"] : flows[0];
  EXPECT_EQ(blocked["verdict"], "block");
  ASSERT_TRUE(blocked["evidence"].is_object()) << blocked.dump();
  EXPECT_EQ(blocked["evidence"]["packets"], 2);
  const auto& allowed = flows[1].contains("flow_record") ? flows[1]["flow_record"] : flows[1];
  EXPECT_EQ(allowed["verdict"], "allow");
  EXPECT_TRUE(allowed["evidence"].is_null());
  EXPECT_TRUE(allowed["evidence_missing"].is_null()) << "no evidence is expected of allowed flows";
  EXPECT_TRUE(blocked["evidence_missing"].is_null()) << blocked.dump();
  // A blocked flow without a capture says why, instead of a bare "evidence": null.
  const auto& starved_rec = flows[2].contains("flow_record") ? flows[2]["flow_record"] : flows[2];
  EXPECT_TRUE(starved_rec["evidence"].is_null());
  EXPECT_EQ(starved_rec["evidence_missing"], "no packets kept: evidence buffers exhausted");
  // The source's loss counters reach the stop record.
  const auto& details = stop.contains("details") ? stop["details"] : stop;
  EXPECT_EQ(details.value("events_lost", 0), 3) << stop.dump();
  EXPECT_EQ(details.value("evidence_lost", 0), 5) << stop.dump();
}

}  // namespace
}  // namespace dc::audit
