// Tests for inspect/decode HTTP/2 (H2FlowDecoder): h2 byte streams built here with libnghttp2's
// HPACK deflater and hand-built frame headers. A gzip'd JSON upload carrying a resident ID is
// found by the real scanner with its path, at every split offset and byte by byte; padding,
// CONTINUATION, interleaved streams, resets, each malformed framing case and HPACK garbage give
// their named anomaly or condition; lanes keep concurrent bodies apart.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "inspect/decode/h2_flow.hpp"
#include "inspect/detect/detectors.hpp"
#include "inspect/detect/scanner.hpp"
#include "tests/unit/inspect/decode_fixture.hpp"

namespace dc::inspect::decoding {
namespace {

using namespace testing;
using Fields = std::vector<std::pair<std::string, std::string>>;

const std::string kPreface(kH2Preface, kH2PrefaceLen);
constexpr uint8_t kData = 0, kHeaders = 1, kPriority = 2, kRst = 3, kSettings = 4, kPush = 5,
                  kPing = 6, kWindow = 8, kCont = 9;
constexpr uint8_t kEndStream = 1, kEndHeaders = 4, kPadded = 8, kPrio = 0x20;

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  const auto n = static_cast<uint32_t>(payload.size());
  std::string f{static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n),
                static_cast<char>(type), static_cast<char>(flags)};
  return f + be32(stream) + payload;
}

std::string settings(const std::vector<std::pair<uint16_t, uint32_t>>& s = {}) {
  std::string p;
  for (auto [id, v] : s)
    p += std::string{static_cast<char>(id >> 8), static_cast<char>(id)} + be32(v);
  return frame(kSettings, 0, 0, p);
}

// One HPACK encoder per direction (its dynamic table spans the connection).
class Hpack {
 public:
  Hpack() { EXPECT_EQ(nghttp2_hd_deflate_new(&d_, 4096), 0); }
  ~Hpack() { nghttp2_hd_deflate_del(d_); }
  std::string encode(const Fields& fields) {
    std::vector<nghttp2_nv> nv;
    for (const auto& [n, v] : fields) {
      nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                    NGHTTP2_NV_FLAG_NONE});
    }
    std::string out(nghttp2_hd_deflate_bound(d_, nv.data(), nv.size()), '\0');
    const ssize_t n = nghttp2_hd_deflate_hd(d_, reinterpret_cast<uint8_t*>(out.data()), out.size(),
                                            nv.data(), nv.size());
    EXPECT_GE(n, 0);
    out.resize(static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    return out;
  }

 private:
  nghttp2_hd_deflater* d_ = nullptr;
};

Fields post_fields(const std::string& path, const Fields& extra = {}) {
  Fields f{{":method", "POST"},
           {":scheme", "https"},
           {":authority", "api.partner.example"},
           {":path", path}};
  f.insert(f.end(), extra.begin(), extra.end());
  return f;
}

std::string json_body(const std::string& id) {
  return "{\"name\":\"Zhang San\",\"note\":\"x\",\"id\":\"" + id + "\"}";
}

// Records like RecordSink, plus requests, and checks the lane contract: at most one open
// decoded stream per (lane, depth).
struct H2Sink : RecordSink {
  std::vector<std::string> requests;  // "stream method authority path"
  std::map<std::pair<std::size_t, std::size_t>, std::string> open;
  std::map<std::string, std::size_t> lanes;
  bool lane_violation = false;
  void on_data(const Path& where, std::span<const uint8_t> b) noexcept override {
    const std::string p = path_str(where);
    auto [it, fresh] = open.try_emplace({where.lane(), where.depth()}, p);
    if (!fresh && it->second != p) lane_violation = true;
    lanes[p] = where.lane();
    RecordSink::on_data(where, b);
  }
  void on_end(const Path& where) noexcept override {
    open.erase({where.lane(), where.depth()});
    RecordSink::on_end(where);
  }
  void on_request(uint32_t s, std::span<const char> m, std::span<const char> a,
                  std::span<const char> p) noexcept override {
    requests.push_back(std::to_string(s) + " " + std::string(m.data(), m.size()) + " " +
                       std::string(a.data(), a.size()) + " " + std::string(p.data(), p.size()));
  }
  bool same(const H2Sink& o) const {
    return data == o.data && events == o.events && requests == o.requests;
  }
  std::vector<std::string> anomalies() const {
    std::vector<std::string> out;
    for (const auto& e : events)
      if (e.rfind("anomaly ", 0) == 0 || e.rfind("condition ", 0) == 0) out.push_back(e);
    return out;
  }
};

// Client bytes cut at `cut`, then server bytes in pieces of `piece`; both FINs; memory check.
H2Sink run_h2(const std::string& client, const std::string& server, DecodeWorker& w,
              std::size_t cut = std::string::npos, std::size_t piece = std::string::npos) {
  H2Sink sink;
  auto flow = std::make_unique<H2FlowDecoder>();
  if (piece == std::string::npos) piece = std::max<std::size_t>(client.size() + server.size(), 1);
  cut = std::min(cut, client.size());
  auto feed = [&](FlowSide side, const std::string& s) {
    for (std::size_t i = 0; i < s.size(); i += piece)
      flow->feed(side, bytes(s.substr(i, piece)), w, sink);
  };
  feed(FlowSide::kClient, client.substr(0, cut));
  feed(FlowSide::kClient, client.substr(cut));
  feed(FlowSide::kServer, server);
  flow->finish(FlowSide::kClient, w, sink);
  flow->finish(FlowSide::kServer, w, sink);
  EXPECT_FALSE(sink.lane_violation);
  EXPECT_TRUE(sink.open.empty()) << sink.open.begin()->second;
  flow->release();
  EXPECT_EQ(w.arena().in_use(), 0u);
  return sink;
}

// The upload of the scenario: a gzip'd JSON body with the ID, in two DATA frames.
std::string gzip_upload(const std::string& id, Hpack& hp) {
  const std::string gz = gzip(json_body(id));
  const std::string block = hp.encode(post_fields(
      "/v1/people?src=crm", {{"content-type", "application/json"}, {"content-encoding", "gzip"}}));
  return kPreface + settings({{4, 65535}}) + frame(kHeaders, kEndHeaders, 1, block) +
         frame(kData, 0, 1, gz.substr(0, gz.size() / 2)) +
         frame(kData, kEndStream, 1, gz.substr(gz.size() / 2));
}

TEST(H2Decode, GzipJsonUploadDecodedWithPathAndRequestRecord) {
  auto w = worker();
  Hpack hp;
  const std::string id = valid_resident_ids().at(0);
  const H2Sink s = run_h2(gzip_upload(id, hp), "", *w);
  EXPECT_TRUE(s.anomalies().empty()) << s.anomalies().front();
  EXPECT_EQ(s.at("h2.stream[1].request.body > gzip"), json_body(id) + "|");
  // The JSON has no escape: its view is identical to the gzip layer and is not handed on again.
  EXPECT_EQ(s.at("h2.stream[1].request.body > gzip > json"), "|");
  EXPECT_EQ(s.at("h2.stream[1].request.path"), "/v1/people?src=crm|");
  EXPECT_NE(s.at("h2.stream[1].request.headers").find("content-encoding: gzip|"),
            std::string::npos);
  ASSERT_EQ(s.requests.size(), 1u);
  EXPECT_EQ(s.requests[0], "1 POST api.partner.example /v1/people?src=crm");
  EXPECT_EQ(s.lanes.at("h2.stream[1].request.body > gzip"), 1u);
  EXPECT_EQ(s.lanes.at("h2.stream[1].request.headers"), 0u);
}

TEST(H2Decode, SameResultAtEverySplitAndByteByByte) {
  auto w = worker();
  Hpack chp, shp;
  const std::string client = gzip_upload(valid_resident_ids().at(1), chp);
  const std::string body = brotli("{\"ok\":true,\"echo\":\"" + valid_resident_ids().at(2) + "\"}");
  const std::string server = settings() +
                             frame(kHeaders, kEndHeaders, 1,
                                   shp.encode({{":status", "200"},
                                               {"content-encoding", "br"},
                                               {"content-type", "application/json"}})) +
                             frame(kData, kEndStream, 1, body);
  const H2Sink whole = run_h2(client, server, *w);
  EXPECT_TRUE(whole.anomalies().empty());
  EXPECT_NE(whole.at("h2.stream[1].response.body > br").find(valid_resident_ids().at(2)),
            std::string::npos);
  for (std::size_t cut = 0; cut <= client.size(); ++cut) {
    ASSERT_TRUE(run_h2(client, server, *w, cut).same(whole)) << "cut " << cut;
  }
  EXPECT_TRUE(run_h2(client, server, *w, std::string::npos, 1).same(whole));
  EXPECT_TRUE(run_h2(client, server, *w, std::string::npos, 7).same(whole));
}

TEST(H2Decode, PaddingAndPriorityAreRemoved) {
  auto w = worker();
  Hpack hp;
  const std::string block = hp.encode(post_fields("/p", {{"content-type", "text/plain"}}));
  const std::string prio = be32(0x80000000u | 0) + std::string(1, '\x10');
  const std::string client =
      kPreface + settings() +
      frame(kHeaders, kEndHeaders | kPadded | kPrio, 1,
            std::string(1, '\x05') + prio + block + std::string(5, '\0')) +
      frame(kData, kPadded, 1, std::string(1, '\x03') + "hello " + std::string(3, '\0')) +
      frame(kData, kPadded | kEndStream, 1, std::string(1, '\0') + "world") +
      frame(kPriority, 0, 1, be32(3) + "\x01") + frame(kPing, 0, 0, std::string(8, 'p')) +
      frame(kWindow, 0, 0, be32(1000));
  const H2Sink s = run_h2(client, "", *w);
  EXPECT_TRUE(s.anomalies().empty()) << s.anomalies().front();
  EXPECT_EQ(s.at("h2.stream[1].request.body"), "hello world|");
  EXPECT_EQ(s.requests.size(), 1u);
}

TEST(H2Decode, ContinuationFramesCarryTheRestOfTheBlock) {
  auto w = worker();
  Hpack hp;
  const std::string block =
      hp.encode(post_fields("/c", {{"x-note", "a fairly long value to split"}}));
  const std::size_t a = block.size() / 3, b = 2 * block.size() / 3;
  const std::string client =
      kPreface + settings() + frame(kHeaders, kEndStream, 1, block.substr(0, a)) +
      frame(kCont, 0, 1, block.substr(a, b - a)) + frame(kCont, kEndHeaders, 1, block.substr(b));
  const H2Sink s = run_h2(client, "", *w);
  EXPECT_TRUE(s.anomalies().empty()) << s.anomalies().front();
  EXPECT_NE(s.at("h2.stream[1].request.headers").find("x-note: a fairly long value to split|"),
            std::string::npos);
  EXPECT_EQ(s.requests.at(0), "1 POST api.partner.example /c");
}

TEST(H2Decode, InterleavedStreamsKeepTheirOwnDecodersAndLanes) {
  auto w = worker();
  Hpack hp;
  const std::string g1 = gzip(json_body(valid_resident_ids().at(0)));
  const std::string g3 = gzip("plain text " + valid_resident_ids().at(3));
  // Blocks encoded in wire order (the encoder's dynamic table follows it).
  const std::string b1 = hp.encode(
      post_fields("/one", {{"content-type", "application/json"}, {"content-encoding", "gzip"}}));
  const std::string b3 = hp.encode(post_fields("/three", {{"content-encoding", "gzip"}}));
  std::string client = kPreface + settings() + frame(kHeaders, kEndHeaders, 1, b1) +
                       frame(kHeaders, kEndHeaders, 3, b3);
  for (std::size_t i = 0; i < std::max(g1.size(), g3.size()); i += 5) {
    if (i < g1.size())
      client += frame(kData, i + 5 >= g1.size() ? kEndStream : 0, 1, g1.substr(i, 5));
    if (i < g3.size())
      client += frame(kData, i + 5 >= g3.size() ? kEndStream : 0, 3, g3.substr(i, 5));
  }
  const H2Sink s = run_h2(client, "", *w);
  EXPECT_TRUE(s.anomalies().empty()) << s.anomalies().front();
  EXPECT_EQ(s.at("h2.stream[1].request.body > gzip"), json_body(valid_resident_ids().at(0)) + "|");
  EXPECT_EQ(s.at("h2.stream[3].request.body > gzip"),
            "plain text " + valid_resident_ids().at(3) + "|");
  EXPECT_NE(s.lanes.at("h2.stream[1].request.body > gzip"),
            s.lanes.at("h2.stream[3].request.body > gzip"));
  EXPECT_EQ(s.requests.size(), 2u);
}

TEST(H2Decode, ResetMidBodyEndsTheBodyAndLaterDataIsIgnored) {
  auto w = worker();
  Hpack hp, shp;
  const std::string b1 = hp.encode(post_fields("/r"));
  const std::string b3 = hp.encode(post_fields("/s"));
  const std::string client = kPreface + settings() + frame(kHeaders, kEndHeaders, 1, b1) +
                             frame(kData, 0, 1, "first part ") + frame(kRst, 0, 1, be32(8)) +
                             frame(kData, kEndStream, 1, "after reset") +
                             frame(kHeaders, kEndHeaders, 3, b3) + frame(kData, 0, 3, "s3 ");
  // The server resets stream 3: its body ends on the client side's next bytes.
  const std::string server = settings() + frame(kRst, 0, 3, be32(7));
  H2Sink sink;
  auto flow = std::make_unique<H2FlowDecoder>();
  flow->feed(FlowSide::kClient, bytes(client), *w, sink);
  EXPECT_EQ(sink.at("h2.stream[1].request.body"), "first part |");
  EXPECT_EQ(flow->side(FlowSide::kClient).open_bodies(), 1u);
  flow->feed(FlowSide::kServer, bytes(server), *w, sink);
  flow->feed(FlowSide::kClient, bytes(frame(kData, kEndStream, 3, "late")), *w, sink);
  EXPECT_EQ(sink.at("h2.stream[3].request.body"), "s3 |");
  EXPECT_EQ(flow->side(FlowSide::kClient).open_bodies(), 0u);
  EXPECT_TRUE(sink.anomalies().empty()) << sink.anomalies().front();
  flow->finish(FlowSide::kClient, *w, sink);
  flow->release();
  EXPECT_EQ(w->arena().in_use(), 0u);
}

TEST(H2Decode, PushPromiseAndPushedResponse) {
  auto w = worker();
  Hpack hp, shp;
  const std::string client =
      kPreface + settings() +
      frame(kHeaders, kEndHeaders | kEndStream, 1,
            hp.encode(
                {{":method", "GET"}, {":scheme", "https"}, {":authority", "a"}, {":path", "/"}}));
  const std::string promise = shp.encode(
      {{":method", "GET"}, {":scheme", "https"}, {":authority", "a"}, {":path", "/style.css"}});
  const std::string status1 = shp.encode({{":status", "200"}});
  const std::string status2 = shp.encode({{":status", "200"}});
  const std::string server =
      settings() + frame(kPush, kEndHeaders, 1, be32(2) + promise) +
      frame(kHeaders, kEndHeaders, 1, status1) + frame(kHeaders, kEndHeaders, 2, status2) +
      frame(kData, kEndStream, 2, "pushed") + frame(kData, kEndStream, 1, "index");
  const H2Sink s = run_h2(client, server, *w);
  EXPECT_TRUE(s.anomalies().empty()) << s.anomalies().front();
  EXPECT_EQ(s.at("h2.stream[2].response.body"), "pushed|");
  EXPECT_EQ(s.at("h2.stream[1].response.body"), "index|");
  EXPECT_EQ(s.at("h2.stream[2].request.path"), "/style.css|");
  EXPECT_EQ(s.requests.size(), 1u);  // pushed requests are the server's, not the client's
}

TEST(H2Decode, ClientRefusesAPushAndHeadResponseStatesALength) {
  auto w = worker();
  Hpack hp, shp;
  H2Sink sink;
  auto flow = std::make_unique<H2FlowDecoder>();
  const std::string req =
      hp.encode({{":method", "HEAD"}, {":scheme", "https"}, {":authority", "a"}, {":path", "/"}});
  flow->feed(FlowSide::kClient,
             bytes(kPreface + settings() + frame(kHeaders, kEndHeaders | kEndStream, 1, req)), *w,
             sink);
  const std::string promise =
      shp.encode({{":method", "GET"}, {":scheme", "https"}, {":authority", "a"}, {":path", "/p"}});
  const std::string head = shp.encode({{":status", "200"}, {"content-length", "1234"}});
  flow->feed(FlowSide::kServer,
             bytes(settings() + frame(kPush, kEndHeaders, 1, be32(2) + promise) +
                   frame(kHeaders, kEndHeaders | kEndStream, 1, head)),
             *w, sink);
  flow->feed(FlowSide::kClient, bytes(frame(kRst, 0, 2, be32(8))), *w, sink);  // refused push
  flow->finish(FlowSide::kClient, *w, sink);
  flow->finish(FlowSide::kServer, *w, sink);
  EXPECT_TRUE(sink.anomalies().empty()) << sink.anomalies().front();
  EXPECT_EQ(flow->requests(), 1u);
  EXPECT_EQ(flow->first_request().method_view(), "HEAD");
  EXPECT_EQ(flow->first_request().authority_view(), "a");
}

TEST(H2Decode, HpackGarbageLosesTheConnection) {
  auto w = worker();
  Hpack hp;
  // 0xff...: an indexed field with an index far beyond the tables (RFC 7541 §6.1).
  const std::string client = kPreface + settings() +
                             frame(kHeaders, kEndHeaders, 1, "\xff\xff\xff\xff\x0f") +
                             frame(kData, kEndStream, 1, "not decoded");
  const H2Sink s = run_h2(client, "", *w);
  EXPECT_EQ(s.anomalies(), (std::vector<std::string>{"anomaly h2_compression_error",
                                                     "condition h2_uninspectable @ h2"}));
  EXPECT_EQ(s.at("h2.stream[1].request.body"), "");
}

TEST(H2Decode, TooManyStreamsIsACondition) {
  auto w = worker();
  Hpack hp;
  std::string client = kPreface + settings();
  for (uint32_t i = 0; i <= H2FlowDecoder::kMaxStreams; ++i) {
    client += frame(kHeaders, kEndHeaders, 2 * i + 1, hp.encode(post_fields("/m")));
  }
  const H2Sink s = run_h2(client, "", *w);
  const std::string last = std::to_string(2 * H2FlowDecoder::kMaxStreams + 1);
  EXPECT_EQ(s.anomalies(), (std::vector<std::string>{"condition h2_too_many_streams @ h2.stream[" +
                                                     last + "].request.body"}));
}

TEST(H2Decode, SniffsTheClientPreface) {
  EXPECT_EQ(sniff_h2c(bytes(kPreface + settings())), H2Sniff::kH2);
  EXPECT_EQ(sniff_h2c(bytes(kPreface.substr(0, 10))), H2Sniff::kNeedMore);
  EXPECT_EQ(sniff_h2c(bytes("")), H2Sniff::kNeedMore);
  EXPECT_EQ(sniff_h2c(bytes("POST / HTTP/1.1\r\n")), H2Sniff::kNotH2);
  EXPECT_EQ(sniff_h2c(bytes("PRI * HTTP/1.1")), H2Sniff::kNotH2);
}

TEST(H2Decode, StartH2CreatesInflatersFromTheArenaAndReleaseReturnsThem) {
  auto w = worker();
  auto flow = std::make_unique<H2FlowDecoder>();
  EXPECT_TRUE(flow->start_h2(*w));
  EXPECT_GT(w->arena().in_use(), 0u);
  flow->release();
  EXPECT_EQ(w->arena().in_use(), 0u);
  // No arena room for an inflater: the first bytes report decoder_memory.
  DecodeLimits lim;
  lim.decoder_memory = 64;  // below the inflater's own struct
  auto small = worker(lim);
  flow->reset();
  H2Sink sink;
  flow->feed(FlowSide::kClient, bytes(kPreface), *small, sink);
  EXPECT_EQ(sink.anomalies(), (std::vector<std::string>{"condition decoder_memory @ h2"}));
}

// ---- malformed framing: one anomaly each ------------------------------------------------------

struct Bad {
  std::string name;
  std::string client;  // after preface + SETTINGS unless it starts with '!'
  std::vector<std::string> events;
};

void PrintTo(const Bad& b, std::ostream* os) { *os << b.name; }

std::vector<Bad> bad_cases() {
  // Each block is encoded by a fresh encoder: no case refers to another's dynamic table.
  auto get = [](uint32_t s, const char* path = "/") {
    Hpack h;
    return frame(
        kHeaders, kEndHeaders | kEndStream, s,
        h.encode({{":method", "GET"}, {":scheme", "https"}, {":authority", "a"}, {":path", path}}));
  };
  auto post = [](uint32_t s, const Fields& extra = {}, uint8_t flags = kEndHeaders) {
    Hpack h;
    return frame(kHeaders, flags, s, h.encode(post_fields("/x", extra)));
  };
  auto blk = [](const Fields& f) {
    Hpack h;
    return frame(kHeaders, kEndHeaders | kEndStream, 1, h.encode(f));
  };
  const std::string a = "anomaly ";
  std::vector<Bad> c;
  c.push_back({"bad_preface",
               "!PRI * HTTP/1.1\r\n\r\nxx",
               {a + "h2_bad_preface", "condition h2_uninspectable @ h2"}});
  c.push_back({"first_frame_not_settings",
               "!" + kPreface + frame(kPing, 0, 0, std::string(8, 0)),
               {a + "h2_bad_preface"}});
  c.push_back({"frame_too_large",
               post(1) + frame(kData, kEndStream, 1, std::string(16385, 'x')),
               {a + "h2_frame_too_large"}});
  c.push_back({"ping_length", frame(kPing, 0, 0, std::string(7, 0)), {a + "h2_bad_frame_length"}});
  c.push_back({"rst_length",
               post(1) + frame(kRst, 0, 1, std::string(5, '\0')),
               {a + "h2_bad_frame_length"}});
  c.push_back({"settings_length",
               frame(kSettings, 0, 0, std::string("\0\x01\0", 3)),
               {a + "h2_bad_frame_length"}});
  c.push_back({"pad_longer_than_payload",
               post(1) + frame(kData, kPadded | kEndStream, 1,
                               "\x09"
                               "abc"),
               {a + "h2_bad_padding"}});
  c.push_back({"continuation_without_headers",
               frame(kCont, kEndHeaders, 1, "\x82"),
               {a + "h2_continuation_out_of_place"}});
  c.push_back({"header_block_interrupted",
               post(1, {}, 0) + frame(kData, 0, 1, "x"),
               {a + "h2_continuation_out_of_place", "condition h2_uninspectable @ h2"}});
  c.push_back({"continuation_other_stream",
               post(1, {}, 0) + frame(kCont, kEndHeaders, 3, "\x82"),
               {a + "h2_continuation_out_of_place", "condition h2_uninspectable @ h2"}});
  c.push_back({"data_on_stream_0", frame(kData, 0, 0, "x"), {a + "h2_bad_stream_id"}});
  c.push_back({"settings_on_stream_1", frame(kSettings, 0, 1, ""), {a + "h2_bad_stream_id"}});
  c.push_back({"even_client_stream", get(2), {a + "h2_bad_stream_id"}});
  c.push_back({"stream_id_not_increasing", get(5) + post(3), {a + "h2_bad_stream_id"}});
  c.push_back(
      {"self_dependency", frame(kPriority, 0, 1, be32(1) + "\x10"), {a + "h2_bad_stream_id"}});
  c.push_back({"data_on_idle_stream", frame(kData, 0, 7, "x"), {a + "h2_stream_state"}});
  c.push_back({"rst_on_idle_stream", frame(kRst, 0, 9, be32(8)), {a + "h2_stream_state"}});
  c.push_back({"enable_push_2", settings({{2, 2}}), {a + "h2_invalid_frame"}});
  c.push_back({"max_frame_too_small", settings({{5, 100}}), {a + "h2_invalid_frame"}});
  c.push_back({"zero_window_update", frame(kWindow, 0, 0, be32(0)), {a + "h2_invalid_frame"}});
  c.push_back(
      {"uppercase_field", blk(post_fields("/", {{"X-Id", "1"}})), {a + "h2_malformed_headers"}});
  c.push_back({"connection_field",
               blk(post_fields("/", {{"connection", "close"}})),
               {a + "h2_malformed_headers"}});
  c.push_back({"transfer_encoding",
               blk(post_fields("/", {{"transfer-encoding", "chunked"}})),
               {a + "h2_malformed_headers"}});
  c.push_back({"missing_path",
               blk({{":method", "GET"}, {":scheme", "https"}}),
               {a + "h2_malformed_headers"}});
  c.push_back({"pseudo_after_regular",
               blk({{":method", "GET"}, {"accept", "*"}, {":scheme", "https"}, {":path", "/"}}),
               {a + "h2_malformed_headers"}});
  c.push_back({"value_with_newline",
               blk(post_fields("/", {{"x-a", "1\r\nx-b: 2"}})),
               {a + "h2_malformed_headers"}});
  c.push_back({"content_length_mismatch",
               post(1, {{"content-length", "10"}}) + frame(kData, kEndStream, 1, "12345"),
               {a + "h2_content_length_mismatch"}});
  c.push_back({"hpack_garbage",
               frame(kHeaders, kEndHeaders, 1, "\xff\xff\xff\xff\x0f"),
               {a + "h2_compression_error", "condition h2_uninspectable @ h2"}});
  c.push_back({"truncated_frame",
               post(1) + frame(kData, 0, 1, "abcdef").substr(0, 12),
               {a + "truncated_message"}});
  return c;
}

class H2Bad : public ::testing::TestWithParam<Bad> {};

TEST_P(H2Bad, NamedAnomaly) {
  auto w = worker();
  const Bad& b = GetParam();
  const std::string client =
      b.client[0] == '!' ? b.client.substr(1) : kPreface + settings() + b.client;
  const H2Sink whole = run_h2(client, "", *w);
  EXPECT_EQ(whole.anomalies(), b.events);
  EXPECT_TRUE(run_h2(client, "", *w, std::string::npos, 1).same(whole));
}

INSTANTIATE_TEST_SUITE_P(Cases, H2Bad, ::testing::ValuesIn(bad_cases()),
                         [](const auto& i) { return i.param.name; });

// The table above names every HTTP/2 anomaly.
TEST(H2BadTable, CoversEveryH2Anomaly) {
  std::set<std::string> seen;
  for (const Bad& b : bad_cases()) seen.insert(b.events.begin(), b.events.end());
  for (auto i = static_cast<std::size_t>(HttpAnomaly::kH2BadPreface); i < kHttpAnomalyCount; ++i) {
    const char* name = http_anomaly_name(static_cast<HttpAnomaly>(i));
    EXPECT_TRUE(seen.count(std::string("anomaly ") + name)) << name;
  }
}

TEST(H2Decode, LargerFramesAllowedAfterTheServerRaisesMaxFrameSize) {
  auto w = worker();
  Hpack hp;
  const std::string client = kPreface + settings() +
                             frame(kHeaders, kEndHeaders, 1, hp.encode(post_fields("/big"))) +
                             frame(kData, kEndStream, 1, std::string(20000, 'x'));
  H2Sink sink;
  auto flow = std::make_unique<H2FlowDecoder>();
  flow->feed(FlowSide::kServer, bytes(settings({{5, 32768}})), *w, sink);
  flow->feed(FlowSide::kClient, bytes(client), *w, sink);
  flow->finish(FlowSide::kClient, *w, sink);
  EXPECT_TRUE(sink.anomalies().empty()) << sink.anomalies().front();
  EXPECT_EQ(sink.at("h2.stream[1].request.body").size(), 20001u);
}

// ---- the real scanner over the decoded streams ------------------------------------------------

std::shared_ptr<const DetectorDb> db() {
  static const auto d = [] {
    auto r = DetectorDb::compile_builtins();
    EXPECT_TRUE(r.has_value());
    return r.value();
  }();
  return d;
}

// One scanner stream per (lane, depth), closed when the decoder ends that stream.
class ScanningSink : public DecodeSink, public FindingSink {
 public:
  ScanningSink(StreamPool& pool, Scratch& scratch) : pool_(pool), scratch_(scratch) {}
  ~ScanningSink() override {
    for (auto& lane : slots_)
      for (auto& s : lane) close_slot(s);
  }
  std::set<std::string> found;
  void on_data(const Path& where, std::span<const uint8_t> b) noexcept override {
    Slot& s = slots_[where.lane()][where.depth()];
    if (s.stream == nullptr) s.stream = pool_.acquire(), s.path = where;
    current_ = &s;
    (void)scan(*s.stream, scratch_, b, *this);
  }
  void on_end(const Path& where) noexcept override {
    close_slot(slots_[where.lane()][where.depth()]);
  }
  void on_anomaly(HttpAnomaly) noexcept override {}
  void on_condition(DecodeCondition, const Path&) noexcept override {}
  void on_finding(const Finding& f) noexcept override {
    found.insert(db()->detector(f.detector).name + " " +
                 std::string(reinterpret_cast<const char*>(f.value), f.value_len) + " @ " +
                 path_str(current_->path));
  }

 private:
  struct Slot {
    Stream* stream = nullptr;
    Path path;
  };
  void close_slot(Slot& s) {
    if (s.stream == nullptr) return;
    current_ = &s;
    (void)close(*s.stream, scratch_, *this);
    pool_.release(s.stream);
    s.stream = nullptr;
  }
  StreamPool& pool_;
  Scratch& scratch_;
  Slot slots_[kMaxLanes][Path::kMaxDepth + 1];
  Slot* current_ = nullptr;
};

TEST(H2Scan, ResidentIdInGzipJsonFoundWithPathAtEverySplit) {
  auto pool = StreamPool::create(db(), kMaxLanes * (Path::kMaxDepth + 1));
  ASSERT_TRUE(pool.has_value());
  auto scratch = Scratch::create(db());
  ASSERT_TRUE(scratch.has_value());
  auto w = worker();
  const std::string id = valid_resident_ids().at(0);
  Hpack hp;
  const std::string client = gzip_upload(id, hp);
  auto found = [&](std::size_t cut) {
    ScanningSink sink(**pool, *scratch);
    auto flow = std::make_unique<H2FlowDecoder>();
    flow->feed(FlowSide::kClient, bytes(client.substr(0, cut)), *w, sink);
    flow->feed(FlowSide::kClient, bytes(client.substr(std::min(cut, client.size()))), *w, sink);
    flow->finish(FlowSide::kClient, *w, sink);
    return sink.found;
  };
  const auto whole = found(client.size());
  bool in_json = false;
  for (const auto& f : whole) {
    // Found in the gzip layer (the JSON view has no escape, so it is not scanned again).
    in_json |= f.find(id) != std::string::npos &&
               f.find("@ h2.stream[1].request.body > gzip") != std::string::npos;
  }
  EXPECT_TRUE(in_json) << (whole.empty() ? std::string("nothing found") : *whole.begin());
  for (std::size_t cut = 0; cut < client.size(); cut += 3) ASSERT_EQ(found(cut), whole) << cut;
}

TEST(H2Scan, IdInAHuffmanCodedHeaderAndInThePathIsFound) {
  auto pool = StreamPool::create(db(), kMaxLanes * (Path::kMaxDepth + 1));
  ASSERT_TRUE(pool.has_value());
  auto scratch = Scratch::create(db());
  ASSERT_TRUE(scratch.has_value());
  auto w = worker();
  const std::string id = valid_resident_ids().at(1);
  std::string pct;
  char h[4];
  for (char c : id) std::snprintf(h, sizeof h, "%%%02X", static_cast<uint8_t>(c)), pct += h;
  Hpack hp;
  const std::string client = kPreface + settings() +
                             frame(kHeaders, kEndHeaders | kEndStream, 1,
                                   hp.encode({{":method", "GET"},
                                              {":scheme", "https"},
                                              {":authority", "a"},
                                              {":path", "/q?who=" + pct},
                                              {"x-customer", id}}));
  ScanningSink sink(**pool, *scratch);
  {
    auto flow = std::make_unique<H2FlowDecoder>();
    flow->feed(FlowSide::kClient, bytes(client), *w, sink);
    flow->finish(FlowSide::kClient, *w, sink);
  }
  std::set<std::string> paths;
  for (const auto& f : sink.found)
    if (f.find(id) != std::string::npos) paths.insert(f.substr(f.find(" @ ") + 3));
  EXPECT_TRUE(paths.count("h2.stream[1].request.path")) << sink.found.size();
  EXPECT_TRUE(paths.count("h2.stream[1].request.headers"));
}

}  // namespace
}  // namespace dc::inspect::decoding
