// libFuzzer target for inspect/decode's HTTP/2 layer (H2FlowDecoder: frame parser, HPACK with
// libnghttp2's inflater, stream slots, body decoders). Input: byte 0 picks a split size (its top
// bit: do not prepend the client preface), then the client stream, a "\n~~\n" separator, the
// server stream. Fed whole, in pieces of the picked size and in 3-byte pieces, each direction
// must give the same decoded bytes, anomalies, conditions and ends; at most one decoded stream
// may be open per (lane, depth); all arena memory must be back after release().
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "inspect/decode/h2_flow.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace dc::inspect::decoding;

namespace {

struct Record : DecodeSink {
  std::map<std::string, std::string> data;
  std::vector<std::string> events;
  // Open decoded streams by (direction, lane, depth): the contract holds per direction.
  std::map<std::tuple<int, std::size_t, std::size_t>, std::string> open;
  int dir = 0;  // the direction being fed or finished (0 client, 1 server)
  static std::string name(const Path& p) {
    char buf[256];
    const std::size_t n = p.format(buf, sizeof buf);
    CHECK(n < sizeof buf);
    CHECK(p.depth() >= 1 && p.depth() <= Path::kMaxDepth && p.lane() < kMaxLanes);
    return buf;
  }
  void on_data(const Path& w, std::span<const uint8_t> b) noexcept override {
    CHECK(!b.empty());
    const std::string n = name(w);
    auto [it, fresh] = open.try_emplace({dir, w.lane(), w.depth()}, n);
    CHECK(fresh || it->second == n);  // the lane contract of events.hpp
    data[n].append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  void on_end(const Path& w) noexcept override {
    open.erase({dir, w.lane(), w.depth()});
    data[name(w)] += '|';
    events.push_back("end " + name(w));
  }
  void on_anomaly(HttpAnomaly a) noexcept override {
    CHECK(static_cast<std::size_t>(a) < kHttpAnomalyCount);
    events.push_back(http_anomaly_name(a));
  }
  void on_condition(DecodeCondition c, const Path& w) noexcept override {
    CHECK(static_cast<std::size_t>(c) < kDecodeConditionCount);
    events.push_back(std::string(decode_condition_name(c)) + " " + name(w));
  }
  void on_request(uint32_t s, std::span<const char> m, std::span<const char> a,
                  std::span<const char> p) noexcept override {
    CHECK(m.size() <= H2RequestRecord::kMaxMethod && a.size() <= H2RequestRecord::kMaxAuthority &&
          p.size() <= H2RequestRecord::kMaxPath);
    events.push_back("request " + std::to_string(s) + " " + std::string(p.data(), p.size()));
  }
};

DecodeWorker& worker() {
  static std::unique_ptr<DecodeWorker> w = [] {
    DecodeLimits lim;
    lim.arena_bytes = 16u << 20;
    lim.decoder_memory = 2u << 20;
    lim.max_output = 1u << 20;  // keeps each run fast
    auto r = DecodeWorker::create(lim);
    CHECK(r.has_value());
    return std::move(r.value());
  }();
  return *w;
}

Record run(std::string_view client, std::string_view server, std::size_t piece) {
  Record r;
  DecodeWorker& w = worker();
  auto flow = std::make_unique<H2FlowDecoder>();
  auto feed = [&](FlowSide side, std::string_view s) {
    r.dir = side == FlowSide::kClient ? 0 : 1;
    for (std::size_t i = 0; i < s.size(); i += piece) {
      const std::string_view p = s.substr(i, piece);
      flow->feed(side, {reinterpret_cast<const uint8_t*>(p.data()), p.size()}, w, r);
    }
  };
  feed(FlowSide::kClient, client);
  feed(FlowSide::kServer, server);
  r.dir = 0;
  flow->finish(FlowSide::kClient, w, r);
  r.dir = 1;
  flow->finish(FlowSide::kServer, w, r);
  CHECK(r.open.empty());
  flow->release();
  CHECK(w.arena().in_use() == 0);
  return r;
}

bool br_failure(const std::string& e) {
  return e.rfind("decompress_failed", 0) == 0 && e.size() >= 4 &&
         e.compare(e.size() - 4, 4, "> br") == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* in, std::size_t size) {
  if (size < 1 || size > 65536) return 0;
  const std::string_view all(reinterpret_cast<const char*>(in + 1), size - 1);
  const std::size_t sep = all.find("\n~~\n");
  std::string client(all.substr(0, sep));
  if ((in[0] & 0x80) == 0) client.insert(0, kH2Preface, kH2PrefaceLen);
  const std::string_view server = sep == std::string_view::npos ? "" : all.substr(sep + 4);
  const Record whole = run(client, server, client.size() + server.size() + 1);
  // As in fuzz_http_decode: ratio limits and corrupt brotli depend on the input split.
  for (const auto& e : whole.events) {
    if (e.rfind("ratio_limit", 0) == 0 || br_failure(e)) return 0;
  }
  const Record split = run(client, server, 1 + in[0] % 64);
  const Record small = run(client, server, 3);
  CHECK(split.events == whole.events);
  CHECK(split.data == whole.data);
  CHECK(small.events == whole.events);
  CHECK(small.data == whole.data);
  return 0;
}
