// Inspection ratio (performance.md): our streaming scanner (Hyperscan + extraction + validators +
// proximity) vs a raw hs_scan_stream loop over the same bytes with the same compiled database and
// a no-op callback, on realistic JSON records cut into 1460-byte TCP segments.
//
//   scanner_bench --benchmark_min_time=1
// Compare bytes_per_second of BM_Scanner/<payload> with BM_RawHyperscan/<payload>.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "inspect/detect/detectors.hpp"
#include "inspect/detect/scanner.hpp"

namespace {

using namespace dc::inspect;

constexpr size_t kSegment = 1460;  // TCP MSS on a 1500-byte Ethernet MTU
constexpr size_t kFlowBytes = 64 * 1024;
constexpr size_t kTotalBytes = 4 * 1024 * 1024;

// Deterministic synthetic records (seeded PRNG): some carry a resident ID, a mobile, a UnionPay
// card, an e-mail; the rest are ordinary order/log fields with long numbers that must NOT match.
std::string make_payload(int sensitive_percent) {
  std::mt19937 rng(20240501);
  auto digits = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += static_cast<char>('0' + rng() % 10);
    return s;
  };
  auto id = [&] {
    static const char* kRegions[] = {"110105", "310104", "440305", "340202", "510104", "330106"};
    std::string s = kRegions[rng() % 6];
    s += std::to_string(1950 + rng() % 60);
    char md[5];
    std::snprintf(md, sizeof md, "%02u%02u", static_cast<unsigned>(1 + rng() % 12),
                  static_cast<unsigned>(1 + rng() % 28));
    s += md;
    s += digits(3);
    s += gb11643_check_char(as_bytes(s + "0"));
    return s;
  };
  auto card = [&] {
    std::string s = "622202" + digits(12);
    // Luhn check digit for 19 digits.
    for (char c = '0'; c <= '9'; ++c)
      if (luhn_valid(as_bytes(s + c))) return s + c;
    return s + "0";
  };
  std::string out;
  out.reserve(kTotalBytes + 1024);
  out += "[";
  for (int n = 0; out.size() < kTotalBytes; ++n) {
    const bool hit = static_cast<int>(rng() % 100) < sensitive_percent;
    out += "{\"seq\":" + std::to_string(n) + ",\"orderId\":\"" + digits(19) +
           "\",\"ts\":" + std::to_string(1700000000000ull + rng() % 100000000) + ",\"sku\":\"SKU-" +
           digits(8) + "\",\"price\":\"" + std::to_string(rng() % 10000) +
           ".00\",\"remark\":\"deliver between 9:00 and 18:00, leave at the front desk\"";
    if (hit) {
      out += ",\"name\":\"张三\",\"idCard\":\"" + id() + "\",\"mobile\":\"13" + digits(9) +
             "\",\"cardNo\":\"" + card() + "\",\"email\":\"user" + std::to_string(n) +
             "@example.com.cn\"";
    }
    out += "},\n";
  }
  out += "{}]";
  return out;
}

const std::string& payload(int pct) {
  static const std::string p0 = make_payload(0), p10 = make_payload(10), p50 = make_payload(50);
  return pct == 0 ? p0 : pct == 10 ? p10 : p50;
}

std::shared_ptr<const DetectorDb> database() {
  static const auto db = DetectorDb::compile_builtins().value();
  return db;
}

struct CountSink : FindingSink {
  uint64_t n = 0;
  void on_finding(const Finding&) noexcept override { ++n; }
};

int noop(unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
  ++*static_cast<uint64_t*>(ctx);
  return 0;
}

void BM_RawHyperscan(benchmark::State& state) {
  const std::string& p = payload(static_cast<int>(state.range(0)));
  auto db = database();
  hs_scratch_t* scratch = nullptr;
  hs_alloc_scratch(db->hs(), &scratch);
  hs_stream_t* stream = nullptr;
  hs_open_stream(db->hs(), 0, &stream);
  uint64_t matches = 0;
  for (auto _ : state) {
    for (size_t flow = 0; flow < p.size(); flow += kFlowBytes) {
      const size_t end = std::min(p.size(), flow + kFlowBytes);
      for (size_t off = flow; off < end; off += kSegment)
        hs_scan_stream(stream, p.data() + off, static_cast<unsigned>(std::min(kSegment, end - off)),
                       0, scratch, noop, &matches);
      hs_reset_stream(stream, 0, scratch, noop, &matches);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * p.size()));
  state.counters["hs_matches/iter"] =
      benchmark::Counter(static_cast<double>(matches) / state.iterations());
  hs_close_stream(stream, nullptr, nullptr, nullptr);
  hs_free_scratch(scratch);
}

void BM_Scanner(benchmark::State& state) {
  const std::string& p = payload(static_cast<int>(state.range(0)));
  auto db = database();
  auto scratch = Scratch::create(db).value();
  scratch.set_today(CivilDate{2025, 6, 1});
  auto pool = StreamPool::create(db, 4).value();
  CountSink sink;
  for (auto _ : state) {
    for (size_t flow = 0; flow < p.size(); flow += kFlowBytes) {
      const size_t end = std::min(p.size(), flow + kFlowBytes);
      Stream* s = pool->acquire();
      for (size_t off = flow; off < end; off += kSegment)
        scan(*s, scratch,
             std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(p.data()) + off,
                                      std::min(kSegment, end - off)),
             sink);
      close(*s, scratch, sink);
      pool->release(s);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * p.size()));
  state.counters["findings/iter"] =
      benchmark::Counter(static_cast<double>(sink.n) / state.iterations());
  state.counters["stream_bytes"] =
      benchmark::Counter(static_cast<double>(pool->bytes_per_stream()));
}

// Argument: percentage of records carrying sensitive fields.
BENCHMARK(BM_RawHyperscan)->Arg(0)->Arg(10)->Arg(50)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Scanner)->Arg(0)->Arg(10)->Arg(50)->Unit(benchmark::kMillisecond);

// Prints the inspection ratio (ours / raw Hyperscan, same payload, same run) after the table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      auto it = r.counters.find("bytes_per_second");
      if (it == r.counters.end()) continue;
      std::string name = r.run_name.function_name;  // BM_Scanner / BM_RawHyperscan
      rate_[name + "/" + r.run_name.args] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    for (const char* arg : {"0", "10", "50"}) {
      auto ours = rate_.find(std::string("BM_Scanner/") + arg);
      auto raw = rate_.find(std::string("BM_RawHyperscan/") + arg);
      if (ours == rate_.end() || raw == rate_.end() || raw->second <= 0) continue;
      std::printf("inspection ratio, %s%% sensitive records: %.1f MB/s / %.1f MB/s = %.2f\n", arg,
                  ours->second / 1e6, raw->second / 1e6, ours->second / raw->second);
    }
  }

 private:
  std::map<std::string, double> rate_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
