// The cost of record before release: how long a border flow's first payload waits for its
// flow_open record (one group commit: append the batch, fdatasync) and how many flow_open
// records per second the writer commits, by batch size, on the real file system of the log
// directory (DC_BENCH_DIR, default /var/tmp); and the audit writer thread's own cost per flow
// (BM_WriterDrain: flow_open, 32 evidence copies and the final flow record of border flows, with
// the fsyncs inline or on the commit thread). Run by hand:
//   build/tests/bench/record_hold_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "audit/log_writer.hpp"
#include "audit/record.hpp"
#include "audit/writer_thread.hpp"
#include "policy/policy.hpp"

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

std::filesystem::path bench_dir(const char* tag) {
  const char* base = std::getenv("DC_BENCH_DIR");
  return std::filesystem::path(base ? base : "/var/tmp") /
         (std::string(tag) + std::to_string(::getpid()));
}

dc::audit::WriterOptions bench_options(const std::filesystem::path& dir, bool background) {
  dc::audit::WriterOptions o;
  o.dir = dir.string();
  o.clock = [] {
    return dc::audit::TimePoint(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch()));
  };
  o.background_sync = background;
  return o;
}

// What the workers queue for one allowed border flow: its flow_open, 32 evidence copies of
// 512-byte frames, its final flow record (evidence dropped: not blocked).
class FlowSource final : public dc::audit::OutcomeSource {
 public:
  explicit FlowSource(const dc::policy::Snapshot* snap) : snap_(snap), frame_(512, 0x5a) {}
  void add_flows(uint64_t n) { flows_ += n; }
  uint32_t acked = 0;
  unsigned drain(dc::audit::OutcomeConsumer& c, unsigned max) override {
    unsigned n = 0;
    for (; n < max && next_ < flows_; ++n) {
      const uint64_t id = ++next_;
      dc::audit::FlowOutcome o = outcome(id);
      o.kind = dc::audit::OutcomeKind::kOpen;
      o.ticket = static_cast<uint32_t>(id);
      c.on_outcome(o);
      for (int i = 0; i < 32; ++i) c.on_evidence(id, o.time_ns + i, frame_);
      o.kind = dc::audit::OutcomeKind::kFinal;
      o.verdict = dc::audit::OutcomeVerdict::kAllow;
      o.ended = true;
      c.on_outcome(o);
      n += 33;
    }
    return n;
  }
  void set_writer_healthy(bool) noexcept override {}
  uint64_t lost_outcomes() const noexcept override { return 0; }
  uint64_t lost_evidence() const noexcept override { return 0; }
  void set_durable(uint16_t, uint32_t ticket) noexcept override { acked = ticket; }
  uint64_t flows() const { return flows_; }

 private:
  dc::audit::FlowOutcome outcome(uint64_t id) const {
    dc::audit::FlowOutcome o;
    o.flow_id = id;
    o.time_ns = 1767225600LL * 1'000'000'000 + static_cast<int64_t>(id) * 1000;
    o.initiator.src = dc::inspect::IpAddr::from_v4(0x0A010005);
    o.initiator.dst = dc::inspect::IpAddr::from_v4(0xC6336414);
    o.initiator.sport = static_cast<uint16_t>(1024 + id % 60000);
    o.initiator.dport = 8443;
    o.initiator.proto = 17;
    o.dir[0] = {40, 20480};
    o.policy = snap_;
    o.adm.border = true;
    return o;
  }
  const dc::policy::Snapshot* snap_;
  std::vector<uint8_t> frame_;
  uint64_t flows_ = 0, next_ = 0;
};

// One iteration = 64 border flows through WriterThread::drain_once() (their flow_open records
// committed, as the appliance's writer does); the CPU column is the writer's own thread. Arg:
// 1 = fsyncs on the commit thread, 0 = inline.
void BM_WriterDrain(benchmark::State& state) {
  dc::policy::Diagnostics d("ftz-demo.toml");
  auto snap = dc::policy::load_policy_file(DC_SOURCE_DIR "/examples/policy/ftz-demo.toml", d);
  if (!snap || !snap.value()) {
    state.SkipWithError("cannot load examples/policy/ftz-demo.toml");
    return;
  }
  const auto dir = bench_dir("dc-writer-bench-");
  std::filesystem::remove_all(dir);
  auto key = dc::audit::SigningKey::generate();
  auto w = LogWriter::open(bench_options(dir, state.range(0) != 0), std::move(key.value()));
  if (!w) {
    state.SkipWithError(w.error().message.c_str());
    return;
  }
  FlowSource src(snap.value().get());
  dc::audit::WriterThread t(src, std::move(w.value()), nullptr, "bench-hmac-key-0123456789", 32);
  for (auto _ : state) {
    src.add_flows(64);
    while (t.drain_once() > 0) {
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (src.acked < src.flows() && std::chrono::steady_clock::now() < deadline) t.drain_once();
  state.SetItemsProcessed(state.iterations() * 64);
  state.counters["records_per_flow"] = 2;
  state.counters["fsyncs"] = static_cast<double>(t.stats().group_commits);
  (void)t.stop({});
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_WriterDrain)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
