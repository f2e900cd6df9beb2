// Memory per flow for tests/bench/run: what one more idle flow and one more inspected flow cost,
// measured as the difference between two sizes of the same structures (so fixed costs cancel).
//
//   bench_flow_memory --policy FILE
// Idle flow: FlowTable slots + rte_hash entries (DPDK heap). Inspected flow: a Pipeline's
// inspection state (InspectPool contexts, scanner streams; malloc heap and DPDK heap).
// Prints one JSON line: bytes_per_idle_flow, bytes_per_inspected_flow, sizeof_flow,
// sizeof_flow_cold, sizeof_inspect_ctx.
#include <malloc.h>
#include <rte_malloc.h>

#include <cstdio>
#include <string>

#include "dataplane/flow_table.hpp"
#include "dataplane/inspect_pool.hpp"
#include "dataplane/pipeline.hpp"
#include "dataplane/runtime.hpp"
#include "policy/policy.hpp"

namespace {

using namespace dc;

// Bytes in use: the malloc heap plus the DPDK heap of socket 0.
double heap_bytes() {
  rte_malloc_socket_stats s{};
  rte_malloc_get_socket_stats(0, &s);
  struct mallinfo2 mi = mallinfo2();
  return static_cast<double>(s.heap_allocsz_bytes) + static_cast<double>(mi.uordblks) +
         static_cast<double>(mi.hblkhd);
}

double table_bytes(uint32_t capacity) {
  static int n = 0;
  const std::string name = "bench_flows_" + std::to_string(++n);
  const double before = heap_bytes();
  auto t = dataplane::FlowTable::create(name.c_str(), capacity, {}, 0);
  if (!t) return -1;
  return heap_bytes() - before;
}

double pipeline_bytes(const policy::Snapshot& snap, uint32_t inspect_flows) {
  static int n = 0;
  const std::string name = "bench_pflows_" + std::to_string(++n);
  auto t = dataplane::FlowTable::create(name.c_str(), 64, {}, 0);
  if (!t) return -1;
  dataplane::WorkerCounters counters{};
  dataplane::PipelineSettings settings;
  settings.policy = &snap;
  settings.inspect_flows = inspect_flows;
  const double before = heap_bytes();
  auto p = dataplane::Pipeline::create(0, *t.value(), settings, counters, nullptr);
  if (!p) return -1;
  return heap_bytes() - before;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--policy") {
    std::fprintf(stderr, "usage: bench_flow_memory --policy FILE\n");
    return 2;
  }
  policy::Diagnostics diags(argv[2]);
  auto snap = policy::load_policy_file(argv[2], diags);
  if (!snap || snap.value() == nullptr) return 2;
  if (!dataplane::eal_init({"--no-huge", "--no-pci", "--no-shconf", "-m", "512", "-l", "0",
                            "--log-level=lib.eal:error"})) {
    std::fprintf(stderr, "bench_flow_memory: EAL init failed\n");
    return 2;
  }
  constexpr uint32_t kSmall = 16384, kLarge = 262144;
  const double idle = (table_bytes(kLarge) - table_bytes(kSmall)) / (kLarge - kSmall);
  constexpr uint32_t kFewInspected = 256, kManyInspected = 2304;
  const double inspected = (pipeline_bytes(*snap.value(), kManyInspected) -
                            pipeline_bytes(*snap.value(), kFewInspected)) /
                           (kManyInspected - kFewInspected);
  std::printf(
      "{\"bytes_per_idle_flow\":%.0f,\"bytes_per_inspected_flow\":%.0f,\"sizeof_flow\":%zu,"
      "\"sizeof_flow_cold\":%zu,\"sizeof_inspect_ctx\":%zu}\n",
      idle, inspected, sizeof(dataplane::Flow), sizeof(dataplane::FlowCold),
      sizeof(dataplane::InspectCtx));
  dataplane::eal_cleanup();
  return 0;
}
