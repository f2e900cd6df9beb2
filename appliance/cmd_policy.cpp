// `datacustoms policy check|test|explain FILE`: the compliance officer's tools.
// Runs without EAL or hugepages: only dc_policy (+ dc_inspect for the detector database).
// Exit codes: check 0 ok / 1 errors / 2 usage or unreadable file;
//             test 0 all pass / 1 failures or policy errors / 2 usage or unreadable file.
#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/log.hpp"
#include "appliance/replay_engine.hpp"
#include "base/time.hpp"
#include "dataplane/runtime.hpp"
#include "policy/policy.hpp"
#include "policy/test_runner.hpp"

namespace {

using namespace dc::policy;

// "addr", "addr:port", "[v6]" or "[v6]:port" of a capture case; port 0 = any.
bool parse_endpoint(const std::string& s, dc::inspect::IpAddr& addr, uint16_t& port) {
  std::string host = s;
  port = 0;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos) return false;
    host = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':') return false;
      port = static_cast<uint16_t>(std::stoul(s.substr(close + 2)));
    }
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    host = s.substr(0, s.find(':'));
    port = static_cast<uint16_t>(std::stoul(s.substr(s.find(':') + 1)));
  }
  uint8_t buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) {
    addr = dc::inspect::IpAddr::from_v4((uint32_t(buf[0]) << 24) | (buf[1] << 16) | (buf[2] << 8) |
                                        buf[3]);
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    addr = dc::inspect::IpAddr::from_v6(buf);
    return true;
  }
  return false;
}

// Capture cases: the real packet pipeline over the capture, the verdict of the case's flow.
CaptureEvaluator capture_evaluator(const Snapshot& snap, bool& eal_started) {
  return [&snap, &eal_started](const TestDoc& t, const std::vector<std::string>& paths,
                               Verdict& out, std::string& error) {
    dc::inspect::IpAddr from, to;
    uint16_t from_port = 0, to_port = 0;
    try {
      if (!parse_endpoint(t.from.value, from, from_port) ||
          !parse_endpoint(t.to.value, to, to_port)) {
        error = "from/to must be addresses (with optional :port) for a capture case";
        return false;
      }
    } catch (...) {
      error = "bad port in from/to";
      return false;
    }
    if (!eal_started) {
      if (auto r = dc::appliance::replay_eal_init(); !r) {
        error = r.error().message;
        return false;
      }
      eal_started = true;
    }
    bool found = false;
    auto st =
        dc::appliance::replay_captures(snap, paths, {}, [&](const dc::audit::FlowOutcome& ev) {
          const auto& i = ev.initiator;
          if (found || !(i.src == from) || !(i.dst == to)) return;
          if ((from_port && i.sport != from_port) || (to_port && i.dport != to_port)) return;
          found = true;
          out = ev.verdict_detail;
          out.action = ev.verdict == dc::audit::OutcomeVerdict::kBlock   ? Action::kBlock
                       : ev.verdict == dc::audit::OutcomeVerdict::kAlert ? Action::kAlert
                                                                         : Action::kAllow;
        });
    if (!st) {
      error = st.error().message;
      return false;
    }
    if (!found) {
      error = "no flow from " + t.from.value + " to " + t.to.value + " in the capture";
      return false;
    }
    return true;
  };
}

void usage(FILE* out) {
  std::fprintf(
      out,
      "usage: datacustoms policy check FILE [--at TIME]\n"
      "       datacustoms policy test FILE [--verbose]\n"
      "       datacustoms policy explain FILE --from ADDR[:PORT] --to ADDR[:PORT]\n"
      "              [--sni NAME] [--proto tcp|udp] [--direction forward|reverse]\n"
      "              [--payload TEXT | --payload-file PATH] [--flag NAME]... [--at TIME]\n"
      "\n"
      "check    report every error and warning as file:line:col, then a summary and\n"
      "         the policy's SHA-256. --at (RFC 3339 or YYYY-MM-DD) is the reference\n"
      "         time for 'expired' warnings (default: now); it never changes verdicts.\n"
      "test     run the policy's [[test]] cases; show expected vs actual for failures.\n"
      "explain  decide one flow and print every reason (default time: [policy] test_time).\n");
}

int64_t wall_clock_ns() {
  // The only wall-clock read in the policy tooling: advisory expiry warnings of `check`.
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int usage_error() {
  usage(stderr);
  return 2;
}

// The policy FILE argument: the first one that is not an option.
bool take_file(const std::string& arg, std::string& file) {
  if (!file.empty() || arg.starts_with("--")) return false;
  file = arg;
  return true;
}

// Loads FILE and prints its diagnostics to stderr. On failure returns nullptr and sets `rc`:
// 2 when the file cannot be read, 1 when the policy has errors.
std::shared_ptr<const Snapshot> load(const std::string& file, Diagnostics& diags, PolicyDoc* doc,
                                     const CompileOptions& opts, int& rc) {
  auto snap = load_policy_file(file, diags, doc, opts);
  if (!snap) {
    dc::appliance::log::error("%s\n", snap.error().message.c_str());
    rc = 2;
    return nullptr;
  }
  std::fputs(diags.format().c_str(), stderr);
  if (diags.has_errors() || !*snap) {
    rc = 1;
    return nullptr;
  }
  return *snap;
}

int cmd_check(const std::vector<std::string>& args) {
  std::string file;
  std::optional<int64_t> at;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--at" && i + 1 < args.size()) {
      at = dc::base::parse_rfc3339(args[++i], 0);
      if (!at) {
        std::fprintf(stderr, "policy check: bad --at time '%s'\n", args[i].c_str());
        return 2;
      }
    } else if (!take_file(args[i], file)) {
      return usage_error();
    }
  }
  if (file.empty()) return usage_error();
  Diagnostics diags(file);
  CompileOptions opts;
  opts.warn_expired_at_ns = at ? *at : wall_clock_ns();
  int rc = 0;
  auto snap = load(file, diags, nullptr, opts, rc);
  if (!snap) {
    if (rc == 1) {
      std::fprintf(stderr, "%zu error(s), %zu warning(s)\n", diags.error_count(),
                   diags.warning_count());
    }
    return rc;
  }
  std::fputs(summarize(*snap).c_str(), stdout);
  std::printf("ok: %zu warning(s)\n", diags.warning_count());
  return 0;
}

int cmd_test(const std::vector<std::string>& args) {
  std::string file;
  bool verbose = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--verbose" || args[i] == "-v") {
      verbose = true;
    } else if (!take_file(args[i], file)) {
      return usage_error();
    }
  }
  if (file.empty()) return usage_error();
  Diagnostics diags(file);
  PolicyDoc doc;
  int rc = 0;
  auto snap = load(file, diags, &doc, {}, rc);
  if (!snap) return rc;
  if (doc.tests.empty()) {
    std::printf("no [[test]] cases in %s\n", file.c_str());
    return 0;
  }
  bool eal_started = false;
  const CaptureEvaluator eval = capture_evaluator(*snap, eal_started);
  auto results = run_tests(doc, *snap, &eval);
  if (eal_started) dc::dataplane::eal_cleanup();
  std::size_t failed = 0;
  for (const auto& r : results) {
    std::string where =
        file + ":" + std::to_string(r.pos.line) + ":" + std::to_string(r.pos.column);
    if (r.passed) {
      std::printf("PASS %s\n", r.name.c_str());
      if (verbose) std::printf("     actual:   %s\n%s", r.actual.c_str(), r.detail.c_str());
      continue;
    }
    ++failed;
    std::printf("FAIL %s (%s)\n     expected: %s\n     actual:   %s\n%s", r.name.c_str(),
                where.c_str(), r.expected.c_str(), r.actual.c_str(), r.detail.c_str());
  }
  std::printf("%zu/%zu passed, policy sha256 %s\n", results.size() - failed, results.size(),
              snap->sha256_hex().c_str());
  return failed ? 1 : 0;
}

// `explain` options: the flow goes into a one-off [[test]] case. Returns -1 when they are
// complete, else the exit code.
int explain_args(const std::vector<std::string>& args, std::string& file, TestDoc& t,
                 std::optional<int64_t>& at) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool has = i + 1 < args.size();
    if (a == "--from" && has)
      t.from.value = args[++i];
    else if (a == "--to" && has)
      t.to.value = args[++i];
    else if (a == "--sni" && has)
      t.sni.value = args[++i];
    else if (a == "--proto" && has)
      t.proto.value = args[++i];
    else if (a == "--direction" && has)
      t.direction.value = args[++i];
    else if (a == "--payload" && has) {
      t.payload.value = args[++i];
      t.has_payload = true;
    } else if (a == "--payload-file" && has) {
      t.payload_file.value = args[++i];
      t.has_payload = true;
    } else if (a == "--flag" && has)
      t.flags.push_back({args[++i], {}});
    else if (a == "--at" && has) {
      at = dc::base::parse_rfc3339(args[++i], 0);
      if (!at) {
        std::fprintf(stderr, "policy explain: bad --at time '%s'\n", args[i].c_str());
        return 2;
      }
    } else if (!take_file(a, file))
      return usage_error();
  }
  if (file.empty() || t.from.value.empty() || t.to.value.empty()) return usage_error();
  return -1;
}

void print_explanation(const Snapshot& s, const PolicyDoc& doc, const TestDoc& t, const Verdict& v,
                       const std::string& log) {
  int64_t now = t.at.set ? t.at.ns : doc.header.test_time.ns;
  std::printf("verdict: %s%s at %s\n", std::string(action_name(v.action)).c_str(),
              v.monitored ? " (monitor mode)" : "",
              dc::base::format_rfc3339(now, doc.header.tz_offset_minutes).c_str());
  for (std::size_t i = 0; i < v.reason_count; ++i) {
    std::printf("  %zu. %s\n     %s\n", i + 1, s.describe(v.reasons[i]).c_str(),
                std::string(reason_text(v.reasons[i].kind)).c_str());
  }
  if (v.truncated) std::printf("  (more reasons omitted)\n");
  std::fputs(log.c_str(), stdout);
}

int cmd_explain(const std::vector<std::string>& args) {
  std::string file;
  TestDoc t;
  t.name.value = "explain";
  t.expect.value = "allow";
  std::optional<int64_t> at;
  if (int rc = explain_args(args, file, t, at); rc >= 0) return rc;
  Diagnostics diags(file);
  PolicyDoc doc;
  CompileOptions opts;
  opts.check_tests = false;
  int rc = 0;
  auto snap = load(file, diags, &doc, opts, rc);
  if (!snap) return rc;
  if (at) {
    t.at.ns = *at;
    t.at.set = true;
  } else if (!doc.header.test_time.set) {
    std::fprintf(stderr, "policy explain: give --at (the policy has no test_time)\n");
    return 2;
  }
  // Payload files given on the command line are relative to the working directory.
  if (!t.payload_file.value.empty() && t.payload_file.value.front() != '/') {
    t.payload_file.value = std::filesystem::absolute(t.payload_file.value).string();
  }
  Diagnostics tdiags(file);
  PolicyDoc one = doc;
  one.tests = {t};
  validate_tests(one, snap.get(), tdiags);
  if (tdiags.has_errors()) {
    for (const auto& d : tdiags.items()) std::fprintf(stderr, "explain: %s\n", d.message.c_str());
    return 2;
  }
  Verdict v;
  std::string error, log;
  if (!evaluate_case(doc, t, *snap, v, error, &log)) {
    std::fprintf(stderr, "explain: %s\n", error.c_str());
    return 1;
  }
  print_explanation(*snap, doc, t, v, log);
  return 0;
}

int run(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    usage(args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "check") return cmd_check(args);
  if (args[0] == "test") return cmd_test(args);
  if (args[0] == "explain") return cmd_explain(args);
  std::fprintf(stderr, "datacustoms policy: unknown subcommand '%s'\n", args[0].c_str());
  usage(stderr);
  return 2;
}

const dc::appliance::CommandRegistrar kRegistrar{
    "policy", "check, test and explain a policy file (no EAL needed)", &run};

}  // namespace
