// `datacustoms audit keygen|verify|report`: the reviewer's tools for the audit trail.
// Exit codes (appliance/command.hpp): 0 ok / intact, 1 tampered, 2 usage or I/O error.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/log.hpp"
#include "audit/crypto.hpp"
#include "audit/flow_format.hpp"
#include "audit/person_store_backends.hpp"
#include "audit/report.hpp"
#include "audit/verify.hpp"
#include "policy/policy.hpp"

namespace {

constexpr const char* kUsage =
    "usage: datacustoms audit keygen --out PREFIX\n"
    "         writes PREFIX.key (Ed25519, PKCS#8 PEM, mode 0600) and PREFIX.pub; never "
    "overwrites;\n"
    "         creates PREFIX's directory (mode 0700) when missing\n"
    "       datacustoms audit verify DIR --pubkey PUB [--expect-key-id ID] [--json] [--live]\n"
    "                                [--no-evidence] [--witness SPEC]...\n"
    "         checks the hash chain, checkpoint signatures and evidence hashes of the log in DIR;\n"
    "         --live: the log is still being written, its unsealed tail is only a warning\n"
    "         --expect-key-id ID: refuse a public key whose id is not ID (pin it out of band)\n"
    "         --witness file:PATH | redis:HOST:PORT[/KEY] | redis:/SOCKET[#KEY]: every checkpoint\n"
    "           the witness holds must be in the log, and the log must not end before them\n"
    "         exit 0 intact, 1 tampered or incomplete, 2 usage or I/O error\n"
    "       datacustoms audit report DIR --pubkey PUB [--since T] [--until T]\n"
    "                                [--format text|json|csv|html] [--out FILE] [--policy FILE]\n"
    "                                [--live] [--witness SPEC]... [--no-verify]\n"
    "                                [--accounting-state DIR]\n"
    "         the period report: verifies the log first (first line: intact or what is wrong),\n"
    "         then flows per verdict, exporter, counterparty, legal basis, category, reason,\n"
    "         zone pair, source host and day; bytes exported and received; policy generations;\n"
    "         bases expiring within 30/90 days; blocked and alerted flows with their evidence;\n"
    "         customs accounting: persons, bytes, threshold and mechanism per exporter / basis /\n"
    "         counterparty / declaration, declared against actual (--policy: caps, CIIO flags;\n"
    "         --accounting-state: the declarations' durable bytes from that LMDB store)\n"
    "         T: YYYY-MM-DD (UTC day; --until includes it) or RFC 3339 with a zone\n"
    "         exit 0 intact, 1 not intact (the report is still written), 2 usage or I/O error\n";

int usage_error(const std::string& msg) {
  if (!msg.empty()) std::fprintf(stderr, "datacustoms audit: %s\n", msg.c_str());
  std::fputs(kUsage, stderr);
  return 2;
}

int keygen(const std::vector<std::string>& args) {
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--out" && i + 1 < args.size())
      out = args[++i];
    else
      return usage_error("keygen: unexpected argument '" + args[i] + "'");
  }
  if (out.empty()) return usage_error("keygen: --out PREFIX is required");
  // The key directory is created when missing, private to its owner (0700): keys are secrets.
  if (auto dir = std::filesystem::path(out).parent_path(); !dir.empty()) {
    std::error_code ec;
    if (std::filesystem::create_directories(dir, ec)) {
      std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::replace, ec);
    }
    if (ec) {
      dc::appliance::log::error("audit keygen: %s: cannot create directory: %s\n",
                                dir.string().c_str(), ec.message().c_str());
      return 2;
    }
  }
  auto id = dc::audit::write_new_keypair(out);
  if (!id) {
    dc::appliance::log::error("audit keygen: %s\n", id.error().message.c_str());
    return 2;
  }
  std::printf("wrote %s.key (private, 0600) and %s.pub; key id %s\n", out.c_str(), out.c_str(),
              id->c_str());
  return 0;
}

int verify(const std::vector<std::string>& args) {
  dc::audit::VerifyOptions opt;
  std::string pubkey;
  bool json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--pubkey" && i + 1 < args.size())
      pubkey = args[++i];
    else if (a == "--json")
      json = true;
    else if (a == "--live")
      opt.allow_unsealed_tail = true;
    else if (a == "--no-evidence")
      opt.check_evidence = false;
    else if (a == "--expect-key-id" && i + 1 < args.size())
      opt.expect_key_id = args[++i];
    else if (a == "--witness" && i + 1 < args.size())
      opt.witnesses.push_back(args[++i]);
    else if (!a.starts_with("--") && opt.dir.empty())
      opt.dir = a;
    else
      return usage_error("verify: unexpected argument '" + a + "'");
  }
  if (opt.dir.empty() || pubkey.empty())
    return usage_error("verify: DIR and --pubkey are required");
  auto key = dc::audit::VerifyKey::load(pubkey);
  if (!key) {
    dc::appliance::log::error("audit verify: %s\n", key.error().message.c_str());
    return 2;
  }
  auto report = dc::audit::verify_log(opt, *key);
  if (!report) {
    dc::appliance::log::error("audit verify: %s\n", report.error().message.c_str());
    return 2;
  }
  if (json) {
    auto j = report->to_json();
    j["dir"] = opt.dir;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    for (const auto& f : report->findings)
      std::printf("%s\n", dc::audit::format_finding(f).c_str());
    std::printf(
        "%s: %s: %llu records in %llu files, %llu flows, %llu valid checkpoints, sealed "
        "through record %llu of %llu, %llu evidence files checked, key id %s%s%s\n",
        opt.dir.c_str(), report->intact() ? "intact" : "NOT INTACT",
        static_cast<unsigned long long>(report->records),
        static_cast<unsigned long long>(report->files),
        static_cast<unsigned long long>(report->flows),
        static_cast<unsigned long long>(report->checkpoints),
        static_cast<unsigned long long>(report->sealed_through),
        static_cast<unsigned long long>(report->last_seq),
        static_cast<unsigned long long>(report->evidence_checked), report->key_id.c_str(),
        opt.witnesses.empty()
            ? ""
            : (", " + std::to_string(report->witnessed) + " witnessed checkpoints held against it")
                  .c_str(),
        report->findings_omitted == 0
            ? ""
            : (" (" + std::to_string(report->findings_omitted) + " more findings not listed)")
                  .c_str());
  }
  return report->exit_code();
}

// Writes `text` to PATH.tmp, then renames it over PATH: a reader never sees half a report.
bool write_whole(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !out.write(text.data(), static_cast<std::streamsize>(text.size()))) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

struct ReportArgs {
  dc::audit::ReportOptions opt;
  dc::audit::VerifyOptions verify;
  std::string pubkey, format = "text", out;
  std::string accounting_state;  // --accounting-state DIR
  bool no_verify = false;
};

// Parses `audit report` arguments; returns an exit code, or -1 to go on.
int parse_report_args(const std::vector<std::string>& args, ReportArgs& r) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has = i + 1 < args.size();
    if (a == "--pubkey" && has)
      r.pubkey = args[++i];
    else if (a == "--json")
      r.format = "json";
    else if (a == "--format" && has)
      r.format = args[++i];
    else if (a == "--out" && has)
      r.out = args[++i];
    else if (a == "--since" && has)
      r.opt.since_text = args[++i];
    else if (a == "--until" && has)
      r.opt.until_text = args[++i];
    else if (a == "--policy" && has)
      r.opt.policy_path = args[++i];
    else if (a == "--accounting-state" && has)
      r.accounting_state = args[++i];
    else if (a == "--live")
      r.verify.allow_unsealed_tail = true;
    else if (a == "--witness" && has)
      r.verify.witnesses.push_back(args[++i]);
    else if (a == "--no-verify")
      r.no_verify = true;
    else if (!a.starts_with("--") && r.opt.dir.empty())
      r.opt.dir = a;
    else
      return usage_error("report: unexpected argument '" + a + "'");
  }
  if (r.opt.dir.empty()) return usage_error("report: DIR is required");
  if (r.format != "text" && r.format != "json" && r.format != "csv" && r.format != "html")
    return usage_error("report: --format must be text, json, csv or html, not '" + r.format + "'");
  return -1;
}

// --since / --until / --policy into the options; returns an exit code, or -1 to go on.
int resolve_report_inputs(ReportArgs& r) {
  auto fail = [](const std::string& m) {
    std::fprintf(stderr, "datacustoms audit report: %s\n", m.c_str());
    return 2;
  };
  if (!std::filesystem::is_directory(r.opt.dir)) return fail(r.opt.dir + ": not a directory");
  if (r.pubkey.empty() && !r.no_verify)
    return usage_error(
        "report: --pubkey PUB is required (the log is verified first), or "
        "--no-verify");
  for (auto [text, slot, end] : {std::tuple{&r.opt.since_text, &r.opt.since_ns, false},
                                 std::tuple{&r.opt.until_text, &r.opt.until_ns, true}}) {
    if (text->empty()) continue;
    auto t = dc::audit::parse_report_time(*text, end);
    if (!t) return fail(std::string(end ? "--until " : "--since ") + t.error().message);
    *slot = *t;
  }
  if (r.opt.since_ns && r.opt.until_ns && *r.opt.since_ns >= *r.opt.until_ns)
    return fail("--since " + r.opt.since_text + " is not before --until " + r.opt.until_text);
  if (!r.opt.policy_path.empty()) {
    dc::policy::Diagnostics pd(r.opt.policy_path);
    auto loaded = dc::policy::load_policy_file(r.opt.policy_path, pd);
    if (!loaded || loaded.value() == nullptr) {
      std::fputs(pd.format().c_str(), stderr);
      return fail("--policy " + r.opt.policy_path + " not loaded" +
                  (loaded ? "" : ": " + loaded.error().message));
    }
    r.opt.policy_given = true;
    r.opt.policy = loaded.value();
    for (const auto& b : dc::audit::policy_bases_json(*loaded.value()))
      r.opt.policy_bases.push_back({b["id"], b["kind"], b["ref"], b["status"],
                                    b["expires"].is_string() ? b["expires"].get<std::string>() : "",
                                    0});
  }
  if (!r.accounting_state.empty()) {  // the declarations' durable bytes, read-only
    auto store =
        dc::audit::make_lmdb_store(r.accounting_state, {.read_only = true, .create = false});
    auto bytes = store ? (*store)->all_reserved_bytes()
                       : dc::Result<std::vector<std::pair<std::string, uint64_t>>>(store.error());
    if (!bytes) return fail("--accounting-state " + bytes.error().message);
    r.opt.store_bytes.insert(bytes->begin(), bytes->end());
    r.opt.has_store_bytes = true;
  }
  return -1;
}

// The verification the report starts with; returns an exit code, or -1 to go on.
int verify_for_report(ReportArgs& r, dc::audit::ReportIntegrity& integrity) {
  if (r.no_verify) return -1;
  auto key = dc::audit::VerifyKey::load(r.pubkey);
  if (!key) {
    dc::appliance::log::error("audit report: %s\n", key.error().message.c_str());
    return 2;
  }
  r.verify.dir = r.opt.dir;
  auto v = dc::audit::verify_log(r.verify, *key);
  if (!v) {
    dc::appliance::log::error("audit report: %s\n", v.error().message.c_str());
    return 2;
  }
  integrity = dc::audit::integrity_of(*v, r.opt.dir);
  return -1;
}

int report(const std::vector<std::string>& args) {
  ReportArgs r;
  if (int rc = parse_report_args(args, r); rc >= 0) return rc;
  if (int rc = resolve_report_inputs(r); rc >= 0) return rc;
  dc::audit::ReportIntegrity integrity;
  if (int rc = verify_for_report(r, integrity); rc >= 0) return rc;
  auto rep = dc::audit::build_report(r.opt, integrity);
  if (!rep) {
    dc::appliance::log::error("audit report: %s\n", rep.error().message.c_str());
    return 2;
  }
  std::string text;
  if (r.format == "json") {
    text = rep->to_json().dump(2) + "\n";
  } else if (r.format == "csv") {
    text = rep->to_csv();
  } else if (r.format == "html") {
    // Links to records and evidence are relative to where the HTML file is stored.
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path from = r.out.empty() ? fs::current_path(ec) : fs::absolute(r.out, ec).parent_path();
    std::string base =
        fs::absolute(r.opt.dir, ec).lexically_normal().lexically_relative(from).string();
    text = rep->to_html(base);
  } else {
    text = rep->to_text();
  }
  if (r.out.empty()) {
    std::fputs(text.c_str(), stdout);
  } else if (!write_whole(r.out, text)) {
    dc::appliance::log::error("audit report: %s: cannot write\n", r.out.c_str());
    return 2;
  }
  const bool intact = r.no_verify || integrity.intact;
  if (!intact) std::fprintf(stderr, "datacustoms audit report: %s\n", integrity.line.c_str());
  return intact ? 0 : 1;
}

int run_audit(const std::vector<std::string>& args) {
  if (args.empty()) return usage_error("");
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& a : rest) {
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  if (args[0] == "keygen") return keygen(rest);
  if (args[0] == "verify") return verify(rest);
  if (args[0] == "report") return report(rest);
  return usage_error("unknown subcommand '" + args[0] + "'");
}

const dc::appliance::CommandRegistrar kReg{
    "audit", "audit trail: keygen, verify (hash chain, signatures, evidence), report", &run_audit};

}  // namespace
