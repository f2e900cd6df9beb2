// Customs accounting reports: the threshold and mechanism text of each row, declared against
// actual per declaration, as text and JSON (`accounting show`, `audit report`).
#include <algorithm>

#include "audit/accounting_view.hpp"
#include "base/time.hpp"
#include "policy/accounting.hpp"
#include "policy/declarations.hpp"

namespace dc::audit {
namespace {

using OJson = nlohmann::ordered_json;
using policy::kUnlimited;
using policy::Mechanism;

// "12.5%", rounded down (a scope at 99.96% is not shown as full).
std::string percent(uint64_t used, uint64_t cap) {
  if (cap == 0) return used == 0 ? "0.0%" : "over";
  const unsigned __int128 per_mille = static_cast<unsigned __int128>(used) * 1000 / cap;
  const auto p = static_cast<uint64_t>(per_mille);
  return std::to_string(p / 10) + "." + std::to_string(p % 10) + "%";
}

// "cap 3 (used 2, 66.6%)"; `cap` is a limit as the policy writes it (the largest count allowed).
std::string cap_text(const std::string& what, uint64_t cap, uint64_t used) {
  return what + " " + thousands(cap) + " (used " + thousands(used) + ", " + percent(used, cap) +
         ")";
}

OJson cap_json(uint64_t cap, uint64_t used) {
  return {{"cap", cap}, {"used", used}, {"percent", percent(used, cap)}};
}

std::string limit_words(uint64_t limit) {
  return limit == kUnlimited ? "any" : limit == 0 ? "none" : "up to " + thousands(limit);
}

struct Threshold {
  std::string text;
  OJson json = OJson::object();
};

const policy::BasisInfo* find_basis(const policy::Snapshot* p, const std::string& id) {
  if (p == nullptr) return nullptr;
  for (std::size_t b = 0; b < p->basis_count(); ++b)
    if (p->basis(static_cast<policy::BasisId>(b)).id == id)
      return &p->basis(static_cast<policy::BasisId>(b));
  return nullptr;
}

const policy::DeclarationInfo* find_decl(const policy::Snapshot* p, const std::string& id) {
  if (p == nullptr) return nullptr;
  const policy::DeclarationId d = p->find_declaration(id);
  return d == policy::kNoDeclaration ? nullptr : &p->declaration(d);
}

// An exporter's year: the mechanism its counts require, and where the next line is.
Threshold exporter_threshold(const AccountingView& v, const AcctRow& r) {
  Threshold t;
  std::optional<bool> ciio;
  if (v.policy != nullptr) {
    const policy::ExporterId e = v.policy->find_exporter(r.exporter);
    ciio = e != policy::kNoExporter && v.policy->exporter(e).ciio;
  }
  const std::string_view mech =
      exporter_mechanism(r.persons[0], r.persons[1], ciio.value_or(false));
  const auto exempt = policy::mechanism_limits(Mechanism::kExemption, "small_volume", false);
  const auto contract = policy::mechanism_limits(Mechanism::kStandardContract, "", false);
  const std::string from_contract = thousands(exempt.nonsensitive + 1) + " non-sensitive or " +
                                    thousands(exempt.sensitive + 1) + " sensitive";
  const std::string from_assessment = thousands(contract.nonsensitive + 1) + " non-sensitive or " +
                                      thousands(contract.sensitive + 1) + " sensitive";
  std::string who = !ciio   ? "CIIO not known (no policy), as non-CIIO: "
                    : *ciio ? "CIIO: "
                            : "non-CIIO: ";
  if (ciio.value_or(false)) {
    t.text = who + "security assessment always";
  } else if (mech == "exempt") {
    t.text = who + "exempt below " + thousands(exempt.nonsensitive + 1) +
             " non-sensitive and no sensitive; at >= " + from_contract +
             ": standard contract or certification";
  } else if (mech == "standard_contract_or_certification") {
    t.text = who + "standard contract or certification; at >= " + from_assessment +
             ": security assessment";
  } else {
    t.text = who + "security assessment (>= " + from_assessment + ")";
  }
  t.json["ciio"] = ciio ? OJson(*ciio) : OJson(nullptr);
  t.json["mechanism"] = mech;
  t.json["contract_from"] = {{"non_sensitive", exempt.nonsensitive + 1},
                             {"sensitive", exempt.sensitive + 1}};
  t.json["security_assessment_from"] = {{"non_sensitive", contract.nonsensitive + 1},
                                        {"sensitive", contract.sensitive + 1}};
  return t;
}

// A basis: its caps (max_persons / max_sensitive_persons, or the records' limits) and what its
// mechanism covers of the exporter's year.
Threshold basis_threshold(const AccountingView& v, const AcctRow& r) {
  Threshold t;
  const policy::BasisInfo* b = find_basis(v.policy, r.basis);
  uint64_t caps[2] = {r.limit[0], r.limit[1]};
  if (b != nullptr) caps[0] = b->max_persons, caps[1] = b->max_sensitive_persons;
  std::vector<std::string> parts;
  if (b != nullptr) {
    const policy::ExporterId e = v.policy->find_exporter(r.exporter);
    const bool ciio = e != policy::kNoExporter && v.policy->exporter(e).ciio;
    const auto m = policy::mechanism_limits(b->mechanism, b->exemption, ciio);
    const std::string name(policy::mechanism_name(b->mechanism));
    parts.push_back(name + " covers the exporter's year: " + limit_words(m.nonsensitive) +
                    " non-sensitive, " + limit_words(m.sensitive) + " sensitive");
    t.json["mechanism"] = name;
    t.json["covers_non_sensitive"] =
        m.nonsensitive == kUnlimited ? OJson(nullptr) : OJson(m.nonsensitive);
    t.json["covers_sensitive"] = m.sensitive == kUnlimited ? OJson(nullptr) : OJson(m.sensitive);
  } else if (v.policy != nullptr) {
    parts.push_back("basis not in the policy");
  }
  for (int s = 0; s < 2; ++s) {
    if (caps[s] == 0) continue;
    parts.push_back(cap_text(s ? "sensitive cap" : "cap", caps[s], r.persons[s]));
    t.json[s ? "cap_sensitive" : "cap_non_sensitive"] = cap_json(caps[s], r.persons[s]);
  }
  if (caps[0] == 0 && caps[1] == 0) parts.push_back("no cap");
  for (const auto& p : parts) t.text += (t.text.empty() ? "" : "; ") + p;
  return t;
}

Threshold declaration_threshold(const AccountingView& v, const AcctRow& r) {
  Threshold t;
  const policy::DeclarationInfo* d = find_decl(v.policy, r.declaration);
  uint64_t caps[2] = {r.limit[0], r.limit[1]};
  bool declared[2] = {caps[0] != 0, caps[1] != 0};
  if (d != nullptr) {
    caps[0] = d->max_persons;
    declared[0] = d->max_persons != 0;
    declared[1] = d->max_sensitive_persons >= 0;
    caps[1] = declared[1] ? static_cast<uint64_t>(d->max_sensitive_persons) : 0;
  }
  for (int s = 0; s < 2; ++s) {
    if (!declared[s]) continue;
    t.text += std::string(t.text.empty() ? "" : "; ") +
              cap_text(s ? "declared sensitive max" : "declared max", caps[s], r.persons[s]);
    t.json[s ? "cap_sensitive" : "cap_non_sensitive"] = cap_json(caps[s], r.persons[s]);
  }
  if (t.text.empty()) t.text = v.policy ? "no persons cap declared" : "-";
  return t;
}

Threshold describe(const AccountingView& v, const AcctRow& r) {
  const std::string kind = r.kind();
  if (kind == "exporter") return exporter_threshold(v, r);
  if (kind == "basis") return basis_threshold(v, r);
  if (kind == "declaration") return declaration_threshold(v, r);
  Threshold t;
  t.text = "no limit of its own";
  return t;
}

std::string dash(const std::string& s) { return s.empty() ? "-" : s; }

}  // namespace

OJson AccountingView::rows_json() const {
  OJson out = OJson::array();
  for (const auto& [key, r] : rows) {
    OJson j = {{"year", r.year}, {"exporter", r.exporter}, {"row", r.kind()}};
    if (!r.basis.empty()) j["basis"] = r.basis;
    if (!r.counterparty.empty()) j["counterparty"] = r.counterparty;
    if (!r.declaration.empty()) j["declaration"] = r.declaration;
    j["non_sensitive"] = r.persons[0];
    j["sensitive"] = r.persons[1];
    if (from_log) j["bytes"] = r.has_bytes ? OJson(r.bytes) : OJson(nullptr);
    if (from_log) j["flows"] = r.flows;
    if (policy != nullptr) {
      for (int s = 0; s < 2; ++s) {
        ScopeKey k{r.year, r.exporter, r.counterparty, r.basis, r.declaration, s == 1};
        auto l = applicable_limit(*policy, k);
        if (l.limit)
          j[s ? "limit_sensitive" : "limit_non_sensitive"] = {{"limit", l.limit},
                                                              {"source", l.source}};
      }
    }
    if (r.kind() == "exporter") {
      j["mechanism_needed_non_sensitive"] = required_mechanism(false, r.persons[0]);
      j["mechanism_needed_sensitive"] = required_mechanism(true, r.persons[1]);
    }
    Threshold t = describe(*this, r);
    t.json["text"] = t.text;
    j["threshold"] = std::move(t.json);
    out.push_back(std::move(j));
  }
  return out;
}

std::string AccountingView::rows_text() const {
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> head = {"year",         "exporter",    "row",       "basis",
                                   "counterparty", "declaration", "non-sens.", "sensitive"};
  if (from_log) head.insert(head.end(), {"bytes", "flows"});
  head.push_back("threshold and mechanism");
  table.push_back(head);
  for (const auto& [key, r] : rows) {
    std::vector<std::string> line = {std::to_string(r.year),
                                     r.exporter,
                                     r.kind(),
                                     dash(r.basis),
                                     dash(r.counterparty),
                                     dash(r.declaration),
                                     thousands(r.persons[0]),
                                     thousands(r.persons[1])};
    if (from_log)
      line.insert(line.end(), {r.has_bytes ? thousands(r.bytes) : "-", thousands(r.flows)});
    line.push_back(describe(*this, r).text);
    table.push_back(std::move(line));
  }
  std::vector<std::size_t> width(head.size(), 0);
  for (const auto& l : table)
    for (std::size_t i = 0; i < l.size(); ++i) width[i] = std::max(width[i], l[i].size());
  const std::size_t first_number = 6, last_number = head.size() - 2;
  std::string out;
  for (const auto& l : table) {
    for (std::size_t i = 0; i < l.size(); ++i) {
      const std::string pad(width[i] - l[i].size(), ' ');
      const bool right = i >= first_number && i <= last_number;
      if (i + 1 == l.size())
        out += l[i];
      else
        out += (right ? pad + l[i] : l[i] + pad) + "  ";
    }
    out += '\n';
  }
  if (rows.empty()) out += "(no counts)\n";
  return out;
}

}  // namespace dc::audit
