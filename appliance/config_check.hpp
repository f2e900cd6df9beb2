#pragma once
// `datacustoms config check` and the first step of `run`: everything a start would trip on
// (the file, the policy, key files, directories, devices, CPUs, DPDK memory, EAL arguments),
// found at once without starting anything, each problem located with a fix hint.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "appliance/config.hpp"

namespace dc::appliance {

struct CheckOptions {
  std::string config_path;
  std::string out_dir = ".";           // ${out_dir}, as `run --out-dir`
  std::vector<std::string> extra_eal;  // `run --eal ARG`
  std::optional<int64_t>
      now_ns;  // reference time for the policy's expiry warnings; none: no warnings
};

struct CheckResult {
  std::string read_error;  // the file itself cannot be read (then nothing else was checked)
  // The file's own problems and the machine's (sorted by line), then the policy's.
  std::vector<Diagnostic> diags;
  std::optional<ApplianceConfig> config;  // the file, when it loaded without errors
  std::string policy_summary;             // "id version sha256 HEX" of a policy that compiled
  bool machine_checked = false;           // false: the file's errors stopped the machine checks
  std::size_t errors() const;
  std::size_t warnings() const;
};

CheckResult check_config(const CheckOptions& opt);

// Each diagnostic on one line, then its fix hint indented on the next ("  fix: ...").
void print_diagnostics(FILE* out, const std::vector<Diagnostic>& diags);

}  // namespace dc::appliance
