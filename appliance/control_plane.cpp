// `datacustoms run`'s control plane: start-up in order, the control loop, the final report.
#include "appliance/control_plane.hpp"

#include <rte_lcore.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <thread>

#include "appliance/accounting_store.hpp"
#include "appliance/log.hpp"
#include "appliance/report.hpp"
#include "appliance/telemetry.hpp"
#include "audit/crypto.hpp"
#include "audit/flow_format.hpp"
#include "base/file.hpp"

namespace dc::appliance {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
extern "C" void on_signal(int) { g_stop.store(true); }
extern "C" void on_hup(int) { g_reload.store(true); }

// Fail-closed episodes become audit records: once a second, the packets each failure condition
// dropped since the last look.
constexpr dataplane::DropReason kFailures[] = {
    dataplane::DropReason::kFlowTableFull,     dataplane::DropReason::kReorderQueueFull,
    dataplane::DropReason::kStreamUnavailable, dataplane::DropReason::kScanError,
    dataplane::DropReason::kAuditUnavailable,  dataplane::DropReason::kFragmentUninspected,
    dataplane::DropReason::kFragmentTableFull};

}  // namespace

ControlPlane::ControlPlane(RunOptions options, ApplianceConfig config)
    : opt_(std::move(options)), cfg_(std::move(config)), failure_seen_(std::size(kFailures), 0) {}

// Members go in reverse order: metrics, dataplane (workers stopped, ports closed), audit thread,
// sinks, ring, EAL, then the policy generations.
ControlPlane::~ControlPlane() = default;

std::string ControlPlane::expand(const std::string& s) const {
  return expand_device(s, cfg_.dir, opt_.out_dir);
}

int ControlPlane::run() {
  std::error_code ec;
  std::filesystem::create_directories(opt_.out_dir, ec);
  for (auto step :
       {&ControlPlane::load_first_policy, &ControlPlane::set_up_ports, &ControlPlane::open_eal,
        &ControlPlane::open_audit, &ControlPlane::open_key_intake, &ControlPlane::open_accounting,
        &ControlPlane::start_dataplane})
    if (int rc = (this->*step)(); rc != 0) return rc;
  serve();
  return finish();
}

// The compliance policy: compiled here, on the control thread, never on a worker.
int ControlPlane::load_first_policy() {
  if (cfg_.policy.empty()) {
    if (!cfg_.dataplane.pipeline.allow_without_policy)
      log::warning(
          "no policy configured: every new flow is dropped (fail closed); set [dataplane] policy");
    return 0;
  }
  auto loaded = load_policy(cfg_.policy, cfg_.audit.enabled);
  if (!loaded) {
    log::error("policy %s not loaded: %s; nothing started", cfg_.policy.c_str(),
               loaded.error().message.c_str());
    return 2;
  }
  first_policy_ = loaded.value();
  log::set_policy_hash(first_policy_->sha256_hex());
  log::notice("policy %s (%s %s) sha256 %s", cfg_.policy.c_str(),
              first_policy_->policy_id().c_str(), first_policy_->policy_version().c_str(),
              first_policy_->sha256_hex().c_str());
  return 0;
}

// Ports: devices expanded; with a policy, port zones are the policy's zones; without one, each
// distinct name gets an id of its own. Then the first policy generation.
int ControlPlane::set_up_ports() {
  std::map<std::string, uint16_t> zone_ids;
  const policy::Snapshot* snap = first_policy_.get();
  auto& dc = cfg_.dataplane;
  bool zone_errors = false;
  for (const auto& p : cfg_.ports) {
    uint16_t zid;
    if (snap != nullptr) {
      zid = snap->find_zone(p.zone);
      if (zid == policy::kNoZone) {
        std::string names;
        for (size_t z = 0; z < snap->zone_count(); ++z)
          names += (z ? ", " : "") + snap->zone(static_cast<policy::ZoneId>(z)).id;
        log::diagnostic(log::Level::kError,
                        cfg_.path + ":" + std::to_string(p.line) + ":1: error: port '" + p.name +
                            "': zone '" + p.zone +
                            "' is not a zone of the policy (zones: " + names + ")");
        zone_errors = true;
        continue;
      }
    } else {
      zid = zone_ids.emplace(p.zone, static_cast<uint16_t>(zone_ids.size())).first->second;
    }
    dataplane::PortSpec ps;
    ps.name = p.name;
    ps.device = expand(p.device);
    ps.zone = zid;
    ps.zone_name = p.zone;
    ps.fcs_strip = p.fcs_strip;
    ps.pass_arp = p.pass_arp;
    ps.pass_nd = p.pass_nd;
    dc.ports.push_back(ps);
  }
  if (zone_errors) {
    log::error("port zones do not match the policy; nothing started");
    return 2;
  }
  for (auto [a, b] : cfg_.pairs) {
    dc.ports[a].peer = static_cast<uint16_t>(b);
    dc.ports[b].peer = static_cast<uint16_t>(a);
  }
  std::vector<Reloader::Port> ports;
  std::vector<uint16_t> zones;
  for (const auto& p : dc.ports) {
    ports.push_back({p.name, p.zone_name, p.peer});
    zones.push_back(p.zone);
  }
  reloader_ = std::make_unique<Reloader>(cfg_.policy, std::move(ports),
                                         static_cast<unsigned>(dc.worker_lcores.size()),
                                         dc.pipeline.inspect_flows, cfg_.audit.enabled);
  if (snap == nullptr) return 0;  // no generation: reloads fail, new flows fail closed
  if (auto r = reloader_->publish_first(std::move(first_policy_), zones); !r) {
    log::error("%s; nothing started", r.error().message.c_str());
    return 2;
  }
  dc.pipeline.epoch = reloader_->live();
  return 0;
}

// EAL: lcores, extra arguments from the file and the command line, one --vdev/-a per port.
int ControlPlane::open_eal() {
  std::vector<std::string> eal;
  std::string lcores = std::to_string(cfg_.main_lcore);
  for (unsigned l : cfg_.dataplane.worker_lcores) lcores += "," + std::to_string(l);
  // An explicit --lcores mapping in [eal] args (e.g. "--lcores=0@0,1@1,2@1": more lcores than
  // CPUs, for tests) replaces the plain list; it must name the same lcore ids.
  bool lcore_map = false;
  for (const auto& a : cfg_.eal_args) lcore_map |= a.rfind("--lcores", 0) == 0;
  if (!lcore_map) eal.insert(eal.end(), {"-l", lcores});
  eal.insert(eal.end(), {"--main-lcore", std::to_string(cfg_.main_lcore)});
  eal.insert(eal.end(), cfg_.eal_args.begin(), cfg_.eal_args.end());
  eal.insert(eal.end(), opt_.extra_eal.begin(), opt_.extra_eal.end());
  for (const auto& p : cfg_.dataplane.ports) {
    auto a = dataplane::eal_device_args(p.device);
    eal.insert(eal.end(), a.begin(), a.end());
  }
  auto session = dataplane::EalSession::open(eal);
  if (!session) {
    log::error("%s", session.error().message.c_str());
    return 2;
  }
  eal_ = std::move(session.value());
  return 0;
}

int ControlPlane::start_dataplane() {
  auto dp = dataplane::Dataplane::create(cfg_.dataplane);
  if (!dp) {
    log::error("%s; nothing started", dp.error().message.c_str());
    return 2;
  }
  plane_ = std::move(dp.value());
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_hup);
  for (const auto& pi : plane_->ports())
    log::write(log::Level::kInfo, {.port = pi.name.c_str()}, "port %s: driver %s, %u queue(s)%s",
               pi.name.c_str(), pi.driver.c_str(), pi.queues, pi.rss ? ", symmetric RSS" : "");
  if (auto r = plane_->start(); !r) {
    log::error("%s", r.error().message.c_str());
    return 2;
  }
  attach_telemetry();
  Reloader::Hooks hooks;
  hooks.plane = plane_.get();
  hooks.channel = channel_.get();
  if (auditor_)
    hooks.record = [a = auditor_.get()](nlohmann::ordered_json rec) {
      a->post_event(audit::RecordType::kPolicyReload, std::move(rec));
    };
  hooks.prepare = [this](std::shared_ptr<const policy::Snapshot> s) {
    return prepare_accounting(s);
  };
  hooks.published = [this](const policy::Snapshot* s) {
    accounting_adopt();
    telemetry_attach(plane_.get(), &cfg_.dataplane, s, reloader_->generation());
    log::set_policy_hash(s->sha256_hex());
  };
  reloader_->attach(std::move(hooks));
  if (!cfg_.metrics_listen.empty()) {
    auto ms = MetricsServer::start(cfg_.metrics_listen, expand(cfg_.metrics_auth_file));
    if (ms) {
      metrics_ = std::move(ms.value());
      log::info("Prometheus metrics on http://%s/metrics%s", metrics_->address().c_str(),
                metrics_->authenticated() ? " (basic authentication)" : "");
    } else {
      // Observability is not worth stopping the border for: warn and run without it.
      log::warning("%s", ms.error().message.c_str());
    }
  }
  const policy::Snapshot* snap = reloader_->snapshot();
  std::string status = "running with " + std::to_string(plane_->workers()) + " worker(s)" +
                       (snap ? ", policy " + snap->policy_id() + " " + snap->policy_version() : "");
  log::notice("%s; Ctrl-C stops", status.c_str());
  service::ready(status);
  return 0;
}

void ControlPlane::report_failures() {
  auto now = std::chrono::steady_clock::now();
  double window_s = std::chrono::duration<double>(now - last_failure_check_).count();
  last_failure_check_ = now;
  if (!auditor_) return;
  auto sum = plane_->counters();
  for (size_t i = 0; i < std::size(kFailures); ++i) {
    uint64_t n = sum.drops[static_cast<unsigned>(kFailures[i])];
    if (n == failure_seen_[i]) continue;
    auditor_->post_event(audit::RecordType::kFailClosed,
                         {{"condition", dataplane::drop_reason_name(kFailures[i])},
                          {"packets_dropped", n - failure_seen_[i]},
                          {"window_s", window_s}});
    failure_seen_[i] = n;
  }
}

// The telemetry registry: the dataplane, the live policy, and what the control plane adds.
void ControlPlane::attach_telemetry() {
  telemetry_attach(plane_.get(), &cfg_.dataplane, reloader_->snapshot(), reloader_->generation());
  telemetry_attach_keys(key_intake_.get());
  ControlView view;
  view.reloads = &reloader_->counters();
  view.audit = channel_.get();
  view.started = started_;
  // A big policy may take a while to compile; `ctl reload` waits as long.
  view.reload = [this] { return reloads_.request(std::chrono::minutes(5)); };
  view.policy_path = cfg_.policy;
  telemetry_attach_control(std::move(view));
}

void ControlPlane::do_reload() {
  service::reloading();
  ReloadResult r = reloader_->reload();
  const policy::Snapshot* snap = reloader_->snapshot();
  std::string status = "running with " + std::to_string(plane_->workers()) + " worker(s)" +
                       (snap ? ", policy " + snap->policy_id() + " " + snap->policy_version() +
                                   " (generation " + std::to_string(reloader_->generation()) + ")"
                             : "");
  if (!r.ok) status += "; last reload rejected: " + r.error;
  service::ready(status);
  reloads_.complete(std::move(r));
}

// WatchdogSec=: a ping only once every worker has passed a quiescent state since the last one
// (an RCU grace period over), so a stuck worker stops the pings and systemd restarts the unit.
void ControlPlane::watchdog(std::chrono::steady_clock::time_point now) {
  if (!watchdog_.enabled()) return;
  if (watchdog_token_ == 0) watchdog_token_ = plane_->grace_start();
  if (!watchdog_.due(now) || !plane_->grace_over(watchdog_token_)) return;
  watchdog_.ping(now);
  watchdog_token_ = plane_->grace_start();
}

// SIGHUP and `ctl reload` reload the policy (appliance/reloader); every turn frees generations
// nobody can reach.
void ControlPlane::serve() {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto last_change = start;
  last_failure_check_ = start;
  uint64_t last_rx = 0;
  while (!g_stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const bool hup = g_reload.exchange(false);
    if (reloads_.pending() || hup) do_reload();
    reloader_->reclaim();
    auto now = clock::now();
    if (uint64_t rx = plane_->total_rx(); rx != last_rx) {
      last_rx = rx;
      last_change = now;
    }
    if (opt_.idle_exit_ms > 0 &&
        now - last_change >= std::chrono::milliseconds(opt_.idle_exit_ms)) {
      log::info("input idle for %ld ms, stopping", opt_.idle_exit_ms);
      break;
    }
    if (opt_.max_seconds > 0 && now - start >= std::chrono::seconds(opt_.max_seconds)) break;
    if (now - last_failure_check_ >= std::chrono::seconds(1)) report_failures();
    watchdog(now);
  }
}

}  // namespace dc::appliance

namespace dc::appliance {

namespace {

// Every online CPU no worker lcore polls: where the audit writer and its commit thread may run.
// EAL pinned the main thread, and so every thread it creates, to the main lcore's CPU alone,
// where they would queue behind the control plane. Empty when the workers take every CPU.
cpu_set_t audit_cpus(const std::vector<unsigned>& worker_lcores) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  for (long c = 0; c < online && c < CPU_SETSIZE; ++c) CPU_SET(static_cast<int>(c), &cpus);
  for (unsigned lc : worker_lcores) {
    rte_cpuset_t w = rte_lcore_cpuset(lc);
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &w)) CPU_CLR(c, &cpus);
  }
  return cpus;
}

}  // namespace

audit::WriterOptions ControlPlane::writer_options(const std::string& dir) const {
  const auto& ac = cfg_.audit;
  audit::WriterOptions wo;
  wo.dir = dir;
  wo.clock = [] {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  };
  wo.checkpoint_every_records = ac.checkpoint_every_records;
  wo.checkpoint_interval = std::chrono::seconds(ac.checkpoint_interval_s);
  wo.max_file_bytes = ac.max_file_mb << 20;
  wo.fsync_every_records = ac.fsync_every_records;
  wo.fsync_interval = std::chrono::milliseconds(ac.fsync_interval_ms);
  wo.background_sync = ac.background_sync;
  const policy::Snapshot* snap = reloader_->snapshot();
  wo.start_details = {{"policy_sha256", snap ? snap->sha256_hex() : ""},
                      {"policy_id", snap ? snap->policy_id() : ""},
                      {"policy_version", snap ? snap->policy_version() : ""},
                      {"config", cfg_.path}};
  if (snap) wo.start_details["bases"] = audit::policy_bases_json(*snap);
  return wo;
}

// The audit trail: a ring from the workers to one writer thread (appliance/audit_thread).
int ControlPlane::open_audit() {
  if (!cfg_.audit.enabled) {
    if (reloader_->snapshot() != nullptr)
      log::warning("no [audit] table: flow verdicts are not recorded");
    return 0;
  }
  const auto& ac = cfg_.audit;
  auto fail = [&](const std::string& msg) {
    log::diagnostic(log::Level::kError,
                    cfg_.path + ":" + std::to_string(ac.line) + ":1: error: [audit] " + msg);
    log::error("audit trail not available; nothing started");
    return 2;
  };
  std::string dir = expand(ac.dir);
  auto key = audit::SigningKey::load(expand(ac.signing_key));
  if (!key) return fail("signing_key: " + key.error().message);
  std::string hmac_path = expand(ac.hmac_key_file);
  auto hk = base::read_file(hmac_path, {.max_bytes = base::kMaxKeyBytes});
  if (!hk) return fail("hmac_key_file: " + hk.error().message);
  std::string hmac_key = std::move(*hk);
  while (!hmac_key.empty() && (hmac_key.back() == '\n' || hmac_key.back() == '\r'))
    hmac_key.pop_back();
  if (hmac_key.size() < 16) return fail("hmac_key_file " + hmac_path + ": shorter than 16 bytes");
  dataplane::AuditChannelConfig chc;
  chc.ring_size = ac.ring_size;
  chc.events = ac.ring_size / 2 - 1;
  chc.evidence_ring_bytes =
      ac.evidence_packets_per_flow > 0 ? dataplane::evidence_bytes_for(ac.ring_size) : 0;
  chc.workers = static_cast<uint16_t>(cfg_.dataplane.worker_lcores.size());
  chc.evidence_packets_per_flow = ac.evidence_packets_per_flow;
  auto ch = dataplane::AuditChannel::create(chc);
  if (!ch) return fail(ch.error().message);
  channel_ = std::move(ch.value());
  if (auto r = open_witnesses(); !r) return fail("witness: " + r.error().message);
  auto wo = writer_options(dir);
  if (witnesses_)
    wo.on_checkpoint = [p = witnesses_.get()](const audit::CheckpointInfo& c) { p->publish(c); };
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
  auditor_ = std::make_unique<audit::WriterThread>(*channel_, std::move(writer.value()),
                                                   std::move(evidence), hmac_key,
                                                   ac.evidence_packets_per_flow);
  for (size_t w = 0; w < cfg_.dataplane.worker_lcores.size(); ++w) {
    sinks_.push_back(std::make_unique<dataplane::AuditSink>(*channel_, static_cast<uint16_t>(w)));
    cfg_.dataplane.sinks.push_back(sinks_.back().get());
  }
  cfg_.dataplane.pipeline.evidence_packets = ac.evidence_packets_per_flow;
  cfg_.dataplane.pipeline.hold_for_record = ac.record_before_release;
  cfg_.dataplane.pipeline.hold_timeout_ns = int64_t{ac.hold_ms} * 1'000'000;
  cfg_.dataplane.pipeline.hold_packets = ac.hold_packets;
  cfg_.dataplane.pipeline.update_interval_ns = int64_t{ac.update_interval_s} * 1'000'000'000;
  if (witnesses_) {
    // The first failure of each episode becomes a record in the log it witnesses.
    witnesses_->set_event_sink([a = auditor_.get()](nlohmann::ordered_json d) {
      a->post_event(audit::RecordType::kWitnessError, std::move(d));
    });
  }
  auditor_->start();
  if (cpu_set_t cpus = audit_cpus(cfg_.dataplane.worker_lcores); CPU_COUNT(&cpus) > 0) {
    if (!auditor_->set_cpus(cpus)) log::warning("audit threads: cannot set their CPU affinity");
  }
  log::info("audit log %s", dir.c_str());
  return 0;
}

int ControlPlane::finish() {
  int exit_code = 0;
  service::stopping();
  reloads_.close();  // a `ctl reload` waiting now gets "stopping"
  metrics_.reset();
  telemetry_detach();  // before the counters it reads go away
  plane_->stop();
  close_accounting();  // after the workers: their last claims are answered, budgets given back
  report_failures();
  print_final_counters(stdout, *plane_, cfg_.dataplane);
  KeyIntakeStats key_stats;
  if (key_intake_) {
    key_stats = key_intake_->stats();
    print_key_counters(stdout, key_stats);
  }
  if (auditor_) {
    auto sum = plane_->counters();
    auto r = auditor_->stop({{"forwarded", sum.forwarded.load()},
                             {"dropped", sum.dropped.load()},
                             {"flows", plane_->flow_stats().created.load()}});
    auto st = auditor_->stats();
    std::fprintf(
        stdout,
        "\n== audit ==\nflow records %llu, not audit-worthy %llu, refused %llu, "
        "evidence files %llu, events lost %llu\n"
        "flow_open records %llu, flow_update records %llu, group commits %llu\n",
        static_cast<unsigned long long>(st.records), static_cast<unsigned long long>(st.skipped),
        static_cast<unsigned long long>(st.refused),
        static_cast<unsigned long long>(st.evidence_files),
        static_cast<unsigned long long>(channel_->lost_outcomes()),
        static_cast<unsigned long long>(st.opens), static_cast<unsigned long long>(st.updates),
        static_cast<unsigned long long>(st.group_commits));
    if (!r) {
      log::error("closing the audit log failed: %s", r.error().message.c_str());
      exit_code = 1;
    }
    close_witnesses();
  }
  if (!opt_.stats_json.empty()) {
    std::FILE* f = std::fopen(opt_.stats_json.c_str(), "w");
    std::string j = counters_json(*plane_, cfg_.dataplane, key_intake_ ? &key_stats : nullptr);
    if (f == nullptr || std::fwrite(j.data(), 1, j.size(), f) != j.size()) {
      log::error("cannot write %s", opt_.stats_json.c_str());
      exit_code = 2;
    }
    if (f != nullptr) std::fclose(f);
  }
  return exit_code;
}

// [tls] key_socket: one hand-off ring per worker, then the socket and its thread. A configured
// socket that cannot be opened stops the start: escrow-dependent policy would silently go opaque.
int ControlPlane::open_key_intake() {
  const TlsConfig& tc = cfg_.tls;
  if (tc.key_socket.empty()) return 0;
  auto fail = [&](const std::string& msg) {
    log::diagnostic(log::Level::kError,
                    cfg_.path + ":" + std::to_string(tc.line) + ":1: error: [tls] " + msg);
    log::error("key intake not available; nothing started");
    return 2;
  };
  auto h = KeyHandoff::create(static_cast<unsigned>(cfg_.dataplane.worker_lcores.size()),
                              tc.key_queue_size);
  if (!h) return fail(h.error().message);
  key_handoff_ = std::move(h.value());
  cfg_.dataplane.pipeline.keys = key_handoff_.get();  // drained by each worker (take_keys)
  KeyIntakeConfig kc;
  kc.path = expand(tc.key_socket);
  kc.owner = static_cast<uid_t>(tc.key_socket_owner);
  kc.group = static_cast<gid_t>(tc.key_socket_group);
  kc.mode = static_cast<mode_t>(tc.key_socket_mode);
  kc.allowed_uids.assign(tc.key_allowed_uids.begin(), tc.key_allowed_uids.end());
  kc.max_clients = tc.key_max_clients;
  auto ki = KeyIntake::start(
      std::move(kc), [h = key_handoff_.get()](const KeyLine& k) { return h->publish(k) == 0; });
  if (!ki) return fail(ki.error().message);
  key_intake_ = std::move(ki.value());
  log::info("key intake on %s (mode %04o)", key_intake_->path().c_str(), tc.key_socket_mode);
  return 0;
}

// [audit.witness]: each configured witness, run by one publisher thread.
Result<void> ControlPlane::open_witnesses() {
  const auto& wc = cfg_.audit.witness;
  std::vector<std::unique_ptr<audit::Witness>> ws;
  if (!wc.file.empty()) {
    auto w = audit::make_file_witness({expand(wc.file), wc.file_max_mb << 20});
    if (!w) return w.error();
    ws.push_back(std::move(*w));
  }
  if (wc.syslog) ws.push_back(audit::make_syslog_witness());
  if (!wc.redis.empty()) {
    audit::RedisWitnessOptions ro;
    ro.address = expand(wc.redis);
    ro.key = wc.redis_key;
    ro.history_max = wc.redis_history;
    ro.connect_timeout = std::chrono::milliseconds(wc.redis_connect_timeout_ms);
    ro.command_timeout = std::chrono::milliseconds(wc.redis_timeout_ms);
    auto w = audit::make_redis_witness(std::move(ro));
    if (!w) return w.error();
    ws.push_back(std::move(*w));
  }
  if (!ws.empty()) witnesses_ = std::make_unique<audit::WitnessPublisher>(std::move(ws));
  return {};
}

// After the closing checkpoint: publish what is queued (bounded wait) and report each witness.
void ControlPlane::close_witnesses() {
  if (!witnesses_) return;
  auto r = witnesses_->stop();
  if (!r) log::error("%s", r.error().message.c_str());
  for (const auto& s : witnesses_->stats()) {
    std::fprintf(stdout, "witness %s: published %llu, failures %llu in %llu episodes%s%s\n",
                 s.name.c_str(), static_cast<unsigned long long>(s.published),
                 static_cast<unsigned long long>(s.failures),
                 static_cast<unsigned long long>(s.episodes),
                 s.healthy ? "" : ", last error: ", s.healthy ? "" : s.last_error.c_str());
  }
}

}  // namespace dc::appliance
