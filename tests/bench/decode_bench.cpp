// Cost of the HTTP decoding layer (docs/architecture.md "Measured"): gzip'd JSON uploads through
// the per-packet path (raw scan + HttpFlowDecoder + scan of every decoded stream, 1460-byte TCP
// segments) against `zcat | raw Hyperscan` (streaming inflate + hs_scan_stream, no-op callback)
// over the same bytes; clean uncompressed uploads with and without the decoder; and the memory an
// inspected flow holds while its decoders are active (decoder arena per flow + per-flow objects,
// gzip and Brotli layers).
//
//   decode_bench --benchmark_min_time=1
// bytes_per_second is over the decompressed (JSON) bytes everywhere, so rates compare directly.
#include <benchmark/benchmark.h>
#include <brotli/encode.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/inspect_pool.hpp"
#include "inspect/decode/http_flow.hpp"
#include "inspect/detect/detectors.hpp"
#include "inspect/detect/scanner.hpp"

namespace {

using namespace dc::inspect;
namespace dec = dc::inspect::decoding;

constexpr size_t kSegment = 1460;
constexpr size_t kBodyBytes = 64 * 1024;  // JSON bytes per upload (one flow each)
constexpr size_t kTotalBytes = 4 * 1024 * 1024;

// Deterministic JSON records (seeded), 10% with a resident ID, like scanner_bench's payload.
std::string records(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  auto digits = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += static_cast<char>('0' + rng() % 10);
    return s;
  };
  std::string out = "[";
  for (int n = 0; out.size() < bytes; ++n) {
    out += "{\"seq\":" + std::to_string(n) + ",\"orderId\":\"" + digits(19) + "\",\"sku\":\"SKU-" +
           digits(8) + "\",\"price\":\"" + std::to_string(rng() % 10000) +
           ".00\",\"remark\":\"deliver between 9:00 and 18:00, leave at the front desk\"";
    if (rng() % 10 == 0) {
      std::string id = "110105" + std::to_string(1950 + rng() % 60) + "0612" + digits(3);
      id += gb11643_check_char(as_bytes(id + "0"));
      out += ",\"idCard\":\"" + id + "\"";
    }
    out += "},\n";
  }
  out.resize(bytes - 2);
  return out + "]\n";
}

std::string gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// One upload per flow: the JSON body, its gzip and the full request on the wire.
struct Upload {
  std::string json, body, request;
};

// The same records as a clean form (no '%' or '+': the form view stays identical to its input).
std::string as_form(std::string s) {
  for (char& c : s) {
    // '.', not '_' (a URL-safe base64 character that would join values into base64 runs).
    if (c == '"' || c == '{' || c == '}' || c == '[' || c == ']' || c == '\n') c = '.';
    if (c == ':') c = '=';
    if (c == ',') c = '&';
    if (c == ' ') c = '.';
  }
  return s;
}

std::vector<Upload> uploads(bool gzipped, const char* type = "application/json",
                            bool form = false) {
  std::vector<Upload> v;
  for (uint32_t i = 0; i * kBodyBytes < kTotalBytes; ++i) {
    Upload u;
    u.json = records(kBodyBytes, 20240501 + i);
    if (form) u.json = as_form(std::move(u.json));
    u.body = gzipped ? gzip(u.json) : u.json;
    u.request = "POST /upload HTTP/1.1\r\nHost: collector.example.net\r\nContent-Type: " +
                std::string(type) + "\r\n" +
                std::string(gzipped ? "Content-Encoding: gzip\r\n" : "") +
                "Content-Length: " + std::to_string(u.body.size()) + "\r\n\r\n" + u.body;
    v.push_back(std::move(u));
  }
  return v;
}

const std::vector<Upload>& gz_uploads() {
  static const auto v = uploads(true);
  return v;
}
const std::vector<Upload>& plain_uploads() {
  static const auto v = uploads(false);
  return v;
}
const std::vector<Upload>& form_uploads() {
  static const auto v = uploads(false, "application/x-www-form-urlencoded", true);
  return v;
}
const std::vector<Upload>& octet_uploads() {  // no content decoder asked for: text only
  static const auto v = uploads(false, "application/octet-stream");
  return v;
}

std::shared_ptr<const DetectorDb> database() {
  static const auto db = DetectorDb::compile_builtins().value();
  return db;
}

struct CountSink : FindingSink {
  uint64_t n = 0;
  void on_finding(const Finding&) noexcept override { ++n; }
};

// What the pipeline's DecodedScan does, minus the flow bookkeeping: one scanner stream per path
// depth, settled after every segment, closed when its decoded stream ends.
class ScanDecoded final : public dec::DecodeSink {
 public:
  ScanDecoded(StreamPool& pool, Scratch& scratch, CountSink& out)
      : pool_(pool), scratch_(scratch), out_(out) {}
  void on_data(const dec::Path& where, std::span<const uint8_t> b) noexcept override {
    if (b.empty()) return;  // as DecodedScan: no stream is taken (and settled) for nothing
    Stream*& s = slots_[where.depth()];
    if (s == nullptr) s = pool_.acquire();
    if (s != nullptr) scan(*s, scratch_, b, out_);
    decoded += b.size();
  }
  void on_end(const dec::Path& where) noexcept override { end(slots_[where.depth()]); }
  void on_anomaly(dec::HttpAnomaly) noexcept override { ++anomalies; }
  void on_condition(dec::DecodeCondition, const dec::Path&) noexcept override { ++conditions; }
  void settle_all() noexcept {
    for (Stream* s : slots_)
      if (s != nullptr) settle(*s, scratch_, out_);
  }
  void close_all() noexcept {
    for (Stream*& s : slots_) end(s);
  }
  uint64_t decoded = 0, anomalies = 0, conditions = 0;

 private:
  void end(Stream*& s) noexcept {
    if (s == nullptr) return;
    close(*s, scratch_, out_);
    pool_.release(s);
    s = nullptr;
  }
  StreamPool& pool_;
  Scratch& scratch_;
  CountSink& out_;
  Stream* slots_[dec::Path::kMaxDepth + 1] = {};
};

struct Engine {
  std::shared_ptr<const DetectorDb> db = database();
  Scratch scratch = Scratch::create(db).value();
  std::unique_ptr<StreamPool> pool = StreamPool::create(db, 16).value();
  std::unique_ptr<dec::DecodeWorker> worker = dec::DecodeWorker::create({}).value();
  std::unique_ptr<dec::HttpFlowDecoder> flow = std::make_unique<dec::HttpFlowDecoder>();
  CountSink sink;
  Engine() { scratch.set_today(CivilDate{2025, 6, 1}); }
};

// One pass of the per-packet path over the uploads: each segment scanned raw (unless `raw_scan` is
// false: the decoding layer's own cost), then (if `decode`) decoded and the decoded streams
// scanned and settled, as dataplane/inspect_payload.cpp does. With `split` (a diagnostic) the same
// work not interleaved per segment: each upload's segments are all scanned raw first, then all
// decoded (decode-on costs more than this when the layer and the raw scan slow each other down,
// e.g. through the caches).
void one_pass(Engine& e, ScanDecoded& decoded, const std::vector<Upload>& ups, bool decode,
              bool raw_scan, bool split = false) {
  for (const auto& u : ups) {
    Stream* raw = e.pool->acquire();
    e.flow->reset();
    const auto* p = reinterpret_cast<const uint8_t*>(u.request.data());
    auto segments = [&](auto&& f) {
      for (size_t off = 0; off < u.request.size(); off += kSegment)
        f(std::span<const uint8_t>(p + off, std::min(kSegment, u.request.size() - off)));
    };
    auto decode_segment = [&](std::span<const uint8_t> seg) {
      e.flow->feed(dec::FlowSide::kClient, seg, *e.worker, decoded);
      decoded.settle_all();
    };
    segments([&](std::span<const uint8_t> seg) {
      if (raw_scan) {
        scan(*raw, e.scratch, seg, e.sink);
        settle(*raw, e.scratch, e.sink);
      }
      if (decode && !split) decode_segment(seg);
    });
    if (decode && split) segments(decode_segment);
    if (decode) e.flow->finish(dec::FlowSide::kClient, *e.worker, decoded);
    decoded.close_all();
    close(*raw, e.scratch, e.sink);
    e.pool->release(raw);
  }
}

void run_path(benchmark::State& state, const std::vector<Upload>& ups, bool decode,
              bool raw_scan = true) {
  Engine e;
  ScanDecoded decoded(*e.pool, e.scratch, e.sink);
  uint64_t json_bytes = 0, wire_bytes = 0;
  for (const auto& u : ups) json_bytes += u.json.size(), wire_bytes += u.request.size();
  for (auto _ : state) one_pass(e, decoded, ups, decode, raw_scan);
  e.flow->release();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json_bytes));
  state.counters["wire/json"] =
      benchmark::Counter(static_cast<double>(wire_bytes) / static_cast<double>(json_bytes));
  state.counters["decoded/json"] = benchmark::Counter(
      static_cast<double>(decoded.decoded) / state.iterations() / static_cast<double>(json_bytes));
  state.counters["findings/iter"] =
      benchmark::Counter(static_cast<double>(e.sink.n) / state.iterations());
  state.counters["conditions"] = benchmark::Counter(static_cast<double>(decoded.conditions));
}

double thread_cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

// The raw path and decode on in one process, pass after pass (rotating which goes first) on one
// Engine: the same scratch, scanner streams and memory. `paired_ratio` is the median over the
// iterations of raw ÷ decode-on thread CPU time of neighbouring passes, so load that changes
// between two separate benchmark runs (or where each run's Engine lands in memory) does not
// enter it; `raw_ms` / `on_ms` are the medians of each pass. `split_ratio`: raw ÷ the split
// pass (one_pass with `split`: the same work, raw scan and decoding of an upload one after the
// other, not per segment).
void run_paired(benchmark::State& state, const std::vector<Upload>& ups) {
  Engine e;
  ScanDecoded decoded(*e.pool, e.scratch, e.sink);
  std::vector<double> raw, on, ratio, split;
  unsigned first = 0;
  for (auto _ : state) {
    double t[3] = {};
    for (unsigned k = 0; k < 3; ++k) {
      const unsigned mode = (first + k) % 3;  // 0 raw, 1 decode on, 2 split
      const double t0 = thread_cpu_ns();
      one_pass(e, decoded, ups, mode != 0, true, mode == 2);
      t[mode] = thread_cpu_ns() - t0;
    }
    first = (first + 1) % 3;
    raw.push_back(t[0] / 1e6), on.push_back(t[1] / 1e6);
    ratio.push_back(t[0] / t[1]), split.push_back(t[0] / t[2]);
  }
  e.flow->release();
  auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  state.counters["raw_ms"] = benchmark::Counter(median(raw));
  state.counters["on_ms"] = benchmark::Counter(median(on));
  state.counters["paired_ratio"] = benchmark::Counter(median(ratio));
  state.counters["split_ratio"] = benchmark::Counter(median(split));
}

void BM_GzipJsonDecodeScan(benchmark::State& state) { run_path(state, gz_uploads(), true); }
void BM_CleanJsonDecodeOn(benchmark::State& state) { run_path(state, plain_uploads(), true); }
void BM_CleanJsonRawOnly(benchmark::State& state) { run_path(state, plain_uploads(), false); }
void BM_CleanOctetDecodeOn(benchmark::State& state) { run_path(state, octet_uploads(), true); }
void BM_CleanFormDecodeOn(benchmark::State& state) { run_path(state, form_uploads(), true); }
// The form bytes differ from the JSON ones ('.', '=', '&' for the JSON punctuation): their raw
// path is the form's own baseline.
void BM_CleanFormRawOnly(benchmark::State& state) { run_path(state, form_uploads(), false); }
// The layer alone (no raw scan): its cost over BM_CleanJsonRawOnly is what decoding adds, a
// measure less moved by other load than the ratio of two runs of ~16 ms.
void BM_CleanJsonLayerOnly(benchmark::State& state) {
  run_path(state, plain_uploads(), true, false);
}
void BM_CleanOctetLayerOnly(benchmark::State& state) {
  run_path(state, octet_uploads(), true, false);
}
void BM_CleanFormLayerOnly(benchmark::State& state) {
  run_path(state, form_uploads(), true, false);
}
void BM_PairedCleanJson(benchmark::State& state) { run_paired(state, plain_uploads()); }
void BM_PairedCleanOctet(benchmark::State& state) { run_paired(state, octet_uploads()); }
void BM_PairedCleanForm(benchmark::State& state) { run_paired(state, form_uploads()); }

int noop(unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
  ++*static_cast<uint64_t*>(ctx);
  return 0;
}

// `zcat | raw Hyperscan`: streaming inflate of the same gzip bodies (fed in segment-sized pieces)
// and hs_scan_stream over the output with the same database, no validation, no-op callback.
void BM_ZcatRawHyperscan(benchmark::State& state) {
  const auto& ups = gz_uploads();
  auto db = database();
  hs_scratch_t* scratch = nullptr;
  hs_alloc_scratch(db->hs(), &scratch);
  hs_stream_t* stream = nullptr;
  hs_open_stream(db->hs(), 0, &stream);
  std::vector<uint8_t> out(16384);
  uint64_t matches = 0, json_bytes = 0;
  for (const auto& u : ups) json_bytes += u.json.size();
  for (auto _ : state) {
    for (const auto& u : ups) {
      z_stream z{};
      inflateInit2(&z, 15 + 16);
      for (size_t off = 0; off < u.body.size(); off += kSegment) {
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(u.body.data() + off));
        z.avail_in = static_cast<uInt>(std::min(kSegment, u.body.size() - off));
        do {
          z.next_out = out.data();
          z.avail_out = static_cast<uInt>(out.size());
          inflate(&z, Z_NO_FLUSH);
          const unsigned n = static_cast<unsigned>(out.size() - z.avail_out);
          if (n > 0)
            hs_scan_stream(stream, reinterpret_cast<const char*>(out.data()), n, 0, scratch, noop,
                           &matches);
        } while (z.avail_out == 0);
      }
      inflateEnd(&z);
      hs_reset_stream(stream, 0, scratch, noop, &matches);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json_bytes));
  hs_close_stream(stream, nullptr, nullptr, nullptr);
  hs_free_scratch(scratch);
}

// Memory of inspected flows whose decoders are all active at once: 256 flows, each stopped in
// the middle of its gzip'd body (its zlib stream live); reports the worker arena bytes per flow
// (zlib state + 32 KiB window, rounded up by the buddy arena) next to the fixed per-flow objects.
void BM_MemoryPerFlow(benchmark::State& state) {
  constexpr size_t kFlows = 256;
  const auto& ups = gz_uploads();
  Engine e;
  ScanDecoded decoded(*e.pool, e.scratch, e.sink);
  double arena_per_flow = 0, peak = 0;
  for (auto _ : state) {
    std::vector<std::unique_ptr<dec::HttpFlowDecoder>> flows;
    for (size_t i = 0; i < kFlows; ++i) {
      flows.push_back(std::make_unique<dec::HttpFlowDecoder>());
      const auto& r = ups[i % ups.size()].request;
      const size_t half = r.size() / 2;  // inside the body: its decoder is live
      flows.back()->feed(dec::FlowSide::kClient, {reinterpret_cast<const uint8_t*>(r.data()), half},
                         *e.worker, decoded);
      decoded.close_all();
    }
    arena_per_flow = static_cast<double>(e.worker->arena().in_use()) / kFlows;
    peak = static_cast<double>(e.worker->arena().peak());
    for (auto& f : flows) f->release();
  }
  state.counters["arena_B/flow"] = benchmark::Counter(arena_per_flow);
  state.counters["arena_peak_MiB"] = benchmark::Counter(peak / (1 << 20));
  state.counters["InspectCtx_B"] = benchmark::Counter(sizeof(dc::dataplane::InspectCtx));
  state.counters["HttpFlowDecoder_B"] = benchmark::Counter(sizeof(dec::HttpFlowDecoder));
  state.counters["scan_stream_B"] =
      benchmark::Counter(static_cast<double>(e.pool->bytes_per_stream()));
}

std::string brotli(const std::string& in, int lgwin) {
  std::string out(BrotliEncoderMaxCompressedSize(in.size()), '\0');
  size_t n = out.size();
  BrotliEncoderCompress(5, lgwin, BROTLI_MODE_TEXT, in.size(),
                        reinterpret_cast<const uint8_t*>(in.data()), &n,
                        reinterpret_cast<uint8_t*>(out.data()));
  out.resize(n);
  return out;
}

// Memory of a Brotli layer per inspected flow: 32 flows, each stopped in the middle of a
// br-coded JSON body of 1 MiB (window 2^lgwin, the encoder's choice), arena bytes per flow.
void BM_BrotliMemoryPerFlow(benchmark::State& state) {
  constexpr size_t kFlows = 32;
  const int lgwin = static_cast<int>(state.range(0));
  std::string json;
  for (uint32_t i = 0; json.size() < (1u << 20); ++i) json += records(kBodyBytes, 7000 + i);
  const std::string body = brotli(json, lgwin);
  const std::string req =
      "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
      "Content-Encoding: br\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  Engine e;
  ScanDecoded decoded(*e.pool, e.scratch, e.sink);
  double per_flow = 0;
  for (auto _ : state) {
    std::vector<std::unique_ptr<dec::HttpFlowDecoder>> flows;
    for (size_t i = 0; i < kFlows; ++i) {
      flows.push_back(std::make_unique<dec::HttpFlowDecoder>());
      flows.back()->feed(dec::FlowSide::kClient,
                         {reinterpret_cast<const uint8_t*>(req.data()), req.size() / 2}, *e.worker,
                         decoded);
      decoded.close_all();
    }
    per_flow = static_cast<double>(e.worker->arena().in_use()) / kFlows;
    for (auto& f : flows) f->release();
  }
  state.counters["arena_B/flow"] = benchmark::Counter(per_flow);
  state.counters["conditions"] = benchmark::Counter(static_cast<double>(decoded.conditions));
}

BENCHMARK(BM_GzipJsonDecodeScan)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ZcatRawHyperscan)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CleanJsonRawOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CleanJsonDecodeOn)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CleanOctetDecodeOn)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CleanFormDecodeOn)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CleanFormRawOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CleanJsonLayerOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CleanOctetLayerOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CleanFormLayerOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PairedCleanJson)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PairedCleanOctet)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PairedCleanForm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MemoryPerFlow)->Iterations(1);
BENCHMARK(BM_BrotliMemoryPerFlow)->Arg(16)->Arg(19)->Arg(22)->Arg(24)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
