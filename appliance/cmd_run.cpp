// `datacustoms run`: the appliance's main job.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/config.hpp"
#include "appliance/metrics.hpp"
#include "appliance/report.hpp"
#include "appliance/telemetry.hpp"
#include "audit/crypto.hpp"
#include "audit/writer_thread.hpp"
#include "base/file.hpp"
#include "dataplane/audit_channel.hpp"
#include "dataplane/policy_epoch.hpp"
#include "dataplane/runtime.hpp"
#include "policy/policy.hpp"

namespace dc::appliance {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
extern "C" void on_signal(int) { g_stop.store(true); }
extern "C" void on_hup(int) { g_reload.store(true); }

void print_usage(FILE* out) {
  std::fprintf(out,
               "usage: datacustoms run --config FILE [options]\n"
               "  --config FILE       appliance configuration (appliance.toml)\n"
               "  --out-dir DIR       value of ${out_dir} in device strings (default: .)\n"
               "  --idle-exit-ms N    stop once no packet arrived for N ms (capture-file runs)\n"
               "  --max-seconds N     stop after N seconds\n"
               "  --eal ARG           extra EAL argument (repeatable), e.g. --eal=--no-shconf\n"
               "  --stats-json FILE   also write the final counters as JSON to FILE\n"
               "Stops cleanly on SIGINT/SIGTERM and prints the final counters.\n");
}

int run(const std::vector<std::string>& args) {
  std::string config_path, out_dir = ".", stats_json;
  long idle_exit_ms = -1, max_seconds = -1;
  std::vector<std::string> extra_eal;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& name) -> const std::string* {
      if (a.rfind(name + "=", 0) == 0) {
        static std::string v;
        v = a.substr(name.size() + 1);
        return &v;
      }
      if (a == name) {
        if (i + 1 >= args.size()) return nullptr;
        return &args[++i];
      }
      return nullptr;
    };
    const std::string* v = nullptr;
    if (a == "--help" || a == "-h") {
      print_usage(stdout);
      return 0;
    } else if ((v = value("--config"))) {
      config_path = *v;
    } else if ((v = value("--out-dir"))) {
      out_dir = *v;
    } else if ((v = value("--idle-exit-ms"))) {
      char* end = nullptr;
      idle_exit_ms = std::strtol(v->c_str(), &end, 10);
      if (*end != '\0' || idle_exit_ms <= 0) {
        std::fprintf(stderr, "datacustoms run: --idle-exit-ms needs a positive integer, got '%s'\n",
                     v->c_str());
        return 2;
      }
    } else if ((v = value("--max-seconds"))) {
      char* end = nullptr;
      max_seconds = std::strtol(v->c_str(), &end, 10);
      if (*end != '\0' || max_seconds <= 0) {
        std::fprintf(stderr, "datacustoms run: --max-seconds needs a positive integer, got '%s'\n",
                     v->c_str());
        return 2;
      }
    } else if ((v = value("--stats-json"))) {
      stats_json = *v;
    } else if ((v = value("--eal"))) {
      extra_eal.push_back(*v);
    } else {
      std::fprintf(stderr, "datacustoms run: unknown or incomplete option '%s'\n", a.c_str());
      print_usage(stderr);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "datacustoms run: --config FILE is required\n");
    print_usage(stderr);
    return 2;
  }
  if (!std::filesystem::is_regular_file(config_path)) {
    std::fprintf(stderr, "datacustoms run: cannot read configuration '%s'\n", config_path.c_str());
    return 2;
  }
  std::vector<Diagnostic> diags;
  auto cfg = load_appliance_config(config_path, diags);
  for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.str().c_str());
  if (!cfg) {
    std::fprintf(stderr, "datacustoms run: %s; nothing started\n", cfg.error().message.c_str());
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);

  // The compliance policy: compiled here, on the control thread, never on a worker.
  std::shared_ptr<const policy::Snapshot> snapshot;
  if (!cfg->policy.empty()) {
    policy::Diagnostics pd(cfg->policy);
    auto loaded = policy::load_policy_file(cfg->policy, pd);
    std::string text = pd.format();
    if (!text.empty()) std::fprintf(stderr, "%s", text.c_str());
    if (!loaded || loaded.value() == nullptr) {
      std::fprintf(stderr, "datacustoms run: policy %s not loaded%s%s; nothing started\n",
                   cfg->policy.c_str(), loaded ? "" : ": ",
                   loaded ? "" : loaded.error().message.c_str());
      return 2;
    }
    snapshot = loaded.value();
    std::fprintf(stderr, "datacustoms: policy %s (%s %s) sha256 %s\n", cfg->policy.c_str(),
                 snapshot->policy_id().c_str(), snapshot->policy_version().c_str(),
                 snapshot->sha256_hex().c_str());
  }

  // Zones: with a policy, port zones are the policy's zones; without one, each distinct name
  // gets an id of its own.
  std::map<std::string, uint16_t> zone_ids;
  dataplane::DataplaneConfig dc;
  bool zone_errors = false;
  for (const auto& p : cfg->ports) {
    uint16_t zid;
    if (snapshot) {
      zid = snapshot->find_zone(p.zone);
      if (zid == policy::kNoZone) {
        std::string names;
        for (size_t z = 0; z < snapshot->zone_count(); ++z)
          names += (z ? ", " : "") + snapshot->zone(static_cast<policy::ZoneId>(z)).id;
        std::fprintf(
            stderr,
            "%s:%d:1: error: port '%s': zone '%s' is not a zone of the policy (zones: %s)\n",
            cfg->path.c_str(), p.line, p.name.c_str(), p.zone.c_str(), names.c_str());
        zone_errors = true;
        continue;
      }
    } else {
      zid = zone_ids.emplace(p.zone, static_cast<uint16_t>(zone_ids.size())).first->second;
    }
    dataplane::PortSpec ps;
    ps.name = p.name;
    ps.device = expand_device(p.device, cfg->dir, out_dir);
    ps.zone = zid;
    ps.zone_name = p.zone;
    dc.ports.push_back(ps);
  }
  if (zone_errors) {
    std::fprintf(stderr, "datacustoms run: port zones do not match the policy; nothing started\n");
    return 2;
  }
  dc.pipeline.policy = snapshot.get();
  dc.pipeline.inspect_flows = cfg->inspect_flows;
  for (auto [a, b] : cfg->pairs) {
    dc.ports[a].peer = static_cast<uint16_t>(b);
    dc.ports[b].peer = static_cast<uint16_t>(a);
  }
  // Published policy generations (hot reload on SIGHUP). Every generation stays alive until the
  // end: live flows keep scanning with the engine they started with and records point at it.
  std::atomic<const dataplane::PolicyEpoch*> live_epoch{nullptr};
  std::vector<std::unique_ptr<dataplane::PolicyEpoch>> epochs;
  std::vector<uint16_t> port_peers;
  for (const auto& p : dc.ports) port_peers.push_back(p.peer);
  if (snapshot) {
    std::vector<uint16_t> zones;
    for (const auto& p : dc.ports) zones.push_back(p.zone);
    auto ep = dataplane::PolicyEpoch::build(1, snapshot, zones, port_peers,
                                            static_cast<unsigned>(cfg->worker_lcores.size()),
                                            cfg->inspect_flows);
    if (!ep) {
      std::fprintf(stderr, "datacustoms run: %s; nothing started\n", ep.error().message.c_str());
      return 2;
    }
    epochs.push_back(std::move(ep.value()));
    live_epoch.store(epochs.back().get(), std::memory_order_release);
    dc.pipeline.epoch = &live_epoch;
  }
  dc.worker_lcores = cfg->worker_lcores;
  dc.mbufs = cfg->mbufs;
  dc.mbuf_cache = cfg->mbuf_cache;
  dc.rx_descriptors = cfg->rx_descriptors;
  dc.tx_descriptors = cfg->tx_descriptors;
  dc.burst = cfg->burst;
  dc.flow_capacity = cfg->flow_capacity;
  dc.timeouts = cfg->timeouts;
  dc.pipeline.forward_unknown_ethertype =
      cfg->unknown_ethertype == UnknownEtherTypeAction::kForward;
  dc.pipeline.allow_without_policy = cfg->allow_without_policy;
  dc.pipeline.reset_on_block = cfg->reset_on_block;
  dc.pipeline.expiry_budget = cfg->expiry_budget;
  if (cfg->policy.empty() && !cfg->allow_without_policy)
    std::fprintf(stderr,
                 "datacustoms run: warning: no policy configured: every new flow is dropped "
                 "(fail closed); set [dataplane] policy\n");

  // EAL: lcores, extra arguments from the file and the command line, one --vdev/-a per port.
  std::vector<std::string> eal;
  std::string lcores = std::to_string(cfg->main_lcore);
  for (unsigned l : cfg->worker_lcores) lcores += "," + std::to_string(l);
  // An explicit --lcores mapping in [eal] args (e.g. "--lcores=0@0,1@1,2@1": more lcores than
  // CPUs, for tests) replaces the plain list; it must name the same lcore ids.
  bool lcore_map = false;
  for (const auto& a : cfg->eal_args) lcore_map |= a.rfind("--lcores", 0) == 0;
  if (!lcore_map) eal.insert(eal.end(), {"-l", lcores});
  eal.insert(eal.end(), {"--main-lcore", std::to_string(cfg->main_lcore)});
  eal.insert(eal.end(), cfg->eal_args.begin(), cfg->eal_args.end());
  eal.insert(eal.end(), extra_eal.begin(), extra_eal.end());
  for (const auto& p : dc.ports) {
    auto a = dataplane::eal_device_args(p.device);
    eal.insert(eal.end(), a.begin(), a.end());
  }
  if (auto r = dataplane::eal_init(eal); !r) {
    std::fprintf(stderr, "datacustoms run: %s\n", r.error().message.c_str());
    return 2;
  }
  int exit_code = 0;
  // The audit trail: a ring from the workers to one writer thread (audit/writer_thread).
  std::unique_ptr<dataplane::AuditChannel> channel;
  std::unique_ptr<audit::WriterThread> auditor;
  std::vector<std::unique_ptr<dataplane::AuditSink>> sinks;
  if (cfg->audit.enabled) {
    const auto& ac = cfg->audit;
    auto fail = [&](const std::string& msg) {
      std::fprintf(stderr, "%s:%d:1: error: [audit] %s\n", cfg->path.c_str(), ac.line, msg.c_str());
      std::fprintf(stderr, "datacustoms run: audit trail not available; nothing started\n");
      auditor.reset();
      channel.reset();
      dataplane::eal_cleanup();
      return 2;
    };
    std::string dir = expand_device(ac.dir, cfg->dir, out_dir);
    auto key = audit::SigningKey::load(expand_device(ac.signing_key, cfg->dir, out_dir));
    if (!key) return fail("signing_key: " + key.error().message);
    std::string hmac_path = expand_device(ac.hmac_key_file, cfg->dir, out_dir);
    auto hk = base::read_file(hmac_path, {.max_bytes = base::kMaxKeyBytes});
    if (!hk) return fail("hmac_key_file: " + hk.error().message);
    std::string hmac_key = std::move(*hk);
    while (!hmac_key.empty() && (hmac_key.back() == '\n' || hmac_key.back() == '\r'))
      hmac_key.pop_back();
    if (hmac_key.size() < 16) return fail("hmac_key_file " + hmac_path + ": shorter than 16 bytes");
    dataplane::AuditChannelConfig chc;
    chc.ring_size = ac.ring_size;
    chc.events = ac.ring_size / 2 - 1;
    chc.evidence_mbufs = ac.evidence_packets_per_flow > 0 ? ac.ring_size / 2 - 1 : 0;
    chc.evidence_packets_per_flow = ac.evidence_packets_per_flow;
    auto ch = dataplane::AuditChannel::create(chc);
    if (!ch) return fail(ch.error().message);
    channel = std::move(ch.value());
    audit::WriterOptions wo;
    wo.dir = dir;
    wo.clock = [] {
      return std::chrono::time_point_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now());
    };
    wo.checkpoint_every_records = ac.checkpoint_every_records;
    wo.checkpoint_interval = std::chrono::seconds(ac.checkpoint_interval_s);
    wo.max_file_bytes = ac.max_file_mb << 20;
    wo.fsync_every_records = ac.fsync_every_records;
    wo.fsync_interval = std::chrono::milliseconds(ac.fsync_interval_ms);
    wo.start_details = {{"policy_sha256", snapshot ? snapshot->sha256_hex() : ""},
                        {"policy_id", snapshot ? snapshot->policy_id() : ""},
                        {"policy_version", snapshot ? snapshot->policy_version() : ""},
                        {"config", cfg->path}};
    auto writer = audit::LogWriter::open(std::move(wo), std::move(key.value()));
    if (!writer) return fail("log " + dir + ": " + writer.error().message);
    std::unique_ptr<audit::EvidenceStore> evidence;
    if (ac.evidence_packets_per_flow > 0) {
      audit::EvidenceLimits lim;
      lim.max_packets_per_flow = ac.evidence_packets_per_flow;
      lim.max_total_bytes = ac.evidence_max_mb << 20;
      auto ev = audit::EvidenceStore::open(dir, lim);
      if (!ev) return fail("evidence store: " + ev.error().message);
      evidence = std::move(ev.value());
    }
    auditor = std::make_unique<audit::WriterThread>(*channel, std::move(writer.value()),
                                                    std::move(evidence), hmac_key,
                                                    ac.evidence_packets_per_flow);
    for (size_t w = 0; w < dc.worker_lcores.size(); ++w) {
      sinks.push_back(std::make_unique<dataplane::AuditSink>(*channel));
      dc.sinks.push_back(sinks.back().get());
    }
    dc.pipeline.evidence_packets = ac.evidence_packets_per_flow;
    auditor->start();
    std::fprintf(stderr, "datacustoms: audit log %s\n", dir.c_str());
  } else if (snapshot) {
    std::fprintf(stderr,
                 "datacustoms run: warning: no [audit] table: flow verdicts are not recorded\n");
  }
  {
    auto dp = dataplane::Dataplane::create(dc);
    if (!dp) {
      std::fprintf(stderr, "datacustoms run: %s; nothing started\n", dp.error().message.c_str());
      // The audit thread and its ring live in EAL memory: stop them before EAL goes away.
      auditor.reset();
      sinks.clear();
      channel.reset();
      dataplane::eal_cleanup();
      return 2;
    }
    auto& plane = *dp.value();
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGHUP, on_hup);
    for (const auto& pi : plane.ports())
      std::fprintf(stderr, "datacustoms: port %s: driver %s, %u queue(s)%s\n", pi.name.c_str(),
                   pi.driver.c_str(), pi.queues, pi.rss ? ", symmetric RSS" : "");
    if (auto r = plane.start(); !r) {
      std::fprintf(stderr, "datacustoms run: %s\n", r.error().message.c_str());
      exit_code = 2;
    } else {
      telemetry_attach(&plane, &dc, snapshot.get());
      std::unique_ptr<MetricsServer> metrics;
      if (!cfg->metrics_listen.empty()) {
        auto ms = MetricsServer::start(cfg->metrics_listen);
        if (ms) {
          metrics = std::move(ms.value());
          std::fprintf(stderr, "datacustoms: Prometheus metrics on http://%s/metrics\n",
                       cfg->metrics_listen.c_str());
        } else {
          // Observability is not worth stopping the border for: warn and run without it.
          std::fprintf(stderr, "datacustoms run: warning: %s\n", ms.error().message.c_str());
        }
      }
      std::fprintf(stderr, "datacustoms: running with %u worker(s); Ctrl-C stops\n",
                   plane.workers());
      using clock = std::chrono::steady_clock;
      auto start = clock::now();
      auto last_change = start;
      auto last_failure_check = start;
      uint64_t last_rx = 0;
      // Fail-closed episodes become audit records: once a second, the packets each failure
      // condition dropped since the last look.
      const dataplane::DropReason failures[] = {
          dataplane::DropReason::kFlowTableFull,     dataplane::DropReason::kReorderQueueFull,
          dataplane::DropReason::kStreamUnavailable, dataplane::DropReason::kScanError,
          dataplane::DropReason::kAuditUnavailable,  dataplane::DropReason::kFragmentUninspected};
      uint64_t failure_seen[std::size(failures)] = {};
      auto report_failures = [&](double window_s) {
        if (!auditor) return;
        auto sum = plane.counters();
        for (size_t i = 0; i < std::size(failures); ++i) {
          uint64_t n = sum.drops[static_cast<unsigned>(failures[i])];
          if (n == failure_seen[i]) continue;
          auditor->post_event(audit::RecordType::kFailClosed,
                              {{"condition", dataplane::drop_reason_name(failures[i])},
                               {"packets_dropped", n - failure_seen[i]},
                               {"window_s", window_s}});
          failure_seen[i] = n;
        }
      };
      // SIGHUP: load, check and compile the policy file again, build every worker's engine for
      // it, then publish it with one atomic store; workers switch at their next burst. A policy
      // with errors changes nothing (the old one stays live); both outcomes are audit records.
      auto reload = [&]() {
        const std::string old_sha = snapshot ? snapshot->sha256_hex() : "";
        nlohmann::ordered_json rec = {{"file", cfg->policy}, {"previous_sha256", old_sha}};
        auto fail = [&](const std::string& why) {
          std::fprintf(stderr, "datacustoms: policy reload failed: %s; policy %s stays live\n",
                       why.c_str(), old_sha.c_str());
          rec["result"] = "failed";
          rec["error"] = why;
          if (auditor) auditor->post_event(audit::RecordType::kPolicyReload, rec);
        };
        if (!snapshot) return fail("no policy configured ([dataplane] policy)");
        policy::Diagnostics pd(cfg->policy);
        auto loaded = policy::load_policy_file(cfg->policy, pd);
        if (std::string text = pd.format(); !text.empty()) std::fprintf(stderr, "%s", text.c_str());
        if (!loaded) return fail(loaded.error().message);
        if (loaded.value() == nullptr)
          return fail(std::to_string(pd.error_count()) + " error(s) in " + cfg->policy);
        std::vector<uint16_t> zones;
        for (size_t p = 0; p < cfg->ports.size(); ++p) {
          uint16_t z = loaded.value()->find_zone(cfg->ports[p].zone);
          if (z == policy::kNoZone)
            return fail("port '" + cfg->ports[p].name + "': zone '" + cfg->ports[p].zone +
                        "' is not a zone of the new policy");
          zones.push_back(z);
        }
        auto ep = dataplane::PolicyEpoch::build(
            static_cast<uint32_t>(epochs.size() + 1), loaded.value(), zones, port_peers,
            static_cast<unsigned>(cfg->worker_lcores.size()), cfg->inspect_flows);
        if (!ep) return fail(ep.error().message);
        epochs.push_back(std::move(ep.value()));
        live_epoch.store(epochs.back().get(), std::memory_order_release);
        snapshot = loaded.value();
        telemetry_attach(&plane, &dc, snapshot.get());
        rec["result"] = "ok";
        rec["generation"] = epochs.size();
        rec["policy_sha256"] = snapshot->sha256_hex();
        rec["policy_version"] = snapshot->policy_version();
        if (auditor) auditor->post_event(audit::RecordType::kPolicyReload, rec);
        std::fprintf(stderr, "datacustoms: policy reloaded: %s %s sha256 %s (generation %zu)\n",
                     snapshot->policy_id().c_str(), snapshot->policy_version().c_str(),
                     snapshot->sha256_hex().c_str(), epochs.size());
      };
      while (!g_stop.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (g_reload.exchange(false)) reload();
        auto now = clock::now();
        uint64_t rx = plane.total_rx();
        if (rx != last_rx) {
          last_rx = rx;
          last_change = now;
        }
        if (idle_exit_ms > 0 && now - last_change >= std::chrono::milliseconds(idle_exit_ms)) {
          std::fprintf(stderr, "datacustoms: input idle for %ld ms, stopping\n", idle_exit_ms);
          break;
        }
        if (max_seconds > 0 && now - start >= std::chrono::seconds(max_seconds)) break;
        if (now - last_failure_check >= std::chrono::seconds(1)) {
          report_failures(std::chrono::duration<double>(now - last_failure_check).count());
          last_failure_check = now;
        }
      }
      metrics.reset();
      telemetry_detach();  // before the counters it reads go away
      plane.stop();
      report_failures(std::chrono::duration<double>(clock::now() - last_failure_check).count());
      print_final_counters(stdout, plane, dc);
      if (auditor) {
        auto sum = plane.counters();
        auto r = auditor->stop({{"forwarded", sum.forwarded},
                                {"dropped", sum.dropped},
                                {"flows", plane.flow_stats().created}});
        auto st = auditor->stats();
        std::fprintf(stdout,
                     "\n== audit ==\nflow records %llu, not audit-worthy %llu, refused %llu, "
                     "evidence files %llu, events lost %llu\n",
                     static_cast<unsigned long long>(st.records),
                     static_cast<unsigned long long>(st.skipped),
                     static_cast<unsigned long long>(st.refused),
                     static_cast<unsigned long long>(st.evidence_files),
                     static_cast<unsigned long long>(channel->lost_outcomes()));
        if (!r) {
          std::fprintf(stderr, "datacustoms run: closing the audit log failed: %s\n",
                       r.error().message.c_str());
          exit_code = 1;
        }
        auditor.reset();
      }
      if (!stats_json.empty()) {
        std::FILE* f = std::fopen(stats_json.c_str(), "w");
        std::string j = counters_json(plane, dc);
        if (f == nullptr || std::fwrite(j.data(), 1, j.size(), f) != j.size()) {
          std::fprintf(stderr, "datacustoms run: cannot write %s\n", stats_json.c_str());
          exit_code = 2;
        }
        if (f != nullptr) std::fclose(f);
      }
    }
  }
  auditor.reset();
  sinks.clear();
  channel.reset();
  dataplane::eal_cleanup();
  return exit_code;
}

const CommandRegistrar kReg{"run", "run the appliance (DPDK fast path) from an appliance.toml",
                            &run};

}  // namespace
}  // namespace dc::appliance
