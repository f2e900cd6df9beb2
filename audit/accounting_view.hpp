#pragma once
// Customs accounting reports (docs/accounting.md "Reports"): per exporter / basis / counterparty
// / declaration and year, the distinct persons counted, the bytes exported, the threshold and the
// mechanism that apply (numbers from policy/accounting.hpp's one table) and, per declaration,
// declared against actual. Filled from a PersonStore's scopes (`datacustoms accounting show`) or
// from flow records (`datacustoms audit report`); one text and one JSON rendering for both.
// Threads: any; no I/O (the callers read the store or the log).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "audit/person_store_scope.hpp"
#include "policy/snapshot.hpp"

namespace dc::audit {

// One scope of the counts: an exporter, an exporter's basis, a counterparty under a basis, or a
// declaration, in one accounting year. Names as in the scope keys ("-": unattributed exporter).
struct AcctRow {
  int year = 0;
  std::string exporter, counterparty, basis, declaration;  // "" when not part of the scope
  uint64_t persons[2] = {0, 0};                            // [0] non-sensitive, [1] sensitive
  uint64_t limit[2] = {0, 0};  // the scope's limit as flow records wrote it (0: none known)
  bool has_bytes = false;      // bytes and flows are known (flow records only)
  uint64_t bytes = 0, flows = 0;
  std::string kind() const;  // "exporter", "basis", "counterparty" or "declaration"
  auto key() const { return std::tie(year, exporter, basis, counterparty, declaration); }
};

// A flow blocked (or alerted) under a declaration for what it carried beyond it.
struct DeclFlow {
  uint64_t seq = 0, flow_id = 0;
  std::string time, verdict, reason;  // reason: "undeclared_category:pi.identity", ...
};

// A declaration as the flow records of the period show it.
struct DeclSeen {
  std::set<std::string> categories;  // categories found in the flows that crossed under it
  uint64_t bytes = 0, flows = 0;
  std::vector<DeclFlow> blocked;  // undeclared_category / declaration_exceeded, log order
};

struct AccountingView {
  using Key = std::tuple<int, std::string, std::string, std::string, std::string>;
  std::map<Key, AcctRow> rows;
  std::map<std::string, DeclSeen> seen;  // by declaration id (flow records only)
  // The store's durable bytes per declaration id (PersonStore::all_reserved_bytes): what the
  // appliances reserved, at most one unused budget per appliance above the bytes that crossed
  // while they run (docs/accounting.md "Durable declaration bytes").
  std::map<std::string, uint64_t> store_bytes;
  bool has_store_bytes = false;
  bool from_log = false;  // rows carry bytes; declarations carry what was seen
  int64_t at_ns = 0;      // declarations' states at this time (0: not known)
  // Thresholds, caps, CIIO flags and the declared side come from here; null: only what the
  // records wrote (their limits), and the exporter is taken as not a CIIO.
  const policy::Snapshot* policy = nullptr;

  AcctRow& row(const ScopeKey& k);  // created on first use
  // A scope's count (the store's, or the count after a flow as its record wrote it: the highest
  // one wins, counts only grow within a year) and the limit the record wrote (0: none).
  void add_scope(const ScopeKey& k, uint64_t count, uint64_t limit = 0);
  // A flow record of the period (`type: "flow"`): its scopes' counts, its exported bytes per
  // exporter / basis / counterparty / declaration, its declaration's categories and blocks.
  void add_flow_record(const nlohmann::json& record);
  bool empty() const { return rows.empty() && seen.empty(); }

  // {"rows": [...], "declarations": [...]} (docs/accounting.md "Reports").
  nlohmann::ordered_json rows_json() const;
  nlohmann::ordered_json declarations_json() const;
  std::string rows_text() const;          // one line per row, aligned columns
  std::string declarations_text() const;  // declared against actual, one block per declaration
};

// What the 2024 provisions require for an exporter's year-to-date counts, with the thresholds of
// policy::mechanism_limits: "exempt", "standard_contract_or_certification",
// "security_assessment". A CIIO exporter needs a security assessment for any person.
std::string_view exporter_mechanism(uint64_t nonsensitive, uint64_t sensitive, bool ciio);

// "1,234,567".
std::string thousands(uint64_t v);

}  // namespace dc::audit
