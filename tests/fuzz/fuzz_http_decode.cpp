// libFuzzer target for inspect/decode's HTTP layer (HttpFlowDecoder: framing, chunked, codings,
// content decoders). Input: byte 0 picks a split point, then the client stream, a "\n~~\n"
// separator, the server stream. Fed whole, split in two, and in 3-byte pieces, each direction
// must give the same decoded bytes, anomalies, conditions and ends; all codec memory must be
// back in the arena after finish().
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/decode/http_flow.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace dc::inspect::decoding;

namespace {

struct Record : DecodeSink {
  std::map<std::string, std::string> data;
  std::vector<std::string> events;
  static std::string name(const Path& p) {
    char buf[256];
    const std::size_t n = p.format(buf, sizeof buf);
    CHECK(n < sizeof buf);
    CHECK(p.depth() >= 1 && p.depth() <= Path::kMaxDepth);
    return buf;
  }
  void on_data(const Path& w, std::span<const uint8_t> b) noexcept override {
    CHECK(!b.empty());
    data[name(w)].append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  void on_end(const Path& w) noexcept override {
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
};

DecodeWorker& worker() {
  static std::unique_ptr<DecodeWorker> w = [] {
    DecodeLimits lim;
    lim.arena_bytes = 8u << 20;
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
  auto flow = std::make_unique<HttpFlowDecoder>();
  auto feed = [&](FlowSide side, std::string_view s) {
    for (std::size_t i = 0; i < s.size(); i += piece) {
      const std::string_view p = s.substr(i, piece);
      flow->feed(side, {reinterpret_cast<const uint8_t*>(p.data()), p.size()}, w, r);
    }
  };
  feed(FlowSide::kClient, client);
  feed(FlowSide::kServer, server);
  flow->finish(FlowSide::kClient, w, r);
  flow->finish(FlowSide::kServer, w, r);
  CHECK(w.arena().in_use() == 0);
  return r;
}

// A br layer itself (not one below it) reported corrupt data.
bool br_failure(const std::string& e) {
  return e.rfind("decompress_failed", 0) == 0 && e.size() >= 4 &&
         e.compare(e.size() - 4, 4, "> br") == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* in, std::size_t size) {
  if (size < 1 || size > 65536) return 0;
  const std::string_view all(reinterpret_cast<const char*>(in + 1), size - 1);
  const std::size_t sep = all.find("\n~~\n");
  const std::string_view client = all.substr(0, sep);
  const std::string_view server = sep == std::string_view::npos ? "" : all.substr(sep + 4);
  const Record whole = run(client, server, all.size() + 1);
  // Ratio limits depend on where compressed input was cut; they end decoding at a
  // split-dependent point, so only runs without them must match exactly.
  // libbrotli flushes its ring buffer lazily: how much of a corrupt br stream was output
  // before the error depends on the input split (the condition itself does not).
  bool exact_data = true;
  for (const auto& e : whole.events) {
    if (e.rfind("ratio_limit", 0) == 0) return 0;
    if (br_failure(e)) exact_data = false;
  }
  const std::size_t piece = 1 + in[0] % 64;
  const Record split = run(client, server, piece);
  const Record small = run(client, server, 3);
  if (!exact_data) {
    // What follows the corrupt br layer (its output, deeper layers' conditions) may differ;
    // the br failure itself must be reported for every split.
    auto br_failed = [](const Record& r) {
      for (const auto& e : r.events) {
        if (br_failure(e)) return true;
      }
      return false;
    };
    CHECK(br_failed(split) && br_failed(small));
    return 0;
  }
  CHECK(split.events == whole.events);
  CHECK(split.data == whole.data);
  CHECK(small.events == whole.events);
  CHECK(small.data == whole.data);
  return 0;
}
