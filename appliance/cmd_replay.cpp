// `datacustoms replay`: drives the same pipeline as the live workers over capture files, on one
// thread, with the capture's own timestamps, and prints one JSON line per flow.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/log.hpp"
#include "appliance/replay_engine.hpp"
#include "audit/flow_format.hpp"
#include "dataplane/pipeline.hpp"
#include "dataplane/runtime.hpp"
#include "inspect/detect/db_cache.hpp"
#include "policy/policy.hpp"

namespace dc::appliance {
namespace {

void usage(FILE* out) {
  std::fprintf(
      out,
      "usage: datacustoms replay --policy FILE [--audit DIR] [options] CAPTURE...\n"
      "  --policy FILE     the compliance policy to judge with (the one that was live)\n"
      "  --audit DIR       compare verdicts with the flow records of this audit log;\n"
      "                    every difference is reported and the exit code is 1\n"
      "  --flows N         flow table capacity (default 65536)\n"
      "  --inspect-flows N flows with inspection state at once (default 4096)\n"
      "  --quiet           no flow lines (with --audit: only differences)\n"
      "  --keylog FILE     NSS key log (SSLKEYLOGFILE) of the captures' TLS connections:\n"
      "                    their keys are escrowed from the start (repeatable)\n"
      "  --key-wait-ms N   how long a TLS flow waits for missing keys, on the\n"
      "                    captures' clock (default 200, as [tls] key_wait_ms)\n"
      "  --accounting-key FILE  the site's accounting key (datacustoms accounting\n"
      "                    keygen): person digests as the appliance makes them; without\n"
      "                    it, with [accounting] enabled, a fixed test key (said on stderr)\n"
      "  --decision-wait-ms N  how long exported bytes wait for their persons' count,\n"
      "                    on the captures' clock (default 50, as [accounting])\n"
      "  --burst N         packets judged together, as a live worker's receive burst\n"
      "                    (1-256; default 1: each packet at its own capture time)\n"
      "  --timing          also print on stderr the CPU seconds of building the tables\n"
      "                    and of replaying: {\"replay_timing\":{...}}\n"
      "  --cache-dir DIR   keep compiled detector databases here, keyed by their\n"
      "                    patterns, Hyperscan version and CPU (default\n"
      "                    $DATACUSTOMS_CACHE_DIR, else ~/.cache/datacustoms)\n"
      "  --no-cache        compile the detector database, read and write no cache\n"
      "  --fcs strip|none  frames end with their Ethernet FCS: check and strip it\n"
      "                    (default none: such frames are dropped as ethernet_fcs)\n"
      "  --pass arp,nd     pass ARP and/or IPv6 neighbour discovery through, as a pair\n"
      "                    with pass_arp / pass_nd does (default: neither)\n"
      "Reads classic pcap and pcapng (Ethernet). Prints one JSON line per flow, then\n"
      "on stderr a summary line and a JSON object of the drop reasons seen.\n"
      "Exit: 0 ok, 1 differences with the audit log, 2 usage/policy/capture error.\n");
}

bool parse_u32(const std::string& s, uint32_t& out) {
  char* end = nullptr;
  unsigned long v = std::strtoul(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v == 0 || v > (1u << 26)) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

std::vector<std::string> reason_kinds(const nlohmann::ordered_json& reasons) {
  std::vector<std::string> v;
  for (const auto& r : reasons)
    if (r.is_object() && r.contains("kind") && r["kind"].is_string()) v.push_back(r["kind"]);
  return v;
}

// Flow records of an audit log, by Community ID (several flows may share one over time).
Result<std::map<std::string, std::deque<nlohmann::json>>> load_audit_flows(const std::string& dir) {
  std::map<std::string, std::deque<nlohmann::json>> by_cid;
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".jsonl") files.push_back(e.path());
  if (ec) return make_error("cannot read audit directory " + dir + ": " + ec.message());
  if (files.empty()) return make_error("no audit-*.jsonl files in " + dir);
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded())
        return make_error(f.string() + ":" + std::to_string(n) + ": not a JSON record");
      if (!j.contains("type") || j["type"] != "flow") continue;
      const auto& body = j.contains("flow_record") ? j["flow_record"] : j;
      std::string cid = body.value("community_id", "");
      by_cid[cid].push_back(body);
    }
  }
  return by_cid;
}

struct Options {
  std::string policy_path, audit_dir;
  uint32_t flows = 65536, inspect_flows = 4096;
  bool quiet = false;
  bool timing = false;
  bool fcs_strip = false;
  bool pass_arp = false, pass_nd = false;
  std::vector<std::string> keylogs;
  uint32_t key_wait_ms = 200;
  std::string accounting_key;
  uint32_t decision_wait_ms = 50;
  uint32_t burst = 1;
  std::string cache_dir = inspect::default_detector_cache_dir();  // empty: no cache
  std::vector<std::string> captures;
};

// "--pass arp,nd": which link-layer frames pass through (l2_passthrough.hpp).
bool parse_pass(const std::string& v, Options& o) {
  size_t start = 0;
  while (start <= v.size()) {
    const size_t comma = std::min(v.find(',', start), v.size());
    const std::string item = v.substr(start, comma - start);
    if (item == "arp")
      o.pass_arp = true;
    else if (item == "nd")
      o.pass_nd = true;
    else
      return false;
    start = comma + 1;
  }
  return true;
}

// Returns -1 to go on, otherwise the exit code (help: 0, usage error: 2).
int parse_args(const std::vector<std::string>& args, Options& o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    } else if (a == "--policy") {
      if (!next(o.policy_path)) return usage(stderr), 2;
    } else if (a == "--audit") {
      if (!next(o.audit_dir)) return usage(stderr), 2;
    } else if (a == "--flows" || a == "--inspect-flows") {
      if (!next(v) || !parse_u32(v, a == "--flows" ? o.flows : o.inspect_flows)) {
        std::fprintf(stderr, "datacustoms replay: %s needs a positive integer\n", a.c_str());
        return 2;
      }
    } else if (a == "--burst") {
      if (!next(v) || !parse_u32(v, o.burst) || o.burst > kMaxReplayBurst) {
        std::fprintf(stderr, "datacustoms replay: --burst needs a number from 1 to %u\n",
                     unsigned{kMaxReplayBurst});
        return 2;
      }
    } else if (a == "--keylog") {
      if (!next(v)) return usage(stderr), 2;
      o.keylogs.push_back(v);
    } else if (a == "--accounting-key") {
      if (!next(v)) return usage(stderr), 2;
      o.accounting_key = v;
    } else if (a == "--decision-wait-ms") {
      if (!next(v) || !parse_u32(v, o.decision_wait_ms)) {
        std::fprintf(stderr, "datacustoms replay: --decision-wait-ms needs a number\n");
        return 2;
      }
    } else if (a == "--key-wait-ms") {
      if (!next(v) || !parse_u32(v, o.key_wait_ms)) {
        std::fprintf(stderr, "datacustoms replay: --key-wait-ms needs a number\n");
        return 2;
      }
    } else if (a == "--cache-dir") {
      if (!next(o.cache_dir) || o.cache_dir.empty()) return usage(stderr), 2;
    } else if (a == "--no-cache") {
      o.cache_dir.clear();
    } else if (a == "--quiet") {
      o.quiet = true;
    } else if (a == "--timing") {
      o.timing = true;
    } else if (a == "--fcs") {
      if (!next(v) || (v != "strip" && v != "none")) {
        std::fprintf(stderr, "datacustoms replay: --fcs needs strip or none\n");
        return 2;
      }
      o.fcs_strip = v == "strip";
    } else if (a == "--pass") {
      if (!next(v) || !parse_pass(v, o)) {
        std::fprintf(stderr, "datacustoms replay: --pass needs arp, nd or arp,nd\n");
        return 2;
      }
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "datacustoms replay: unknown option '%s'\n", a.c_str());
      usage(stderr);
      return 2;
    } else {
      o.captures.push_back(a);
    }
  }
  if (o.policy_path.empty() || o.captures.empty()) {
    std::fprintf(stderr,
                 "datacustoms replay: --policy FILE and at least one CAPTURE are required\n");
    usage(stderr);
    return 2;
  }
  return -1;
}

std::shared_ptr<const policy::Snapshot> load_policy(const std::string& path) {
  policy::Diagnostics pd(path);
  auto loaded = policy::load_policy_file(path, pd);
  if (std::string text = pd.format(); !text.empty()) std::fprintf(stderr, "%s", text.c_str());
  if (!loaded || loaded.value() == nullptr) {
    log::error("replay: policy %s not loaded%s%s\n", path.c_str(), loaded ? "" : ": ",
               loaded ? "" : loaded.error().message.c_str());
    return nullptr;
  }
  return loaded.value();
}

// The drop reasons seen, as one JSON object on stderr after the summary line, so a reviewer sees
// why packets were dropped (e.g. "0 flows" because every frame carried an FCS):
// {"drop_reasons":{"ethernet_fcs":12}} (reasons with a zero count are left out).
void print_drop_summary(const dataplane::WorkerCounters& c) {
  nlohmann::ordered_json reasons = nlohmann::ordered_json::object();
  for (std::size_t i = 1; i < dataplane::kDropReasonCount; ++i) {
    const auto r = static_cast<dataplane::DropReason>(i);
    if (uint64_t n = c.drops[i]; n > 0) reasons[dataplane::drop_reason_name(r)] = n;
  }
  nlohmann::ordered_json j;
  j["drop_reasons"] = reasons;
  if (c.l2_pass_arp.load() + c.l2_pass_nd.load() > 0)
    j["l2_passthrough"] = {{"arp", c.l2_pass_arp.load()}, {"nd", c.l2_pass_nd.load()}};
  std::fprintf(stderr, "%s\n", j.dump().c_str());
}

// Live, a packet whose source is not in its ingress zone's networks is dropped before a flow
// exists (spoofed_source), so no record is written; replay (no ports) sees it as unknown_zone.
bool dropped_before_flow(const audit::FlowRecord& r) {
  if (!r.src_zone.empty()) return false;
  for (const auto& reason : r.reasons)
    if (reason.value("kind", "") == "unknown_zone") return true;
  return false;
}

// Compares the audit-worthy replayed records with the audit log's, in order per Community ID;
// prints every difference. Returns how many there were.
size_t compare_with_audit(const std::vector<audit::FlowRecord>& records,
                          const std::vector<bool>& worthy, const std::string& audit_dir,
                          std::map<std::string, std::deque<nlohmann::json>>& audit_flows) {
  size_t diffs = 0, compared = 0, pre_flow = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!worthy[i]) continue;
    const auto& r = records[i];
    auto body = audit::flow_record_body(r);
    std::string where = r.src_ip + ":" + std::to_string(r.src_port) + " -> " + r.dest_ip + ":" +
                        std::to_string(r.dest_port) + " " + r.proto;
    auto it = audit_flows.find(r.community_id);
    const bool absent = it == audit_flows.end() || it->second.empty();
    if (absent && dropped_before_flow(r)) {
      log::warning(
          "replay: not compared: %s (community_id %s): its source is in no "
          "zone, so the appliance drops its packets at ingress (spoofed_source) before a "
          "flow or record exists\n",
          where.c_str(), r.community_id.c_str());
      ++pre_flow;
      continue;
    }
    if (absent) {
      std::printf("difference: %s (community_id %s): replay %s, not in the audit log\n",
                  where.c_str(), r.community_id.c_str(), r.verdict.c_str());
      ++diffs;
      continue;
    }
    nlohmann::json rec = it->second.front();
    it->second.pop_front();
    ++compared;
    std::string logged = rec.value("verdict", "");
    auto lk = reason_kinds(rec.value("reasons", nlohmann::json::array()));
    auto rk = reason_kinds(body["reasons"]);
    if (logged != r.verdict || lk != rk) {
      auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
        return s;
      };
      std::printf("difference: %s (community_id %s): audit log %s [%s], replay %s [%s]\n",
                  where.c_str(), r.community_id.c_str(), logged.c_str(), join(lk).c_str(),
                  r.verdict.c_str(), join(rk).c_str());
      ++diffs;
    }
  }
  log::notice(
      "replay: compared %zu flows with %s: %zu difference(s); %zu flow(s) "
      "dropped before a flow exists, not compared\n",
      compared, audit_dir.c_str(), diffs, pre_flow);
  return diffs;
}

// Replays the captures, prints one JSON line per flow (unless quiet) and the summary; with an
// audit log, compares. Returns the exit code.
int replay_and_report(const Options& o, const policy::Snapshot& snap,
                      std::map<std::string, std::deque<nlohmann::json>>& audit_flows,
                      uint64_t packet_bound) {
  std::vector<audit::FlowRecord> records;
  std::vector<bool> worthy;
  const bool tty = isatty(STDERR_FILENO) != 0;
  ReplayOptions ro;
  ro.flows = o.flows;
  ro.inspect_flows = o.inspect_flows;
  ro.packet_bound = packet_bound;
  ro.fcs_strip = o.fcs_strip;
  ro.pass_arp = o.pass_arp;
  ro.pass_nd = o.pass_nd;
  ro.keylogs = o.keylogs;
  ro.tls_key_wait_ms = o.key_wait_ms;
  ro.accounting_wait_ms = o.decision_wait_ms;
  ro.burst = static_cast<uint16_t>(o.burst);
  audit::AccountingKey key{};
  if (!o.accounting_key.empty()) {
    auto k = audit::load_accounting_key(o.accounting_key);
    if (!k) {
      std::fprintf(stderr, "datacustoms replay: %s\n", k.error().message.c_str());
      return 2;
    }
    key = *k;
    ro.accounting_key = &key;
  } else if (snap.accounting().enabled) {
    std::fprintf(stderr,
                 "datacustoms replay: [accounting] without --accounting-key: person digests use "
                 "the fixed test key (docs/accounting.md)\n");
  }
  if (tty) {
    ro.progress = [&](uint64_t packets, const std::string& file) {
      std::fprintf(stderr, "\r%s: %llu packets, %zu flows", file.c_str(),
                   static_cast<unsigned long long>(packets), records.size());
    };
  }
  auto stats = replay_captures(snap, o.captures, ro, [&](const audit::FlowOutcome& ev) {
    records.push_back(audit::to_flow_record(ev, ""));
    worthy.push_back(audit::audit_worthy(ev));
    if (!o.quiet) std::printf("%s\n", audit::flow_record_body(records.back()).dump().c_str());
  });
  std::fflush(stdout);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (!stats) {
    log::error("replay: %s\n", stats.error().message.c_str());
    return 2;
  }
  const auto& c = stats->counters;
  std::fprintf(stderr,
               "datacustoms replay: %llu packets, %zu flows (allow %llu, alert %llu, block "
               "%llu), %llu findings, %llu dropped packets\n",
               static_cast<unsigned long long>(stats->packets), records.size(),
               static_cast<unsigned long long>(c.verdict_allow),
               static_cast<unsigned long long>(c.verdict_alert),
               static_cast<unsigned long long>(c.verdict_block),
               static_cast<unsigned long long>(c.findings),
               static_cast<unsigned long long>(c.dropped));
  print_drop_summary(c);
  if (o.timing) {
    const auto& dc = inspect::detector_cache_stats();
    std::fprintf(stderr,
                 "{\"replay_timing\":{\"packets\":%llu,\"rig_cpu_s\":%.6f,\"run_cpu_s\":%.6f,"
                 "\"run_user_s\":%.6f,"
                 "\"detector_cache\":{\"hits\":%llu,\"misses\":%llu,\"rejected\":%llu}}}\n",
                 static_cast<unsigned long long>(stats->packets), stats->rig_cpu_s,
                 stats->run_cpu_s, stats->run_user_s,
                 static_cast<unsigned long long>(dc.hits.load()),
                 static_cast<unsigned long long>(dc.misses.load()),
                 static_cast<unsigned long long>(dc.rejected.load()));
  }
  if (o.audit_dir.empty()) return 0;
  return compare_with_audit(records, worthy, o.audit_dir, audit_flows) > 0 ? 1 : 0;
}

int run(const std::vector<std::string>& args) {
  Options o;
  if (int rc = parse_args(args, o); rc >= 0) return rc;
  inspect::set_detector_cache_dir(o.cache_dir);
  std::shared_ptr<const policy::Snapshot> snap = load_policy(o.policy_path);
  if (snap == nullptr) return 2;
  std::map<std::string, std::deque<nlohmann::json>> audit_flows;
  if (!o.audit_dir.empty()) {
    auto r = load_audit_flows(o.audit_dir);
    if (!r) {
      log::error("replay: %s\n", r.error().message.c_str());
      return 2;
    }
    audit_flows = std::move(r.value());
  }
  // The captures' packets, counted once: they size EAL's memory and the replay's tables.
  ReplayOptions sizing;
  sizing.flows = o.flows;
  sizing.inspect_flows = o.inspect_flows;
  sizing.packet_bound = replay_packet_bound(o.captures);
  if (auto r = replay_eal_init(replay_memory_mb(sizing, sizing.packet_bound)); !r) {
    log::error("replay: %s\n", r.error().message.c_str());
    return 2;
  }
  int exit_code = replay_and_report(o, *snap, audit_flows, sizing.packet_bound);
  dataplane::eal_cleanup();
  return exit_code;
}

const CommandRegistrar kReg{"replay", "judge capture files offline with the live engine", &run};

}  // namespace
}  // namespace dc::appliance
