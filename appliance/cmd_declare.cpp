// `datacustoms declare keygen|sign|verify|list|submit|revoke`: the compliance officer's tools for
// declarations (docs/operations.md "Declarations", format in docs/policy-reference.md).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/telemetry_client.hpp"
#include "audit/crypto.hpp"
#include "base/file.hpp"
#include "base/time.hpp"
#include "policy/declarations.hpp"
#include "policy/loader.hpp"
#include "policy/policy.hpp"

namespace dc::appliance {
namespace {

using nlohmann::json;

constexpr int kOk = 0, kProblems = 1, kUsage = 2, kUnreachable = 3;

void usage(FILE* out) {
  std::fprintf(
      out,
      "usage: datacustoms declare keygen PREFIX\n"
      "       datacustoms declare sign --key APPROVER.key DECL.toml\n"
      "       datacustoms declare verify --policy POLICY.toml [--at TIME] DECL.toml...\n"
      "       datacustoms declare list --policy POLICY.toml [--at TIME] [--json]\n"
      "       datacustoms declare submit [CTL OPTIONS] DECL.toml\n"
      "       datacustoms declare revoke [CTL OPTIONS] ID\n"
      "\n"
      "keygen  write an approver key pair PREFIX.key (0600) and PREFIX.pub, and print the\n"
      "        [[approvers]] public_key value (base64 of the raw Ed25519 key)\n"
      "sign    sign DECL.toml's canonical form; the signature replaces its `signature` line\n"
      "verify  check references, caps, approver, signature and validity window (at --at,\n"
      "        default now); every problem as file:line:col\n"
      "list    every declaration of the policy's declarations directory and its state:\n"
      "        active, pending, expired, revoked, invalid\n"
      "submit  the running appliance checks DECL.toml, stores it in its declarations\n"
      "        directory and reloads; prints accepted or every error\n"
      "revoke  the running appliance adds ID to revoked.list and reloads; live flows under\n"
      "        it are cut at their next packet\n"
      "CTL OPTIONS (as `datacustoms ctl`): --socket PATH, --file-prefix NAME, --runtime-dir DIR,\n"
      "        --timeout S\n"
      "exit: 0 ok, 1 problems found / refused, 2 usage or unreadable input, 3 appliance not\n"
      "reachable\n");
}

int usage_error() {
  usage(stderr);
  return kUsage;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Options shared by the subcommands; `files` are the non-option arguments.
struct Opts {
  std::string key, policy, socket, prefix, runtime_dir;
  int64_t at = 0;
  bool json = false;
  long timeout_s = 300;
  std::vector<std::string> files;
};

bool parse(const std::vector<std::string>& args, Opts& o) {
  o.at = now_ns();
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string v;
    auto value = [&](std::string_view n) { return take_option_value(args, i, n, v); };
    if (value("--key")) {
      o.key = v;
    } else if (value("--policy")) {
      o.policy = v;
    } else if (value("--at")) {
      auto t = base::parse_rfc3339(v, 0);
      if (!t) return false;
      o.at = *t;
    } else if (value("--socket")) {
      o.socket = v;
    } else if (value("--file-prefix")) {
      o.prefix = v;
    } else if (value("--runtime-dir")) {
      o.runtime_dir = v;
    } else if (value("--timeout")) {
      o.timeout_s = std::atol(v.c_str());
      if (o.timeout_s <= 0) return false;
    } else if (args[i] == "--json") {
      o.json = true;
    } else if (args[i].starts_with("--")) {
      return false;
    } else {
      o.files.push_back(args[i]);
    }
  }
  return true;
}

int keygen(const Opts& o) {
  if (o.files.size() != 1) return usage_error();
  auto id = audit::write_new_keypair(o.files[0]);
  if (!id) {
    std::fprintf(stderr, "datacustoms declare keygen: %s\n", id.error().message.c_str());
    return kUsage;
  }
  auto raw = policy::load_public_key(o.files[0] + ".pub", ".");
  if (!raw) {
    std::fprintf(stderr, "datacustoms declare keygen: %s\n", raw.error().message.c_str());
    return kUsage;
  }
  std::printf("wrote %s.key (private, keep it offline) and %s.pub (key id %s)\n",
              o.files[0].c_str(), o.files[0].c_str(), id->c_str());
  std::printf("public_key = \"%s\"\n", policy::encode_base64(*raw).c_str());
  return kOk;
}

// The file without its `signature = ...` line, with `signature = "<sig>"` at the end.
std::string with_signature(const std::string& text, uint32_t old_line, const std::string& sig) {
  std::string out;
  uint32_t line = 1;
  for (std::size_t at = 0; at < text.size(); ++line) {
    std::size_t end = text.find('\n', at);
    end = end == std::string::npos ? text.size() : end + 1;
    if (line != old_line) out.append(text, at, end - at);
    at = end;
  }
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out + "signature = \"" + sig + "\"\n";
}

int sign(const Opts& o) {
  if (o.key.empty() || o.files.size() != 1) return usage_error();
  const std::string& path = o.files[0];
  auto text = base::read_file(path, {.max_bytes = base::kMaxKeyBytes});
  if (!text) {
    std::fprintf(stderr, "datacustoms declare sign: %s\n", text.error().message.c_str());
    return kUsage;
  }
  policy::Diagnostics d(path);
  policy::DeclarationDoc decl = policy::parse_declaration(*text, path, 0, d);
  if (d.has_errors()) {
    std::fputs(d.format().c_str(), stderr);
    return kProblems;
  }
  auto key = audit::SigningKey::load(o.key);
  if (!key) {
    std::fprintf(stderr, "datacustoms declare sign: %s\n", key.error().message.c_str());
    return kUsage;
  }
  auto sig = key->sign(policy::canonical_form(decl));
  if (!sig) {
    std::fprintf(stderr, "datacustoms declare sign: %s\n", sig.error().message.c_str());
    return kUsage;
  }
  const std::string out =
      with_signature(*text, decl.signature_line.line, policy::encode_base64(*sig));
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  bool ok = f != nullptr && std::fwrite(out.data(), 1, out.size(), f) == out.size();
  ok = f != nullptr && std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::fprintf(stderr, "datacustoms declare sign: cannot write %s\n", path.c_str());
    ::unlink(tmp.c_str());
    return kUsage;
  }
  std::printf("signed declaration '%s' (approved_by '%s') with key %s: %s\n", decl.id.value.c_str(),
              decl.approved_by.value.c_str(), key->key_id().c_str(), path.c_str());
  return kOk;
}

// The policy's parsed document and declaration context; nullopt (after printing) when unusable.
bool policy_context(const std::string& path, policy::DeclarationContext& ctx) {
  auto text = base::read_file(path);
  if (!text) {
    std::fprintf(stderr, "datacustoms declare: %s\n", text.error().message.c_str());
    return false;
  }
  policy::Diagnostics pd(path);
  policy::PolicyDoc doc = policy::parse_policy(*text, path, pd);
  ctx = policy::declaration_context(doc, pd);
  if (pd.has_errors()) {
    std::fputs(pd.format().c_str(), stderr);
    return false;
  }
  return true;
}

int verify(const Opts& o) {
  if (o.policy.empty() || o.files.empty()) return usage_error();
  policy::DeclarationContext ctx;
  if (!policy_context(o.policy, ctx)) return kUsage;
  int rc = kOk;
  for (const auto& path : o.files) {
    auto text = base::read_file(path, {.max_bytes = base::kMaxKeyBytes});
    if (!text) {
      std::fprintf(stderr, "datacustoms declare verify: %s\n", text.error().message.c_str());
      return kUsage;
    }
    policy::Diagnostics d(path);
    policy::DeclarationDoc decl = policy::parse_declaration(*text, path, ctx.tz_minutes, d);
    if (!d.has_errors()) {
      policy::check_declaration(decl, ctx, d);
      policy::check_declaration_time(decl, o.at, ctx.tz_minutes, d);
    }
    std::fputs(d.format().c_str(), stderr);
    if (d.has_errors()) {
      rc = kProblems;
    } else {
      std::printf("%s: ok: declaration '%s' approved by '%s', valid %s to %s\n", path.c_str(),
                  decl.id.value.c_str(), decl.approved_by.value.c_str(),
                  base::format_rfc3339(decl.valid_from.ns, ctx.tz_minutes).c_str(),
                  base::format_rfc3339(decl.valid_until.ns, ctx.tz_minutes).c_str());
    }
  }
  return rc;
}

}  // namespace
}  // namespace dc::appliance

namespace dc::appliance {
namespace {

std::string state_at(const policy::DeclarationInfo& d, int64_t at) {
  if (d.state != policy::DeclarationState::kValid)
    return std::string(policy::declaration_state_name(d.state));
  switch (policy::declaration_time(d.valid_from_ns, d.valid_until_ns, at)) {
    case policy::DeclarationTime::kPending:
      return "pending";
    case policy::DeclarationTime::kExpired:
      return "expired";
    default:
      return "active";
  }
}

int list(const Opts& o) {
  if (o.policy.empty() || !o.files.empty()) return usage_error();
  policy::Diagnostics diags(o.policy);
  policy::CompileOptions copts;
  copts.check_tests = false;
  auto snap = policy::load_policy_file(o.policy, diags, nullptr, copts);
  if (!snap || *snap == nullptr) {
    if (!snap) std::fprintf(stderr, "datacustoms declare list: %s\n", snap.error().message.c_str());
    for (const auto& d : diags.items())
      if (d.severity == policy::Severity::kError)
        std::fprintf(stderr, "%s\n", policy::Diagnostics::format(o.policy, d).c_str());
    return kUsage;
  }
  const policy::Snapshot& s = **snap;
  const int32_t tz = 0;
  json all = json::array();
  if (!o.json)
    std::printf("%-20s %-14s %-16s %-16s %-25s %-25s %s\n", "ID", "EXPORTER", "COUNTERPARTY",
                "BASIS", "VALID_FROM", "VALID_UNTIL", "STATE");
  for (std::size_t i = 0; i < s.declaration_count(); ++i) {
    const auto& d = s.declaration(static_cast<policy::DeclarationId>(i));
    const std::string state = state_at(d, o.at);
    const std::string from = d.valid_from_ns ? base::format_rfc3339(d.valid_from_ns, tz) : "-";
    const std::string until = d.valid_until_ns ? base::format_rfc3339(d.valid_until_ns, tz) : "-";
    if (o.json) {
      all.push_back({{"id", d.id},
                     {"file", d.file},
                     {"exporter", d.exporter},
                     {"counterparty", d.counterparty_id},
                     {"legal_basis", d.basis_id},
                     {"valid_from", from},
                     {"valid_until", until},
                     {"state", state},
                     {"max_bytes", d.max_bytes},
                     {"max_persons", d.max_persons},
                     {"problem", d.problem}});
      continue;
    }
    std::printf("%-20s %-14s %-16s %-16s %-25s %-25s %s\n", d.id.empty() ? "?" : d.id.c_str(),
                d.exporter.c_str(), d.counterparty_id.c_str(), d.basis_id.c_str(), from.c_str(),
                until.c_str(), state.c_str());
    if (!d.problem.empty()) std::printf("    %s\n", d.problem.c_str());
  }
  if (o.json) std::printf("%s\n", all.dump(2).c_str());
  return kOk;
}

// submit / revoke: one telemetry command to the running appliance, then its verdict.
int remote(const Opts& o, bool submit) {
  if (o.files.size() != 1) return usage_error();
  std::string param = o.files[0];
  if (submit) {
    char* abs = ::realpath(param.c_str(), nullptr);
    if (abs == nullptr) {
      std::fprintf(stderr, "datacustoms declare submit: %s: no such file\n", param.c_str());
      return kUsage;
    }
    param = abs;
    std::free(abs);
  }
  std::string path = o.socket;
  if (path.empty()) {
    auto found = find_telemetry_socket(o.prefix, o.runtime_dir);
    if (!found) {
      std::fprintf(stderr, "datacustoms declare: %s\n", found.error().message.c_str());
      return kUnreachable;
    }
    path = *found;
  }
  auto c = TelemetryClient::connect(path, std::chrono::seconds(o.timeout_s));
  if (!c) {
    std::fprintf(stderr, "datacustoms declare: %s\n", c.error().message.c_str());
    return kUnreachable;
  }
  const std::string cmd = submit ? "/datacustoms/declare_submit" : "/datacustoms/declare_revoke";
  auto r = (*c)->query(cmd, param);
  if (!r || r->is_null()) {
    std::fprintf(stderr, "datacustoms declare: %s: no answer from the appliance\n", cmd.c_str());
    return kUnreachable;
  }
  if (o.json) std::printf("%s\n", r->dump(2).c_str());
  const bool ok = r->value("result", "") == "accepted";
  const std::string id = r->value("id", "");
  if (!o.json) {
    FILE* out = ok ? stdout : stderr;
    std::fprintf(
        out, "declaration '%s' %s %s%s\n", id.c_str(), submit ? "submit" : "revoke",
        ok ? "accepted" : "rejected",
        ok ? (" (policy generation " + std::to_string(r->value("generation", 0)) + ")").c_str()
           : "");
    for (const auto& e : join_chunks(*r, "diagnostics", "diagnostic_parts"))
      std::fprintf(out, "%s\n", e.c_str());
  }
  return ok ? kOk : kProblems;
}

int declare(const std::vector<std::string>& args) {
  if (args.empty()) return usage_error();
  if (args[0] == "--help" || args[0] == "-h") {
    usage(stdout);
    return kOk;
  }
  Opts o;
  if (!parse(args, o)) return usage_error();
  const std::string& sub = args[0];
  if (sub == "keygen") return keygen(o);
  if (sub == "sign") return sign(o);
  if (sub == "verify") return verify(o);
  if (sub == "list") return list(o);
  if (sub == "submit") return remote(o, true);
  if (sub == "revoke") return remote(o, false);
  std::fprintf(stderr, "datacustoms declare: unknown subcommand '%s'\n", sub.c_str());
  return usage_error();
}

const CommandRegistrar kReg{"declare", "declarations: keygen, sign, verify, list, submit, revoke",
                            &declare};

}  // namespace
}  // namespace dc::appliance
