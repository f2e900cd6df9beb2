// `datacustoms audit keygen|verify|report`: the reviewer's tools for the audit trail.
// Exit codes (appliance/command.hpp): 0 ok / intact, 1 tampered, 2 usage or I/O error.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "audit/crypto.hpp"
#include "audit/report.hpp"
#include "audit/verify.hpp"

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
    "       datacustoms audit report DIR [--json]\n"
    "         flow records per verdict, counterparty, category, zone pair and UTC day\n";

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
      std::fprintf(stderr, "datacustoms audit keygen: %s: cannot create directory: %s\n",
                   dir.string().c_str(), ec.message().c_str());
      return 2;
    }
  }
  auto id = dc::audit::write_new_keypair(out);
  if (!id) {
    std::fprintf(stderr, "datacustoms audit keygen: %s\n", id.error().message.c_str());
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
    std::fprintf(stderr, "datacustoms audit verify: %s\n", key.error().message.c_str());
    return 2;
  }
  auto report = dc::audit::verify_log(opt, *key);
  if (!report) {
    std::fprintf(stderr, "datacustoms audit verify: %s\n", report.error().message.c_str());
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

int report(const std::vector<std::string>& args) {
  std::string dir;
  bool json = false;
  for (const auto& a : args) {
    if (a == "--json")
      json = true;
    else if (!a.starts_with("--") && dir.empty())
      dir = a;
    else
      return usage_error("report: unexpected argument '" + a + "'");
  }
  if (dir.empty()) return usage_error("report: DIR is required");
  auto s = dc::audit::summarise_log(dir);
  if (!s) {
    std::fprintf(stderr, "datacustoms audit report: %s\n", s.error().message.c_str());
    return 2;
  }
  if (json)
    std::printf("%s\n", s->to_json().dump(2).c_str());
  else
    std::fputs(s->to_text().c_str(), stdout);
  return 0;
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
