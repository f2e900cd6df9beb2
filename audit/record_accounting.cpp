// The `accounting` member of flow records (docs/audit-format.md): the scopes a flow's persons
// were counted in, their counts after the flow and their limits. Digests and keys never appear.
#include "audit/ledger.hpp"
#include "audit/record.hpp"

namespace dc::audit {

nlohmann::ordered_json accounting_json(const AccountingOutcome& a, const policy::Snapshot& s) {
  if (!a.claimed) return nullptr;
  const std::string basis = a.basis < s.basis_count() ? s.basis(a.basis).id : "-";
  const std::string cp =
      a.counterparty < s.counterparty_count() ? s.counterparty(a.counterparty).id : "-";
  // The same names as the ledger's scope keys: the policy's ids, "-" for none.
  const std::string exporter = a.exporter < s.exporter_count() ? s.exporter(a.exporter).id : "-";
  const std::string decl =
      a.declaration < s.declaration_count() ? s.declaration(a.declaration).id : "-";
  nlohmann::ordered_json j;
  j["year"] = a.year;
  j["persons"] = a.persons;
  j["refused"] = a.refused;
  j["unavailable"] = a.unavailable;
  j["warn"] = a.warn;
  // The scopes the answers named, and those the flow's claims named that no answer came for (a
  // flow blocked or timed out first): their count is not known (null), their limit is the policy's.
  uint64_t planned[kScopeSlots] = {};
  const uint8_t plan =
      scope_plan(s, {a.exporter, a.counterparty, a.basis, a.declaration, a.kinds}, planned);
  auto scopes = nlohmann::ordered_json::array();
  for (unsigned i = 0; i < AccountingOutcome::kSlots; ++i) {
    const bool answered = a.used >> i & 1;
    if (!answered && !(plan >> i & 1)) continue;
    const auto slot = static_cast<ScopeSlot>(i);
    const uint64_t limit = answered ? a.limits[i] : planned[i];
    nlohmann::ordered_json sc;
    sc["scope"] = scope_key(slot, a.year, exporter, cp, basis, decl);
    sc["count"] = answered ? nlohmann::ordered_json(a.counts[i]) : nlohmann::ordered_json(nullptr);
    sc["limit"] = limit == policy::kUnlimited ? nlohmann::ordered_json(nullptr)
                                              : nlohmann::ordered_json(limit);
    sc["refused"] = a.refused && a.refused_slot == i;
    scopes.push_back(std::move(sc));
  }
  j["scopes"] = std::move(scopes);
  return j;
}

}  // namespace dc::audit
