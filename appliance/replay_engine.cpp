// Offline replay: captures merged by timestamp and driven through the live Pipeline on one thread.
#include "appliance/replay_engine.hpp"

#include <pcap/pcap.h>
#include <rte_mbuf.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>

#include "base/file.hpp"
#include "dataplane/key_line.hpp"
#include "dataplane/pipeline.hpp"
#include "dataplane/runtime.hpp"
#include "inspect/tls/keylog.hpp"

namespace dc::appliance {
namespace {

struct PcapCloser {
  void operator()(pcap_t* p) const noexcept { pcap_close(p); }
};
using PcapPtr = std::unique_ptr<pcap_t, PcapCloser>;

struct MempoolFree {
  void operator()(rte_mempool* p) const noexcept { rte_mempool_free(p); }
};

// Hands every flow record to the caller as it is produced.
class CallbackSink final : public dataplane::FlowEventSink {
 public:
  explicit CallbackSink(const std::function<void(const audit::FlowOutcome&)>& fn) : fn_(fn) {}
  audit::FlowOutcome* acquire() noexcept override { return &slot_; }
  void commit(audit::FlowOutcome* ev) noexcept override {
    try {
      fn_(*ev);
    } catch (...) {
      ++lost;
    }
  }
  uint64_t lost = 0;

 private:
  const std::function<void(const audit::FlowOutcome&)>& fn_;
  audit::FlowOutcome slot_;
};

// The stdio buffer a capture is read through (open_buffered): it must outlive the FILE that
// libpcap closes, so it is declared before the pcap_t it serves.
using ReadBuffer = std::unique_ptr<char[]>;

struct Input {
  std::string path;
  ReadBuffer buf;
  PcapPtr pc;
  uint64_t record = 0;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  bool done = false;
  int64_t ts() const { return static_cast<int64_t>(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec; }
};

}  // namespace

Result<void> replay_eal_init(uint32_t memory_mb) {
  static bool done = false;
  if (done) return {};
  const std::string mb = std::to_string(std::clamp<uint32_t>(memory_mb, 64, 512));
  // --no-telemetry: replay serves no DPDK telemetry socket (no socket, no thread to start).
  auto r = dataplane::eal_init({"--no-huge", "--no-pci", "--no-shconf", "--no-telemetry", "-m", mb,
                                "-l", "0", "--log-level=lib.eal:error"});
  if (r) done = true;
  return r;
}

namespace {

// A capture opened for reading through a 1 MiB stdio buffer (`buf`, which the caller keeps until
// the pcap_t is closed): libpcap reads each record with fread(), and with stdio's default buffer
// (the file system's 4 KiB block) that was one read() system call per ~3 full-size frames,
// 12-15 % of the replay loop's CPU (docs/performance.md "Inspection", session 10). glibc ignores
// setvbuf's size without a caller's buffer. The FILE is libpcap's from here on.
constexpr std::size_t kReadBuffer = std::size_t{1} << 20;

pcap_t* open_buffered(const std::string& path, u_int precision, ReadBuffer& buf, char* err) {
  if (path == "-") return pcap_open_offline_with_tstamp_precision("-", precision, err);  // stdin
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {  // libpcap's own wording (pcap_open_offline)
    std::snprintf(err, PCAP_ERRBUF_SIZE, "%s: %s", path.c_str(), std::strerror(errno));
    return nullptr;
  }
  buf = std::make_unique_for_overwrite<char[]>(kReadBuffer);
  if (std::setvbuf(f, buf.get(), _IOFBF, kReadBuffer) != 0) buf.reset();  // stdio's own, then
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, precision, err);
  if (p == nullptr) std::fclose(f);
  return p;
}

Result<std::vector<Input>> open_captures(const std::vector<std::string>& captures) {
  std::vector<Input> inputs;
  for (const auto& path : captures) {
    char err[PCAP_ERRBUF_SIZE] = {};
    ReadBuffer buf;
    PcapPtr pc(open_buffered(path, PCAP_TSTAMP_PRECISION_NANO, buf, err));
    if (!pc) return make_error(path + ": " + err);
    if (pcap_datalink(pc.get()) != DLT_EN10MB)
      return make_error(path + ": link type " + pcap_datalink_val_to_name(pcap_datalink(pc.get())) +
                        " is not supported (Ethernet only)");
    inputs.push_back(Input{path, std::move(buf), std::move(pc)});
  }
  return inputs;
}

// The next record of one capture; a damaged record is an error naming the file and record.
Result<void> advance(Input& in) {
  int rc = pcap_next_ex(in.pc.get(), &in.h, &in.data);
  if (rc == PCAP_ERROR_BREAK) {
    in.done = true;
    return {};
  }
  if (rc != 1)
    return make_error(in.path + ": record " + std::to_string(in.record + 1) + ": " +
                      pcap_geterr(in.pc.get()));
  ++in.record;
  return {};
}

// Captures are merged by timestamp: the input whose pending record is the oldest.
Input* earliest(std::vector<Input>& inputs) {
  Input* next = nullptr;
  for (auto& in : inputs)
    if (!in.done && (next == nullptr || in.ts() < next->ts())) next = &in;
  return next;
}

// The key logs of `replay --keylog`, parsed with the decryptor's parser; an invalid line is an
// error naming the file and line (never the line: it may hold a secret).
Result<std::vector<inspect::tls::KeyLogEntry>> load_keylogs(const std::vector<std::string>& paths) {
  std::vector<inspect::tls::KeyLogEntry> keys;
  for (const auto& path : paths) {
    auto text = base::read_file(path);
    if (!text) return make_error(path + ": " + text.error().message);
    std::size_t line_no = 0, start = 0;
    const std::string& s = text.value();
    while (start < s.size()) {
      std::size_t end = s.find('\n', start);
      if (end == std::string::npos) end = s.size();
      ++line_no;
      auto e = inspect::tls::parse_keylog_line(std::string_view(s).substr(start, end - start));
      start = end + 1;
      if (!e) {
        for (auto& k : keys) k.wipe();
        return make_error(path + ":" + std::to_string(line_no) + ": " + e.error().message);
      }
      if (e.value()) keys.push_back(*e.value());
    }
    dataplane::wipe_bytes(text.value().data(), text.value().size());
  }
  return keys;
}

// Replay has no ports: every packet the pipeline forwards, drops or sends back is freed.
void free_output(dataplane::BurstOutput& out) {
  for (uint32_t i = 0; i < out.n_fwd; ++i) rte_pktmbuf_free(out.fwd[i]);
  for (uint32_t i = 0; i < out.n_drop; ++i) rte_pktmbuf_free(out.drop[i]);
  for (uint32_t i = 0; i < out.n_back; ++i) rte_pktmbuf_free(out.back[i]);
  out.clear();
}

// The pipeline and what it runs on, for one replay.
struct ReplayRig {
  std::unique_ptr<dataplane::PipelineSettings> settings;
  std::unique_ptr<rte_mempool, MempoolFree> pool;
  std::unique_ptr<dataplane::FlowTable> flows;
  // Customs accounting ([accounting] enabled): an in-memory store, the ledger, the rings, and
  // the ledger's driver, run after every packet (a claim is answered before the next packet).
  std::unique_ptr<audit::PersonStore> store;
  std::unique_ptr<audit::Ledger> ledger;
  std::unique_ptr<dataplane::AccountingChannel> channel;
  std::unique_ptr<dataplane::AccountingService> accounting;
  std::unique_ptr<dataplane::Pipeline> pipeline;
  std::unique_ptr<dataplane::BurstOutput> out = std::make_unique<dataplane::BurstOutput>();
};

// A capture cannot hold more flows (or flows being inspected, or packets held at once) than
// packets: tables and pools are sized to its packet count, so a small capture starts in
// milliseconds and a few MB instead of the full-size defaults (issue 13). The records are
// counted first, up to kCountCap of them; beyond (or for a file that cannot be read ahead, e.g. a
// pipe), the bound its bytes allow (a pcap record header of 16 bytes and an Ethernet header of 14
// at least).
constexpr uint64_t kCountCap = 1u << 20;

uint64_t count_records(const std::string& path, uint64_t cap) {
  char err[PCAP_ERRBUF_SIZE] = {};
  ReadBuffer buf;  // (outlives pc)
  PcapPtr pc(open_buffered(path, PCAP_TSTAMP_PRECISION_MICRO, buf, err));
  if (!pc) return UINT64_MAX;
  uint64_t n = 0;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (n <= cap) {
    const int rc = pcap_next_ex(pc.get(), &h, &data);
    if (rc == PCAP_ERROR_BREAK) return n;
    if (rc != 1) return n + 1;  // damaged: the replay stops there with an error
    ++n;
  }
  return UINT64_MAX;
}

}  // namespace

uint64_t replay_packet_bound(const std::vector<std::string>& captures) {
  uint64_t bytes = 0, counted = 0;
  for (const auto& path : captures) {
    std::error_code ec;
    const uintmax_t n = std::filesystem::file_size(path, ec);
    if (ec || !std::filesystem::is_regular_file(path, ec)) return UINT64_MAX;  // full-size
    bytes += n;
    if (counted != UINT64_MAX) {
      const uint64_t c =
          counted < kCountCap ? count_records(path, kCountCap - counted) : UINT64_MAX;
      counted = c == UINT64_MAX ? UINT64_MAX : counted + c;
    }
  }
  return std::min(counted, bytes / 30 + 1);
}

namespace {

struct RigSize {
  uint32_t flows, inspect_flows, mbufs;
};

RigSize rig_size(const ReplayOptions& options, uint64_t packets) {
  RigSize r;
  r.flows =
      static_cast<uint32_t>(std::min<uint64_t>(std::max<uint64_t>(packets, 64), options.flows));
  r.inspect_flows = static_cast<uint32_t>(std::min<uint64_t>(packets, options.inspect_flows));
  // Held out-of-order segments keep their mbufs (8 per direction of an inspected flow), and so do
  // fragments being reassembled (a piece buffer each): size the pool for them, but never above
  // what the capture's packets can hold at once (each packet and one piece each, plus resets).
  const uint32_t base = packets > 4096 - 256 ? 4096 : static_cast<uint32_t>(packets + 256);
  const uint64_t held = uint64_t{std::min<uint32_t>(r.inspect_flows, 8192)} * 2 * 8;
  const uint64_t most = packets < (uint64_t{1} << 32) ? 2 * packets + 512 : UINT64_MAX;
  r.mbufs = static_cast<uint32_t>(std::min<uint64_t>(base + held, most));
  return r;
}

// The worker's other tables, sized to the capture like the flow table (each is zeroed at
// start-up, so an 8-packet capture must not build 256 TLS sessions or 64 reassembly buffers of
// 64 KiB): TLS flows decrypted at once are inspected flows, and a reassembled datagram holds at
// least two fragments. Neither bound can be reached by the capture, so the records are those of
// the full-size tables.
void size_to_capture(dataplane::PipelineSettings& settings, uint64_t packets) {
  settings.tls_sessions = std::min(settings.tls_sessions, settings.inspect_flows);
  auto& re = settings.reassembly;  // (its datagram table is small: kept, and so its hashing)
  re.buffers =
      static_cast<uint32_t>(std::min<uint64_t>(re.buffers, std::max<uint64_t>(packets / 2, 4)));
}

}  // namespace

// Packet buffers (2,176-byte data room, mbuf and mempool headers) and flow slots (hot and cold
// entry, hash slot) twice over, plus 64 MB for EAL, rings, reassembly and the TLS key store.
uint32_t replay_memory_mb(const ReplayOptions& options, uint64_t packets) {
  const RigSize size = rig_size(options, packets);
  const uint64_t bytes = uint64_t{size.mbufs} * 2432 + uint64_t{size.flows} * 512;
  return static_cast<uint32_t>(std::min<uint64_t>(512, 64 + (2 * bytes >> 20)));
}

namespace {

Result<void> build_accounting(const policy::Snapshot& policy, const ReplayOptions& options,
                              ReplayRig& rig) {
  if (!policy.accounting().enabled) return {};
  auto ch = dataplane::AccountingChannel::create(1, 1024);
  if (!ch) return ch.error();
  rig.channel = std::move(ch.value());
  rig.store = options.accounting_store ? options.accounting_store() : audit::make_memory_store();
  rig.ledger = std::make_unique<audit::Ledger>(
      *rig.store, options.accounting_key ? *options.accounting_key : audit::test_accounting_key());
  // The snapshot outlives the replay: a non-owning handle.
  rig.ledger->adopt(std::shared_ptr<const policy::Snapshot>(&policy, [](const auto*) {}));
  rig.accounting = std::make_unique<dataplane::AccountingService>(*rig.channel, *rig.ledger);
  rig.settings->accounting = rig.channel.get();
  rig.settings->accounting_wait_ns = int64_t{options.accounting_wait_ms} * 1'000'000;
  return {};
}

Result<ReplayRig> build_rig(const policy::Snapshot& policy, const ReplayOptions& options,
                            std::size_t nkeys, uint64_t packets, ReplayStats& stats,
                            dataplane::FlowEventSink& sink) {
  static int instance = 0;  // DPDK object names are process-wide
  ++instance;
  ReplayRig rig;
  // The pipeline keeps a reference to its settings: they live in the rig.
  rig.settings = std::make_unique<dataplane::PipelineSettings>();
  dataplane::PipelineSettings& settings = *rig.settings;
  const RigSize size = rig_size(options, packets);
  std::string pool_name = "replay_mbufs_" + std::to_string(instance);
  // With a per-lcore cache the loop's alloc/free of one packet at a time reuses the same few
  // buffers (LIFO, warm in the CPU cache); without one every packet took the ring's next buffer,
  // cycling through all of them (up to ~20 MB): a cache miss on its header and data each time.
  // Which buffer a packet gets changes nothing else. (DPDK: cache size * 1.5 <= pool size.)
  const unsigned cache = std::min<unsigned>(64, size.mbufs * 2 / 3);
  rig.pool.reset(rte_pktmbuf_pool_create(pool_name.c_str(), size.mbufs, cache, 0,
                                         RTE_MBUF_DEFAULT_BUF_SIZE, 0));
  if (!rig.pool) return make_error("cannot allocate packet buffers");
  std::string flows_name = "replay_flows_" + std::to_string(instance);
  auto ft =
      dataplane::FlowTable::create(flows_name.c_str(), size.flows, dataplane::FlowTimeouts{}, 0);
  if (!ft) return ft.error();
  rig.flows = std::move(ft.value());
  settings.policy = &policy;
  settings.inspect_flows = size.inspect_flows;
  settings.port_fcs_strip[dataplane::kReplayPort] = options.fcs_strip;
  settings.port_pass_arp[dataplane::kReplayPort] = options.pass_arp;
  settings.port_pass_nd[dataplane::kReplayPort] = options.pass_nd;
  settings.tx_pool = rig.pool.get();
  size_to_capture(settings, packets);
  // Keys are loaded before the first packet and kept for the whole replay.
  settings.tls_key_store = std::max<uint32_t>(64, static_cast<uint32_t>(nkeys));
  settings.tls_key_ttl_ns = int64_t{1} << 62;
  settings.tls_key_wait_ns = int64_t{options.tls_key_wait_ms} * 1'000'000;
  if (auto r = build_accounting(policy, options, rig); !r) return r.error();
  auto pl = dataplane::Pipeline::create(0, *rig.flows, settings, stats.counters, &sink);
  if (!pl) return pl.error();
  rig.pipeline = std::move(pl.value());
  return rig;
}

double user_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

Result<ReplayStats> replay_captures(const policy::Snapshot& policy,
                                    const std::vector<std::string>& captures,
                                    const ReplayOptions& options,
                                    const std::function<void(const audit::FlowOutcome&)>& on_flow) {
  auto inputs = open_captures(captures);
  if (!inputs) return inputs.error();
  ReplayStats stats;
  CallbackSink sink(on_flow);
  auto keys = load_keylogs(options.keylogs);
  if (!keys) return keys.error();
  const double t0 = cpu_seconds();
  const uint64_t packets =
      options.packet_bound != 0 ? options.packet_bound : replay_packet_bound(captures);
  auto rig = build_rig(policy, options, keys->size(), packets, stats, sink);
  if (!rig) {
    for (auto& k : *keys) k.wipe();
    return rig.error();
  }
  for (auto& k : *keys) {
    (void)rig->pipeline->add_key(k, 0);
    k.wipe();
  }
  const double t1 = cpu_seconds();
  const double u1 = user_seconds();
  stats.rig_cpu_s = t1 - t0;
  Result<void> status;
  for (auto& in : *inputs)
    if (status) status = advance(in);
  int64_t last_ts = 0;
  auto last_progress = std::chrono::steady_clock::now();
  const uint16_t burst = std::clamp<uint16_t>(options.burst, 1, kMaxReplayBurst);
  rte_mbuf* pkts[kMaxReplayBurst];
  while (status) {
    // A burst: up to `burst` packets in capture order, judged at the time of the last one (a
    // live worker's clock reads once per received burst too).
    uint16_t n = 0;
    Input* next = nullptr;
    while (n < burst && (next = earliest(*inputs)) != nullptr) {
      last_ts = std::max(next->ts(), last_ts);  // time never runs backwards in the engine
      rte_mbuf* m = rte_pktmbuf_alloc(rig->pool.get());
      if (m == nullptr) {
        status = make_error("out of packet buffers at " + next->path + " record " +
                            std::to_string(next->record));
        break;
      }
      uint32_t len = std::min<uint32_t>(next->h->caplen, rte_pktmbuf_tailroom(m));
      std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), next->data, len);
      m->data_len = static_cast<uint16_t>(len);
      m->pkt_len = len;
      pkts[n++] = m;
      if (options.progress &&
          std::chrono::steady_clock::now() - last_progress > std::chrono::milliseconds(500)) {
        last_progress = std::chrono::steady_clock::now();
        options.progress(stats.packets + n, next->path);
      }
      if (!(status = advance(*next))) break;
    }
    if (n == 0) break;
    const int64_t ts = last_ts;
    rig->pipeline->process(dataplane::kReplayPort, pkts, n, ts, *rig->out);
    if (rig->accounting) rig->accounting->run_once();  // answers the burst's person claims
    rig->pipeline->release_held(dataplane::kReplayPort, ts, *rig->out);  // e.g. TLS key waits
    free_output(*rig->out);
    rig->pipeline->expire(ts);
    stats.packets += n;
  }
  rig->pipeline->expire_all(last_ts);
  if (rig->accounting) rig->accounting->run_once();
  if (rig->accounting) (void)rig->accounting->release_bytes();  // the store: the bytes that crossed
  free_output(*rig->out);
  stats.run_cpu_s = cpu_seconds() - t1;
  stats.run_user_s = user_seconds() - u1;
  if (!status) return status.error();
  if (sink.lost > 0)
    return make_error(std::to_string(sink.lost) + " flow records could not be processed");
  return stats;
}

}  // namespace dc::appliance
