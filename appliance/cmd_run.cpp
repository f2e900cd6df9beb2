// `datacustoms run`: the appliance's main job (command line; the work is appliance/control_plane).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/config_check.hpp"
#include "appliance/control_plane.hpp"

namespace dc::appliance {
namespace {

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

// Positive integer option value; false (with a message) otherwise.
bool parse_positive(const char* name, const std::string& v, long& out) {
  char* end = nullptr;
  out = std::strtol(v.c_str(), &end, 10);
  if (*end == '\0' && out > 0) return true;
  std::fprintf(stderr, "datacustoms run: %s needs a positive integer, got '%s'\n", name, v.c_str());
  return false;
}

// Parses the command line into `o`; returns an exit status to stop with, or -1 to go on.
int parse_options(const std::vector<std::string>& args, RunOptions& o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string v;
    auto value = [&](std::string_view name) { return take_option_value(args, i, name, v); };
    if (a == "--help" || a == "-h") {
      print_usage(stdout);
      return 0;
    } else if (value("--config")) {
      o.config_path = v;
    } else if (value("--out-dir")) {
      o.out_dir = v;
    } else if (value("--idle-exit-ms")) {
      if (!parse_positive("--idle-exit-ms", v, o.idle_exit_ms)) return 2;
    } else if (value("--max-seconds")) {
      if (!parse_positive("--max-seconds", v, o.max_seconds)) return 2;
    } else if (value("--stats-json")) {
      o.stats_json = v;
    } else if (value("--eal")) {
      o.extra_eal.push_back(v);
    } else {
      std::fprintf(stderr, "datacustoms run: unknown or incomplete option '%s'\n", a.c_str());
      print_usage(stderr);
      return 2;
    }
  }
  return -1;
}

int run(const std::vector<std::string>& args) {
  RunOptions opt;
  if (int rc = parse_options(args, opt); rc >= 0) return rc;
  if (opt.config_path.empty()) {
    std::fprintf(stderr, "datacustoms run: --config FILE is required\n");
    print_usage(stderr);
    return 2;
  }
  // The same check as `config check`, first: every problem at once, nothing started on any.
  CheckOptions check_opt;
  check_opt.config_path = opt.config_path;
  check_opt.out_dir = opt.out_dir;
  check_opt.extra_eal = opt.extra_eal;
  CheckResult checked = check_config(check_opt);
  // The policy's warnings come again when the control thread loads it: printed once, there.
  std::vector<Diagnostic> shown;
  for (const auto& d : checked.diags)
    if (d.error || d.file == opt.config_path) shown.push_back(d);
  print_diagnostics(stderr, shown);
  if (!checked.read_error.empty()) {
    std::fprintf(stderr, "datacustoms run: cannot read configuration: %s; nothing started\n",
                 checked.read_error.c_str());
    return 2;
  }
  if (checked.errors() > 0) {
    std::fprintf(stderr,
                 "datacustoms run: %zu problem(s) in %s (`datacustoms config check` lists "
                 "them); nothing started\n",
                 checked.errors(), opt.config_path.c_str());
    return 2;
  }
  ControlPlane control(std::move(opt), std::move(*checked.config));
  return control.run();
}

const CommandRegistrar kReg{"run", "run the appliance (DPDK fast path) from an appliance.toml",
                            &run};

}  // namespace
}  // namespace dc::appliance
