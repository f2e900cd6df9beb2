// `datacustoms accounting show`: the distinct-person counts of customs accounting per exporter,
// basis, counterparty and declaration, read from the LMDB store (read-only) or the site's Redis.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/config.hpp"
#include "audit/person_store_backends.hpp"
#include "audit/person_store_scope.hpp"
#include "policy/diagnostics.hpp"
#include "policy/policy.hpp"

namespace dc::appliance {
int accounting_keygen(const std::vector<std::string>& args);  // cmd_accounting_key.cpp

namespace {

constexpr int kExitOk = 0, kExitUsage = 2;

constexpr const char* kUsage =
    "usage: datacustoms accounting show [--config appliance.toml | --state-dir DIR |\n"
    "                                    --redis HOST:PORT] [--year Y] [--policy FILE]\n"
    "                                    [--format text|json]\n"
    "  Distinct persons counted per exporter / basis / counterparty / declaration and year,\n"
    "  sensitive and non-sensitive. --policy adds the limit that applies to each row.\n"
    "  Exit: 0 shown, 2 usage, configuration or store error.\n"
    "usage: datacustoms accounting keygen PATH\n"
    "  Writes a new accounting key (32 random bytes, mode 0600) to PATH; the same key on every\n"
    "  appliance of a site ([accounting] key_file).\n";

struct ShowOptions {
  std::string config, state_dir, redis, policy, format = "text";
  int year = 0;
};

struct Row {
  std::string exporter, counterparty, basis, declaration;
  int year = 0;
  uint64_t persons[2] = {0, 0};  // [0] non-sensitive, [1] sensitive
  audit::AppliedLimit limit[2];
  auto key() const { return std::tie(year, exporter, basis, counterparty, declaration); }
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

Result<std::vector<Row>> collect(audit::PersonStore& store, const ShowOptions& o,
                                 const policy::Snapshot* snap) {
  auto scopes = store.scopes(o.year ? std::to_string(o.year) + "/" : "");
  if (!scopes) return scopes.error();
  std::map<std::tuple<int, std::string, std::string, std::string, std::string>, Row> rows;
  for (const auto& [scope, count] : *scopes) {
    auto k = audit::parse_scope_key(scope);
    if (!k) {
      std::fprintf(stderr, "datacustoms: skipped: %s\n", k.error().message.c_str());
      continue;
    }
    Row r;
    r.exporter = k->exporter;
    r.counterparty = k->counterparty;
    r.basis = k->basis;
    r.declaration = k->declaration;
    r.year = k->year;
    Row& row = rows.try_emplace(r.key(), r).first->second;
    row.persons[k->sensitive] = count;
    if (snap) row.limit[k->sensitive] = audit::applicable_limit(*snap, *k);
  }
  std::vector<Row> out;
  for (auto& [k, r] : rows) out.push_back(std::move(r));
  return out;
}

std::string kind(const Row& r) {
  if (!r.declaration.empty()) return "declaration";
  if (!r.counterparty.empty()) return "counterparty";
  if (!r.basis.empty()) return "basis";
  return "exporter";
}

std::string limit_text(const audit::AppliedLimit& l) {
  return l.limit ? std::to_string(l.limit) : "-";
}

void print_text(const std::vector<Row>& rows, bool with_policy) {
  std::printf("%-4s  %-14s %-12s %-14s %-14s %-12s %10s %10s", "year", "exporter", "row", "basis",
              "counterparty", "declaration", "non-sens.", "sensitive");
  if (with_policy) std::printf("  %10s %10s  %s", "limit(n)", "limit(s)", "mechanism needed");
  std::printf("\n");
  for (const auto& r : rows) {
    std::printf("%-4d  %-14s %-12s %-14s %-14s %-12s %10llu %10llu", r.year, r.exporter.c_str(),
                kind(r).c_str(), r.basis.empty() ? "-" : r.basis.c_str(),
                r.counterparty.empty() ? "-" : r.counterparty.c_str(),
                r.declaration.empty() ? "-" : r.declaration.c_str(),
                static_cast<unsigned long long>(r.persons[0]),
                static_cast<unsigned long long>(r.persons[1]));
    if (with_policy) {
      std::string need = "-";
      if (kind(r) == "exporter") {
        auto n = audit::required_mechanism(false, r.persons[0]);
        auto s = audit::required_mechanism(true, r.persons[1]);
        auto rank = [](std::string_view m) {
          return m == "security_assessment" ? 2 : m == "exempt" ? 0 : 1;
        };
        need = std::string(rank(n) >= rank(s) ? n : s);
      }
      std::printf("  %10s %10s  %s", limit_text(r.limit[0]).c_str(), limit_text(r.limit[1]).c_str(),
                  need.c_str());
    }
    std::printf("\n");
  }
}

void print_json(const std::string& store, const std::vector<Row>& rows, bool with_policy) {
  nlohmann::json out = {{"store", store}, {"rows", nlohmann::json::array()}};
  for (const auto& r : rows) {
    nlohmann::json j = {{"year", r.year},
                        {"exporter", r.exporter},
                        {"row", kind(r)},
                        {"non_sensitive", r.persons[0]},
                        {"sensitive", r.persons[1]}};
    if (!r.basis.empty()) j["basis"] = r.basis;
    if (!r.counterparty.empty()) j["counterparty"] = r.counterparty;
    if (!r.declaration.empty()) j["declaration"] = r.declaration;
    if (with_policy) {
      for (int s = 0; s < 2; ++s)
        if (r.limit[s].limit)
          j[s ? "limit_sensitive" : "limit_non_sensitive"] = {{"limit", r.limit[s].limit},
                                                              {"source", r.limit[s].source}};
      if (kind(r) == "exporter") {
        j["mechanism_needed_non_sensitive"] = audit::required_mechanism(false, r.persons[0]);
        j["mechanism_needed_sensitive"] = audit::required_mechanism(true, r.persons[1]);
      }
    }
    out["rows"].push_back(std::move(j));
  }
  std::printf("%s\n", out.dump(2).c_str());
}

bool parse_args(const std::vector<std::string>& args, ShowOptions& o) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string year;
    if (take_option_value(args, i, "--config", o.config) ||
        take_option_value(args, i, "--state-dir", o.state_dir) ||
        take_option_value(args, i, "--redis", o.redis) ||
        take_option_value(args, i, "--policy", o.policy) ||
        take_option_value(args, i, "--format", o.format))
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
  auto rows = collect(**store, o, snap.get());
  if (!rows) {
    std::fprintf(stderr, "datacustoms: accounting: %s\n", rows.error().message.c_str());
    return kExitUsage;
  }
  if (o.format == "json")
    print_json((*store)->describe(), *rows, snap != nullptr);
  else
    print_text(*rows, snap != nullptr);
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
