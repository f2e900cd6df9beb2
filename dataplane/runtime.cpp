// The live dataplane: EAL session, ports and queues, worker lcores, grace periods.
#include "dataplane/runtime.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace dc::dataplane {

namespace {

std::string errstr(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

bool looks_like_pci(const std::string& dev) {
  // DDDD:BB:DD.F or BB:DD.F
  unsigned a, b, c, d;
  return std::sscanf(dev.c_str(), "%x:%x:%x.%x", &a, &b, &c, &d) == 4 ||
         std::sscanf(dev.c_str(), "%x:%x.%x", &a, &b, &c) == 3;
}

std::string device_name(const std::string& device) { return device.substr(0, device.find(',')); }

// Time source. The engine never reads the wall clock per packet: a live packet's time is the TSC
// converted against a wall-clock base taken once at start-up by the control thread. (NIC RX
// timestamps are in device clock units, not epoch time, so they are not used.) Offline replay
// uses the capture's own timestamps instead (appliance/replay).
struct Clock {
  int64_t base_ns = 0;
  uint64_t tsc0 = 0;
  double ns_per_tsc = 1.0;

  void init() {
    base_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    tsc0 = rte_get_tsc_cycles();
    ns_per_tsc = 1e9 / static_cast<double>(rte_get_tsc_hz());
  }
  int64_t now() const noexcept {
    return base_ns +
           static_cast<int64_t>(static_cast<double>(rte_get_tsc_cycles() - tsc0) * ns_per_tsc);
  }
};

}  // namespace

Result<void> eal_init(const std::vector<std::string>& args) {
  // EAL keeps pointers into argv; keep the strings alive for the process lifetime.
  static std::vector<std::string> storage;
  static std::vector<char*> argv;
  storage.clear();
  storage.push_back("datacustoms");
  storage.insert(storage.end(), args.begin(), args.end());
  argv.clear();
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  int rc = rte_eal_init(static_cast<int>(storage.size()), argv.data());
  if (rc < 0)
    return make_error(std::string("EAL initialisation failed: ") + rte_strerror(rte_errno));
  return {};
}

void eal_cleanup() { rte_eal_cleanup(); }

Result<std::unique_ptr<EalSession>> EalSession::open(const std::vector<std::string>& args) {
  if (auto r = eal_init(args); !r) return r.error();
  return std::unique_ptr<EalSession>(new EalSession());
}

std::vector<std::string> eal_device_args(const std::string& device) {
  if (looks_like_pci(device)) return {"-a", device};
  return {"--vdev=" + device};
}

struct Dataplane::WorkerState {
  Dataplane* dp = nullptr;
  unsigned lcore = 0;
  uint16_t index = 0;
  std::unique_ptr<FlowTable> flows;
  WorkerCounters counters{};
  std::unique_ptr<Pipeline> pipeline;
  Clock clock;
  BurstOutput out;
};

Result<std::unique_ptr<Dataplane>> Dataplane::create(const DataplaneConfig& config) {
  std::unique_ptr<Dataplane> dp(new Dataplane());
  dp->config_ = config;
  auto& cfg = dp->config_;
  if (cfg.ports.empty()) return make_error("no ports configured");
  if (cfg.ports.size() > kMaxPorts)
    return make_error("at most " + std::to_string(kMaxPorts) + " ports are supported");
  for (unsigned l : cfg.worker_lcores)
    if (!rte_lcore_is_enabled(l))
      return make_error("worker lcore " + std::to_string(l) + " is not enabled in EAL");
  auto queues = dp->resolve_ports();
  if (!queues) return queues.error();
  if (auto r = dp->set_up_grace_periods(); !r) return r.error();
  if (auto r = dp->start_ports(queues.value()); !r) return r.error();
  if (auto r = dp->create_workers(); !r) return r.error();
  return dp;
}

// Resolves the ports and finds how many queues every port can give each worker (fewer than the
// workers: the extra workers are dropped).
Result<uint16_t> Dataplane::resolve_ports() {
  uint16_t queues = static_cast<uint16_t>(config_.worker_lcores.size());
  for (const auto& ps : config_.ports) {
    PortInfo pi;
    pi.name = ps.name;
    std::string dev = device_name(ps.device);
    if (rte_eth_dev_get_port_by_name(dev.c_str(), &pi.port_id) != 0)
      return make_error("port '" + ps.name + "': device '" + dev +
                        "' not found (not probed by EAL; check the device string)");
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(pi.port_id, &info);
    if (rc != 0)
      return make_error("port '" + ps.name + "': cannot read device info: " + errstr(rc));
    pi.driver = info.driver_name ? info.driver_name : "?";
    queues = std::min<uint16_t>(queues, std::min(info.max_rx_queues, info.max_tx_queues));
    ports_.push_back(pi);
  }
  if (queues == 0) return make_error("a port offers no RX/TX queue");
  if (queues < config_.worker_lcores.size()) {
    std::fprintf(stderr,
                 "datacustoms: warning: ports offer %u queue(s); using %u of %zu worker lcores\n",
                 queues, queues, config_.worker_lcores.size());
    config_.worker_lcores.resize(queues);
  }
  return queues;
}

Result<void> Dataplane::set_up_grace_periods() {
  // One QSBR reader per worker (thread id = worker index), registered here, online while it runs.
  const auto nworkers = static_cast<uint32_t>(config_.worker_lcores.size());
  qsbr_ = static_cast<rte_rcu_qsbr*>(
      rte_zmalloc("dc_qsbr", rte_rcu_qsbr_get_memsize(nworkers), RTE_CACHE_LINE_SIZE));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, nworkers) != 0)
    return make_error("cannot set up the workers' grace periods (rte_rcu_qsbr)");
  for (uint32_t w = 0; w < nworkers; ++w) (void)rte_rcu_qsbr_thread_register(qsbr_, w);
  return {};
}

// The mbuf pool, then every port configured (symmetric RSS when several queues) and started.
Result<void> Dataplane::start_ports(uint16_t queues) {
  unsigned socket = rte_socket_id();
  pool_ = rte_pktmbuf_pool_create("dc_mbufs", config_.mbufs, config_.mbuf_cache, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(socket));
  if (pool_ == nullptr)
    return make_error(std::string("cannot create mbuf pool: ") + rte_strerror(rte_errno));

  // Symmetric RSS key (the 0x6d5a pattern): hash(src,dst) == hash(dst,src), so both directions
  // of a connection reach the same queue, hence the same worker and flow table.
  static uint8_t sym_key[52];
  for (size_t i = 0; i < sizeof sym_key; i += 2) {
    sym_key[i] = 0x6d;
    sym_key[i + 1] = 0x5a;
  }

  for (auto& pi : ports_) {
    rte_eth_dev_info info{};
    (void)rte_eth_dev_info_get(pi.port_id, &info);
    rte_eth_conf conf{};
    pi.queues = queues;
    if (queues > 1 && info.flow_type_rss_offloads != 0) {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_key = sym_key;
      conf.rx_adv_conf.rss_conf.rss_key_len =
          std::min<uint8_t>(info.hash_key_size ? info.hash_key_size : 40, sizeof sym_key);
      conf.rx_adv_conf.rss_conf.rss_hf =
          info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
      pi.rss = true;
    }
    int rc = rte_eth_dev_configure(pi.port_id, queues, queues, &conf);
    if (rc != 0) return make_error("port '" + pi.name + "': configure failed: " + errstr(rc));
    uint16_t nrx = config_.rx_descriptors, ntx = config_.tx_descriptors;
    (void)rte_eth_dev_adjust_nb_rx_tx_desc(pi.port_id, &nrx, &ntx);
    int psock = rte_eth_dev_socket_id(pi.port_id);
    if (psock < 0) psock = static_cast<int>(socket);
    for (uint16_t q = 0; q < queues; ++q) {
      rc = rte_eth_rx_queue_setup(pi.port_id, q, nrx, psock, nullptr, pool_);
      if (rc != 0)
        return make_error("port '" + pi.name + "': RX queue setup failed: " + errstr(rc));
      rc = rte_eth_tx_queue_setup(pi.port_id, q, ntx, psock, nullptr);
      if (rc != 0)
        return make_error("port '" + pi.name + "': TX queue setup failed: " + errstr(rc));
    }
  }
  for (auto& pi : ports_) {
    int rc = rte_eth_dev_start(pi.port_id);
    if (rc != 0) return make_error("port '" + pi.name + "': start failed: " + errstr(rc));
    // A bump in the wire forwards frames addressed to other hosts.
    (void)rte_eth_promiscuous_enable(pi.port_id);
  }
  ports_started_ = true;
  return {};
}

// Port zones for the pipeline, then one flow table and pipeline per worker.
Result<void> Dataplane::create_workers() {
  config_.pipeline.tx_pool = pool_;  // TCP resets of blocked flows
  for (uint16_t p = 0; p < config_.ports.size(); ++p) {
    config_.pipeline.port_zone[p] = config_.ports[p].zone;
    config_.pipeline.port_peer_zone[p] = config_.ports[config_.ports[p].peer].zone;
    config_.pipeline.port_fcs_strip[p] = config_.ports[p].fcs_strip;
    config_.pipeline.port_pass_arp[p] = config_.ports[p].pass_arp;
    config_.pipeline.port_pass_nd[p] = config_.ports[p].pass_nd;
  }

  for (uint16_t w = 0; w < config_.worker_lcores.size(); ++w) {
    auto ws = std::make_unique<WorkerState>();
    ws->dp = this;
    ws->lcore = config_.worker_lcores[w];
    ws->index = w;
    std::string name = "dc_flows_" + std::to_string(w);
    auto ft = FlowTable::create(name.c_str(), config_.flow_capacity, config_.timeouts,
                                static_cast<int>(rte_lcore_to_socket_id(ws->lcore)));
    if (!ft) return ft.error();
    ws->flows = std::move(ft.value());
    FlowEventSink* sink = w < config_.sinks.size() ? config_.sinks[w] : nullptr;
    auto pl = Pipeline::create(w, *ws->flows, config_.pipeline, ws->counters, sink);
    if (!pl) return pl.error();
    ws->pipeline = std::move(pl.value());
    workers_.push_back(std::move(ws));
  }
  return {};
}

Dataplane::~Dataplane() {
  stop();
  if (ports_started_) {
    for (auto& pi : ports_) {
      (void)rte_eth_dev_stop(pi.port_id);
      (void)rte_eth_dev_close(pi.port_id);
    }
  }
  workers_.clear();
  if (pool_ != nullptr) rte_mempool_free(pool_);
  rte_free(qsbr_);
}

uint64_t Dataplane::grace_start() noexcept { return rte_rcu_qsbr_start(qsbr_); }

bool Dataplane::grace_over(uint64_t token) noexcept {
  return rte_rcu_qsbr_check(qsbr_, token, false) == 1;
}

Result<void> Dataplane::start() {
  stop_.store(false);
  for (auto& ws : workers_) {
    ws->clock.init();
    int rc = rte_eal_remote_launch(&Dataplane::worker_main, ws.get(), ws->lcore);
    if (rc != 0) {
      stop();
      return make_error("cannot launch worker on lcore " + std::to_string(ws->lcore) + ": " +
                        errstr(rc));
    }
  }
  running_ = true;
  return {};
}

void Dataplane::stop() noexcept {
  if (!running_) return;
  stop_.store(true);
  for (auto& ws : workers_) rte_eal_wait_lcore(ws->lcore);
  // The workers are gone: their flows can be closed from here (final records, counters).
  for (auto& ws : workers_) {
    ws->pipeline->expire_all(ws->clock.now());
    // Held packets were freed by expire_all; counters stay as the workers left them.
  }
  running_ = false;
}

// Sends a burst's output: forwarded packets to the paired port (bounded retries, then fail
// closed), resets back out of the ingress port; frees what was dropped or not sent.
void Dataplane::transmit(WorkerState& ws, uint16_t p, BurstOutput& o) noexcept {
  const uint16_t q = ws.index;
  WorkerCounters& c = ws.counters;
  const PortInfo& in = ports_[p];
  if (o.n_fwd > 0) {
    uint16_t peer = config_.ports[p].peer;
    const PortInfo& out = ports_[peer];
    // Lengths are read before TX: once sent, an mbuf belongs to the driver.
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < o.n_fwd; ++i) bytes += rte_pktmbuf_pkt_len(o.fwd[i]);
    uint32_t sent = 0;
    // Bounded retries absorb a momentarily full TX ring; then fail closed (drop).
    for (int stalls = 0; sent < o.n_fwd && stalls < 4;) {
      uint16_t chunk = static_cast<uint16_t>(std::min<uint32_t>(o.n_fwd - sent, 256));
      uint16_t k = rte_eth_tx_burst(out.port_id, q, o.fwd + sent, chunk);
      if (k == 0) ++stalls;
      sent += k;
    }
    for (uint32_t i = sent; i < o.n_fwd; ++i) {
      bytes -= rte_pktmbuf_pkt_len(o.fwd[i]);
      c.drop(DropReason::kTxFull);
      --c.forwarded;
      o.drop[o.n_drop++] = o.fwd[i];
    }
    c.port[peer].tx_packets += sent;
    c.port[peer].tx_bytes += bytes;
  }
  if (o.n_back > 0) {
    // Resets towards the sender go back out of the port the packet came in on.
    uint16_t k = rte_eth_tx_burst(in.port_id, q, o.back, static_cast<uint16_t>(o.n_back));
    c.port[p].tx_packets += k;
    for (uint32_t i = k; i < o.n_back; ++i) {
      c.drop(DropReason::kTxFull);
      o.drop[o.n_drop++] = o.back[i];
    }
  }
  if (o.n_drop > 0) rte_pktmbuf_free_bulk(o.drop, o.n_drop);
}

int Dataplane::worker_main(void* arg) {
  auto* ws = static_cast<WorkerState*>(arg);
  Dataplane* dp = ws->dp;
  const uint16_t q = ws->index;
  const uint16_t burst = std::min<uint16_t>(dp->config_.burst, 256);
  const uint16_t nports = static_cast<uint16_t>(dp->ports_.size());
  rte_mbuf* pkts[256];

  rte_rcu_qsbr_thread_online(dp->qsbr_, q);
  while (!dp->stop_.load(std::memory_order_relaxed)) {
    // A quiescent state, then the newest policy generation: the generation cached before this
    // point is dropped unused, so once the reloader sees this report for its grace period the
    // worker reaches older generations only through its flows. (The reverse order could report a
    // grace period over while the old generation is still this worker's current one.)
    rte_rcu_qsbr_quiescent(dp->qsbr_, q);
    ws->pipeline->refresh_epoch();
    ws->pipeline->take_keys(ws->clock.now());  // escrowed TLS keys from the intake
    for (uint16_t p = 0; p < nports; ++p) {
      uint16_t n = rte_eth_rx_burst(dp->ports_[p].port_id, q, pkts, burst);
      BurstOutput& o = ws->out;
      o.clear();
      const int64_t now = ws->clock.now();
      if (n > 0) ws->pipeline->process(p, pkts, n, now, o);
      // Payload that waited for its flow's flow_open record: out now if the record is fsynced.
      ws->pipeline->release_held(p, now, o);
      if (o.n_fwd + o.n_drop + o.n_back > 0) dp->transmit(*ws, p, o);
    }
    ws->pipeline->expire(ws->clock.now());
  }
  rte_rcu_qsbr_thread_offline(dp->qsbr_, q);
  return 0;
}

WorkerCounters Dataplane::counters() const noexcept {
  WorkerCounters sum{};
  for (const auto& ws : workers_) sum.add(ws->counters);
  return sum;
}

std::vector<WorkerCounters> Dataplane::worker_counters() const {
  std::vector<WorkerCounters> v;
  for (const auto& ws : workers_) v.push_back(ws->counters);
  return v;
}

FlowTableStats Dataplane::flow_stats() const noexcept {
  FlowTableStats s{};
  for (const auto& ws : workers_) {
    const auto& f = ws->flows->stats();
    s.created += f.created.load();
    s.expired += f.expired.load();
    s.full += f.full.load();
    s.active += f.active.load();
  }
  return s;
}

uint64_t Dataplane::total_rx() const noexcept {
  uint64_t n = 0;
  for (const auto& ws : workers_) n += ws->counters.rx_packets();
  return n;
}

}  // namespace dc::dataplane
