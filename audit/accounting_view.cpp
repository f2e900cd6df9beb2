// Customs accounting reports: rows from store scopes and flow records, and the mechanism an
// exporter's counts require (the thresholds of policy::mechanism_limits, never restated here).
#include "audit/accounting_view.hpp"

#include "base/time.hpp"
#include "policy/accounting.hpp"

namespace dc::audit {
namespace {

using Json = nlohmann::json;

std::string str_of(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

uint64_t u64_of(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

// The accounting year of a record: the one its `accounting` names, else its time's year in the
// policy's accounting timezone (default +08:00 without a policy).
int record_year(const Json& j, const policy::Snapshot* p) {
  if (auto a = j.find("accounting"); a != j.end() && a->is_object())
    if (uint64_t y = u64_of(*a, "year"); y > 0) return static_cast<int>(y);
  const int32_t offset =
      p ? p->accounting().utc_offset_minutes : policy::AccountingPolicy{}.utc_offset_minutes;
  auto ns = base::parse_rfc3339(str_of(j, "time"), 0);
  return ns ? base::civil_date_at(*ns, offset).year : 0;
}

void add_declaration_facts(DeclSeen& d, const Json& j) {
  ++d.flows;
  if (auto e = j.find("exported"); e != j.end() && e->is_object()) d.bytes += u64_of(*e, "bytes");
  if (auto c = j.find("categories"); c != j.end() && c->is_array())
    for (const auto& cat : *c)
      if (cat.is_object() && !str_of(cat, "name").empty()) d.categories.insert(str_of(cat, "name"));
  auto rs = j.find("reasons");
  if (rs == j.end() || !rs->is_array()) return;
  for (const auto& r : *rs) {
    if (!r.is_object()) continue;
    const std::string kind = str_of(r, "kind");
    if (kind != "undeclared_category" && kind != "declaration_exceeded") continue;
    DeclFlow f{u64_of(j, "seq"), u64_of(j, "flow_id"), str_of(j, "time"), str_of(j, "verdict"),
               kind};
    if (auto c = str_of(r, "category"); !c.empty()) f.reason += ":" + c;
    d.blocked.push_back(std::move(f));
  }
}

}  // namespace

std::string AcctRow::kind() const {
  if (!declaration.empty()) return "declaration";
  if (!counterparty.empty()) return "counterparty";
  if (!basis.empty()) return "basis";
  return "exporter";
}

AcctRow& AccountingView::row(const ScopeKey& k) {
  AcctRow r;
  r.year = k.year;
  r.exporter = k.exporter;
  r.counterparty = k.counterparty;
  r.basis = k.basis;
  r.declaration = k.declaration;
  return rows.try_emplace(Key(r.key()), r).first->second;
}

void AccountingView::add_scope(const ScopeKey& k, uint64_t count, uint64_t limit) {
  AcctRow& r = row(k);
  r.persons[k.sensitive] = std::max(r.persons[k.sensitive], count);
  if (limit != 0) r.limit[k.sensitive] = limit;  // the latest record's
}

void AccountingView::add_flow_record(const Json& j) {
  const Json* acct = nullptr;
  if (auto a = j.find("accounting"); a != j.end() && a->is_object()) acct = &*a;
  ScopeKey k;
  k.year = record_year(j, policy);
  k.exporter = str_of(j, "exporter");
  const std::string cp = str_of(j, "counterparty"), decl = str_of(j, "declaration");
  std::string basis;
  if (auto b = j.find("legal_basis"); b != j.end() && b->is_object()) basis = str_of(*b, "id");
  // Border flows only: those an exporter, a counterparty, a declaration or a count names.
  if (k.exporter.empty() && cp.empty() && decl.empty() && acct == nullptr) return;
  if (k.exporter.empty()) k.exporter = "-";
  uint64_t bytes = 0;
  if (auto e = j.find("exported"); e != j.end() && e->is_object()) bytes = u64_of(*e, "bytes");
  auto charge = [&](const ScopeKey& s) {
    AcctRow& r = row(s);
    r.has_bytes = true;
    r.bytes += bytes;
    ++r.flows;
  };
  charge(k);
  if (!basis.empty()) {
    ScopeKey b = k;
    b.basis = basis;
    charge(b);
    if (!cp.empty()) {
      b.counterparty = cp;
      charge(b);
    }
  }
  if (!decl.empty()) {
    ScopeKey d = k;
    d.declaration = decl;
    charge(d);
    add_declaration_facts(seen[decl], j);
  }
  if (acct == nullptr) return;
  auto scopes = acct->find("scopes");
  if (scopes == acct->end() || !scopes->is_array()) return;
  for (const auto& s : *scopes) {
    if (!s.is_object()) continue;
    auto key = parse_scope_key(str_of(s, "scope"));
    if (key) add_scope(*key, u64_of(s, "count"), u64_of(s, "limit"));
  }
}

std::string_view exporter_mechanism(uint64_t nonsensitive, uint64_t sensitive, bool ciio) {
  using policy::Mechanism;
  if (ciio) return "security_assessment";
  const auto exempt = policy::mechanism_limits(Mechanism::kExemption, "small_volume", false);
  const auto contract = policy::mechanism_limits(Mechanism::kStandardContract, "", false);
  if (nonsensitive <= exempt.nonsensitive && sensitive <= exempt.sensitive) return "exempt";
  if (nonsensitive <= contract.nonsensitive && sensitive <= contract.sensitive)
    return "standard_contract_or_certification";
  return "security_assessment";
}

std::string thousands(uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace dc::audit
