#pragma once
// Control-plane entry points of the policy module: load a policy file, check it, compile it into
// the immutable Snapshot the workers use. Runs on the control thread (or in the CLI), never on a
// worker: compiling builds tables and a Hyperscan database and may take milliseconds to seconds.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "policy/diagnostics.hpp"
#include "policy/model.hpp"
#include "policy/snapshot.hpp"

namespace dc::policy {

struct CompileOptions {
  // Reference time for advisory warnings only ("basis expired", "counterparty expired"). The
  // snapshot itself never depends on it: expiry is decided per packet at the packet's time.
  // nullopt = no expiry warnings.
  std::optional<int64_t> warn_expired_at_ns;
  // Also validate the [[test]] cases (references, addresses, reason names).
  bool check_tests = true;
  // Declarations: byte counters shared across reloads (null: fresh counters for this snapshot).
  std::shared_ptr<DeclarationUsage> declaration_usage;
  // Declaration files as (name, text) instead of reading the policy's declarations directory
  // (tests), and the ids revoked; null: read the directory.
  const std::vector<std::pair<std::string, std::string>>* declaration_files = nullptr;
  std::vector<std::string> revoked_declarations;
};

// Semantic checks + compilation of a parsed document. Returns nullptr when diags has errors.
std::shared_ptr<const Snapshot> compile_policy(const PolicyDoc& doc, Diagnostics& diags,
                                               const CompileOptions& opts = {});

// Parse + compile text (path is used for diagnostics and relative payload files).
std::shared_ptr<const Snapshot> compile_policy_text(std::string_view text, const std::string& path,
                                                    Diagnostics& diags,
                                                    PolicyDoc* doc_out = nullptr,
                                                    const CompileOptions& opts = {});

// Reads the file, then compile_policy_text. Unreadable file -> Error (diags untouched).
dc::Result<std::shared_ptr<const Snapshot>> load_policy_file(const std::string& path,
                                                             Diagnostics& diags,
                                                             PolicyDoc* doc_out = nullptr,
                                                             const CompileOptions& opts = {});

// Names of the built-in detectors the policy may reference (from dc::inspect when available).
const std::vector<std::string>& builtin_detectors();

// A one-screen summary of a compiled policy (for `policy check`).
std::string summarize(const Snapshot& s);

}  // namespace dc::policy
