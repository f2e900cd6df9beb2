#pragma once
// The accounting scope keys (ACCOUNTING6.md: "<year>/e=<exporter>/[c=<cp>/]b=<basis>/<k>", ...)
// parsed for reports, and the limit the policy puts on a scope (basis caps, regulation lines).
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "policy/snapshot.hpp"

namespace dc::audit {

struct ScopeKey {
  int year = 0;
  std::string exporter;      // "-" for unattributed flows
  std::string counterparty;  // empty unless "c=" (per counterparty and basis)
  std::string basis;         // empty unless "b="
  std::string declaration;   // empty unless "d="
  bool sensitive = false;    // "/s" (sensitive PI persons) or "/n"
};

Result<ScopeKey> parse_scope_key(std::string_view key);
std::string format_scope_key(const ScopeKey& k);

// The largest count the scope may reach under `policy` (0: none known here) and where it comes
// from ("basis SCC-1 max_persons", "standard_contract: 1,000,000 or more needs a security
// assessment"). Per basis scopes: the basis's own cap (max_persons for non-sensitive,
// max_sensitive_persons for sensitive) and the line above which its mechanism no longer
// suffices, whichever is lower. Exporter, counterparty and declaration scopes: 0 (the exporter's
// line is the mechanism its count requires: required_mechanism).
struct AppliedLimit {
  uint64_t limit = 0;
  std::string source;
};
AppliedLimit applicable_limit(const policy::Snapshot& policy, const ScopeKey& key);

// The mechanism the 2024 provisions require for an exporter's year-to-date count (non-CIIO):
// non-sensitive >= 1,000,000 or sensitive >= 10,000: security assessment; non-sensitive >=
// 100,000 or sensitive >= 1: standard contract or certification; else exempt.
std::string_view required_mechanism(bool sensitive, uint64_t persons);

}  // namespace dc::audit
