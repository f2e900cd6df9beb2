// The appliance side of `declare submit` / `declare revoke`: check against the policy file,
// store or revoke in its declarations directory, reload (docs/operations.md "Declarations").
#include "appliance/declare_control.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/file.hpp"
#include "base/time.hpp"
#include "policy/declarations.hpp"
#include "policy/loader.hpp"

namespace dc::appliance {

namespace {

// The policy file's declaration context; errors (unreadable, no [declarations] dir) in `r`.
bool policy_context(const std::string& policy_path, policy::DeclarationContext& ctx,
                    DeclareReply& r) {
  auto text = base::read_file(policy_path);
  if (!text) {
    r.errors.push_back("cannot read the policy: " + text.error().message);
    return false;
  }
  policy::Diagnostics pd(policy_path);
  policy::PolicyDoc doc = policy::parse_policy(*text, policy_path, pd);
  ctx = policy::declaration_context(doc, pd);
  for (const auto& d : pd.items())
    if (d.severity == policy::Severity::kError)
      r.errors.push_back(policy::Diagnostics::format(policy_path, d));
  if (ctx.dir.empty()) r.errors.push_back(policy_path + ": the policy has no [declarations] dir");
  return r.errors.empty();
}

// Another file of the directory that declares `id` ("" when none).
std::string same_id_elsewhere(const policy::DeclarationContext& ctx, const std::string& id,
                              const std::string& target) {
  auto files = policy::declaration_files(ctx.dir);
  if (!files) return "";
  for (const auto& f : *files) {
    if (f == target) continue;
    auto text = base::read_file(f, {.max_bytes = base::kMaxKeyBytes});
    policy::Diagnostics ignore(f);
    if (text && policy::parse_declaration(*text, f, ctx.tz_minutes, ignore).id.value == id)
      return f;
  }
  return "";
}

Result<void> write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(tmp + ": cannot create: " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return make_error(path + ": cannot write: " + std::strerror(errno));
  }
  return {};
}

void reload_into(DeclareReply& r, const std::function<ReloadResult()>& reload) {
  r.reload = reload();
  r.accepted = r.reload.ok;
  if (!r.reload.ok) r.errors.push_back("the policy reload was rejected: " + r.reload.error);
}

}  // namespace

DeclareReply submit_declaration(const std::string& policy_path, const std::string& decl_path,
                                int64_t now_ns, const std::function<ReloadResult()>& reload) {
  DeclareReply r;
  policy::DeclarationContext ctx;
  if (!policy_context(policy_path, ctx, r)) return r;
  auto text = base::read_file(decl_path, {.max_bytes = base::kMaxKeyBytes});
  if (!text) {
    r.errors.push_back(text.error().message);
    return r;
  }
  policy::Diagnostics dd(decl_path);
  policy::DeclarationDoc decl = policy::parse_declaration(*text, decl_path, ctx.tz_minutes, dd);
  if (!dd.has_errors()) policy::check_declaration(decl, ctx, dd);
  // A declaration that has not begun yet is accepted (it is "pending"); an expired one is not.
  if (decl.valid_until.set && now_ns >= decl.valid_until.ns)
    policy::check_declaration_time(decl, now_ns, ctx.tz_minutes, dd);
  r.id = decl.id.value;
  r.file = ctx.dir + "/" + r.id + ".toml";
  if (!dd.has_errors()) {
    std::string other = same_id_elsewhere(ctx, r.id, r.file);
    if (!other.empty())
      dd.error(decl.id.pos, "duplicate declaration id '" + r.id + "' (also in " + other + ")");
  }
  for (const auto& d : dd.items())
    if (d.severity == policy::Severity::kError)
      r.errors.push_back(policy::Diagnostics::format(decl_path, d));
  if (!r.errors.empty()) return r;
  auto before = base::read_file(r.file, {.max_bytes = base::kMaxKeyBytes});
  if (auto w = write_atomically(r.file, *text); !w) {
    r.errors.push_back(w.error().message);
    return r;
  }
  reload_into(r, reload);
  if (!r.accepted) {  // the directory goes back to what the live policy was built from
    if (before)
      (void)write_atomically(r.file, *before);
    else
      ::unlink(r.file.c_str());
  }
  return r;
}

DeclareReply revoke_declaration(const std::string& policy_path, const std::string& id,
                                int64_t now_ns, const std::function<ReloadResult()>& reload) {
  DeclareReply r;
  r.id = id;
  policy::DeclarationContext ctx;
  if (!policy_context(policy_path, ctx, r)) return r;
  auto w = policy::append_revocation(
      ctx.dir, id,
      "revoked " + base::format_rfc3339(now_ns, ctx.tz_minutes) + " via the control socket");
  if (!w) {
    r.errors.push_back(w.error().message);
    return r;
  }
  r.file = ctx.dir + "/" + std::string(policy::kRevocationFile);
  reload_into(r, reload);
  return r;
}

}  // namespace dc::appliance
