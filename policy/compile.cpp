// The policy compiler's entry points (PolicyDoc -> Snapshot) and the checks every step shares.
// Every problem is reported with the position of the offending value, and checking continues so
// that one run reports all of them; the steps themselves are in compile_*.cpp.
#include <algorithm>

#include "base/file.hpp"
#include "base/hash.hpp"
#include "inspect/detect/detectors.hpp"
#include "policy/compile_internal.hpp"
#include "policy/loader.hpp"
#include "policy/test_runner.hpp"

namespace dc::policy {

namespace {
const char* kIdChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

constexpr std::array<Spelling<Action>, 2> kFailureModes{{
    {"closed", Action::kBlock},
    {"open", Action::kAlert},
}};
}  // namespace

std::string unknown_ref(std::string_view kind, const std::string& name,
                        const std::vector<std::string>& known) {
  std::string msg = "unknown " + std::string(kind) + " '" + name + "'";
  std::string hint = closest_match(name, known);
  if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
  return msg;
}

bool SnapshotBuilder::check_id(const LStr& id, std::string_view what) {
  if (id.value.empty()) {
    d_.error(id.pos, std::string(what) + " id must not be empty");
    return false;
  }
  if (id.value.find_first_not_of(kIdChars) != std::string::npos) {
    d_.error(id.pos, std::string(what) + " id '" + id.value +
                         "' may only contain letters, digits, '_', '.' and '-'");
    return false;
  }
  return true;
}

// Category references: an id, "prefix.*" (every category whose id starts with "prefix."), or "*".
uint64_t SnapshotBuilder::resolve_categories(const LStrs& refs, std::string_view what) {
  uint64_t mask = 0;
  for (const auto& r : refs) {
    if (r.value == "*") {
      mask |= s_->categories_.size() >= 64 ? ~0ull : (1ull << s_->categories_.size()) - 1;
      continue;
    }
    if (r.value.ends_with(".*")) {
      std::string prefix = r.value.substr(0, r.value.size() - 1);
      uint64_t m = 0;
      for (size_t c = 0; c < s_->categories_.size() && c < kMaxCategories; ++c) {
        if (s_->categories_[c].id.starts_with(prefix)) m |= 1ull << c;
      }
      if (m == 0)
        d_.warning(r.pos, "'" + r.value + "' in " + std::string(what) + " matches no category");
      mask |= m;
      continue;
    }
    const CategoryId* id = find_ref(r, "category", category_ids_, " in " + std::string(what));
    if (id && *id < kMaxCategories) mask |= 1ull << *id;  // more is an error elsewhere
  }
  return mask;
}

void SnapshotBuilder::header_and_defaults() {
  const auto& h = doc_.header;
  s_->policy_id_ = h.id.value;
  s_->policy_version_ = h.version.value;
  s_->source_path_ = doc_.path;
  s_->sha256_ = base::sha256(doc_.bytes);
  s_->sha256_hex_ = base::to_hex(s_->sha256_);
  if (!h.id.value.empty()) check_id(h.id, "policy");

  const auto& df = doc_.defaults;
  s_->monitor_ = df.monitor.value;
  one_of(df.no_counterparty, kBlockOrAlert, s_->no_counterparty_action_, "no_counterparty action");
  one_of(df.opaque_payload, kActionSpellings, s_->opaque_action_, "opaque_payload action");
  one_of(df.urgent_data, kActionSpellings, s_->urgent_action_, "urgent_data action");
  one_of(df.midstream, kActionSpellings, s_->midstream_action_, "midstream action");
  one_of(df.fragments, kFragmentSpellings, s_->reassemble_fragments_, "fragments handling");
  one_of(df.http_anomaly, kActionSpellings, s_->http_anomaly_action_, "http_anomaly action");
  one_of(df.content_uninspected, kActionSpellings, s_->content_uninspected_action_,
         "content_uninspected action");
  one_of(df.tls_escrow, kTlsEscrowSpellings, s_->tls_escrow_, "tls_escrow mode");
  one_of(df.tls_auth_failure, kActionSpellings, s_->tls_auth_failure_action_,
         "tls_auth_failure action");
  one_of(df.unattributed, kActionSpellings, s_->unattributed_action_, "unattributed action");
  s_->failure_action_.fill(Action::kBlock);  // fail closed unless the policy says otherwise
  for (const auto& [k, v] : df.on_failure) {
    std::size_t i = 0;
    std::vector<std::string> names;
    for (; i < kFailureCount; ++i) {
      names.emplace_back(failure_name(i));
      if (failure_name(i) == k.value) break;
    }
    if (i == kFailureCount) {
      d_.error(k.pos, unknown_ref("failure condition", k.value, names));
      continue;
    }
    one_of(v, kFailureModes, s_->failure_action_[i], "failure mode");
  }
}

std::shared_ptr<const Snapshot> SnapshotBuilder::run() {
  header_and_defaults();
  zones();
  exporters();
  custom_detectors();
  categories();
  bases();
  counterparties();
  links();
  declarations();
  detector_db();
  accounting();
  // Returned even with errors so that [[test]] cases can still be checked by name; the caller
  // discards it.
  return s_;
}

std::shared_ptr<const Snapshot> compile_policy(const PolicyDoc& doc, Diagnostics& diags,
                                               const CompileOptions& opts) {
  SnapshotBuilder b(doc, diags, opts);
  auto snap = b.run();
  if (opts.check_tests) {
    // Test cases are checked against the compiled tables when there are any (a broken policy
    // still gets its [[test]] references checked by name).
    validate_tests(doc, snap.get(), diags);
  }
  if (diags.has_errors()) return nullptr;
  return snap;
}

std::shared_ptr<const Snapshot> compile_policy_text(std::string_view text, const std::string& path,
                                                    Diagnostics& diags, PolicyDoc* doc_out,
                                                    const CompileOptions& opts) {
  PolicyDoc doc = parse_policy(text, path, diags);
  std::shared_ptr<const Snapshot> snap;
  // Syntax errors leave a partial document: semantic checks on it would mostly be noise.
  bool syntax_ok = !diags.has_errors() || !doc.zones.empty() || !doc.categories.empty();
  if (syntax_ok) snap = compile_policy(doc, diags, opts);
  if (doc_out) *doc_out = std::move(doc);
  return diags.has_errors() ? nullptr : snap;
}

dc::Result<std::shared_ptr<const Snapshot>> load_policy_file(const std::string& path,
                                                             Diagnostics& diags, PolicyDoc* doc_out,
                                                             const CompileOptions& opts) {
  auto text = base::read_file(path, {.max_bytes = base::kMaxPolicyBytes});
  if (!text)
    return dc::make_error(text.error().code, "cannot read policy file: " + text.error().message);
  auto snap = compile_policy_text(*text, path, diags, doc_out, opts);
  return snap;
}

}  // namespace dc::policy
