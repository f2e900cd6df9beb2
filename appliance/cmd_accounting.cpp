// `datacustoms accounting show`: the distinct-person counts of customs accounting per exporter,
// basis, counterparty and declaration, read from the LMDB store (read-only) or the site's Redis,
// with the threshold and mechanism of each row and declared against actual (audit/accounting_view).
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/config.hpp"
#include "audit/accounting_view.hpp"
#include "audit/person_store_backends.hpp"
#include "audit/person_store_scope.hpp"
#include "audit/report.hpp"
#include "base/time.hpp"
#include "policy/diagnostics.hpp"
#include "policy/policy.hpp"

namespace dc::appliance {
int accounting_keygen(const std::vector<std::string>& args);  // cmd_accounting_key.cpp

namespace {

constexpr int kExitOk = 0, kExitUsage = 2;

constexpr const char* kUsage =
    "usage: datacustoms accounting show [--config appliance.toml | --state-dir DIR |\n"
    "                                    --redis HOST:PORT] [--year Y] [--policy FILE]\n"
    "                                    [--format text|json] [--at T]\n"
    "  Distinct persons counted per exporter / basis / counterparty / declaration and year,\n"
    "  sensitive and non-sensitive, and the threshold and mechanism of each row. --policy adds\n"
    "  the exporters' CIIO flags, the bases' caps and declared against actual per declaration\n"
    "  (states at T: YYYY-MM-DD (UTC) or RFC 3339 with a zone; default now), with each\n"
    "  declaration's durable bytes (the budgets the appliances reserved). Bytes per exporter and\n"
    "  blocked flows are not in the store: datacustoms audit report has them.\n"
    "  Exit: 0 shown, 2 usage, configuration or store error.\n"
    "usage: datacustoms accounting keygen PATH\n"
    "  Writes a new accounting key (32 random bytes, mode 0600) to PATH; the same key on every\n"
    "  appliance of a site ([accounting] key_file).\n";

struct ShowOptions {
  std::string config, state_dir, redis, policy, format = "text", at;
  int year = 0;
};

Result<std::unique_ptr<audit::PersonStore>> open_store(const ShowOptions& o) {
  std::string dir = o.state_dir, redis = o.redis;
  if (!o.config.empty()) {
    std::vector<Diagnostic> diags;
    auto cfg = load_appliance_config(o.config, diags);
    for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.str().c_str());
    if (!cfg) return cfg.error();
    dir = cfg->accounting.state_dir;
    redis = cfg->accounting.redis;  // a site's counts are Redis's
  }
  if (!redis.empty()) {
    auto addr = audit::parse_redis_address(redis);
    if (!addr) return addr.error();
    return audit::make_redis_store({.host = addr->first, .port = addr->second});
  }
  if (dir.empty()) return make_error(ErrorCode::kInvalid, "no accounting state directory");
  return audit::make_lmdb_store(dir, {.read_only = true, .create = false});
}

// Every scope of the store (of --year) as rows of the report.
Result<void> collect(audit::PersonStore& store, const ShowOptions& o, audit::AccountingView& v) {
  auto scopes = store.scopes(o.year ? std::to_string(o.year) + "/" : "");
  if (!scopes) return scopes.error();
  for (const auto& [scope, count] : *scopes) {
    auto k = audit::parse_scope_key(scope);
    if (!k) {
      std::fprintf(stderr, "datacustoms: skipped: %s\n", k.error().message.c_str());
      continue;
    }
    v.add_scope(*k, count);
  }
  auto bytes = store.all_reserved_bytes();  // declarations' durable bytes
  if (!bytes) return bytes.error();
  v.store_bytes.insert(bytes->begin(), bytes->end());
  v.has_store_bytes = true;
  return {};
}

void print_text(const audit::AccountingView& v, const std::string& at) {
  std::fputs(v.rows_text().c_str(), stdout);
  if (v.policy == nullptr) return;
  std::printf("\n== declarations: declared against actual (states at %s) ==\n%s", at.c_str(),
              v.declarations_text().c_str());
}

void print_json(const std::string& store, const audit::AccountingView& v, const std::string& at) {
  nlohmann::ordered_json out = {{"store", store}, {"policy_given", v.policy != nullptr}};
  out["at"] = at;
  out["rows"] = v.rows_json();
  if (v.policy != nullptr) out["declarations"] = v.declarations_json();
  std::printf("%s\n", out.dump(2).c_str());
}

bool parse_args(const std::vector<std::string>& args, ShowOptions& o) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string year;
    if (take_option_value(args, i, "--config", o.config) ||
        take_option_value(args, i, "--state-dir", o.state_dir) ||
        take_option_value(args, i, "--redis", o.redis) ||
        take_option_value(args, i, "--policy", o.policy) ||
        take_option_value(args, i, "--format", o.format) ||
        take_option_value(args, i, "--at", o.at))
      continue;
    if (take_option_value(args, i, "--year", year)) {
      if (year.size() != 4 || year.find_first_not_of("0123456789") != std::string::npos)
        return false;
      o.year = std::stoi(year);
      continue;
    }
    return false;
  }
  int sources = !o.config.empty() + !o.state_dir.empty() + !o.redis.empty();
  return sources == 1 && (o.format == "text" || o.format == "json");
}

int show(const std::vector<std::string>& args) {
  ShowOptions o;
  if (!parse_args(args, o)) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  std::shared_ptr<const policy::Snapshot> snap;
  if (!o.policy.empty()) {
    policy::Diagnostics diags(o.policy);
    auto s = policy::load_policy_file(o.policy, diags);
    std::fputs(diags.format().c_str(), stderr);
    if (!s || !*s || diags.has_errors()) {
      std::fprintf(stderr, "datacustoms: cannot load policy %s\n", o.policy.c_str());
      return kExitUsage;
    }
    snap = *s;
  }
  auto store = open_store(o);
  if (!store) {
    std::fprintf(stderr, "datacustoms: accounting: %s\n", store.error().message.c_str());
    return kExitUsage;
  }
  audit::AccountingView view;
  view.policy = snap.get();
  view.at_ns = static_cast<int64_t>(std::time(nullptr)) * base::kNsPerSec;
  if (!o.at.empty()) {
    auto t = audit::parse_report_time(o.at, false);
    if (!t) {
      std::fprintf(stderr, "datacustoms: accounting: --at %s\n", t.error().message.c_str());
      return kExitUsage;
    }
    view.at_ns = *t;
  }
  if (auto got = collect(**store, o, view); !got) {
    std::fprintf(stderr, "datacustoms: accounting: %s\n", got.error().message.c_str());
    return kExitUsage;
  }
  const std::string at = base::format_rfc3339(view.at_ns, 0);
  if (o.format == "json")
    print_json((*store)->describe(), view, at);
  else
    print_text(view, at);
  return kExitOk;
}

int accounting(const std::vector<std::string>& args) {
  if (args.size() >= 1 && args[0] == "show") return show(args);
  if (args.size() >= 1 && args[0] == "keygen") return accounting_keygen(args);
  std::fputs(kUsage, stderr);
  return args.size() == 1 && (args[0] == "--help" || args[0] == "-h") ? kExitOk : kExitUsage;
}

const CommandRegistrar kReg{
    "accounting", "customs accounting: show the distinct persons counted, keygen", &accounting};

}  // namespace
}  // namespace dc::appliance
