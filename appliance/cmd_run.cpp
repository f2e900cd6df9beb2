// `datacustoms run`: the appliance's main job (command line; the work is appliance/control_plane).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/config.hpp"
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
  if (auto f = base::open_regular_file(opt.config_path); !f) {
    log::error("cannot read configuration: %s", f.error().message.c_str());
    return 2;
  }
  std::vector<Diagnostic> diags;
  auto cfg = load_appliance_config(opt.config_path, diags);
  for (const auto& d : diags)
    log::diagnostic(d.str().find(": warning: ") != std::string::npos ? log::Level::kWarning
                                                                     : log::Level::kError,
                    d.str());
  if (!cfg) {
    log::error("%s; nothing started", cfg.error().message.c_str());
    return 2;
  }
  telemetry_set_version(DC_VERSION);
  log::info("datacustoms %s", DC_VERSION);
  ControlPlane control(std::move(opt), std::move(cfg.value()));
  return control.run();
}

const CommandRegistrar kReg{"run", "run the appliance (DPDK fast path) from an appliance.toml",
                            &run};

}  // namespace
}  // namespace dc::appliance
