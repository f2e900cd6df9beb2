// `datacustoms config check FILE`: everything `run` would trip on, reported at once.
// Exit codes: 0 ok (warnings allowed; --strict: none), 1 problems, 2 usage or unreadable file.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/config_check.hpp"

namespace dc::appliance {
namespace {

void usage(FILE* out) {
  std::fprintf(
      out,
      "usage: datacustoms config check FILE [--out-dir DIR] [--eal ARG]... [--strict]\n"
      "  checks appliance.toml as `run` would, without starting anything: TOML and keys,\n"
      "  the policy (as `policy check`), key files, directories, devices, CPUs, DPDK memory,\n"
      "  EAL arguments and the metrics address. Every problem at once, as file:line:col,\n"
      "  each with a fix hint.\n"
      "  --out-dir DIR   value of ${out_dir}, as for `run` (default: .)\n"
      "  --eal ARG       an extra EAL argument, as for `run` (repeatable)\n"
      "  --strict        warnings count as problems\n"
      "exit: 0 ok, 1 problems found, 2 usage error or FILE unreadable\n");
}

int check(const std::vector<std::string>& args) {
  CheckOptions opt;
  bool strict = false;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string v;
    if (args[i] == "--help" || args[i] == "-h") {
      usage(stdout);
      return 0;
    } else if (args[i] == "--strict") {
      strict = true;
    } else if (take_option_value(args, i, "--out-dir", v)) {
      opt.out_dir = v;
    } else if (take_option_value(args, i, "--eal", v)) {
      opt.extra_eal.push_back(v);
    } else if (!args[i].starts_with("-") && opt.config_path.empty()) {
      opt.config_path = args[i];
    } else {
      std::fprintf(stderr, "datacustoms config check: unexpected argument '%s'\n", args[i].c_str());
      usage(stderr);
      return 2;
    }
  }
  if (opt.config_path.empty()) {
    usage(stderr);
    return 2;
  }
  // Advisory only (a legal basis or counterparty past its expiry), as `policy check`.
  opt.now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  CheckResult r = check_config(opt);
  if (!r.read_error.empty()) {
    std::fprintf(stderr, "datacustoms config check: cannot read %s\n", r.read_error.c_str());
    return 2;
  }
  print_diagnostics(stderr, r.diags);
  std::size_t errors = r.errors(), warnings = r.warnings();
  if (!r.machine_checked)
    std::fprintf(stderr,
                 "%s: files, devices, CPUs and memory not checked until the errors above "
                 "are fixed\n",
                 opt.config_path.c_str());
  if (errors > 0 || (strict && warnings > 0)) {
    std::printf("%s: %zu error(s), %zu warning(s)\n", opt.config_path.c_str(), errors, warnings);
    return 1;
  }
  std::printf("%s: ok: %zu port(s), %zu worker(s), policy %s; %zu warning(s)\n",
              opt.config_path.c_str(), r.config->ports.size(),
              r.config->dataplane.worker_lcores.size(),
              r.policy_summary.empty() ? "none" : r.policy_summary.c_str(), warnings);
  return 0;
}

int run(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "check") return check(args);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    usage(stdout);
    return 0;
  }
  usage(stderr);
  return 2;
}

const CommandRegistrar kReg{"config", "check an appliance.toml as `run` would, without starting",
                            &run};

}  // namespace
}  // namespace dc::appliance
