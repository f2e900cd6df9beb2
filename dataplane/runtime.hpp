#pragma once
// The live dataplane: EAL, mempool, ports and queues, one run-to-completion worker per lcore.
//
// Threads: create()/start()/stop()/grace_*() are called by the control thread (main lcore);
// counters()/flow_stats() by any thread (relaxed atomic reads). Workers run
// Dataplane::worker_main on their lcores and touch only their own WorkerState.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/flow_snapshot.hpp"
#include "dataplane/flow_table.hpp"
#include "dataplane/pipeline.hpp"

struct rte_mempool;
struct rte_rcu_qsbr;

namespace dc::dataplane {

// Initialises DPDK's EAL once per process. `args` excludes the program name.
Result<void> eal_init(const std::vector<std::string>& args);
void eal_cleanup();

// EAL for the lifetime of one object: initialised by open(), cleaned up by the destructor, so a
// caller writes its teardown once. Everything living in EAL memory (mempools, rings, ports) must
// be destroyed before the session: declare the session first.
class EalSession {
 public:
  static Result<std::unique_ptr<EalSession>> open(const std::vector<std::string>& args);
  ~EalSession() { eal_cleanup(); }
  EalSession(const EalSession&) = delete;
  EalSession& operator=(const EalSession&) = delete;

 private:
  EalSession() = default;
};

struct PortSpec {
  std::string name;    // operator's name
  std::string device;  // vdev string or PCI address
  std::string zone_name;
  uint16_t zone = kNoZone;
  uint16_t peer = 0;       // index of the paired port
  bool fcs_strip = false;  // frames carry their FCS: check and strip it (appliance.toml `fcs`)
  bool pass_arp = false, pass_nd = false;  // ARP / IPv6 ND pass-through (its pair's options)
};

struct DataplaneConfig {
  std::vector<PortSpec> ports;
  std::vector<unsigned> worker_lcores;
  uint32_t mbufs = 8191;
  uint32_t mbuf_cache = 256;
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  uint16_t burst = 32;
  uint32_t flow_capacity = 65536;
  FlowTimeouts timeouts{};
  PipelineSettings pipeline{};
  // Where each worker's flow records go (index = worker); empty or nullptr: not recorded.
  std::vector<FlowEventSink*> sinks;
};

struct PortInfo {
  std::string name;
  std::string driver;
  uint16_t port_id = 0;
  uint16_t queues = 1;
  bool rss = false;
};

// EAL argument for a device: "--vdev=<dev>" for virtual devices, "-a <pci>" for PCI addresses.
std::vector<std::string> eal_device_args(const std::string& device);

class Dataplane {
 public:
  // EAL must be initialised; the devices must have been passed to EAL (eal_device_args).
  static Result<std::unique_ptr<Dataplane>> create(const DataplaneConfig& config);
  ~Dataplane();

  Result<void> start();
  void stop() noexcept;  // signals the workers and waits for them
  bool running() const noexcept { return running_; }

  // Grace periods (DPDK rte_rcu_qsbr): every running worker reports a quiescent state once per
  // loop turn, after adopting the newest policy generation. A generation superseded before
  // grace_start() is out of every worker's hands (except through its flows) once
  // grace_over(token) is true. Stopped workers are offline and never delay it.
  uint64_t grace_start() noexcept;
  bool grace_over(uint64_t token) noexcept;

  // Sums of all workers' counters (any thread, while running: relaxed reads, never torn).
  WorkerCounters counters() const noexcept;
  std::vector<WorkerCounters> worker_counters() const;
  FlowTableStats flow_stats() const noexcept;
  uint64_t total_rx() const noexcept;
  // The `top` largest live flows by bytes over all workers (dataplane/flow_snapshot.hpp): each
  // worker sweeps its own table in bounded steps between bursts; this waits (control side, any
  // thread; callers are serialised) up to `timeout_ms` for all of them. Error: not running, or
  // a worker did not answer in time.
  Result<std::vector<FlowBrief>> top_flows(uint32_t top, int timeout_ms);
  const std::vector<PortInfo>& ports() const noexcept { return ports_; }
  unsigned workers() const noexcept { return static_cast<unsigned>(workers_.size()); }

  struct WorkerState;  // opaque, per lcore

 private:
  Dataplane() = default;
  static int worker_main(void* arg);
  void transmit(WorkerState& ws, uint16_t port, BurstOutput& out) noexcept;
  Result<uint16_t> resolve_ports();
  Result<void> set_up_grace_periods();
  Result<void> start_ports(uint16_t queues);
  Result<void> create_workers();
  DataplaneConfig config_;
  std::vector<PortInfo> ports_;
  std::vector<std::unique_ptr<WorkerState>> workers_;
  rte_mempool* pool_ = nullptr;
  rte_rcu_qsbr* qsbr_ = nullptr;  // one reader thread id per worker (its index)
  std::atomic<bool> stop_{false};
  bool running_ = false;
  bool ports_started_ = false;
  std::mutex top_flows_mu_;
};

}  // namespace dc::dataplane
