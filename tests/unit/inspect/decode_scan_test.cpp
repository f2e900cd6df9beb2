// Detection through the decoding layer: resident IDs from tests/data/test-vectors.txt hidden by
// chunking, gzip/deflate/brotli, percent-encoding, JSON escapes, base64 and multipart are found
// by the real scanner in the decoded streams - at every split offset of the request - with the
// decoding path, and are not found in the raw bytes. The sink here scans each decoded stream
// with one scanner stream per path depth, which is how the pipeline is meant to use the layer.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "inspect/detect/detectors.hpp"
#include "inspect/detect/scanner.hpp"
#include "tests/unit/inspect/decode_fixture.hpp"
#include "tests/unit/inspect/zip_fixture.hpp"

namespace dc::inspect::decoding {
namespace {

using namespace testing;

std::shared_ptr<const DetectorDb> db() {
  static const auto d = [] {
    auto r = DetectorDb::compile_builtins();
    EXPECT_TRUE(r.has_value());
    return r.value();
  }();
  return d;
}

// One scanner stream per path depth; a stream is closed (and its findings judged) when the
// decoder reports the end of the decoded stream at that depth.
class ScanningSink : public DecodeSink, public FindingSink {
 public:
  ScanningSink(StreamPool& pool, Scratch& scratch) : pool_(pool), scratch_(scratch) {}
  ~ScanningSink() override { close_all(); }
  std::set<std::string> found;  // "detector value @ path"
  std::set<std::string> anomalies;

  void on_data(const Path& where, std::span<const uint8_t> b) noexcept override {
    Slot& s = slots_[where.depth()];
    if (s.stream == nullptr) {
      s.stream = pool_.acquire();
      s.path = where;
    }
    current_ = &s;
    (void)scan(*s.stream, scratch_, b, *this);
  }
  void on_end(const Path& where) noexcept override { close_slot(slots_[where.depth()]); }
  void on_anomaly(HttpAnomaly a) noexcept override { anomalies.insert(http_anomaly_name(a)); }
  void on_condition(DecodeCondition c, const Path&) noexcept override {
    anomalies.insert(decode_condition_name(c));
  }
  void on_finding(const Finding& f) noexcept override {
    found.insert(db()->detector(f.detector).name + " " +
                 std::string(reinterpret_cast<const char*>(f.value), f.value_len) + " @ " +
                 path_str(current_->path));
  }
  void close_all() {
    for (auto& s : slots_) close_slot(s);
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
  Slot slots_[Path::kMaxDepth + 1];
  Slot* current_ = nullptr;
};

struct Fixture {
  std::unique_ptr<StreamPool> pool;
  std::unique_ptr<Scratch> scratch;
  std::unique_ptr<DecodeWorker> w = worker();
  Fixture() {
    auto p = StreamPool::create(db(), Path::kMaxDepth + 1);
    EXPECT_TRUE(p.has_value());
    pool = std::move(p.value());
    auto s = Scratch::create(db());
    EXPECT_TRUE(s.has_value());
    scratch = std::make_unique<Scratch>(std::move(s.value()));
  }
  std::set<std::string> decode_and_scan(const std::string& client, std::size_t cut) {
    ScanningSink sink(*pool, *scratch);
    auto flow = std::make_unique<HttpFlowDecoder>();
    cut = std::min(cut, client.size());
    flow->feed(FlowSide::kClient, bytes(client.substr(0, cut)), *w, sink);
    flow->feed(FlowSide::kClient, bytes(client.substr(cut)), *w, sink);
    flow->finish(FlowSide::kClient, *w, sink);
    sink.close_all();
    EXPECT_TRUE(sink.anomalies.empty()) << *sink.anomalies.begin();
    return sink.found;
  }
  std::size_t raw_findings(const std::string& client) {
    struct Count : FindingSink {
      std::size_t n = 0;
      void on_finding(const Finding&) noexcept override { ++n; }
    } c;
    auto r = scan_buffer(db(), bytes(client), c);
    EXPECT_TRUE(r.has_value());
    return c.n;
  }
};

std::string post(const std::string& headers, const std::string& body) {
  return "POST /upload HTTP/1.1\r\nHost: partner.example\r\n" + headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string json_escaped(const std::string& id) {
  std::string out;
  for (char c : id) {
    char u[8];
    std::snprintf(u, sizeof u, "\\u%04x", static_cast<unsigned>(static_cast<uint8_t>(c)));
    out += u;
  }
  return out;
}

std::string percent(const std::string& id) {
  std::string out;
  char h[4];
  for (char c : id) std::snprintf(h, sizeof h, "%%%02X", static_cast<uint8_t>(c)), out += h;
  return out;
}

struct Hidden {
  std::string name;
  std::string request;
  std::string path;  // where the ID must be found
};

std::vector<Hidden> hidden(const std::string& id) {
  std::string filler;  // makes brotli compress (a short text would be stored as it is)
  for (int i = 0; i < 20; ++i) filler += "name li, city beijing, row " + std::to_string(i) + "\n";
  const std::string json = "{\"user\":\"li\",\"doc\":\"" + json_escaped(id) + "\"}";
  const std::string mp =
      "--q1\r\nContent-Disposition: form-data; name=\"f\"; filename=\"p.csv\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      base64("name,id\nli," + id + "\n") + "\r\n--q1--\r\n";
  // Office files: the ID split over formatting runs, so the raw XML does not show it either.
  const std::string xlsx =
      make_xlsx({"<t>name</t>", "<r><t>" + id.substr(0, 6) + "</t></r><r><rPr><b/></rPr><t>" +
                                    id.substr(6) + "</t></r>"});
  const std::string xlsx_mp =
      "--q2\r\nContent-Disposition: form-data; name=\"f\"; filename=\"people.xlsx\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n" +
      xlsx + "\r\n--q2--\r\n";
  const std::string docx = make_docx({"<w:r><w:t>id " + id.substr(0, 9) + "</w:t></w:r><w:r><w:t>" +
                                      id.substr(9) + "</w:t></w:r>"});
  std::string refs;  // every other character as a numeric reference
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i % 2) {
      refs += id[i];
    } else if (i % 4) {
      refs += "&#x3" + std::string(1, id[i]) + ";";  // a digit: U+0030..U+0039
    } else {
      refs += "&#" + std::to_string(int{id[i]}) + ";";
    }
  }
  return {
      {"xlsx_multipart_split_runs",
       post("Content-Type: multipart/form-data; boundary=q2\r\n", xlsx_mp),
       "http.request.body > multipart[1] > zip:people.xlsx > xl/sharedStrings.xml > xml-text"},
      {"docx_split_runs",
       post("Content-Type: application/vnd.openxmlformats-officedocument."
            "wordprocessingml.document\r\n",
            docx),
       "http.request.body > zip > word/document.xml > xml-text"},
      {"html_numeric_references", post("Content-Type: text/html\r\n", "<p>id " + refs + "</p>"),
       "http.request.body > html"},
      {"nested_base64_in_json",
       post("Content-Type: application/json\r\n",
            "{\"blob\":\"" + base64(base64("{\"id\":\"" + id + "\"}")) + "\"}"),
       "http.request.body > json > base64-run > base64-run"},
      {"gzip_json_chunked",
       "POST /j HTTP/1.1\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
       "Transfer-Encoding: chunked\r\n\r\n" +
           chunk(gzip(json), 5),
       "http.request.body > gzip > json"},
      {"brotli_text",
       post("Content-Encoding: br\r\n", brotli(filler + "id: " + id + "\n" + filler)),
       "http.request.body > br"},
      {"deflate_form",
       post("Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Encoding: deflate\r\n",
            zlib("a=1&id=" + percent(id) + "&b=2")),
       "http.request.body > deflate > form"},
      {"query_string", "GET /q?id=" + percent(id) + " HTTP/1.1\r\nHost: h\r\n\r\n",
       "http.request.target"},
      // The target is held while unchanged: an ID that starts in the held bytes and ends after
      // the first '%' is whole in the target's decoded stream; so is one whose clear digits
      // cross the end of the hold (MessageDecoder::kMaxLine target bytes, handed on unchanged).
      {"query_string_partly_encoded",
       "GET /q?id=" + id.substr(0, 12) + percent(id.substr(12)) + " HTTP/1.1\r\nHost: h\r\n\r\n",
       "http.request.target"},
      {"long_query_string_partly_encoded",
       "GET /" + std::string(MessageDecoder::kMaxLine - 1 - 4 - 6, 'a') +
           "?id=" + id.substr(0, 12) + percent(id.substr(12)) + " HTTP/1.1\r\nHost: h\r\n\r\n",
       "http.request.target"},
      {"json_base64_field",
       post("Content-Type: application/json\r\n",
            "{\"blob\":\"" + base64("{\"id\":\"" + id + "\"}") + "\"}"),
       "http.request.body > json > base64-run"},
      {"multipart_base64_part", post("Content-Type: multipart/form-data; boundary=q1\r\n", mp),
       "http.request.body > multipart[1] > base64"},
      {"chunk_boundary_inside_id",
       "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("id " + id + " end", 9),
       "http.request.body"},
  };
}

TEST(DecodeScan, HiddenIdsAreFoundAtEverySplitWithTheirPath) {
  Fixture fx;
  const auto ids = valid_resident_ids();
  ASSERT_GE(ids.size(), 5u);
  for (const std::string& id : {ids[0], ids[3]}) {
    for (const Hidden& h : hidden(id)) {
      SCOPED_TRACE(h.name + " " + id);
      const std::string want = "cn_resident_id " + id + " @ " + h.path;
      EXPECT_EQ(fx.raw_findings(h.request), 0u) << "the raw bytes must not show the ID";
      const auto whole = fx.decode_and_scan(h.request, h.request.size());
      EXPECT_TRUE(whole.count(want)) << (whole.empty() ? "nothing" : *whole.begin());
      for (std::size_t cut = 0; cut < h.request.size(); ++cut) {
        ASSERT_EQ(fx.decode_and_scan(h.request, cut), whole) << "cut " << cut;
      }
    }
  }
  EXPECT_EQ(fx.w->arena().in_use(), 0u);
}

// A request target without '%' or '+' is its own decoded form: it is not handed on a second
// time (the raw scan reads the same bytes), so an ID in clear in it is found raw, and no decoded
// stream shows it at any split; its end is still reported.
TEST(DecodeScan, UnchangedTargetIsLeftToTheRawScan) {
  Fixture fx;
  const auto ids = valid_resident_ids();
  ASSERT_GE(ids.size(), 1u);
  const std::string req = "GET /q?id=" + ids[0] + "&n=1 HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_GE(fx.raw_findings(req), 1u);
  for (std::size_t cut = 0; cut <= req.size(); ++cut) {
    EXPECT_TRUE(fx.decode_and_scan(req, cut).empty()) << "cut " << cut;
  }
  EXPECT_EQ(fx.w->arena().in_use(), 0u);
}

// A JSON view ends ViewHold::kWindow unchanged bytes after its last change, so a long clean tail
// is scanned once (raw, by the pipeline), not twice; a change after the tail opens it again with
// the kWindow bytes before it, and one that follows soon after the view's context goes on in the
// same view. IDs partly escaped (before, after and between long tails) are found in the view at
// every split of the body; an ID in clear in the middle of a tail is not (the raw scan finds it).
TEST(DecodeScan, JsonViewEndsAfterItsChangedRegion) {
  Fixture fx;
  const auto ids = valid_resident_ids();
  ASSERT_GE(ids.size(), 5u);
  std::string tail;
  for (int i = 0; tail.size() < 5 * ViewHold::kWindow; ++i) {
    tail += "{\"n\":" + std::to_string(i) + ",\"name\":\"li\",\"city\":\"beijing\"},\n";
    if (i == 100) tail += "{\"clear\":\"" + ids[4] + "\"},\n";
  }
  const std::string body = "[{\"a\":\"" + json_escaped(ids[0].substr(0, 4)) + ids[0].substr(4) +
                           "\"},\n" + tail + "{\"b\":\"" + ids[1].substr(0, 11) +
                           json_escaped(ids[1].substr(11)) + "\"},\n" + tail.substr(0, 700) +
                           "{\"c\":\"" + json_escaped(ids[2]) + "\"},\n" + tail + "{\"d\":\"" +
                           ids[3].substr(0, 17) + json_escaped(ids[3].substr(17)) + "\"}]\n";
  const std::string req = post("Content-Type: application/json\r\n", body);
  const std::string json = "http.request.body > json";
  for (std::size_t cut = 0; cut <= req.size(); cut += cut < 200 ? 1 : 37) {
    SCOPED_TRACE(cut);
    struct Counting : ScanningSink {
      using ScanningSink::ScanningSink;
      std::size_t view_bytes = 0, view_ends = 0;
      void on_data(const Path& where, std::span<const uint8_t> b) noexcept override {
        if (path_str(where) == "http.request.body > json") view_bytes += b.size();
        ScanningSink::on_data(where, b);
      }
      void on_end(const Path& where) noexcept override {
        if (path_str(where) == "http.request.body > json") ++view_ends;
        ScanningSink::on_end(where);
      }
    } sink(*fx.pool, *fx.scratch);
    auto flow = std::make_unique<HttpFlowDecoder>();
    // Pipeline-sized segments after the cut.
    flow->feed(FlowSide::kClient, bytes(req.substr(0, cut)), *fx.w, sink);
    for (std::size_t at = cut; at < req.size(); at += 1460)
      flow->feed(FlowSide::kClient, bytes(req.substr(at, 1460)), *fx.w, sink);
    flow->finish(FlowSide::kClient, *fx.w, sink);
    sink.close_all();
    for (int i = 0; i < 4; ++i)
      ASSERT_TRUE(sink.found.count("cn_resident_id " + ids[i] + " @ " + json)) << ids[i];
    EXPECT_FALSE(sink.found.count("cn_resident_id " + ids[4] + " @ " + json));
    // Three views (ids 1 and 2 share one), each about 2 x kWindow: far less than the body.
    EXPECT_LT(sink.view_bytes, 8 * ViewHold::kWindow) << body.size();
    EXPECT_GE(sink.view_ends, 3u);
  }
  EXPECT_EQ(fx.w->arena().in_use(), 0u);
}

TEST(DecodeScan, InvalidChecksumStaysUnreported) {
  Fixture fx;
  // 110101199003077079 is listed with a bad checksum: decoding must not make it a finding.
  const auto found =
      fx.decode_and_scan(post("Content-Encoding: gzip\r\n", gzip("id 110101199003077079\n")), 0);
  for (const auto& f : found) EXPECT_EQ(f.find("cn_resident_id"), std::string::npos) << f;
}

}  // namespace
}  // namespace dc::inspect::decoding
