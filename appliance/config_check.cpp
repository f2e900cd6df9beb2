// `config check`: the file, then the policy it names, then the machine
// (appliance/config_check.hpp).
#include "appliance/config_check.hpp"

#include <algorithm>
#include <filesystem>
#include <tuple>

#include "appliance/config_check_parts.hpp"
#include "base/file.hpp"
#include "policy/policy.hpp"

namespace dc::appliance {
namespace check {

void Context::add(bool error, const std::string& key, std::string msg, std::string hint) {
  Diagnostic d{cfg.path, 0, 0, error, std::move(msg), std::move(hint)};
  // The key itself, else the closest enclosing key that was written ("audit" for "audit.dir").
  for (std::string k = key; !k.empty();) {
    if (auto it = cfg.positions.find(k); it != cfg.positions.end()) {
      d.line = it->second.line;
      d.column = it->second.column;
      break;
    }
    auto dot = k.rfind('.');
    k = dot == std::string::npos ? std::string() : k.substr(0, dot);
  }
  out_.push_back(std::move(d));
}

void Context::error(const std::string& key, std::string msg, std::string hint) {
  add(true, key, std::move(msg), std::move(hint));
}

void Context::warning(const std::string& key, std::string msg, std::string hint) {
  add(false, key, std::move(msg), std::move(hint));
}

std::string Context::expand(const std::string& s) const {
  return expand_device(s, cfg.dir, opt.out_dir);
}

std::string Context::display(const std::string& path) {
  std::error_code ec;
  auto cwd = std::filesystem::current_path(ec);
  auto p = std::filesystem::path(path).lexically_normal();
  if (ec || p.is_relative()) return p.string();
  auto rel = p.lexically_relative(cwd);
  if (rel.empty() || *rel.begin() == "..") return p.string();
  return rel.string();
}

std::vector<std::string> Context::eal_args() const {
  std::vector<std::string> a = cfg.eal_args;
  a.insert(a.end(), opt.extra_eal.begin(), opt.extra_eal.end());
  return a;
}

void port_zones(Context& c, const policy::Snapshot& snap) {
  std::vector<std::string> zones;
  for (size_t z = 0; z < snap.zone_count(); ++z)
    zones.push_back(snap.zone(static_cast<policy::ZoneId>(z)).id);
  for (size_t i = 0; i < c.cfg.ports.size(); ++i) {
    const auto& p = c.cfg.ports[i];
    if (snap.find_zone(p.zone) != policy::kNoZone) continue;
    std::string names;
    for (const auto& z : zones) names += (names.empty() ? "" : ", ") + z;
    std::string near = policy::closest_match(p.zone, zones);
    c.error("ports." + std::to_string(i) + ".zone",
            "port '" + p.name + "': zone '" + p.zone +
                "' is not a zone of the policy (zones: " + names + ")",
            near.empty() ? "name one of the policy's [[zone]] ids, or add the zone to the policy"
                         : "did you mean '" + near + "'?");
  }
}

}  // namespace check

namespace {

// The policy, compiled as `run` compiles it; its diagnostics appended as they are.
void check_policy(check::Context& c, CheckResult& r, std::vector<Diagnostic>& policy_diags) {
  const auto& cfg = c.cfg;
  if (cfg.policy.empty()) {
    if (!cfg.dataplane.pipeline.allow_without_policy)
      c.warning("dataplane", "no policy configured: every new flow is dropped (fail closed)",
                "set [dataplane] policy = \"policy.toml\"");
    return;
  }
  std::string shown = check::Context::display(cfg.policy);
  policy::Diagnostics pd(shown);
  policy::CompileOptions copts;
  copts.warn_expired_at_ns = c.opt.now_ns;
  auto loaded = policy::load_policy_file(cfg.policy, pd, nullptr, copts);
  for (const auto& d : pd.items())
    policy_diags.push_back(Diagnostic{shown,
                                      static_cast<int>(d.pos.line),
                                      static_cast<int>(d.pos.column),
                                      d.severity == policy::Severity::kError,
                                      d.message,
                                      {}});
  if (!loaded) {
    c.error("dataplane.policy", loaded.error().message,
            "the path is relative to appliance.toml; install a policy there "
            "(examples: /usr/share/doc/datacustoms/examples/policy/)");
    return;
  }
  if (loaded.value() == nullptr) {
    c.error("dataplane.policy",
            "policy " + shown + " has " + std::to_string(pd.error_count()) + " error(s) (below)",
            "datacustoms policy check " + shown);
    return;
  }
  const auto& snap = *loaded.value();
  if (!cfg.audit.enabled && snap.requires_audit())
    c.error("dataplane.policy",
            "policy " + shown +
                " requires an audit trail ([defaults.on_failure] audit_unavailable = \"closed\") "
                "and there is no [audit] table",
            "add an [audit] table (dir, signing_key, hmac_key_file)");
  check::port_zones(c, snap);
  r.policy_summary =
      snap.policy_id() + " " + snap.policy_version() + " sha256 " + snap.sha256_hex();
}

}  // namespace

std::size_t CheckResult::errors() const {
  return static_cast<std::size_t>(
      std::count_if(diags.begin(), diags.end(), [](const Diagnostic& d) { return d.error; }));
}

std::size_t CheckResult::warnings() const { return diags.size() - errors(); }

CheckResult check_config(const CheckOptions& opt) {
  CheckResult r;
  if (auto f = base::open_regular_file(opt.config_path); !f) {
    r.read_error = f.error().message;
    return r;
  }
  ApplianceConfig cfg;
  bool parsed = false;
  std::vector<Diagnostic> file_diags, policy_diags;
  auto loaded = load_appliance_config(opt.config_path, file_diags, &cfg, &parsed);
  if (parsed) {
    check::Context c(cfg, opt, file_diags);
    check_policy(c, r, policy_diags);
    // The machine is checked against a file without errors only: a misspelt key leaves its
    // default in place, and checking that default against the machine would mislead.
    if (loaded) {
      r.machine_checked = true;
      for (auto fn :
           {check::eal_args, check::cores, check::memory, check::devices, check::audit_files,
            check::tls_socket, check::metrics, check::accounting_store})
        fn(c);
    }
  }
  std::stable_sort(file_diags.begin(), file_diags.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
  r.diags = std::move(file_diags);
  r.diags.insert(r.diags.end(), policy_diags.begin(), policy_diags.end());
  if (loaded && r.errors() == 0) r.config = std::move(loaded.value());
  return r;
}

void print_diagnostics(FILE* out, const std::vector<Diagnostic>& diags) {
  for (const auto& d : diags) {
    std::fprintf(out, "%s\n", d.str().c_str());
    if (!d.hint.empty()) std::fprintf(out, "  fix: %s\n", d.hint.c_str());
  }
}

}  // namespace dc::appliance
