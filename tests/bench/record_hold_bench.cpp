// The cost of record before release: how long a border flow's first payload waits for its
// flow_open record (one group commit: append the batch, fdatasync) and how many flow_open
// records per second the writer commits, by batch size, on the real file system of the log
// directory (DC_BENCH_DIR, default /var/tmp). Run by hand:
//   build/tests/bench/record_hold_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "audit/log_writer.hpp"
#include "audit/record.hpp"

namespace {

using dc::audit::AppendStatus;
using dc::audit::LogWriter;
using dc::audit::RecordType;

nlohmann::ordered_json open_body(uint64_t id) {
  dc::audit::FlowRecord f;
  f.flow_id = id;
  f.src_ip = "10.1.0.11";
  f.src_port = static_cast<uint16_t>(40000 + id % 20000);
  f.dest_ip = "198.51.100.20";
  f.dest_port = 8443;
  f.proto = "TCP";
  f.src_zone = "domestic";
  f.dest_zone = "crossborder";
  f.counterparty = "sg-analytics";
  f.legal_basis = "standard_contract";
  f.legal_basis_ref = "SC-2026-0001";
  f.policy_sha256 = std::string(64, 'a');
  return dc::audit::flow_open_body(f);
}

// One iteration = one group commit of state.range(0) flow_open records: the wait of the first
// payload of every flow in the batch.
void BM_GroupCommit(benchmark::State& state) {
  const char* base = std::getenv("DC_BENCH_DIR");
  std::filesystem::path dir = std::filesystem::path(base ? base : "/var/tmp") /
                              ("dc-hold-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  dc::audit::WriterOptions o;
  o.dir = dir.string();
  o.clock = [] {
    return dc::audit::TimePoint(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch()));
  };
  o.fsync_interval = std::chrono::milliseconds(0);
  auto key = dc::audit::SigningKey::generate();
  auto w = LogWriter::open(std::move(o), std::move(key.value()));
  if (!w) {
    state.SkipWithError(w.error().message.c_str());
    return;
  }
  uint64_t id = 0;
  const auto batch = state.range(0);
  for (auto _ : state) {
    for (int64_t i = 0; i < batch; ++i)
      if ((*w)->append_flow(RecordType::kFlowOpen, open_body(++id)) != AppendStatus::kWritten)
        state.SkipWithError("append failed");
    (*w)->sync();
    if ((*w)->durable_seq() != (*w)->last_seq()) state.SkipWithError("not durable");
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["opens_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
  (void)(*w)->close();
  w->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_GroupCommit)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
