// `datacustoms run`: the appliance's main job (command line; the work is appliance/control_plane).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/config_check.hpp"
#include "appliance/control_plane.hpp"
#include "appliance/log.hpp"
#include "appliance/telemetry.hpp"
#include "base/file.hpp"

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
               "  --log-level LEVEL   debug, info (default), notice, warning or error\n"
               "  --log-target T      auto (default: the journal when run by systemd), stderr\n"
               "                      or journal\n"
               "Stops cleanly on SIGINT/SIGTERM and prints the final counters.\n");
}

// Positive integer option value; false (with a message) otherwise.
bool parse_positive(const char* name, const std::string& v, long& out) {
  char* end = nullptr;
  out = std::strtol(v.c_str(), &end, 10);
  if (*end == '\0' && out > 0) return true;
  log::error("%s needs a positive integer, got '%s'", name, v.c_str());
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
    } else if (value("--log-level")) {
      log::Level l;
      if (!log::parse_level(v, l)) {
        log::error("--log-level: '%s' is not one of debug, info, notice, warning, error",
                   v.c_str());
        return 2;
      }
      log::set_level(l);
    } else if (value("--log-target")) {
      if (v == "auto" || v == "stderr" || v == "journal") {
        log::set_target(v == "auto"     ? log::Target::kAuto
                        : v == "stderr" ? log::Target::kStderr
                                        : log::Target::kJournal);
      } else {
        log::error("--log-target: '%s' is not one of auto, stderr, journal", v.c_str());
        return 2;
      }
    } else {
      log::error("unknown or incomplete option '%s'", a.c_str());
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
    log::error("--config FILE is required");
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
    log::error("cannot read configuration: %s; nothing started", checked.read_error.c_str());
    return 2;
  }
  if (checked.errors() > 0) {
    log::error("%zu problem(s) in %s (`datacustoms config check` lists them); nothing started",
               checked.errors(), opt.config_path.c_str());
    return 2;
  }
  telemetry_set_version(DC_VERSION);
  log::info("datacustoms %s", DC_VERSION);
  ControlPlane control(std::move(opt), std::move(*checked.config));
  return control.run();
}

const CommandRegistrar kReg{"run", "run the appliance (DPDK fast path) from an appliance.toml",
                            &run};

}  // namespace
}  // namespace dc::appliance
