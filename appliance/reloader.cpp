// Policy generations: load, publish, record, and free once unreachable (appliance/reloader.hpp).
#include "appliance/reloader.hpp"

#include <chrono>
#include <sstream>

#include "appliance/log.hpp"
#include "audit/flow_format.hpp"
#include "base/hash.hpp"
#include "policy/policy.hpp"

namespace dc::appliance {

Result<std::shared_ptr<const policy::Snapshot>> load_policy(const std::string& path,
                                                            bool audit_trail,
                                                            std::vector<std::string>* diagnostics) {
  policy::Diagnostics pd(path);
  // Declarations' byte totals are kept across every policy this process loads (by declaration
  // id), so a reload does not give a declaration its max_bytes again.
  static const auto usage = std::make_shared<policy::DeclarationUsage>();
  policy::CompileOptions opts;
  opts.declaration_usage = usage;
  auto loaded = policy::load_policy_file(path, pd, nullptr, opts);
  std::istringstream lines(pd.format());
  for (std::string line; std::getline(lines, line);) {
    if (diagnostics != nullptr)
      diagnostics->push_back(line);
    else
      log::diagnostic(
          line.find(": error: ") != std::string::npos ? log::Level::kError : log::Level::kWarning,
          line);
  }
  if (!loaded) return loaded.error();
  if (loaded.value() == nullptr)
    return make_error(std::to_string(pd.error_count()) + " error(s) in " + path);
  if (!audit_trail && loaded.value()->requires_audit()) {
    return make_error(path +
                      " requires an audit trail ([defaults.on_failure] audit_unavailable "
                      "= \"closed\") and appliance.toml has no [audit] table");
  }
  return std::shared_ptr<const policy::Snapshot>(loaded.value());
}

Reloader::Reloader(std::string policy_path, std::vector<Port> ports, unsigned workers,
                   uint32_t inspect_flows, bool audit_trail)
    : path_(std::move(policy_path)),
      ports_(std::move(ports)),
      workers_(workers),
      inspect_flows_(inspect_flows),
      audit_trail_(audit_trail) {}

// The workers are stopped and the audit writer drained by now: everything goes.
Reloader::~Reloader() = default;

const policy::Snapshot* Reloader::snapshot() const noexcept {
  return current_ ? current_->snapshot.get() : nullptr;
}

Result<std::unique_ptr<dataplane::PolicyEpoch>> Reloader::build(
    std::shared_ptr<const policy::Snapshot> snapshot, const std::vector<uint16_t>& zones) {
  std::vector<uint16_t> peers;
  for (const auto& p : ports_) peers.push_back(p.peer);
  return dataplane::PolicyEpoch::build(generation_ + 1, std::move(snapshot), zones, peers, workers_,
                                       inspect_flows_);
}

void Reloader::publish(std::unique_ptr<dataplane::PolicyEpoch> epoch) {
  generation_ = epoch->generation;
  live_.store(epoch.get(), std::memory_order_release);
  if (current_) {
    // The grace period starts after the store: a worker that reports a quiescent state from now
    // on has dropped the old generation (dataplane/runtime.cpp worker_main).
    Retiring r;
    r.epoch = std::move(current_);
    if (hooks_.plane != nullptr) r.token = hooks_.plane->grace_start();
    retiring_.push_back(std::move(r));
  }
  current_ = std::move(epoch);
  if (hooks_.published) hooks_.published(current_->snapshot.get());
}

Result<void> Reloader::publish_first(std::shared_ptr<const policy::Snapshot> snapshot,
                                     const std::vector<uint16_t>& zones) {
  auto ep = build(std::move(snapshot), zones);
  if (!ep) return ep.error();
  publish(std::move(ep.value()));
  return {};
}

namespace {
int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void Reloader::reject(ReloadResult& res, const std::string& why) {
  res.ok = false;
  res.error = why;
  ++counters_.rejected;
  counters_.last_failed_unix.store(unix_now());
  log::error("policy reload failed: %s; policy %s stays live", why.c_str(),
             res.previous_sha256.c_str());
  for (const auto& d : res.diagnostics) log::error("  %s", d.c_str());
}

// The record lists every diagnostic and the SHA-256 of the file as read, so that a rejected
// file can be found again (docs/audit-format.md "policy_reload").
ReloadResult Reloader::reload() {
  ReloadResult res;
  res.file = path_;
  res.previous_sha256 = current_ ? current_->snapshot->sha256_hex() : "";
  if (!current_) {
    reject(res, "no policy configured ([dataplane] policy)");
  } else {
    if (auto h = base::sha256_file_hex(path_, {.max_bytes = 64u << 20}); h) res.file_sha256 = *h;
    auto loaded = load_policy(path_, audit_trail_, &res.diagnostics);
    std::vector<uint16_t> zones;
    std::string why = loaded ? "" : loaded.error().message;
    for (size_t i = 0; loaded && why.empty() && i < ports_.size(); ++i) {
      uint16_t z = loaded.value()->find_zone(ports_[i].zone);
      if (z == policy::kNoZone)
        why = "port '" + ports_[i].name + "': zone '" + ports_[i].zone +
              "' is not a zone of the new policy";
      zones.push_back(z);
    }
    if (why.empty() && hooks_.prepare) {
      if (auto r = hooks_.prepare(loaded.value()); !r) why = r.error().message;
    }
    if (why.empty()) {
      auto ep = build(loaded.value(), zones);
      if (ep)
        publish(std::move(ep.value()));
      else
        why = ep.error().message;
    }
    if (!why.empty())
      reject(res, why);
    else
      res.ok = true;
  }
  res.generation = generation_;
  if (current_) {
    const policy::Snapshot& s = *current_->snapshot;
    res.policy_id = s.policy_id();
    res.policy_version = s.policy_version();
    res.policy_sha256 = s.sha256_hex();
  }
  nlohmann::ordered_json rec = {{"file", path_},
                                {"file_sha256", res.file_sha256},
                                {"previous_sha256", res.previous_sha256},
                                {"result", res.ok ? "ok" : "failed"}};
  if (res.ok) {
    ++counters_.ok;
    counters_.last_ok_unix.store(unix_now());
    rec["generation"] = generation_;
    rec["policy_sha256"] = res.policy_sha256;
    rec["policy_version"] = res.policy_version;
    rec["bases"] = audit::policy_bases_json(*current_->snapshot);
    log::notice("policy reloaded: %s %s sha256 %s (generation %u)", res.policy_id.c_str(),
                res.policy_version.c_str(), res.policy_sha256.c_str(), generation_);
    for (const auto& d : res.diagnostics) log::warning("  %s", d.c_str());
  } else {
    rec["error"] = res.error;
  }
  rec["diagnostics"] = res.diagnostics;
  if (hooks_.record) hooks_.record(rec);
  return res;
}

// One generation's way out, in order. The grace period comes first: until it is over a worker
// may still admit new flows under the generation, so a zero flow count means nothing before.
bool Reloader::advance(Retiring& r) {
  if (r.stage == Stage::kGrace) {
    if (hooks_.plane == nullptr || !hooks_.plane->grace_over(r.token)) return false;
    r.stage = Stage::kFlows;
  }
  if (r.stage == Stage::kFlows) {
    if (r.epoch->bound_flows() != 0) return false;
    // Each flow's record was on the audit ring before its count went down: the ring position
    // read now is after all of them.
    r.epoch->free_engines();
    if (hooks_.channel != nullptr) r.mark = hooks_.channel->mark();
    r.stage = Stage::kRecords;
  }
  if (hooks_.channel != nullptr && !hooks_.channel->handled(r.mark)) return false;
  log::info("policy generation %u freed", r.epoch->generation);
  return true;
}

void Reloader::reclaim() {
  for (auto it = retiring_.begin(); it != retiring_.end();) {
    if (advance(*it))
      it = retiring_.erase(it);
    else
      ++it;
  }
}

}  // namespace dc::appliance
