// Tests for inspect/decode HTTP framing: every message shape, coding chain and named anomaly,
// each fed whole, split at every offset of either direction, and byte by byte: the decoded
// bytes, anomalies, conditions and ends must be the same for every split.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/inspect/decode_fixture.hpp"

namespace dc::inspect::decoding {
namespace {

using namespace testing;

struct Case {
  std::string name;
  std::string client, server;
  std::vector<std::string> anomalies;       // exactly these "anomaly ..." events, in order
  std::vector<std::string> conditions;      // exactly these "condition ..." events, in order
  std::map<std::string, std::string> data;  // path -> decoded bytes ("|" = end of stream)
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

const std::string kText = "name=Zhang San, id 11010519491231002X, phone 13800138000";

std::string resp(const std::string& headers, const std::string& body) {
  return "HTTP/1.1 200 OK\r\n" + headers + "\r\n" + body;
}

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"get_and_length_response",
               "GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
               resp("Content-Length: 5\r\n", "hello"),
               {},
               {},
               // "/a" is its own decoded form: not handed on (the raw scan reads it), only ended.
               {{"http.request.target", "|"}, {"http.response.body > base64-run", "|"}}});
  c.push_back({"chunked_extensions_trailers",
               "GET / HTTP/1.1\r\n\r\n",
               resp("Transfer-Encoding: chunked\r\n",
                    "5;name=\"v\";x\r\nhello\r\n6 ; e\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n"),
               {},
               {},
               {{"http.response.body", "hello world|"}}});
  c.push_back(
      {"pipelined_keepalive_forms",
       "POST /1 HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
       "Content-Length: 11\r\n\r\na=%31%32+b&"
       "POST /2 HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8"
       "\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nx=1\r\n4\r\n%4a%\r\n0\r\n\r\n",
       "",
       {},
       {},
       {{"http.request.body > form", "a=12 b&|x=1J%|"}, {"http.request.body", "x=1%4a%|"}}});
  c.push_back(
      {"query_string_decoded",
       "GET /s/a+b?q=%E4%B8%AD+x&id=110105%31949123100%32X&bad=%zz HTTP/1.1\r\n\r\n",
       "",
       {},
       {},
       {{"http.request.target", "/s/a+b?q=\xe4\xb8\xad x&id=11010519491231002X&bad=%zz|"}}});
  c.push_back({"head_204_304_have_no_body",
               "HEAD / HTTP/1.1\r\n\r\nGET /n HTTP/1.1\r\n\r\nGET /m HTTP/1.1\r\n\r\n"
               "GET /b HTTP/1.1\r\n\r\n",
               "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
               "HTTP/1.1 204 No Content\r\n\r\n"
               "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
               {},
               {},
               {{"http.response.body", "ok|"}}});
  c.push_back({"expect_100_continue",
               "POST /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
               "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
               "",
               {},
               {},
               {{"http.request.body > base64-run", "|"}}});
  c.push_back({"body_until_close_gzip",
               "GET / HTTP/1.0\r\n\r\n",
               "HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gzip(kText),
               {},
               {},
               {{"http.response.body > gzip", kText + "|"}}});
  c.push_back(
      {"gzip_inside_chunked",
       "GET / HTTP/1.1\r\n\r\n",
       resp("Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", chunk(gzip(kText), 7)),
       {},
       {},
       {{"http.response.body > gzip", kText + "|"}}});
  c.push_back({"transfer_coding_gzip_then_chunked",
               "GET / HTTP/1.1\r\n\r\n",
               resp("Transfer-Encoding: gzip, chunked\r\n", chunk(gzip(kText), 10)),
               {},
               {},
               {{"http.response.body > gzip", kText + "|"}}});
  c.push_back({"content_codings_chain_gzip_then_br",
               "GET / HTTP/1.1\r\n\r\n",
               resp("Content-Encoding: gzip, br\r\nContent-Length: " +
                        std::to_string(brotli(gzip(kText)).size()) + "\r\n",
                    brotli(gzip(kText))),
               {},
               {},
               {{"http.response.body > br > gzip", kText + "|"}}});
  c.push_back({"deflate_zlib_and_raw_x_gzip_multimember",
               "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n",
               resp("Content-Encoding: deflate\r\nContent-Length: " +
                        std::to_string(zlib(kText).size()) + "\r\n",
                    zlib(kText)) +
                   resp("Content-Encoding: Deflate\r\nContent-Length: " +
                            std::to_string(raw_deflate(kText).size()) + "\r\n",
                        raw_deflate(kText)) +
                   resp("Content-Encoding: x-gzip\r\nContent-Length: " +
                            std::to_string(gzip("ab").size() + gzip("cd").size()) + "\r\n",
                        gzip("ab") + gzip("cd")),
               {},
               {},
               {{"http.response.body > deflate", kText + "|" + kText + "|"},
                {"http.response.body > gzip", "abcd|"}}});
  c.push_back({"identity_and_unknown_codings",
               "GET / HTTP/1.1\r\n\r\n",
               resp("Content-Encoding: identity, compress\r\nContent-Length: 3\r\n", "xyz"),
               {},
               {"condition unknown_coding @ http.response.body"},
               {}});
  c.push_back({"too_many_codings",
               "GET / HTTP/1.1\r\n\r\n",
               resp("Content-Encoding: gzip, gzip, gzip, gzip\r\nContent-Length: 3\r\n", "xyz"),
               {},
               {"condition too_many_codings @ http.response.body > gzip > gzip > gzip",
                "condition decompress_failed @ http.response.body > gzip"},
               {}});
  c.push_back(
      {"corrupt_gzip_and_trailing_data",
       "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
       resp("Content-Encoding: gzip\r\nContent-Length: 12\r\n", "\x1f\x8b\x08\x40garbage!") +
           resp("Content-Encoding: br\r\nContent-Length: " +
                    std::to_string(brotli("hi").size() + 4) + "\r\n",
                brotli("hi") + "JUNK"),
       {},
       {"condition decompress_failed @ http.response.body > gzip",
        "condition trailing_data @ http.response.body > br"},
       {{"http.response.body > br", "hi|"}}});
  const std::string json = R"({"id":"\u0031\u00311010\"","e":"\ud83d\ude00\/\uD800x\q"})";
  c.push_back({"json_unescaped",
               "POST /j HTTP/1.1\r\nContent-Type: application/json\r\n"
               "Content-Length: " +
                   std::to_string(json.size()) + "\r\n\r\n" + json,
               "",
               {},
               {"condition lone_surrogate @ http.request.body > json"},
               {{"http.request.body > json",
                 "{\"id\":\"111010\"\",\"e\":\"\xf0\x9f\x98\x80/\xef\xbf\xbdx\\q\"}|"}}});
  const std::string b64id = base64("id=11010519491231002X;");
  const std::string b64body =
      "v=" + b64id + "&short=QUJD&u=" + base64("\xfb\xff\xbfid 110105", true) + "&end=1234";
  c.push_back(
      {"base64_runs_standard_and_url_safe",
       "POST /b HTTP/1.1\r\nContent-Length: " + std::to_string(b64body.size()) + "\r\n\r\n" +
           b64body,
       "",
       {},
       {},
       {{"http.request.body > base64-run", "id=11010519491231002X;\n\xfb\xff\xbfid 110105\n|"}}});
  const std::string mp =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nplain value\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"p.csv\"\r\n"
      "Content-Type: text/csv\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
      base64("name,id\r\nli,11010519491231002X\r\n").insert(20, "\r\n") +
      "\r\n--XyZ\r\nContent-Transfer-Encoding: "
      "quoted-printable\r\n\r\n1101051949=\r\n12310=\n02X=3D\r\n"
      "--XyZ--\r\nepilogue --XyZ\r\n";
  c.push_back(
      {"multipart_base64_and_qp_parts",
       "POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=\"XyZ\"\r\n"
       "Content-Length: " +
           std::to_string(mp.size()) + "\r\n\r\n" + mp,
       "",
       {},
       {},
       {{"http.request.body > multipart[1]", "plain value|"},
        {"http.request.body > multipart[2] > base64", "name,id\r\nli,11010519491231002X\r\n|"},
        {"http.request.body > multipart[3] > quoted-printable", "11010519491231002X=|"}}});
  c.push_back({"multipart_without_close_or_boundary",
               "POST /1 HTTP/1.1\r\nContent-Type: multipart/mixed; boundary=b\r\n"
               "Content-Length: 14\r\n\r\n--b\r\n\r\nabc\r\n--"
               "POST /2 HTTP/1.1\r\nContent-Type: multipart/mixed\r\nContent-Length: 1\r\n\r\nx",
               "",
               {},
               {"condition multipart_malformed @ http.request.body",
                "condition multipart_malformed @ http.request.body"},
               {{"http.request.body > multipart[1]", "abc\r\n--|"}}});
  // ---- anomalies ----
  c.push_back({"cl_and_te",
               "POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked"
               "\r\n\r\n1\r\nA\r\n0\r\n\r\n",
               "",
               {"anomaly content_length_and_transfer_encoding"},
               {},
               {{"http.request.body", "A|"}}});
  c.push_back({"repeated_and_conflicting_content_length",
               "POST /1 HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nA"
               "POST /2 HTTP/1.1\r\nContent-Length: 2, 3\r\n\r\nBBB",
               "",
               {"anomaly repeated_framing_header", "anomaly conflicting_content_length"},
               {},
               {}});
  c.push_back({"invalid_content_length",
               "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello",
               "",
               {"anomaly invalid_content_length"},
               {},
               {}});
  c.push_back({"obs_fold_on_transfer_encoding",
               "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n",
               "",
               {"anomaly obs_fold"},
               {},
               {{"http.request.body", "A|"}}});
  c.push_back(
      {"space_before_colon_and_bad_lines",
       "GET / HTTP/1.1\r\nTransfer-Encoding : chunked\r\nNoColon\r\nA\x01: b\r\n"
       "X: a" +
           std::string(1, '\0') + "z\r\n\r\n",
       "",
       {"anomaly space_before_colon", "anomaly invalid_header_line", "anomaly invalid_field_value"},
       {},
       {}});
  c.push_back({"whitespace_before_first_header",
               "GET / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: h\r\n\r\n",
               "",
               {"anomaly whitespace_before_first_header"},
               {},
               {}});
  c.push_back({"chunked_not_final",
               "POST /1 HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\nrest",
               "",
               {"anomaly chunked_not_final"},
               {"condition decompress_failed @ http.request.body > gzip"},
               {}});
  c.push_back({"chunked_twice",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
               "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               "",
               {"anomaly repeated_framing_header", "anomaly chunked_twice"},
               {},
               {}});
  c.push_back({"te_in_http10",
               "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               "",
               {"anomaly transfer_encoding_in_http10"},
               {},
               {}});
  c.push_back({"invalid_chunk_size",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "zz\r\nabc",
               "",
               {"anomaly invalid_chunk_size"},
               {},
               {}});
  c.push_back({"chunk_size_overflow",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "0000000000000000000001000000000000\r\n",
               "",
               {"anomaly invalid_chunk_size"},
               {},
               {}});
  c.push_back({"invalid_chunk_line",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "1 x\r\nA\r\n1\x01\r\nB\r\n0\r\n\r\n",
               "",
               {"anomaly invalid_chunk_line", "anomaly invalid_chunk_size"},
               {},
               {}});
  c.push_back({"missing_chunk_crlf",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "1\r\nAB\r\n0\r\n\r\n",
               "",
               {"anomaly missing_chunk_crlf"},
               {},
               {{"http.request.body", "AB\r\n0\r\n\r\n|"}}});
  c.push_back({"invalid_trailer_and_bytes_after_final_chunk",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n"
               "\x01\x02 smuggled",
               "",
               {"anomaly invalid_trailer", "anomaly bad_start_line"},
               {},
               {}});
  c.push_back({"head_too_large",
               "GET / HTTP/1.1\r\nX: " + std::string(70000, 'a') + "\r\n\r\n",
               "",
               {"anomaly head_too_large"},
               {},
               {}});
  c.push_back({"framing_on_bodyless_response",
               "GET / HTTP/1.1\r\n\r\n",
               "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n",
               {"anomaly framing_on_bodyless_response"},
               {},
               {}});
  c.push_back({"response_without_request",
               "",
               "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA",
               {"anomaly response_without_request"},
               {},
               {}});
  c.push_back({"truncated_message",
               "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
               "",
               {"anomaly truncated_message"},
               {},
               {}});
  c.push_back({"bare_lf", "GET / HTTP/1.1\nHost: h\n\n", "", {"anomaly bare_lf"}, {}, {}});
  c.push_back({"connect_tunnel",
               "CONNECT a.example:443 HTTP/1.1\r\n\r\n\x16\x03\x01\x02",
               "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03",
               {},
               {"condition tunnel @ http.request.body", "condition tunnel @ http.response.body"},
               {}});
  c.push_back({"upgrade_101",
               "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
               "\x81\x85",
               "HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello",
               {},
               {"condition tunnel @ http.request.body", "condition tunnel @ http.response.body"},
               {}});
  c.push_back({"not_http_is_silent", "\x16\x03\x01\x00\xa5\x01", "\x16\x03\x03", {}, {}, {}});
  return c;
}

std::vector<std::string> only(const RecordSink& s, const std::string& prefix) {
  std::vector<std::string> r;
  for (const auto& e : s.events)
    if (e.rfind(prefix, 0) == 0) r.push_back(e);
  return r;
}

class HttpDecode : public ::testing::TestWithParam<Case> {};

TEST_P(HttpDecode, ReportsAndDecodesTheSameForEverySplit) {
  const Case& c = GetParam();
  auto w = worker();
  const RecordSink whole = run_flow(c.client, c.server, *w);
  EXPECT_EQ(only(whole, "anomaly "), c.anomalies);
  EXPECT_EQ(only(whole, "condition "), c.conditions);
  for (const auto& [path, want] : c.data) EXPECT_EQ(whole.at(path), want) << path;
  const std::size_t step = c.client.size() > 5000 ? 997 : 1;  // the 70 KB head: fewer cuts
  for (std::size_t cut = 0; cut <= c.client.size(); cut += step) {
    ASSERT_TRUE(run_flow(c.client, c.server, *w, cut) == whole) << "client cut " << cut;
  }
  for (std::size_t cut = 0; cut <= c.server.size(); ++cut) {
    ASSERT_TRUE(run_flow(c.client, c.server, *w, std::string::npos, cut) == whole)
        << "server cut " << cut;
  }
  if (step == 1) {
    EXPECT_TRUE(run_flow_bytewise(c.client, c.server, *w) == whole);
  }
  EXPECT_EQ(w->arena().in_use(), 0u) << "codec memory returned at the end of every body";
}

// The table above exercises every named anomaly and every condition of the HTTP path (the
// limit conditions are in decode_units_test.cpp).
TEST(HttpDecodeTable, CoversEveryAnomaly) {
  std::set<std::string> seen;
  for (const Case& c : cases()) {
    for (const auto& a : c.anomalies) seen.insert(a);
    for (const auto& e : c.conditions) seen.insert(e.substr(0, e.find(" @")));
  }
  // The HTTP/1.x anomalies (the h2_* ones: decode_h2_test.cpp).
  for (std::size_t i = 0; i < static_cast<std::size_t>(HttpAnomaly::kH2BadPreface); ++i) {
    EXPECT_TRUE(
        seen.count(std::string("anomaly ") + http_anomaly_name(static_cast<HttpAnomaly>(i))))
        << http_anomaly_name(static_cast<HttpAnomaly>(i));
  }
  for (const char* c : {"unknown_coding", "too_many_codings", "decompress_failed", "trailing_data",
                        "multipart_malformed", "lone_surrogate", "tunnel"}) {
    EXPECT_TRUE(seen.count(std::string("condition ") + c)) << c;
  }
}

// Every HTTP/1.x request head is reported (stream 0) with its Host as parse_http_authority()
// reads it, empty when absent, repeated or malformed: the dataplane checks keep-alive requests
// against the server the flow was admitted by (dataplane/decode_scan.cpp).
struct HostSink : RecordSink {
  std::vector<std::string> hosts;
  void on_request(uint32_t stream, std::span<const char>, std::span<const char> authority,
                  std::span<const char>) noexcept override {
    hosts.push_back(std::to_string(stream) + ":" + std::string(authority.data(), authority.size()));
  }
};

TEST(HttpDecodeRequests, EachRequestReportsItsHost) {
  const std::string client =
      "GET /a HTTP/1.1\r\nHost: API.Example.:8080\r\n\r\n"
      "POST /b HTTP/1.1\r\nhost: other.example\r\nContent-Length: 3\r\n\r\nabc"
      "GET /c HTTP/1.1\r\nHost: a.example\r\nHost: a.example\r\n\r\n"
      "GET /d HTTP/1.1\r\nHost: a b\r\n\r\n"
      "GET /e HTTP/1.0\r\n\r\n";
  auto w = worker();
  for (const std::size_t cut : {std::string::npos, std::size_t{20}, std::size_t{70}}) {
    HostSink sink;
    auto flow = std::make_unique<HttpFlowDecoder>();
    const std::string a = client.substr(0, std::min(cut, client.size()));
    flow->feed(FlowSide::kClient, bytes(a), *w, sink);
    flow->feed(FlowSide::kClient, bytes(client.substr(a.size())), *w, sink);
    flow->finish(FlowSide::kClient, *w, sink);
    EXPECT_EQ(sink.hosts,
              (std::vector<std::string>{"0:api.example", "0:other.example", "0:", "0:", "0:"}))
        << "cut " << cut;
  }
}

// JSON, form and HTML bodies whose views hold long unchanged stretches (one pass: identity scan,
// hold copy and base64-run search, body.cpp held_view) between escapes, with base64 runs, runs
// of digits and short words: fed in random segments of 1 to 1,600 bytes, every layer (the view,
// the runs, the nested runs) and every event is the same as fed byte by byte.
TEST(HttpDecodeViews, HeldViewsDecodeTheSameInRandomSegments) {
  std::mt19937 rng(21);
  auto w = worker();
  const char* types[] = {"application/json", "application/x-www-form-urlencoded", "text/html"};
  const char* changes[][3] = {
      {"\\n", "\\u0041", "\\\""}, {"%41", "+", "%2"}, {"&amp;", "&#65;", "&x"}};
  std::size_t with_runs = 0;
  for (int t = 0; t < 60; ++t) {
    const unsigned kind = static_cast<unsigned>(t) % 3;
    std::string body = kind == 0 ? "[" : "";
    const std::size_t size = 2000 + rng() % 9000;
    while (body.size() < size) {
      const unsigned r = rng() % 100;
      if (r < 3) {
        body += changes[kind][rng() % 3];
      } else if (r < 6) {
        body += base64("id:11010519491231002X " + std::to_string(rng()), rng() % 2 == 0);
      } else if (r < 9) {
        body += std::to_string(rng()) + std::to_string(rng());  // digits only: passed over
      } else if (r < 12) {
        body += kind == 0 ? "\"" : " ";
      } else {
        static const char* words[] = {"deliver ", "between ", "9:00, ", "front ", "desk. "};
        body += words[rng() % 5];
      }
    }
    const std::string req = std::string("POST /u HTTP/1.1\r\nContent-Type: ") + types[kind] +
                            "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                            body;
    const RecordSink want = run_flow_bytewise(req, "", *w);
    for (const auto& [path, data] : want.data)
      if (path.find("base64-run") != std::string::npos && data.size() > 1) ++with_runs;
    for (int split = 0; split < 4; ++split) {
      RecordSink sink;
      auto flow = std::make_unique<HttpFlowDecoder>();
      for (std::size_t at = 0; at < req.size();) {
        const std::size_t k = std::min<std::size_t>(req.size() - at, 1 + rng() % 1600);
        flow->feed(FlowSide::kClient, bytes(req.substr(at, k)), *w, sink);
        at += k;
      }
      flow->finish(FlowSide::kClient, *w, sink);
      flow->finish(FlowSide::kServer, *w, sink);
      ASSERT_TRUE(sink == want) << "body " << t << " split " << split;
    }
  }
  EXPECT_GT(with_runs, 30u) << "the bodies' base64 runs are decoded";
  EXPECT_EQ(w->arena().in_use(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Cases, HttpDecode, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace dc::inspect::decoding
