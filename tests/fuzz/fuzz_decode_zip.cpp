// libFuzzer target for inspect/decode's ZIP walker (zip.hpp) with its OOXML text extraction
// (xml_text.hpp), driven through a BodyDecoder whose content is a ZIP. Byte 0 picks the piece
// size; the rest is the archive. Fed whole, in pieces and in 3-byte pieces, it must give the same
// member streams, text, conditions and ends; the walker and every inflate state must be back in
// the arena after finish().
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/decode/body.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace dc::inspect::decoding;

namespace {

struct Record : DecodeSink {
  std::map<std::string, std::string> data;
  std::vector<std::string> events;
  static std::string name(const Path& p) {
    char buf[512];
    const std::size_t n = p.format(buf, sizeof buf);
    CHECK(n < sizeof buf);  // member names are bounded (ZipWalker::kMaxName)
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
  void on_anomaly(HttpAnomaly) noexcept override { CHECK(false); }  // no HTTP here
  void on_condition(DecodeCondition c, const Path& w) noexcept override {
    CHECK(static_cast<std::size_t>(c) < kDecodeConditionCount);
    events.push_back(std::string(decode_condition_name(c)) + " " + name(w));
  }
};

DecodeWorker& worker() {
  static std::unique_ptr<DecodeWorker> w = [] {
    DecodeLimits lim;
    lim.arena_bytes = 4u << 20;
    lim.decoder_memory = 1u << 20;
    lim.max_output = 1u << 20;  // keeps each run fast
    auto r = DecodeWorker::create(lim);
    CHECK(r.has_value());
    return std::move(r.value());
  }();
  return *w;
}

Record run(std::string_view zip, std::size_t piece) {
  Record r;
  DecodeWorker& w = worker();
  DirOutput out;
  BodySpec spec;
  spec.root = LayerKind::kFile;
  spec.content = ContentKind::kZip;
  auto d = std::make_unique<BodyDecoder>();
  d->begin(spec, w, r, out, "fuzz.zip");
  for (std::size_t i = 0; i < zip.size(); i += piece) {
    const std::string_view p = zip.substr(i, piece);
    d->feed({reinterpret_cast<const uint8_t*>(p.data()), p.size()}, w, r);
  }
  d->finish(w, r);
  CHECK(!d->active());
  CHECK(out.zip <= w.limits().max_output);
  CHECK(w.arena().in_use() == 0);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* in, std::size_t size) {
  if (size < 1 || size > 65536) return 0;
  const std::string_view zip(reinterpret_cast<const char*>(in + 1), size - 1);
  const Record whole = run(zip, zip.size() + 1);
  // A ratio limit ends decoding where the compressed input was cut (split-dependent).
  for (const auto& e : whole.events) {
    if (e.rfind("ratio_limit", 0) == 0) return 0;
  }
  const Record split = run(zip, 1 + in[0] % 64);
  const Record small = run(zip, 3);
  CHECK(split.events == whole.events);
  CHECK(split.data == whole.data);
  CHECK(small.events == whole.events);
  CHECK(small.data == whole.data);
  return 0;
}
