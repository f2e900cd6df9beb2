// Minimal scanner for tests/bench/run: the TCP payload bytes of a capture, per flow in capture
// order, through raw hs_scan_stream (no-op callback) and through our streaming scanner, with the
// detector database the policy compiles (the same one `replay`/`run` scan with).
//
//   bench_raw_scan --policy FILE CAPTURE [--min-seconds S]
// Prints one JSON line: payload_bytes, segments, flows, raw_gbps, scanner_gbps, hs_matches.
#include <pcap/pcap.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "inspect/detect/detectors.hpp"
#include "inspect/detect/scanner.hpp"
#include "inspect/packet/decode.hpp"
#include "policy/policy.hpp"

namespace {

using namespace dc::inspect;
// Process CPU time, as `replay --timing` reports it (on a shared machine wall time mostly
// measures the other tenants).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Payload segments of one flow (client to server; the captures send data one way).
struct FlowBytes {
  std::vector<std::string> segments;
};

bool load_flows(const char* path, std::vector<FlowBytes>& flows, uint64_t& bytes) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pc = pcap_open_offline(path, err);
  if (pc == nullptr) {
    std::fprintf(stderr, "bench_raw_scan: %s: %s\n", path, err);
    return false;
  }
  std::map<std::tuple<std::string, std::string, uint16_t, uint16_t>, size_t> index;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(pc, &h, &data) == 1) {
    Decoded d;
    if (decode(std::span<const uint8_t>(data, h->caplen), d) != DecodeStatus::kOk) continue;
    if (d.proto != kProtoTcp || d.payload_len == 0) continue;
    auto key = std::make_tuple(std::string(reinterpret_cast<const char*>(d.src.bytes.data()), 16),
                               std::string(reinterpret_cast<const char*>(d.dst.bytes.data()), 16),
                               d.sport, d.dport);
    auto [it, fresh] = index.emplace(key, flows.size());
    if (fresh) flows.emplace_back();
    flows[it->second].segments.emplace_back(reinterpret_cast<const char*>(data) + d.payload_offset,
                                            d.payload_len);
    bytes += d.payload_len;
  }
  pcap_close(pc);
  return true;
}

int count_match(unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
  ++*static_cast<uint64_t*>(ctx);
  return 0;
}

struct CountSink : FindingSink {
  uint64_t n = 0;
  void on_finding(const Finding&) noexcept override { ++n; }
};

// One pass of raw Hyperscan over every flow; returns the matches.
uint64_t raw_pass(const DetectorDb& db, hs_scratch_t* scratch,
                  const std::vector<FlowBytes>& flows) {
  uint64_t matches = 0;
  for (const auto& f : flows) {
    hs_stream_t* s = nullptr;
    if (hs_open_stream(db.hs(), 0, &s) != HS_SUCCESS) return matches;
    for (const auto& seg : f.segments)
      hs_scan_stream(s, seg.data(), static_cast<unsigned>(seg.size()), 0, scratch, count_match,
                     &matches);
    hs_close_stream(s, scratch, count_match, &matches);
  }
  return matches;
}

// One pass of our scanner (extraction, validators, proximity) over every flow.
void scanner_pass(StreamPool& pool, Scratch& scratch, const std::vector<FlowBytes>& flows,
                  CountSink& sink) {
  for (const auto& f : flows) {
    Stream* s = pool.acquire();
    if (s == nullptr) return;
    for (const auto& seg : f.segments)
      scan(*s, scratch,
           std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(seg.data()), seg.size()),
           sink);
    close(*s, scratch, sink);
    pool.release(s);
  }
}

// Repeats `pass` until min_seconds of CPU time went by; returns Gbps of payload.
template <class Pass>
double timed(double min_seconds, uint64_t bytes, Pass&& pass) {
  pass();  // warm caches and scratch
  uint64_t reps = 0;
  const double t0 = cpu_seconds();
  double secs = 0;
  do {
    pass();
    ++reps;
    secs = cpu_seconds() - t0;
  } while (secs < min_seconds);
  return static_cast<double>(bytes) * 8.0 * static_cast<double>(reps) / secs / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  std::string policy_path, capture;
  double min_seconds = 1.0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--policy" && i + 1 < argc)
      policy_path = argv[++i];
    else if (a == "--min-seconds" && i + 1 < argc)
      min_seconds = std::atof(argv[++i]);
    else
      capture = a;
  }
  if (policy_path.empty() || capture.empty()) {
    std::fprintf(stderr, "usage: bench_raw_scan --policy FILE CAPTURE [--min-seconds S]\n");
    return 2;
  }
  dc::policy::Diagnostics diags(policy_path);
  auto snap = dc::policy::load_policy_file(policy_path, diags);
  if (!snap || snap.value() == nullptr || snap.value()->detector_db() == nullptr) {
    std::fprintf(stderr, "bench_raw_scan: policy %s has no detector database\n",
                 policy_path.c_str());
    return 2;
  }
  std::shared_ptr<const DetectorDb> db = snap.value()->detector_db();
  std::vector<FlowBytes> flows;
  uint64_t bytes = 0, segments = 0;
  if (!load_flows(capture.c_str(), flows, bytes) || bytes == 0) return 2;
  for (const auto& f : flows) segments += f.segments.size();
  hs_scratch_t* hs_scratch = nullptr;
  if (hs_alloc_scratch(db->hs(), &hs_scratch) != HS_SUCCESS) return 2;
  uint64_t matches = 0;
  const double raw = timed(min_seconds, bytes, [&] { matches = raw_pass(*db, hs_scratch, flows); });
  hs_free_scratch(hs_scratch);
  auto scratch = Scratch::create(db);
  auto pool = StreamPool::create(db, 4);
  if (!scratch || !pool) return 2;
  scratch.value().set_today(CivilDate{2026, 6, 15});
  CountSink sink;
  const double ours =
      timed(min_seconds, bytes, [&] { scanner_pass(*pool.value(), scratch.value(), flows, sink); });
  std::printf(
      "{\"payload_bytes\":%llu,\"segments\":%llu,\"flows\":%zu,\"raw_gbps\":%.3f,"
      "\"scanner_gbps\":%.3f,\"hs_matches\":%llu}\n",
      static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(segments),
      flows.size(), raw, ours, static_cast<unsigned long long>(matches));
  return 0;
}
