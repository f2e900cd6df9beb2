// Policy compiler, declarations: reads the policy's declarations directory (or the files a test
// hands over), checks every declaration against the policy and compiles it into the snapshot.
// A declaration that fails a check is kept as "invalid" (never in force) and reported as a
// warning: one bad file must not stop the policy, and what it would allow stays blocked.
#include <algorithm>
#include <set>

#include "base/file.hpp"
#include "policy/compile_internal.hpp"

namespace dc::policy {

DeclarationBytes* DeclarationUsage::counter(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = bytes_[id];
  if (!slot) {
    slot = std::make_unique<DeclarationBytes>();
    if (granting_) slot->granted.store(0, std::memory_order_relaxed);  // until the ledger grants
  }
  return slot.get();
}

void SnapshotBuilder::declarations() {
  s_->declaration_usage_ =
      opts_.declaration_usage ? opts_.declaration_usage : std::make_shared<DeclarationUsage>();
  std::set<std::string> approver_ids;
  for (const auto& a : doc_.approvers) {
    if (new_id(a.id, "approver", approver_ids)) approver_ids.insert(a.id.value);
  }
  const DeclarationContext ctx = declaration_context(doc_, d_);
  s_->declarations_dir_ = ctx.dir;
  if (opts_.declaration_files) {
    for (const auto& [name, text] : *opts_.declaration_files)
      declaration(ctx, name, text, opts_.revoked_declarations);
    return;
  }
  if (ctx.dir.empty()) {
    bool needed = std::any_of(doc_.counterparties.begin(), doc_.counterparties.end(),
                              [](const auto& c) { return c.require_declaration.value; }) ||
                  std::any_of(doc_.bases.begin(), doc_.bases.end(),
                              [](const auto& b) { return b.require_declaration.value; });
    if (needed)
      d_.warning(Pos{},
                 "require_declaration is set but there is no [declarations] dir: those "
                 "flows are blocked (declaration_missing)");
    return;
  }
  auto files = declaration_files(ctx.dir);
  if (!files) {
    d_.warning(doc_.declarations.dir.pos, files.error().message + "; no declaration is in force");
    return;
  }
  const std::vector<std::string> revoked = revoked_ids(ctx.dir);
  for (const auto& path : *files) {
    auto text = base::read_file(path, {.max_bytes = base::kMaxKeyBytes});
    declaration(ctx, path, text ? *text : std::string(), revoked);
    if (!text) s_->declarations_.back().problem = text.error().message;
  }
  if (s_->declarations_.size() >= kNoDeclaration)
    d_.error(doc_.declarations.dir.pos, "too many declarations (at most 65534)");
}

void SnapshotBuilder::declaration(const DeclarationContext& ctx, const std::string& name,
                                  std::string_view text, const std::vector<std::string>& revoked) {
  Diagnostics dd(name);
  const DeclarationDoc doc = parse_declaration(text, name, ctx.tz_minutes, dd);
  if (!dd.has_errors()) check_declaration(doc, ctx, dd);
  if (DeclarationId other = s_->find_declaration(doc.id.value);
      !doc.id.value.empty() && other != kNoDeclaration)
    dd.error(doc.id.pos, "duplicate declaration id '" + doc.id.value + "' (also in " +
                             s_->declarations_[other].file + ")");
  DeclarationInfo info;
  info.id = doc.id.value;
  info.file = name;
  info.exporter = doc.exporter.value;
  info.counterparty_id = doc.counterparty.value;
  info.basis_id = doc.legal_basis.value;
  info.purpose = doc.purpose.value;
  info.approved_by = doc.approved_by.value;
  if (auto it = counterparty_ids_.find(doc.counterparty.value); it != counterparty_ids_.end())
    info.counterparty = it->second;
  if (auto it = basis_ids_.find(doc.legal_basis.value); it != basis_ids_.end())
    info.basis = it->second;
  if (auto it = exporter_ids_.find(doc.exporter.value); it != exporter_ids_.end())
    info.exporter_index = it->second;
  for (const auto& c : doc.categories) {
    if (auto it = category_ids_.find(c.value); it != category_ids_.end() && it->second < 64)
      info.categories |= 1ull << it->second;
  }
  info.max_persons = static_cast<uint64_t>(std::max<int64_t>(0, doc.max_persons.value));
  info.max_bytes = static_cast<uint64_t>(std::max<int64_t>(0, doc.max_bytes.value));
  info.max_sensitive_persons =
      doc.max_sensitive_persons.pos.line ? doc.max_sensitive_persons.value : -1;
  info.valid_from_ns = doc.valid_from.ns;
  info.valid_until_ns = doc.valid_until.ns;
  if (!info.id.empty()) info.bytes = s_->declaration_usage_->counter(info.id);
  if (dd.has_errors()) {
    for (const auto& item : dd.items()) {
      if (item.severity != Severity::kError) continue;
      info.problem = Diagnostics::format(name, item);
      break;
    }
    d_.warning(doc_.declarations.dir.pos, "declaration not in force: " + info.problem);
  } else if (std::find(revoked.begin(), revoked.end(), info.id) != revoked.end()) {
    info.state = DeclarationState::kRevoked;
  } else {
    info.state = DeclarationState::kValid;
  }
  s_->declarations_.push_back(std::move(info));
}

}  // namespace dc::policy
