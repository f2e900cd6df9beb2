// Policy generations: load, publish, record, and free once unreachable (appliance/reloader.hpp).
#include "appliance/reloader.hpp"

#include <cstdio>

#include "audit/flow_format.hpp"
#include "policy/policy.hpp"

namespace dc::appliance {

Result<std::shared_ptr<const policy::Snapshot>> load_policy(const std::string& path,
                                                            bool audit_trail) {
  policy::Diagnostics pd(path);
  auto loaded = policy::load_policy_file(path, pd);
  if (std::string text = pd.format(); !text.empty()) std::fprintf(stderr, "%s", text.c_str());
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

void Reloader::reload() {
  const std::string old_sha = current_ ? current_->snapshot->sha256_hex() : "";
  nlohmann::ordered_json rec = {{"file", path_}, {"previous_sha256", old_sha}};
  auto record = [&] {
    if (hooks_.record) hooks_.record(rec);
  };
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "datacustoms: policy reload failed: %s; policy %s stays live\n",
                 why.c_str(), old_sha.c_str());
    rec["result"] = "failed";
    rec["error"] = why;
    record();
  };
  if (!current_) return fail("no policy configured ([dataplane] policy)");
  auto loaded = load_policy(path_, audit_trail_);
  if (!loaded) return fail(loaded.error().message);
  std::vector<uint16_t> zones;
  for (const auto& p : ports_) {
    uint16_t z = loaded.value()->find_zone(p.zone);
    if (z == policy::kNoZone)
      return fail("port '" + p.name + "': zone '" + p.zone + "' is not a zone of the new policy");
    zones.push_back(z);
  }
  auto ep = build(loaded.value(), zones);
  if (!ep) return fail(ep.error().message);
  publish(std::move(ep.value()));
  const policy::Snapshot& s = *current_->snapshot;
  rec["result"] = "ok";
  rec["generation"] = generation_;
  rec["policy_sha256"] = s.sha256_hex();
  rec["policy_version"] = s.policy_version();
  rec["bases"] = audit::policy_bases_json(s);
  record();
  std::fprintf(stderr, "datacustoms: policy reloaded: %s %s sha256 %s (generation %u)\n",
               s.policy_id().c_str(), s.policy_version().c_str(), s.sha256_hex().c_str(),
               generation_);
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
  std::fprintf(stderr, "datacustoms: policy generation %u freed\n", r.epoch->generation);
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
