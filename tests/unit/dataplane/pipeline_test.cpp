// The per-packet pipeline on real mbufs with the example policy: admission, inspection, stream
// order, verdicts, flow records and the audit failure condition.
#include "dataplane/pipeline.hpp"

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <zlib.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "audit/flow_format.hpp"
#include "dataplane/audit_channel.hpp"
#include "policy/policy.hpp"
#include "tests/unit/dataplane/frames.hpp"

namespace dc::dataplane {
namespace {

using test::tcp4;
namespace tf = inspect::tcpflag;
constexpr int64_t kT0 = 1767225600LL * 1'000'000'000;  // 2026-01-01T00:00:00Z
constexpr const char* kId = "11010519491231002X";      // GB 11643 valid

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

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Once per process: suites derived from this fixture share the pool (names are unique).
    if (pool_ == nullptr)
      pool_ = rte_pktmbuf_pool_create("pl_test_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
    policy::Diagnostics d("ftz-demo.toml");
    auto s = policy::load_policy_file(DC_SOURCE_DIR "/examples/policy/ftz-demo.toml", d);
    ASSERT_TRUE(s && s.value()) << d.format();
    snap_ = s.value();
  }
  static void TearDownTestSuite() { snap_.reset(); }

  void SetUp() override { build(&sink_); }
  void TearDown() override {
    pipeline_->expire_all(now_);
    pipeline_.reset();
    flows_.reset();
  }

  void build(FlowEventSink* sink) {
    static int n = 0;
    std::string name = "pl_test_flows_" + std::to_string(n++);
    auto ft = FlowTable::create(name.c_str(), 1024, FlowTimeouts{}, 0);
    ASSERT_TRUE(ft);
    flows_ = std::move(ft.value());
    settings_.policy = snap_.get();
    settings_.inspect_flows = 64;
    auto p = Pipeline::create(0, *flows_, settings_, counters_, sink);
    ASSERT_TRUE(p) << p.error().message;
    pipeline_ = std::move(p.value());
  }

  // Sends one frame (replay mode: zones from the policy's prefixes). Returns the frames the
  // pipeline forwarded as a result (possibly earlier, held ones) and whether it dropped any.
  std::vector<std::vector<uint8_t>> send(const std::vector<uint8_t>& frame,
                                         int* dropped = nullptr) {
    return send_burst({frame}, dropped);
  }

  // Sends frames as one burst. Returns the frames forwarded, in the order they left; the frames
  // sent back out of the ingress port are in back_.
  std::vector<std::vector<uint8_t>> send_burst(const std::vector<std::vector<uint8_t>>& frames,
                                               int* dropped = nullptr) {
    std::vector<rte_mbuf*> ms;
    for (const auto& frame : frames) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      EXPECT_NE(m, nullptr);
      std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), frame.data(), frame.size());
      m->data_len = static_cast<uint16_t>(frame.size());
      m->pkt_len = static_cast<uint32_t>(frame.size());
      ms.push_back(m);
    }
    out_.clear();
    now_ += 1'000'000;
    pipeline_->process(kReplayPort, ms.data(), static_cast<uint16_t>(ms.size()), now_, out_);
    auto take = [](rte_mbuf* const* bufs, uint32_t n) {
      std::vector<std::vector<uint8_t>> frames_out;
      for (uint32_t i = 0; i < n; ++i) {
        const uint8_t* d = rte_pktmbuf_mtod(bufs[i], const uint8_t*);
        frames_out.emplace_back(d, d + rte_pktmbuf_data_len(bufs[i]));
        rte_pktmbuf_free(bufs[i]);
      }
      return frames_out;
    };
    std::vector<std::vector<uint8_t>> fwd = take(out_.fwd, out_.n_fwd);
    back_ = take(out_.back, out_.n_back);
    if (dropped) *dropped = static_cast<int>(out_.n_drop);
    for (uint32_t i = 0; i < out_.n_drop; ++i) rte_pktmbuf_free(out_.drop[i]);
    return fwd;
  }

  static inline rte_mempool* pool_ = nullptr;
  static inline std::shared_ptr<const policy::Snapshot> snap_;
  std::unique_ptr<FlowTable> flows_;
  PipelineSettings settings_;
  WorkerCounters counters_{};
  CollectSink sink_;
  std::unique_ptr<Pipeline> pipeline_;
  BurstOutput out_;
  std::vector<std::vector<uint8_t>> back_;  // frames sent back out of the ingress port
  int64_t now_ = kT0;
};

// A TCP upload from a domestic host to sg-analytics (198.51.100.20:8443, may receive pi.contact
// only). Returns the frames in order: SYN, SYN-ACK, ACK, data segments...
struct Upload {
  const char* client = "10.1.0.11";
  const char* server = "198.51.100.20";
  uint16_t cport = 40000, sport = 8443;
  uint32_t cseq = 1000, sseq = 5000;
  std::vector<uint8_t> syn() { return tcp4(client, cport, server, sport, cseq, 0, tf::kSyn); }
  std::vector<uint8_t> synack() {
    return tcp4(server, sport, client, cport, sseq, cseq + 1, tf::kSyn | tf::kAck);
  }
  std::vector<uint8_t> ack() {
    return tcp4(client, cport, server, sport, cseq + 1, sseq + 1, tf::kAck);
  }
  // Data at stream offset `off` (0 = first byte after the SYN).
  std::vector<uint8_t> data(uint32_t off, std::string_view bytes) {
    return tcp4(client, cport, server, sport, cseq + 1 + off, sseq + 1, tf::kAck | tf::kPsh, bytes);
  }
};

TEST_F(PipelineTest, CleanUploadToWhitelistedCounterpartyIsForwarded) {
  Upload u;
  EXPECT_EQ(send(u.syn()).size(), 1u);
  EXPECT_EQ(send(u.synack()).size(), 1u);
  EXPECT_EQ(send(u.ack()).size(), 1u);
  auto f = send(u.data(0, R"({"shipment":"SH-1","containers":4})"));
  ASSERT_EQ(f.size(), 1u);
  pipeline_->expire_all(now_);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kAllow);
  EXPECT_EQ(kind_names(sink_.events[0]), "whitelisted");
}

// The same pipeline with a packet pool, hence IP reassembly (replay and the live workers have
// one): a fragmented datagram is inspected whole and crosses as its original fragments.
class ReassemblyPipelineTest : public PipelineTest {
 protected:
  void SetUp() override {
    settings_.tx_pool = pool_;
    build(&sink_);
  }
};

TEST_F(ReassemblyPipelineTest, FragmentedCleanUploadCrossesAsTheOriginalFragments) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  auto fr = test::fragments4(u.data(0, R"({"shipment":"SH-1","containers":4,"note":"ok"})"), {32});
  EXPECT_TRUE(send(fr[1]).empty());  // held until the datagram is whole
  auto f = send(fr[0]);
  ASSERT_EQ(f.size(), 2u);  // the fragments as they arrived, not the rebuilt datagram
  EXPECT_EQ(f[0], fr[1]);
  EXPECT_EQ(f[1], fr[0]);
  EXPECT_EQ(counters_.reassembled, 1u);
  pipeline_->expire_all(now_);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kAllow);
}

TEST_F(ReassemblyPipelineTest, IdSplitAcrossFragmentsIsBlockedBeforeAnyFragmentLeaves) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  const std::string body = std::string(R"({"name":"Zhang San","id":")") + kId + R"("})";
  auto fr = test::fragments4(u.data(0, body), {48});  // the ID is at IP payload [46, 64)
  EXPECT_TRUE(send(fr[0]).empty());
  int dropped = 0;
  EXPECT_TRUE(send(fr[1], &dropped).empty());
  EXPECT_GE(dropped, 1);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kBlock);
}

TEST_F(PipelineTest, ResidentIdToCounterpartyWithoutThatCategoryIsBlockedBeforeLeaving) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  std::string body = std::string(R"({"name":"x","idcard":")") + kId + R"(","city":"Wuhu"})";
  int dropped = 0;
  auto f = send(u.data(0, body), &dropped);
  EXPECT_TRUE(f.empty()) << "the segment carrying the ID must not be forwarded";
  EXPECT_EQ(dropped, 1);
  ASSERT_EQ(sink_.events.size(), 1u) << "a block is recorded at once";
  const auto& ev = sink_.events[0];
  EXPECT_EQ(ev.verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_EQ(kind_names(ev), "category_not_allowed,whitelisted");
  EXPECT_STREQ(ev.block_reason, "policy_block");  // the drop counter's name travels with it
  ASSERT_EQ(ev.samples_n, 1u);
  EXPECT_STREQ(ev.samples[0].masked, "110105********002X");
  EXPECT_STREQ(ev.samples[0].path, "") << "found in the raw bytes";
  EXPECT_EQ(audit::to_flow_record(ev, "").values[0].path, "raw");
  // Later packets of the flow are dropped too.
  EXPECT_TRUE(send(u.data(static_cast<uint32_t>(body.size()), "more")).empty());
  EXPECT_EQ(counters_.drops[static_cast<unsigned>(DropReason::kPolicyBlock)], 2u);
}

// A flow blocked after some of its packets crossed: the outcome says what crossed (the record's
// "crossed"), so "verdict: block" never reads as "nothing left".
TEST_F(PipelineTest, BlockedAfterCleanDataSaysWhatCrossed) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  const std::string clean = R"({"shipment":"SH-1","containers":4})";
  ASSERT_EQ(send(u.data(0, clean)).size(), 1u);
  std::string body = std::string(R"({"idcard":")") + kId + R"("})";
  EXPECT_TRUE(send(u.data(static_cast<uint32_t>(clean.size()), body)).empty());
  ASSERT_EQ(sink_.events.size(), 1u);
  const auto& ev = sink_.events[0];
  EXPECT_EQ(ev.verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_EQ(ev.crossed[0].packets, 3u) << "SYN, ACK and the clean segment crossed";
  EXPECT_EQ(ev.crossed[1].packets, 1u) << "the SYN+ACK came back";
  EXPECT_GT(ev.crossed[0].bytes, clean.size());
  EXPECT_EQ(ev.dir[0].packets, 4u) << "the blocked segment was seen, not forwarded";
  auto rec = audit::to_flow_record(ev, "");
  EXPECT_EQ(rec.crossed_packets, 4u);
  EXPECT_EQ(rec.crossed_bytes, ev.crossed[0].bytes + ev.crossed[1].bytes);
}

// reevaluate() skips decide() while the flow's snapshot, admission, tally and flags are those of
// its last decision and the time is inside that decision's window (flow_verdict.cpp): a clean
// segment after the counterparty's only legal basis expired (EX-TRANSIT-2026, 2027-12-31) must
// still be decided again and cut, though nothing else about the flow changed.
TEST_F(PipelineTest, LegalBasisExpiryCutsALiveFlowAtItsNextSegment) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  const std::string clean = R"({"shipment":"SH-1","containers":4})";
  for (uint32_t i = 0; i < 3; ++i)
    ASSERT_EQ(send(u.data(i * static_cast<uint32_t>(clean.size()), clean)).size(), 1u) << i;
  EXPECT_TRUE(sink_.events.empty());
  now_ = kT0 + int64_t{2 * 365 + 1} * 86400 * 1'000'000'000;  // 2028-01-02: the basis expired
  int dropped = 0;
  EXPECT_TRUE(send(u.data(3 * static_cast<uint32_t>(clean.size()), clean), &dropped).empty());
  EXPECT_EQ(dropped, 1);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_NE(kind_names(sink_.events[0]).find("basis_expired"), std::string::npos)
      << kind_names(sink_.events[0]);
  EXPECT_EQ(sink_.events[0].crossed[0].packets, 5u) << "SYN, ACK and the three clean segments";
}

TEST_F(PipelineTest, IdEndingExactlyAtTheSegmentEndIsBlockedBeforeItLeaves) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  std::string first = std::string(R"({"idcard":")") + kId;  // ends with the ID's last byte
  int dropped = 0;
  EXPECT_TRUE(send(u.data(0, first), &dropped).empty());
  EXPECT_EQ(dropped, 1);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kBlock);
}

std::string gzip_of(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The decoding layer in the packet path: a gzip'd JSON body hides the ID from the raw scan; the
// segment that completes it is judged on the decoded bytes and never leaves.
TEST_F(PipelineTest, GzipBodyIdIsFoundThroughDecodingBeforeTheSegmentLeaves) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  const std::string body =
      gzip_of(std::string(R"({"name":"x","idcard":")") + kId + R"(","city":"Wuhu"})");
  ASSERT_EQ(body.find(kId), std::string::npos);
  const std::string head =
      "POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
      "Content-Encoding: gzip\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  ASSERT_EQ(send(u.data(0, head)).size(), 1u) << "the head alone is clean";
  int dropped = 0;
  EXPECT_TRUE(send(u.data(static_cast<uint32_t>(head.size()), body), &dropped).empty());
  EXPECT_EQ(dropped, 1);
  ASSERT_EQ(sink_.events.size(), 1u);
  const auto& ev = sink_.events[0];
  EXPECT_EQ(ev.verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_EQ(kind_names(ev), "category_not_allowed,whitelisted");
  ASSERT_EQ(ev.samples_n, 1u);
  EXPECT_STREQ(ev.samples[0].masked, "110105********002X");
  EXPECT_GT(counters_.decoded_bytes, 0u);
  // The finding carries where it was found, rendered by the record formatter.
  auto rec = audit::to_flow_record(ev, "");
  ASSERT_EQ(rec.values.size(), 1u);
  EXPECT_EQ(rec.values[0].path, "http.request.body > gzip");  // seen first after gunzip
  EXPECT_EQ(audit::flow_record_body(rec)["values"][0]["path"], "http.request.body > gzip");
}

// A burst's segments are decoded after the burst's raw scans (Pipeline::defer_decode): a flow
// blocked by what decoding finds loses its segment, and the other flows of the burst cross
// whole and in their order.
TEST_F(PipelineTest, DecodingAfterTheBurstBlocksOnlyItsFlowAndKeepsTheOthersInOrder) {
  Upload u, v;
  v.cport = 40009;
  send_burst({u.syn(), v.syn(), u.synack(), v.synack(), u.ack(), v.ack()});
  const std::string clean = R"({"shipment":"SH-1","containers":4})";
  const std::string req1 =
      "POST /a HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(clean.size()) + "\r\n\r\n" + clean;
  const std::string req2 = req1;  // keep-alive: the flow's next request
  const std::string gz = gzip_of(std::string(R"({"idcard":")") + kId + R"("})");
  const std::string secret =
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
      "Content-Encoding: gzip\r\nContent-Length: " +
      std::to_string(gz.size()) + "\r\n\r\n" + gz;
  const auto u1 = u.data(0, req1);
  const auto u2 = u.data(static_cast<uint32_t>(req1.size()), req2);
  int dropped = 0;
  const auto fwd = send_burst({u1, v.data(0, secret), u2}, &dropped);
  EXPECT_EQ(dropped, 1);
  ASSERT_EQ(fwd.size(), 2u);
  EXPECT_EQ(fwd[0], u1);
  EXPECT_EQ(fwd[1], u2);
  pipeline_->expire_all(now_);
  ASSERT_EQ(sink_.events.size(), 2u);
  for (const auto& ev : sink_.events) {
    const bool is_v = ev.initiator.sport == v.cport;
    EXPECT_EQ(ev.verdict, is_v ? audit::OutcomeVerdict::kBlock : audit::OutcomeVerdict::kAllow);
    EXPECT_EQ(kind_names(ev), is_v ? "category_not_allowed,whitelisted" : "whitelisted");
  }
}

// A flow's later segment in the same burst waits until its earlier one is decoded and judged:
// the flow sees its bytes in the order it would one packet at a time (the second request's
// phone number is never scanned: the flow is blocked by the first one's decoded ID).
TEST_F(PipelineTest, ASecondSegmentOfTheFlowInTheBurstComesAfterTheFirstsDecoding) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  const std::string gz = gzip_of(std::string(R"({"idcard":")") + kId + R"("})");
  const std::string secret =
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
      "Content-Encoding: gzip\r\nContent-Length: " +
      std::to_string(gz.size()) + "\r\n\r\n" + gz;
  const std::string next =
      "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 24\r\n\r\n"
      R"({"mobile":"13812345678"})";
  int dropped = 0;
  EXPECT_TRUE(
      send_burst({u.data(0, secret), u.data(static_cast<uint32_t>(secret.size()), next)}, &dropped)
          .empty());
  EXPECT_EQ(dropped, 2);
  ASSERT_EQ(sink_.events.size(), 1u);
  const auto& ev = sink_.events[0];
  EXPECT_EQ(ev.verdict, audit::OutcomeVerdict::kBlock);
  ASSERT_EQ(ev.samples_n, 1u);
  EXPECT_STREQ(ev.samples[0].masked, "110105********002X");
}

// Content-Length next to Transfer-Encoding: chunked is blocked (http_anomaly) and the record's
// reason names the anomaly.
TEST_F(PipelineTest, AmbiguousFramingIsAnHttpAnomalyNamedInTheRecord) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  const std::string req =
      "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n"
      "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n";
  int dropped = 0;
  EXPECT_TRUE(send(u.data(0, req), &dropped).empty());
  ASSERT_EQ(sink_.events.size(), 1u);
  const auto& ev = sink_.events[0];
  EXPECT_EQ(ev.verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_EQ(kind_names(ev), "http_anomaly,whitelisted");
  auto rec = audit::to_flow_record(ev, "");
  ASSERT_FALSE(rec.reasons.empty());
  EXPECT_EQ(rec.reasons[0]["detail"], "content_length_and_transfer_encoding");
}

TEST_F(PipelineTest, EndpointsNamedBySniAreDecidedAtTheClientHello) {
  // eu-hq: 203.0.113.10:443 with sni = api.eu-hq.example; us-travel: 203.0.113.64/26 with
  // sni = *.booking.example. Encrypted payload to a whitelisted endpoint is an alert
  // (defaults.opaque_payload); a wrong or missing name is not whitelisted.
  struct Row {
    const char* server;
    const char* sni;
    bool forwarded;
    const char* reasons;
  } rows[] = {
      {"203.0.113.10", "api.eu-hq.example", true, "opaque_payload,whitelisted"},
      {"203.0.113.10", "files.attacker.example", false, "no_counterparty"},
      {"203.0.113.10", "", false, "no_counterparty"},
      {"203.0.113.70", "www.booking.example", true, "opaque_payload,whitelisted"},
      {"203.0.113.70", "booking.example.evil", false, "no_counterparty"},
  };
  uint16_t port = 43000;
  for (const auto& r : rows) {
    Upload u;
    u.server = r.server;
    u.sport = 443;
    u.cport = port++;
    EXPECT_EQ(send(u.syn()).size(), 1u) << "the handshake passes while the name is not known";
    send(u.synack());
    send(u.ack());
    auto f = send(u.data(0, test::client_hello(r.sni)));
    EXPECT_EQ(!f.empty(), r.forwarded) << r.sni;
    pipeline_->expire_all(now_);
    ASSERT_FALSE(sink_.events.empty());
    const auto& ev = sink_.events.back();
    EXPECT_EQ(kind_names(ev), r.reasons) << r.sni;
    EXPECT_STREQ(ev.sni, r.sni);
    EXPECT_EQ(ev.adm.server_name,
              r.forwarded ? policy::NameSource::kTlsSni : policy::NameSource::kNone);
  }
}

// Decodes a frame the pipeline made and checks its IPv4 and TCP checksums.
inspect::Decoded decode_checked(const std::vector<uint8_t>& f) {
  inspect::Decoded d;
  EXPECT_EQ(inspect::decode(f, d), inspect::DecodeStatus::kOk);  // verifies the IPv4 checksum
  uint32_t sum = 0;
  for (size_t i = 26; i < 34; i += 2) sum += (f[i] << 8) | f[i + 1];
  sum += 6 + 20;
  EXPECT_EQ(test::csum(&f[d.l4_offset], 20, sum), 0) << "TCP checksum";
  return d;
}

TEST_F(PipelineTest, BlockActionResetSendsRstToBothEndsOnce) {
  pipeline_->expire_all(now_);
  settings_.reset_on_block = true;
  settings_.tx_pool = pool_;
  build(&sink_);
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  std::string body = std::string(R"({"idcard":")") + kId + R"("})";
  auto data = u.data(0, body);
  auto fwd = send(data);
  // Towards the server (on through the paired port): seq = the dropped segment's seq.
  ASSERT_EQ(fwd.size(), 1u);
  auto to_server = decode_checked(fwd[0]);
  EXPECT_EQ(to_server.tcp_flags & tf::kRst, tf::kRst);
  EXPECT_EQ(to_server.tcp_seq, u.cseq + 1);
  EXPECT_EQ(to_server.dport, u.sport);
  EXPECT_EQ(to_server.payload_len, 0);
  // Towards the client (back out of the ingress port): seq = the client's ACK, MACs swapped.
  ASSERT_EQ(back_.size(), 1u);
  auto to_client = decode_checked(back_[0]);
  EXPECT_EQ(to_client.tcp_flags & tf::kRst, tf::kRst);
  EXPECT_EQ(to_client.tcp_seq, u.sseq + 1);
  EXPECT_EQ(to_client.dport, u.cport);
  EXPECT_EQ(to_client.dst, inspect::IpAddr::from_v4(test::ip4(u.client)));
  EXPECT_TRUE(std::equal(back_[0].begin(), back_[0].begin() + 6, data.begin() + 6));
  // Once per flow: the retransmission is only dropped.
  EXPECT_TRUE(send(data).empty());
  EXPECT_TRUE(back_.empty());
  EXPECT_EQ(counters_.resets_sent, 2u);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].action, audit::OutcomeAction::kReset);
  // A SYN blocked at admission only gets a RST back (the server never saw it).
  send(tcp4("10.1.0.5", 42500, "203.0.113.150", 443, 777, 0, tf::kSyn));
  ASSERT_EQ(back_.size(), 1u);
  auto syn_rst = decode_checked(back_[0]);
  EXPECT_EQ(syn_rst.tcp_flags, tf::kRst | tf::kAck);
  EXPECT_EQ(syn_rst.tcp_ack, 778u);
}

TEST_F(PipelineTest, PolicyReloadCutsFlowsTheNewPolicyRefuses) {
  // Generation 2 revokes sg-analytics. A flow admitted under generation 1 is re-admitted under
  // generation 2 at its next packet and cut; new flows follow generation 2 from the next burst.
  std::ifstream in(DC_SOURCE_DIR "/examples/policy/ftz-demo.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string revoked = text.str();
  const std::string cp = "id = \"sg-analytics\"";
  size_t at = revoked.find(cp);
  ASSERT_NE(at, std::string::npos);
  revoked.insert(at + cp.size(), "\nstatus = \"revoked\"");
  policy::Diagnostics d("revoked.toml");
  auto snap2 =
      policy::compile_policy_text(revoked, DC_SOURCE_DIR "/examples/policy/revoked.toml", d);
  ASSERT_NE(snap2, nullptr) << d.format();

  std::vector<uint16_t> no_ports;
  auto e1 = PolicyEpoch::build(1, snap_, no_ports, no_ports, 1, 16);
  auto e2 = PolicyEpoch::build(2, snap2, no_ports, no_ports, 1, 16);
  ASSERT_TRUE(e1 && e2);
  std::atomic<const PolicyEpoch*> live{e1.value().get()};
  pipeline_->expire_all(now_);
  settings_.epoch = &live;
  build(&sink_);

  Upload u;
  EXPECT_EQ(send(u.syn()).size(), 1u);
  send(u.synack());
  send(u.ack());
  EXPECT_EQ(send(u.data(0, "{\"shipment\":1}")).size(), 1u) << "generation 1: whitelisted";
  EXPECT_EQ(e1.value()->bound_flows(), 1u) << "the flow is bound to the engine it started with";
  live.store(e2.value().get());
  EXPECT_TRUE(send(u.data(14, "{\"shipment\":2}")).empty()) << "generation 2 revoked it";
  // Blocked by generation 2: its streams went back to generation 1's engine and the flow (whose
  // record names generation 2's snapshot) is bound to generation 2 now.
  EXPECT_EQ(e1.value()->bound_flows(), 0u);
  EXPECT_EQ(e2.value()->bound_flows(), 1u);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_EQ(kind_names(sink_.events[0]), "counterparty_revoked");
  EXPECT_EQ(sink_.events[0].policy, snap2.get());
  Upload v;
  v.cport = 40100;
  EXPECT_TRUE(send(v.syn()).empty()) << "new flows follow generation 2";
  pipeline_->expire_all(now_);
  EXPECT_EQ(e2.value()->bound_flows(), 0u) << "ended flows are unbound";
  pipeline_.reset();
  settings_.epoch = nullptr;
  build(&sink_);
}

TEST_F(PipelineTest, AFakeClientHelloDoesNotSwitchInspectionOff) {
  // sg-analytics (no server name required) may not receive identity numbers: plaintext after a
  // TLS-looking preface is still scanned.
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  std::string hello = test::client_hello("collector.example");
  EXPECT_EQ(send(u.data(0, hello)).size(), 1u);
  std::string body = std::string(R"({"idcard":")") + kId + R"("})";
  EXPECT_TRUE(send(u.data(static_cast<uint32_t>(hello.size()), body)).empty());
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_NE(kind_names(sink_.events[0]).find("category_not_allowed"), std::string::npos);
}

TEST_F(PipelineTest, OutOfOrderSegmentsAreHeldThenReleasedInOrder) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  auto a = u.data(0, "aaaa"), b = u.data(4, "bbbb"), c = u.data(8, "cccc");
  int dropped = -1;
  EXPECT_TRUE(send(c, &dropped).empty()) << "held: not forwarded";
  EXPECT_EQ(dropped, 0) << "held: not dropped either";
  EXPECT_TRUE(send(b).empty());
  auto f = send(a);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], a);
  EXPECT_EQ(f[1], b);
  EXPECT_EQ(f[2], c);
  EXPECT_EQ(counters_.held, 2u);
}

TEST_F(PipelineTest, IdSplitAcrossOutOfOrderSegmentsIsBlocked) {
  for (size_t cut = 1; cut < 18; ++cut) {
    Upload u;
    u.cport = static_cast<uint16_t>(41000 + cut);
    send(u.syn());
    send(u.synack());
    send(u.ack());
    std::string body = std::string(R"({"idcard":")") + kId + R"("})";
    size_t split = 11 + cut;
    auto second = u.data(static_cast<uint32_t>(split), body.substr(split));
    auto first = u.data(0, body.substr(0, split));
    EXPECT_TRUE(send(second).empty()) << cut;
    EXPECT_TRUE(send(first).empty()) << "cut " << cut << ": both segments must be dropped";
  }
  size_t blocked = 0;
  for (const auto& ev : sink_.events) blocked += ev.verdict == audit::OutcomeVerdict::kBlock;
  EXPECT_EQ(blocked, 17u);
}

TEST_F(PipelineTest, ChangedRetransmissionIsEvasion) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  EXPECT_EQ(send(u.data(0, "hello world")).size(), 1u);
  EXPECT_EQ(send(u.data(0, "hello world")).size(), 1u) << "identical retransmission passes";
  EXPECT_TRUE(send(u.data(0, "HELLO world")).empty());
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_NE(kind_names(sink_.events[0]).find("evasion"), std::string::npos);
}

// Data entirely beyond the window the server advertised (its SYN-ACK: 65535 from ISN + 1) is
// dropped as the receiver would (RFC 9293 §3.10.7.4), unscanned: no finding from the discarded
// copy; a segment just inside the window is queued as usual.
TEST_F(PipelineTest, DataBeyondTheReceiversWindowIsDroppedUnscanned) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  int dropped = 0;
  const std::string id = std::string(R"({"idcard":")") + kId + "\"}";
  EXPECT_TRUE(send(u.data(65535, id), &dropped).empty());
  EXPECT_EQ(dropped, 1);
  EXPECT_EQ(counters_.drops[static_cast<unsigned>(DropReason::kTcpBeyondWindow)].load(), 1u);
  EXPECT_EQ(counters_.tcp_beyond_window.load(), 1u);
  EXPECT_EQ(send(u.data(65534, "x"), &dropped).size(), 0u);
  EXPECT_EQ(dropped, 0) << "inside the window: queued out of order";
  pipeline_->expire_all(now_);
  ASSERT_FALSE(sink_.events.empty());
  EXPECT_EQ(kind_names(sink_.events.back()), "whitelisted");
}

// Keep-alive: the second request of a flow admitted by its Host names another server.
TEST_F(PipelineTest, KeepAliveRequestNamingAnotherServerIsBlocked) {
  Upload u;
  u.server = "203.0.113.10";
  u.sport = 443;
  const std::string first = "GET /a HTTP/1.1\r\nHost: api.eu-hq.example\r\n\r\n";
  const std::string same = "GET /b HTTP/1.1\r\nHost: API.eu-hq.example.:443\r\n\r\n";
  const std::string other = "GET /c HTTP/1.1\r\nHost: files.attacker.example\r\n\r\n";
  send(u.syn());
  send(u.synack());
  send(u.ack());
  uint32_t off = 0;
  for (const std::string* r : {&first, &same}) {
    EXPECT_EQ(send(u.data(off, *r)).size(), 1u) << *r;
    off += static_cast<uint32_t>(r->size());
  }
  EXPECT_EQ(counters_.http_requests_named.load(), 2u);
  int dropped = 0;
  EXPECT_TRUE(send(u.data(off, other), &dropped).empty()) << "the head naming another server left";
  EXPECT_EQ(dropped, 1);
  ASSERT_FALSE(sink_.events.empty());
  EXPECT_EQ(sink_.events.back().verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_EQ(kind_names(sink_.events.back()), "server_name_changed,whitelisted");
}

TEST_F(PipelineTest, NoCounterpartyAndIsolatedZonesAreBlockedAtTheFirstPacket) {
  struct Row {
    const char* src;
    const char* dst;
    uint16_t dport;
    const char* reasons;
  } rows[] = {
      {"10.1.0.5", "203.0.113.150", 443, "no_counterparty"},  // not whitelisted
      {"10.1.0.5", "10.2.0.7", 22, "no_link"},                // domestic -> processing: isolated
      {"192.0.2.1", "203.0.113.10", 443, "unknown_zone"},     // source in no zone
  };
  uint16_t port = 42000;
  for (const auto& r : rows) {
    int dropped = 0;
    EXPECT_TRUE(send(tcp4(r.src, port++, r.dst, r.dport, 1, 0, tf::kSyn), &dropped).empty())
        << r.dst;
    EXPECT_EQ(dropped, 1);
    ASSERT_FALSE(sink_.events.empty());
    EXPECT_EQ(kind_names(sink_.events.back()), r.reasons);
  }
}

// The evidence copy of a flow's first packet is made before admission knows whether the flow
// crosses the border. When it fails (pool exhausted), a border flow meets evidence_unavailable
// like any later copy's failure, so its record says why it has no evidence; a flow that does not
// cross is not affected.
class NoEvidenceSink final : public FlowEventSink {
 public:
  audit::FlowOutcome* acquire() noexcept override { return &slot_; }
  void commit(audit::FlowOutcome* ev) noexcept override { events.push_back(*ev); }
  bool wants_evidence() const noexcept override { return true; }
  bool evidence(uint64_t, const void*, uint32_t, int64_t) noexcept override { return false; }
  std::vector<audit::FlowOutcome> events;

 private:
  audit::FlowOutcome slot_;
};

TEST_F(PipelineTest, FirstPacketEvidenceLostIsEvidenceUnavailableForBorderFlows) {
  NoEvidenceSink sink;
  pipeline_->expire_all(now_);
  settings_.evidence_packets = 4;
  build(&sink);
  int dropped = 0;
  Upload u;
  EXPECT_TRUE(send(u.syn(), &dropped).empty());
  EXPECT_EQ(dropped, 1);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_NE(sink.events[0].flags & policy::flag::kEvidenceUnavailable, 0u);
  EXPECT_EQ(kind_names(sink.events[0]), "evidence_unavailable,whitelisted");
  // Not a border flow (no link domestic -> processing): blocked for that, not for evidence.
  send(tcp4("10.1.0.11", 40100, "10.2.0.7", 22, 1, 0, tf::kSyn));
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1].flags & policy::flag::kEvidenceUnavailable, 0u);
  EXPECT_EQ(kind_names(sink.events[1]), "no_link");
  pipeline_->expire_all(now_);
  pipeline_.reset();
  settings_.evidence_packets = 0;
  build(&sink_);
}

// Evidence backpressure: while no evidence buffer is free (the audit writer is behind), a packet
// that needs a copy is dropped before it touches its flow, instead of crossing uncopied or
// failing the flow; once buffers are back, the sender's retransmission goes through normally.
class FullEvidenceSink final : public FlowEventSink {
 public:
  audit::FlowOutcome* acquire() noexcept override { return &slot_; }
  void commit(audit::FlowOutcome* ev) noexcept override { events.push_back(*ev); }
  bool wants_evidence() const noexcept override { return true; }
  bool evidence_room() const noexcept override { return room; }
  bool evidence(uint64_t, const void*, uint32_t, int64_t) noexcept override {
    ++copies;
    return room;
  }
  bool room = false;
  int copies = 0;
  std::vector<audit::FlowOutcome> events;

 private:
  audit::FlowOutcome slot_;
};

TEST_F(PipelineTest, EvidenceBackpressureSlowsTheFlowWithoutFailingIt) {
  FullEvidenceSink sink;
  pipeline_->expire_all(now_);
  settings_.evidence_packets = 4;
  build(&sink);
  const auto backpressure = static_cast<unsigned>(DropReason::kEvidenceBackpressure);
  Upload u;
  int dropped = 0;
  EXPECT_TRUE(send(u.syn(), &dropped).empty());
  EXPECT_EQ(dropped, 1);
  EXPECT_EQ(counters_.drops[backpressure], 1u);
  EXPECT_EQ(sink.copies, 0) << "no copy attempted, so none lost";
  EXPECT_TRUE(sink.events.empty()) << "the flow is neither blocked nor recorded";
  sink.room = true;
  EXPECT_EQ(send(u.syn()).size(), 1u);  // the retransmitted SYN
  EXPECT_EQ(send(u.synack()).size(), 1u);
  EXPECT_EQ(send(u.ack()).size(), 1u);
  EXPECT_EQ(sink.copies, 3);
  pipeline_->expire_all(now_);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].verdict, audit::OutcomeVerdict::kAllow);
  EXPECT_EQ(sink.events[0].flags & policy::flag::kEvidenceUnavailable, 0u);
  EXPECT_EQ(sink.events[0].dir[0].packets, 2u);  // the dropped SYN never entered the flow
  EXPECT_EQ(counters_.drops[backpressure], 1u);
  pipeline_->expire_all(now_);
  pipeline_.reset();
  settings_.evidence_packets = 0;
  build(&sink_);
}

// A burst is decoded and looked up in bulk before any of it is judged: a packet whose flow an
// earlier packet of the same burst created finds that flow (a bulk miss is looked up again).
TEST_F(PipelineTest, OneBurstCreatesAFlowAndItsLaterPacketsFindIt) {
  Upload u, v;
  v.cport = 40007;
  const std::vector<std::vector<uint8_t>> frames = {u.syn(),    v.syn(), u.synack(),
                                                    v.synack(), u.ack(), v.ack()};
  rte_mbuf* ms[6];
  for (size_t i = 0; i < frames.size(); ++i) {
    ms[i] = rte_pktmbuf_alloc(pool_);
    ASSERT_NE(ms[i], nullptr);
    std::memcpy(rte_pktmbuf_mtod(ms[i], uint8_t*), frames[i].data(), frames[i].size());
    ms[i]->data_len = static_cast<uint16_t>(frames[i].size());
    ms[i]->pkt_len = static_cast<uint32_t>(frames[i].size());
  }
  const uint64_t created = counters_.flows_created.load();
  out_.clear();
  now_ += 1'000'000;
  pipeline_->process(kReplayPort, ms, 6, now_, out_);
  EXPECT_EQ(out_.n_fwd, 6u);
  EXPECT_EQ(out_.n_drop, 0u);
  for (uint32_t i = 0; i < out_.n_fwd; ++i) rte_pktmbuf_free(out_.fwd[i]);
  for (uint32_t i = 0; i < out_.n_drop; ++i) rte_pktmbuf_free(out_.drop[i]);
  EXPECT_EQ(counters_.flows_created.load() - created, 2u);
  pipeline_->expire_all(now_);
  ASSERT_EQ(sink_.events.size(), 2u);
  for (const auto& ev : sink_.events) {
    EXPECT_EQ(ev.dir[0].packets, 2u);
    EXPECT_EQ(ev.dir[1].packets, 1u);
    EXPECT_EQ(ev.verdict, audit::OutcomeVerdict::kAllow);
  }
}

TEST_F(PipelineTest, AuditUnavailableBlocksNewBorderFlows) {
  AuditChannelConfig cfg;
  cfg.ring_size = 256;
  cfg.events = 255;
  cfg.evidence_ring_bytes = 0;
  cfg.evidence_packets_per_flow = 0;
  auto ch = AuditChannel::create(cfg);
  ASSERT_TRUE(ch) << ch.error().message;
  AuditSink sink(*ch.value());
  pipeline_->expire_all(now_);
  build(&sink);
  Upload u;
  EXPECT_EQ(send(u.syn()).size(), 1u) << "writer healthy: admitted";
  ch.value()->writer_ok.store(false);  // e.g. the disk is full
  Upload v;
  v.cport = 40001;
  int dropped = 0;
  EXPECT_TRUE(send(v.syn(), &dropped).empty()) << "writer failing: new border flows fail closed";
  EXPECT_EQ(counters_.drops[static_cast<unsigned>(DropReason::kAuditUnavailable)], 1u);
  ch.value()->writer_ok.store(true);
  Upload w;
  w.cport = 40002;
  EXPECT_EQ(send(w.syn()).size(), 1u) << "recovered";
  pipeline_->expire_all(now_);
  pipeline_.reset();  // before the channel goes away
  build(&sink_);
}

TEST_F(PipelineTest, AuditRingFullBlocksNewBorderFlows) {
  AuditChannelConfig cfg;
  cfg.ring_size = 256;
  cfg.events = 255;
  cfg.evidence_ring_bytes = 0;
  cfg.evidence_packets_per_flow = 0;
  auto ch = AuditChannel::create(cfg);
  ASSERT_TRUE(ch);
  AuditSink sink(*ch.value());
  pipeline_->expire_all(now_);
  build(&sink);
  // Nobody drains the ring: blocked flows' records fill it.
  int admitted = 0, refused = 0;
  for (int i = 0; i < 400; ++i) {
    int dropped = 0;
    send(tcp4("10.1.0.9", static_cast<uint16_t>(30000 + i), "203.0.113.150", 443, 1, 0, tf::kSyn),
         &dropped);
    (void)dropped;
  }
  for (int i = 0; i < 5; ++i) {
    Upload u;
    u.cport = static_cast<uint16_t>(45000 + i);
    if (send(u.syn()).empty())
      ++refused;
    else
      ++admitted;
  }
  EXPECT_EQ(admitted, 0);
  EXPECT_EQ(refused, 5);
  EXPECT_GE(counters_.drops[static_cast<unsigned>(DropReason::kAuditUnavailable)], 5u);
  pipeline_->expire_all(now_);
  pipeline_.reset();
  build(&sink_);
}

// The ring between workers and the writer, drained through audit::OutcomeSource: the writer
// sees the outcome (with its block reason by name) and the evidence copies, and every slot goes
// back to its pool.
TEST_F(PipelineTest, AuditChannelHandsOutcomesAndEvidenceToTheWriter) {
  AuditChannelConfig cfg;
  cfg.ring_size = 256;
  cfg.events = 255;
  cfg.evidence_ring_bytes = 64u << 10;
  cfg.evidence_packets_per_flow = 4;
  auto ch = AuditChannel::create(cfg);
  ASSERT_TRUE(ch) << ch.error().message;
  AuditSink sink(*ch.value());
  pipeline_->expire_all(now_);
  settings_.evidence_packets = 4;
  build(&sink);
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  std::string body = std::string(R"({"idcard":")") + kId + R"("})";
  EXPECT_TRUE(send(u.data(0, body)).empty());

  struct Collect final : audit::OutcomeConsumer {
    std::vector<audit::FlowOutcome> outcomes;
    std::vector<std::pair<uint64_t, size_t>> evidence;  // flow id, frame length
    void on_outcome(const audit::FlowOutcome& o) override { outcomes.push_back(o); }
    void on_evidence(uint64_t id, int64_t, std::span<const uint8_t> frame) override {
      evidence.emplace_back(id, frame.size());
    }
  } c;
  unsigned n = 0;
  while (unsigned got = ch.value()->drain(c, 2)) n += got;  // several drains of at most 2
  // The border flow's admission record first (flow_open), then its final record.
  ASSERT_EQ(c.outcomes.size(), 2u);
  EXPECT_EQ(c.outcomes[0].kind, audit::OutcomeKind::kOpen);
  EXPECT_EQ(c.outcomes[0].ticket, 1u);
  EXPECT_EQ(c.outcomes[1].kind, audit::OutcomeKind::kFinal);
  c.outcomes.erase(c.outcomes.begin());
  EXPECT_EQ(c.outcomes[0].verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_STREQ(c.outcomes[0].block_reason, "policy_block");
  EXPECT_EQ(c.evidence.size(), 4u) << "the flow's first packets, up to the per-flow bound";
  for (const auto& [id, len] : c.evidence) {
    EXPECT_EQ(id, c.outcomes[0].flow_id);
    EXPECT_GE(len, 54u);
  }
  EXPECT_EQ(n, 6u);
  EXPECT_EQ(ch.value()->lost_outcomes(), 0u);
  EXPECT_EQ(ch.value()->lost_evidence(), 0u);
  EXPECT_TRUE(ch.value()->available()) << "slots were returned to their pools";
  ch.value()->set_writer_healthy(false);
  EXPECT_FALSE(ch.value()->available());
  pipeline_->expire_all(now_);
  pipeline_.reset();
  settings_.evidence_packets = 0;
  build(&sink_);
}

// A sink like the live audit channel: writes flow_open records and says when they are durable
// (here: when the test says so), or refuses them.
class DurableSink final : public FlowEventSink {
 public:
  audit::FlowOutcome* acquire() noexcept override { return &slot_; }
  void commit(audit::FlowOutcome* ev) noexcept override { events.push_back(*ev); }
  bool submit(audit::FlowOutcome* ev) noexcept override {
    if (refuse) return false;
    events.push_back(*ev);
    return true;
  }
  bool records_opens() const noexcept override { return true; }
  bool durable(uint16_t, uint32_t ticket) const noexcept override {
    return ticket != 0 && ticket <= durable_upto;
  }
  std::vector<audit::FlowOutcome> events;
  uint32_t durable_upto = 0;
  bool refuse = false;

 private:
  audit::FlowOutcome slot_;
};

class RecordHoldTest : public PipelineTest {
 protected:
  void SetUp() override {
    settings_.hold_timeout_ns = 500'000'000;
    build(&dsink_);
  }
  void TearDown() override {
    PipelineTest::TearDown();
    settings_ = PipelineSettings{};
  }
  // One release turn at now_ + `after_ns`: frames forwarded, frames dropped.
  std::pair<size_t, size_t> release(int64_t after_ns) {
    out_.clear();
    pipeline_->release_held(kReplayPort, now_ + after_ns, out_);
    for (uint32_t i = 0; i < out_.n_fwd; ++i) rte_pktmbuf_free(out_.fwd[i]);
    for (uint32_t i = 0; i < out_.n_drop; ++i) rte_pktmbuf_free(out_.drop[i]);
    return {out_.n_fwd, out_.n_drop};
  }
  DurableSink dsink_;
};

// The handshake crosses at once; the first payload byte waits until the flow_open record is
// durable, and then crosses (no earlier).
TEST_F(RecordHoldTest, PayloadWaitsForTheDurableFlowOpenRecord) {
  Upload u;
  EXPECT_EQ(send(u.syn()).size(), 1u);
  ASSERT_EQ(dsink_.events.size(), 1u);
  EXPECT_EQ(dsink_.events[0].kind, audit::OutcomeKind::kOpen);
  EXPECT_EQ(dsink_.events[0].ticket, 1u);
  EXPECT_EQ(send(u.synack()).size(), 1u);
  EXPECT_EQ(send(u.ack()).size(), 1u);
  EXPECT_TRUE(send(u.data(0, R"({"shipment":"SH-1"})")).empty()) << "crossed before its record";
  EXPECT_TRUE(send(u.data(19, R"({"containers":4})")).empty()) << "overtook the held segment";
  EXPECT_EQ(pipeline_->held_packets(), 2u);
  EXPECT_EQ(counters_.record_held.load(), 2u);
  EXPECT_EQ(release(1'000'000), std::make_pair(size_t{0}, size_t{0}));
  dsink_.durable_upto = 1;
  EXPECT_EQ(release(2'000'000), std::make_pair(size_t{2}, size_t{0}));
  EXPECT_EQ(send(u.data(35, "more")).size(), 1u) << "durable: no more waiting";
  pipeline_->expire_all(now_);
  ASSERT_EQ(dsink_.events.size(), 2u);
  EXPECT_EQ(dsink_.events[1].kind, audit::OutcomeKind::kFinal);
  EXPECT_EQ(dsink_.events[1].verdict, audit::OutcomeVerdict::kAllow);
  EXPECT_EQ(dsink_.events[1].crossed[0].packets, 5u);
}

// A record that does not become durable in time: the held payload is dropped, never sent, and
// the flow meets the audit_unavailable failure action (block by default).
TEST_F(RecordHoldTest, RecordNotDurableInTimeFailsClosed) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  EXPECT_TRUE(send(u.data(0, R"({"shipment":"SH-1"})")).empty());
  EXPECT_EQ(release(100'000'000), std::make_pair(size_t{0}, size_t{0}));
  EXPECT_EQ(release(600'000'000), std::make_pair(size_t{0}, size_t{1}));
  EXPECT_EQ(counters_.record_hold_timeouts.load(), 1u);
  dsink_.durable_upto = 1;  // too late: the flow is blocked
  int dropped = 0;
  EXPECT_TRUE(send(u.data(19, "x"), &dropped).empty());
  EXPECT_EQ(dropped, 1);
  pipeline_->expire_all(now_);
  const auto& fin = dsink_.events.back();
  EXPECT_EQ(fin.verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_NE(kind_names(fin).find("audit_unavailable"), std::string::npos) << kind_names(fin);
  EXPECT_EQ(fin.crossed[0].packets, 2u) << "SYN and ACK only: no payload crossed";
}

// The connection closes (here: the client's RST right after its data) while its payload still
// waits for the flow_open record. The final record must not be written before the held payload
// has crossed or been dropped: it would say less crossed than did.
TEST_F(RecordHoldTest, FlowClosedWhilePayloadIsHeldIsRecordedAfterTheRelease) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  EXPECT_TRUE(send(u.data(0, R"({"shipment":"SH-1"})")).empty());
  EXPECT_TRUE(
      send(tcp4(u.client, u.cport, u.server, u.sport, u.cseq + 20, u.sseq + 1, tf::kRst)).empty())
      << "the RST overtook the held payload";
  ASSERT_EQ(dsink_.events.size(), 1u) << "final record written while its payload was held";
  dsink_.durable_upto = 1;
  EXPECT_EQ(release(1'000'000), std::make_pair(size_t{2}, size_t{0}));
  ASSERT_EQ(dsink_.events.size(), 2u) << "the flow ended once nothing was held";
  const auto& fin = dsink_.events.back();
  EXPECT_EQ(fin.kind, audit::OutcomeKind::kFinal);
  EXPECT_EQ(fin.crossed[0].packets, 4u) << "SYN, ACK, payload, RST";
  EXPECT_EQ(pipeline_->held_packets(), 0u);
}

// No record can be queued at admission: nothing of the flow crosses.
TEST_F(RecordHoldTest, UnrecordableAdmissionBlocksTheFlow) {
  dsink_.refuse = true;
  Upload u;
  int dropped = 0;
  EXPECT_TRUE(send(u.syn(), &dropped).empty());
  EXPECT_EQ(dropped, 1);
  EXPECT_EQ(counters_.events_lost.load(), 1u);
}

// With a record hold, a request head cut before its Host waits in its own flow, not in the
// port's hold queue: another flow's payload behind it is released as soon as its record is
// durable. Once the Host arrives the waiting segment goes first, into the hold behind the new
// flow_open record.
TEST_F(RecordHoldTest, PartialHeadWaitsInItsFlowNotInThePortQueue) {
  Upload named;
  named.server = "203.0.113.10";
  named.sport = 443;
  named.cport = 41000;
  const std::string req = "GET / HTTP/1.1\r\nHost: api.eu-hq.example\r\n\r\n";
  const size_t cut = req.find("Host:");
  send(named.syn());
  send(named.synack());
  send(named.ack());
  EXPECT_TRUE(send(named.data(0, req.substr(0, cut))).empty());
  EXPECT_EQ(counters_.name_waited.load(), 1u);
  EXPECT_EQ(pipeline_->held_packets(), 0u) << "nothing in the port's FIFO";
  Upload other;  // sg-analytics, identified by address: its flow_open record is ticket 1
  other.cport = 41001;
  send(other.syn());
  send(other.synack());
  send(other.ack());
  EXPECT_TRUE(send(other.data(0, R"({"shipment":"SH-1"})")).empty());
  dsink_.durable_upto = 1;
  EXPECT_EQ(release(1'000'000), std::make_pair(size_t{1}, size_t{0}))
      << "the other flow's payload was stuck behind the partial head";
  // The Host arrives: the flow_open record (ticket 2), then both segments, in order.
  EXPECT_TRUE(send(named.data(static_cast<uint32_t>(cut), req.substr(cut))).empty());
  EXPECT_EQ(pipeline_->held_packets(), 2u);
  dsink_.durable_upto = 2;
  out_.clear();
  pipeline_->release_held(kReplayPort, now_ + 1'000'000, out_);
  ASSERT_EQ(out_.n_fwd, 2u);
  const uint8_t* first = rte_pktmbuf_mtod(out_.fwd[0], const uint8_t*);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(first) + 54, 4), "GET ") << "order kept";
  for (uint32_t i = 0; i < out_.n_fwd; ++i) rte_pktmbuf_free(out_.fwd[i]);
}

// A head that never names its server: the waiting packet is freed with the flow, never sent.
TEST_F(RecordHoldTest, WaitingPayloadOfAFlowThatNeverNamesItsServerIsDropped) {
  Upload named;
  named.server = "203.0.113.10";
  named.sport = 443;
  send(named.syn());
  send(named.synack());
  send(named.ack());
  // The request target grows and the head never ends: the parser keeps waiting.
  const char* pieces[] = {"GET /", "aaaa", "aaaa", "aaaa"};
  uint32_t off = 0;
  for (int i = 0; i < 4; ++i) {
    int dropped = 0;
    EXPECT_TRUE(send(named.data(off, pieces[i]), &dropped).empty());
    EXPECT_EQ(dropped, i < 3 ? 0 : 1) << "three packets wait per flow, the fourth is dropped";
    off += static_cast<uint32_t>(std::strlen(pieces[i]));
  }
  pipeline_->expire_all(now_);
  EXPECT_EQ(counters_.drops[static_cast<unsigned>(DropReason::kServerNamePending)].load(), 4u);
}

TEST_F(PipelineTest, PlaintextHttpToEndpointNamedBySniIsMatchedByHost) {
  // eu-hq: 203.0.113.10:443 with sni = api.eu-hq.example. The request head is cut before its
  // Host line: the first segment is inspected, then dropped while the name is pending (no record
  // hold here); the second completes the head and crosses; the retransmitted first one follows.
  Upload u;
  u.server = "203.0.113.10";
  u.sport = 443;
  const std::string req =
      "POST /upload HTTP/1.1\r\nHost: API.eu-hq.example:443\r\nContent-Length: 2\r\n\r\n{}";
  const size_t cut = req.find("Host:");
  send(u.syn());
  send(u.synack());
  send(u.ack());
  int dropped = 0;
  EXPECT_TRUE(send(u.data(0, req.substr(0, cut)), &dropped).empty());
  EXPECT_EQ(dropped, 1);
  EXPECT_EQ(counters_.drops[static_cast<unsigned>(DropReason::kServerNamePending)].load(), 1u);
  EXPECT_EQ(send(u.data(static_cast<uint32_t>(cut), req.substr(cut))).size(), 1u);
  EXPECT_EQ(send(u.data(0, req.substr(0, cut))).size(), 1u) << "the retransmission crosses";
  pipeline_->expire_all(now_);
  ASSERT_FALSE(sink_.events.empty());
  const auto& ev = sink_.events.back();
  EXPECT_EQ(ev.verdict, audit::OutcomeVerdict::kAllow);
  EXPECT_EQ(kind_names(ev), "whitelisted");
  EXPECT_EQ(ev.adm.server_name, policy::NameSource::kHttpHost);
  EXPECT_STREQ(ev.http_host, "api.eu-hq.example");
  EXPECT_EQ(audit::to_flow_record(ev, "").server_name_from, "http_host");
}

TEST_F(PipelineTest, HostOfAnotherServerOrAmbiguousHostIsRefused) {
  const char* heads[] = {
      "GET / HTTP/1.1\r\nHost: files.attacker.example\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: api.eu-hq.example\r\nHost: api.eu-hq.example\r\n\r\n",
      "GET http://files.attacker.example/ HTTP/1.1\r\nHost: api.eu-hq.example\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
  };
  uint16_t port = 44000;
  for (const char* head : heads) {
    Upload u;
    u.server = "203.0.113.10";
    u.sport = 443;
    u.cport = port++;
    send(u.syn());
    send(u.synack());
    send(u.ack());
    EXPECT_TRUE(send(u.data(0, head)).empty()) << head;
    pipeline_->expire_all(now_);
    ASSERT_FALSE(sink_.events.empty());
    EXPECT_EQ(kind_names(sink_.events.back()), "no_counterparty") << head;
  }
}

// Link-layer frames: an ARP request, IPv6 neighbour solicitations (hop limit 255 / 64) and an
// ICMPv6 echo request, from a host outside every zone.
std::vector<uint8_t> arp_request() {
  std::vector<uint8_t> f(60, 0);
  const uint8_t head[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0,
                          1,    0x08, 0x06, 0,    1,    0x08, 0, 6, 4, 0, 1};
  std::memcpy(f.data(), head, sizeof head);
  return f;
}

std::vector<uint8_t> icmpv6(uint8_t type, uint8_t hop_limit) {
  const size_t fixed = type == 135 ? 16 : 0;  // after the 8-byte header: NS has its target
  const size_t icmp_len = 8 + fixed + 8;      // + a source link-layer address option
  std::vector<uint8_t> f(14 + 40 + icmp_len, 0);
  const uint8_t eth[] = {0x33, 0x33, 0xff, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x86, 0xdd};
  std::memcpy(f.data(), eth, sizeof eth);
  f[14] = 0x60;
  test::put16(f, 18, static_cast<uint16_t>(icmp_len));
  f[20] = 58;
  f[21] = hop_limit;
  f[22] = 0xfe;  // fe80::1 -> ff02::1:ff00:1
  f[23] = 0x80;
  f[37] = 1;
  f[38] = 0xff;
  f[39] = 0x02;
  f[49] = 1;
  f[50] = 0xff;
  f[53] = 1;
  f[54] = type;
  f[54 + 8 + fixed] = 1;  // option type 1, length 1 x 8 bytes
  f[54 + 8 + fixed + 1] = 1;
  return f;
}

TEST_F(PipelineTest, ArpAndNeighbourDiscoveryPassOnlyWhenEnabled) {
  auto run = [&](bool arp, bool nd) {
    pipeline_->expire_all(now_);
    settings_.port_pass_arp[kReplayPort] = arp;
    settings_.port_pass_nd[kReplayPort] = nd;
    build(&sink_);
    int forwarded = 0;
    for (const auto& f :
         {arp_request(), icmpv6(135, 255), icmpv6(133, 255), icmpv6(135, 64), icmpv6(128, 255)})
      forwarded += static_cast<int>(send(f).size());
    return forwarded;
  };
  EXPECT_EQ(run(false, false), 0);
  EXPECT_EQ(counters_.l2_pass_arp.load() + counters_.l2_pass_nd.load(), 0u);
  EXPECT_EQ(run(true, false), 1);
  EXPECT_EQ(counters_.l2_pass_arp.load(), 1u);
  EXPECT_EQ(counters_.l2_pass_nd.load(), 0u);
  const uint64_t created = counters_.flows_created.load();
  EXPECT_EQ(run(true, true), 3);  // ARP, NS, RS; not the NS with hop limit 64, not the echo
  EXPECT_EQ(counters_.l2_pass_arp.load(), 2u);
  EXPECT_EQ(counters_.l2_pass_nd.load(), 2u);
  EXPECT_EQ(counters_.flows_created.load() - created, 1u)
      << "one ICMPv6 flow, for the two frames that were not passed";
}

// Inspection state is taken at the first payload byte, not at the SYN: a handshake alone holds
// no context of the pool (issue 13).
TEST_F(PipelineTest, InspectionContextIsTakenAtTheFirstPayloadByteNotAtTheSyn) {
  Upload u;
  EXPECT_EQ(send(u.syn()).size(), 1u);
  EXPECT_EQ(send(u.synack()).size(), 1u);
  EXPECT_EQ(send(u.ack()).size(), 1u);
  EXPECT_EQ(pipeline_->inspect_pool().in_use(), 0u);
  // The stream still starts at the SYN's ISN + 1: the first segment arriving out of order is
  // held until the bytes before it come.
  const std::string a = R"({"shipment":"SH-1",)", b = R"("containers":4})";
  EXPECT_TRUE(send(u.data(static_cast<uint32_t>(a.size()), b)).empty());
  EXPECT_EQ(pipeline_->inspect_pool().in_use(), 1u);
  EXPECT_EQ(send(u.data(0, a)).size(), 2u);
  pipeline_->expire_all(now_);
  EXPECT_EQ(pipeline_->inspect_pool().in_use(), 0u);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].verdict, audit::OutcomeVerdict::kAllow);
}

// An idle inspected flow gives its context back (PipelineSettings::inspect_idle_ns); when it
// resumes, a new context inspects it from where the receiver is: a value sent later is still
// found and blocked before it leaves, a retransmission of bytes from before the idle time
// cannot be compared with what was inspected and is dropped (fail closed).
TEST_F(PipelineTest, IdleFlowReturnsItsContextAndIsInspectedAgainWhenItResumes) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  const std::string clean = R"({"shipment":"SH-1","containers":4})";
  const uint32_t n = static_cast<uint32_t>(clean.size());
  ASSERT_EQ(send(u.data(0, clean)).size(), 1u);
  EXPECT_EQ(
      send(tcp4(u.server, u.sport, u.client, u.cport, u.sseq + 1, u.cseq + 1 + n, tf::kAck)).size(),
      1u);
  ASSERT_EQ(pipeline_->inspect_pool().in_use(), 1u);
  now_ += settings_.inspect_idle_ns - 2'000'000;
  pipeline_->expire(now_);
  EXPECT_EQ(pipeline_->inspect_pool().in_use(), 1u) << "not idle long enough";
  now_ += 2 * Pipeline::kExpiryTickNs;
  pipeline_->expire(now_);
  EXPECT_EQ(pipeline_->inspect_pool().in_use(), 0u);
  EXPECT_EQ(counters_.inspect_parked, 1u);
  EXPECT_TRUE(sink_.events.empty());
  int dropped = 0;
  EXPECT_TRUE(send(u.data(0, clean), &dropped).empty()) << "bytes from before the idle time";
  EXPECT_EQ(dropped, 1);
  EXPECT_EQ(counters_.drops[static_cast<unsigned>(DropReason::kUnverifiableRetransmission)], 1u);
  const std::string more = R"({"note":"ok"})";
  ASSERT_EQ(send(u.data(n, more)).size(), 1u) << "clean data after the idle time crosses";
  EXPECT_EQ(pipeline_->inspect_pool().in_use(), 1u);
  const std::string id = std::string(R"({"idcard":")") + kId + R"("})";
  EXPECT_TRUE(send(u.data(n + static_cast<uint32_t>(more.size()), id), &dropped).empty());
  ASSERT_EQ(sink_.events.size(), 1u);
  const auto& ev = sink_.events[0];
  EXPECT_EQ(ev.verdict, audit::OutcomeVerdict::kBlock);
  EXPECT_EQ(kind_names(ev), "category_not_allowed,whitelisted");
  ASSERT_EQ(ev.samples_n, 1u);
  EXPECT_STREQ(ev.samples[0].masked, "110105********002X");
  EXPECT_EQ(ev.tls_state, static_cast<uint8_t>(inspect::TlsStatus::kNotTls))
      << "the record says what it said before the context was returned";
}

// A flow with something its record needs in the context (here a finding's sample, alerting)
// keeps its context however long it is idle.
TEST_F(PipelineTest, IdleFlowWithFindingsKeepsItsContext) {
  Upload u;
  send(u.syn());
  send(u.synack());
  send(u.ack());
  ASSERT_EQ(send(u.data(0, R"({"contact":"13800138000"})")).size(), 1u);
  ASSERT_EQ(pipeline_->inspect_pool().in_use(), 1u);
  now_ += 2 * settings_.inspect_idle_ns;
  for (int i = 0; i < 3; ++i) pipeline_->expire(now_ += Pipeline::kExpiryTickNs);
  EXPECT_EQ(pipeline_->inspect_pool().in_use(), 1u);
  EXPECT_EQ(counters_.inspect_parked, 0u);
}

}  // namespace
}  // namespace dc::dataplane
