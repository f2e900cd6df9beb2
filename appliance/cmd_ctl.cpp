// `datacustoms ctl`: status, reload, flows and counters of a running appliance, over DPDK's
// telemetry socket (appliance/telemetry_client.hpp; the commands are appliance/telemetry.hpp's).
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/telemetry_client.hpp"

namespace dc::appliance {
namespace {

using nlohmann::json;

struct CtlOptions {
  std::string socket, prefix, runtime_dir, command;
  std::vector<std::string> args;
  bool json = false;
  long timeout_s = 300;  // a reload compiles the policy: give it time
};

void usage(FILE* out) {
  std::fprintf(
      out,
      "usage: datacustoms ctl [options] COMMAND\n"
      "commands:\n"
      "  status            policy (id, version, SHA-256, generation), uptime, ports, workers,\n"
      "                    audit health, reload results\n"
      "  reload            reload the policy file now; prints the result and every diagnostic\n"
      "                    (exit 1 when the new policy is rejected: the old one stays live)\n"
      "  flows [--top N]   the N (default 10, at most 32) largest live flows by bytes\n"
      "  counters          ports (with device missed/error counts), drops, verdicts, flows\n"
      "options:\n"
      "  --socket PATH       the telemetry socket (default: found under the runtime directory)\n"
      "  --file-prefix NAME  the appliance's EAL --file-prefix\n"
      "  --runtime-dir DIR   look under DIR/dpdk/ only\n"
      "  --json              print the appliance's JSON reply\n"
      "  --timeout S         seconds to wait for a reply (default 300)\n"
      "exit: 0 ok, 1 reload rejected, 2 usage, 3 appliance not reachable\n");
}

int parse(const std::vector<std::string>& args, CtlOptions& o) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string v;
    auto value = [&](std::string_view n) { return take_option_value(args, i, n, v); };
    if (args[i] == "--help" || args[i] == "-h") {
      usage(stdout);
      return 0;
    } else if (value("--socket")) {
      o.socket = v;
    } else if (value("--file-prefix")) {
      o.prefix = v;
    } else if (value("--runtime-dir")) {
      o.runtime_dir = v;
    } else if (value("--timeout")) {
      o.timeout_s = std::atol(v.c_str());
      if (o.timeout_s <= 0) return 2;
    } else if (args[i] == "--json") {
      o.json = true;
    } else if (o.command.empty() && args[i][0] != '-') {
      o.command = args[i];
    } else if (!o.command.empty()) {
      o.args.push_back(args[i]);
    } else {
      std::fprintf(stderr, "datacustoms ctl: unknown option '%s'\n", args[i].c_str());
      return 2;
    }
  }
  return -1;
}

std::string str(const json& j, const char* k) {
  return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
}
uint64_t num(const json& j, const char* k) {
  return j.contains(k) && j[k].is_number() ? j[k].get<uint64_t>() : 0;
}

std::string utc(uint64_t unix_s) {
  if (unix_s == 0) return "never";
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int print_status(const json& s) {
  uint64_t up = num(s, "uptime_s");
  std::printf(
      "datacustoms %s, pid %llu, up %llud %02llu:%02llu:%02llu\n", str(s, "version").c_str(),
      static_cast<unsigned long long>(num(s, "pid")), static_cast<unsigned long long>(up / 86400),
      static_cast<unsigned long long>(up / 3600 % 24),
      static_cast<unsigned long long>(up / 60 % 60), static_cast<unsigned long long>(up % 60));
  std::printf("policy    %s %s sha256 %s (generation %llu)\n", str(s, "policy_id").c_str(),
              str(s, "policy_version").c_str(), str(s, "policy_sha256").c_str(),
              static_cast<unsigned long long>(num(s, "generation")));
  std::printf("workers   %llu\n", static_cast<unsigned long long>(num(s, "workers")));
  const char* label = "ports     ";
  if (s.contains("ports") && s["ports"].is_array())
    for (const auto& p : s["ports"]) {
      std::printf("%s%s\n", label, p.is_string() ? p.get<std::string>().c_str() : "?");
      label = "          ";
    }
  if (num(s, "audit_enabled") == 0)
    std::printf("audit     off (no [audit] table)\n");
  else
    std::printf("audit     writer %s, backlog %llu, events lost %llu\n",
                num(s, "audit_writer_ok") ? "ok" : "FAILING",
                static_cast<unsigned long long>(num(s, "audit_backlog")),
                static_cast<unsigned long long>(num(s, "audit_events_lost")));
  std::printf("reloads   %llu ok, %llu rejected (last ok %s, last rejected %s)\n",
              static_cast<unsigned long long>(num(s, "reloads_ok")),
              static_cast<unsigned long long>(num(s, "reloads_rejected")),
              utc(num(s, "last_reload_ok_unix")).c_str(),
              utc(num(s, "last_reload_failed_unix")).c_str());
  return 0;
}

int print_reload(const json& r) {
  auto diags = join_chunks(r, "diagnostics", "diagnostic_parts");
  auto error = join_chunks(r, "error", nullptr);
  bool ok = str(r, "result") == "ok";
  FILE* out = ok ? stdout : stderr;
  if (ok)
    std::fprintf(out, "policy reloaded: %s %s sha256 %s (generation %llu)\n",
                 str(r, "policy_id").c_str(), str(r, "policy_version").c_str(),
                 str(r, "policy_sha256").c_str(),
                 static_cast<unsigned long long>(num(r, "generation")));
  else
    std::fprintf(out, "policy reload rejected: %s\n", error.empty() ? "?" : error[0].c_str());
  for (const auto& d : diags) std::fprintf(out, "%s\n", d.c_str());
  std::fprintf(out, "file %s sha256 %s\n", str(r, "file").c_str(),
               str(r, "file_sha256").empty() ? "(unreadable)" : str(r, "file_sha256").c_str());
  if (!ok)
    std::fprintf(out, "live policy unchanged: %s %s sha256 %s (generation %llu)\n",
                 str(r, "policy_id").c_str(), str(r, "policy_version").c_str(),
                 str(r, "policy_sha256").c_str(),
                 static_cast<unsigned long long>(num(r, "generation")));
  return ok ? 0 : 1;
}

int print_flows(const json& f) {
  std::printf("%-3s %-44s %5s %12s %9s %-8s %-22s %s\n", "#", "flow", "proto", "bytes", "packets",
              "verdict", "zones", "reason");
  for (size_t i = 1; f.contains(std::to_string(i)); ++i) {
    const json& x = f[std::to_string(i)];
    std::string ep = str(x, "src") + ":" + std::to_string(num(x, "sport")) + " -> " +
                     str(x, "dst") + ":" + std::to_string(num(x, "dport"));
    std::string zones = str(x, "src_zone") + ">" + str(x, "dst_zone");
    std::printf("%-3zu %-44s %5llu %12llu %9llu %-8s %-22s %s\n", i, ep.c_str(),
                static_cast<unsigned long long>(num(x, "proto")),
                static_cast<unsigned long long>(num(x, "bytes")),
                static_cast<unsigned long long>(num(x, "packets")), str(x, "verdict").c_str(),
                zones.c_str(), str(x, "reason").c_str());
  }
  return 0;
}

int print_counters(TelemetryClient& c) {
  auto ports = c.query("/datacustoms/ports");
  auto drops = c.query("/datacustoms/drops");
  auto verdicts = c.query("/datacustoms/verdicts");
  if (!ports || !drops || !verdicts || ports->is_null()) {
    std::fprintf(stderr, "datacustoms ctl: the appliance is not running its dataplane\n");
    return 3;
  }
  std::printf("== ports ==\n%-12s %-14s %12s %14s %12s %14s %9s %9s %9s %9s\n", "port", "zone",
              "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "missed", "rx_err", "tx_err",
              "nombuf");
  for (const auto& [name, p] : ports->items())
    std::printf("%-12s %-14s %12llu %14llu %12llu %14llu %9llu %9llu %9llu %9llu\n", name.c_str(),
                str(p, "zone").c_str(), static_cast<unsigned long long>(num(p, "rx_packets")),
                static_cast<unsigned long long>(num(p, "rx_bytes")),
                static_cast<unsigned long long>(num(p, "tx_packets")),
                static_cast<unsigned long long>(num(p, "tx_bytes")),
                static_cast<unsigned long long>(num(p, "rx_missed")),
                static_cast<unsigned long long>(num(p, "rx_errors")),
                static_cast<unsigned long long>(num(p, "tx_errors")),
                static_cast<unsigned long long>(num(p, "rx_nombuf")));
  std::printf("\n== drops (non-zero) ==\n");
  for (const auto& [name, v] : drops->items())
    if (v.is_number() && v.get<uint64_t>() != 0)
      std::printf("%-30s %llu\n", name.c_str(), static_cast<unsigned long long>(v.get<uint64_t>()));
  std::printf("\n== verdicts, totals, flows ==\n");
  for (const auto& [name, v] : verdicts->items())
    std::printf("%-30s %llu\n", name.c_str(),
                static_cast<unsigned long long>(v.is_number() ? v.get<uint64_t>() : 0));
  return 0;
}

// The one telemetry command behind each ctl command (counters asks three).
int dispatch(TelemetryClient& c, const CtlOptions& o) {
  std::string cmd, params;
  if (o.command == "status") {
    cmd = "/datacustoms/status";
  } else if (o.command == "reload") {
    cmd = "/datacustoms/reload";
  } else if (o.command == "flows") {
    cmd = "/datacustoms/flows";
    params = "10";
    for (size_t i = 0; i < o.args.size(); ++i) {
      std::string v;
      if (!take_option_value(o.args, i, "--top", v) || std::atol(v.c_str()) <= 0) {
        std::fprintf(stderr, "datacustoms ctl: flows takes --top N (N > 0)\n");
        return 2;
      }
      params = std::to_string(std::atol(v.c_str()));
    }
  } else if (o.command == "counters") {
    return print_counters(c);
  } else {
    std::fprintf(stderr, "datacustoms ctl: unknown command '%s'\n", o.command.c_str());
    usage(stderr);
    return 2;
  }
  auto r = c.query(cmd, params);
  if (!r) {
    std::fprintf(stderr, "datacustoms ctl: %s\n", r.error().message.c_str());
    return 3;
  }
  if (r->is_null()) {
    std::fprintf(stderr,
                 "datacustoms ctl: %s: no answer (the appliance is starting or stopping,"
                 " or not a datacustoms process)\n",
                 cmd.c_str());
    return 3;
  }
  if (o.json) {
    std::printf("%s\n", r->dump(2).c_str());
    return o.command == "reload" && str(*r, "result") != "ok" ? 1 : 0;
  }
  if (o.command == "status") return print_status(*r);
  if (o.command == "reload") return print_reload(*r);
  return print_flows(*r);
}

int ctl(const std::vector<std::string>& args) {
  CtlOptions o;
  if (int rc = parse(args, o); rc >= 0) return rc;
  if (o.command != "status" && o.command != "reload" && o.command != "flows" &&
      o.command != "counters") {
    if (!o.command.empty())
      std::fprintf(stderr, "datacustoms ctl: unknown command '%s'\n", o.command.c_str());
    usage(stderr);
    return 2;
  }
  std::string path = o.socket;
  if (path.empty()) {
    auto found = find_telemetry_socket(o.prefix, o.runtime_dir);
    if (!found) {
      std::fprintf(stderr, "datacustoms ctl: %s\n", found.error().message.c_str());
      return 3;
    }
    path = *found;
  }
  auto c = TelemetryClient::connect(path, std::chrono::seconds(o.timeout_s));
  if (!c) {
    std::fprintf(stderr, "datacustoms ctl: %s\n", c.error().message.c_str());
    return 3;
  }
  return dispatch(**c, o);
}

const CommandRegistrar kReg{"ctl", "status, reload, flows, counters of a running appliance", &ctl};

}  // namespace
}  // namespace dc::appliance
