// Customs accounting reports: declared against actual per declaration (categories, persons,
// bytes, validity window, state, the flows blocked under it), as text and JSON.
#include <algorithm>

#include "audit/accounting_view.hpp"
#include "base/time.hpp"
#include "policy/declarations.hpp"

namespace dc::audit {
namespace {

using OJson = nlohmann::ordered_json;

// One declaration as the report shows it: the policy's side (null: not in the policy or no
// policy), what the records saw (null: not from a log), its rows (one per year).
struct DeclView {
  std::string id;
  const policy::DeclarationInfo* info = nullptr;
  const DeclSeen* seen = nullptr;
  std::vector<const AcctRow*> years;
};

std::vector<DeclView> collect(const AccountingView& v) {
  std::map<std::string, DeclView> by_id;
  if (v.policy != nullptr)
    for (std::size_t d = 0; d < v.policy->declaration_count(); ++d) {
      const auto& info = v.policy->declaration(static_cast<policy::DeclarationId>(d));
      by_id[info.id].info = &info;
    }
  for (const auto& [id, s] : v.seen) by_id[id].seen = &s;
  for (const auto& [id, n] : v.store_bytes) (void)by_id[id];
  for (const auto& [key, r] : v.rows)
    if (!r.declaration.empty()) by_id[r.declaration].years.push_back(&r);
  std::vector<DeclView> out;
  for (auto& [id, d] : by_id) {
    d.id = id;
    out.push_back(std::move(d));
  }
  return out;
}

std::string state_of(const policy::DeclarationInfo* d, int64_t at) {
  if (d == nullptr) return "not in the policy";
  if (d->state != policy::DeclarationState::kValid)
    return std::string(policy::declaration_state_name(d->state));
  if (at == 0) return "valid";
  switch (policy::declaration_time(d->valid_from_ns, d->valid_until_ns, at)) {
    case policy::DeclarationTime::kPending:
      return "pending";
    case policy::DeclarationTime::kExpired:
      return "expired";
    default:
      return "active";
  }
}

std::vector<std::string> declared_categories(const policy::Snapshot& p,
                                             const policy::DeclarationInfo& d) {
  std::vector<std::string> out;
  for (std::size_t c = 0; c < p.category_count() && c < 64; ++c)
    if (d.categories >> c & 1) out.push_back(p.category(static_cast<policy::CategoryId>(c)).id);
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "none" : s;
}

std::string of_max(uint64_t used, uint64_t max, bool declared) {
  if (!declared) return thousands(used) + " (no cap declared)";
  const uint64_t per_mille = max == 0 ? 0 : used * 1000 / max;
  return thousands(used) + " of max " + thousands(max) + " (" + std::to_string(per_mille / 10) +
         "." + std::to_string(per_mille % 10) + "%)";
}

std::string when(const AccountingView& v, int64_t ns) {
  const int32_t off = v.policy ? v.policy->accounting().utc_offset_minutes : 0;
  return base::format_rfc3339(ns, off);
}

// The declared side, or "" when the policy does not know the declaration.
std::string declared_line(const AccountingView& v, const DeclView& d) {
  if (d.info == nullptr) return v.policy ? "not in the policy" : "not known (no policy)";
  const auto& i = *d.info;
  std::string s = "exporter " + i.exporter + ", counterparty " + i.counterparty_id + ", basis " +
                  i.basis_id + "; valid " + when(v, i.valid_from_ns) + " to " +
                  when(v, i.valid_until_ns);
  if (!i.problem.empty()) s += "; problem: " + i.problem;
  return s;
}

std::vector<std::string> beyond(const AccountingView& v, const DeclView& d) {
  std::vector<std::string> out;
  if (d.info == nullptr || d.seen == nullptr) return out;
  const auto dc = declared_categories(*v.policy, *d.info);
  for (const auto& c : d.seen->categories)
    if (std::find(dc.begin(), dc.end(), c) == dc.end()) out.push_back(c);
  return out;
}

}  // namespace

std::string AccountingView::declarations_text() const {
  std::string out;
  const auto decls = collect(*this);
  for (const auto& d : decls) {
    out += d.id + "  " + state_of(d.info, at_ns) + "  " + declared_line(*this, d) + "\n";
    const policy::DeclarationInfo* i = d.info;
    std::string cats =
        "  categories  declared " + (i ? join(declared_categories(*policy, *i)) : std::string("?"));
    if (from_log) {
      cats += "; seen " +
              (d.seen ? join({d.seen->categories.begin(), d.seen->categories.end()}) : "none");
      if (auto b = beyond(*this, d); !b.empty()) cats += "; beyond the declaration: " + join(b);
    }
    out += cats + "\n";
    for (const AcctRow* r : d.years)
      out += "  persons " + std::to_string(r->year) + "  non-sensitive " +
             of_max(r->persons[0], i ? i->max_persons : r->limit[0],
                    i ? i->max_persons != 0 : r->limit[0] != 0) +
             "; sensitive " +
             of_max(r->persons[1], i && i->max_sensitive_persons > 0 ? i->max_sensitive_persons : 0,
                    i ? i->max_sensitive_persons >= 0 : r->limit[1] != 0) +
             "\n";
    if (d.years.empty()) out += "  persons     none counted\n";
    const uint64_t cap = i ? i->max_bytes : 0;
    if (has_store_bytes) {
      auto sb = store_bytes.find(d.id);
      out += "  bytes       " + of_max(sb == store_bytes.end() ? 0 : sb->second, cap, cap != 0) +
             " durable (the store)\n";
    }
    if (!from_log) {
      if (!has_store_bytes)
        out += "  bytes       not in the store (datacustoms audit report has them)\n";
      continue;
    }
    const uint64_t bytes = d.seen ? d.seen->bytes : 0, flows = d.seen ? d.seen->flows : 0;
    out += "  bytes       " + of_max(bytes, i ? i->max_bytes : 0, i && i->max_bytes != 0) + " in " +
           thousands(flows) + " flows\n";
    const std::size_t blocked = d.seen ? d.seen->blocked.size() : 0;
    out += "  blocked     " + std::to_string(blocked) + " flows\n";
    for (std::size_t k = 0; k < blocked; ++k) {
      const DeclFlow& f = d.seen->blocked[k];
      out += "    record " + std::to_string(f.seq) + " " + f.time + " " + f.verdict + " " +
             f.reason + "\n";
    }
  }
  if (decls.empty()) out += "(no declarations)\n";
  return out;
}

OJson AccountingView::declarations_json() const {
  OJson out = OJson::array();
  for (const auto& d : collect(*this)) {
    const policy::DeclarationInfo* i = d.info;
    OJson j = {{"id", d.id}, {"state", state_of(i, at_ns)}};
    if (i != nullptr) {
      j["declared"] = {
          {"exporter", i->exporter},
          {"counterparty", i->counterparty_id},
          {"legal_basis", i->basis_id},
          {"categories", declared_categories(*policy, *i)},
          {"max_persons", i->max_persons ? OJson(i->max_persons) : OJson(nullptr)},
          {"max_sensitive_persons",
           i->max_sensitive_persons >= 0 ? OJson(i->max_sensitive_persons) : OJson(nullptr)},
          {"max_bytes", i->max_bytes ? OJson(i->max_bytes) : OJson(nullptr)},
          {"valid_from", when(*this, i->valid_from_ns)},
          {"valid_until", when(*this, i->valid_until_ns)},
          {"problem", i->problem}};
    } else {
      j["declared"] = nullptr;
    }
    OJson persons = OJson::array();
    for (const AcctRow* r : d.years)
      persons.push_back(
          {{"year", r->year}, {"non_sensitive", r->persons[0]}, {"sensitive", r->persons[1]}});
    OJson actual = {{"persons", std::move(persons)}};
    if (has_store_bytes) {
      auto sb = store_bytes.find(d.id);
      actual["store_bytes"] = sb == store_bytes.end() ? 0 : sb->second;
    }
    if (from_log) {
      actual["categories"] = d.seen ? OJson(d.seen->categories) : OJson::array();
      actual["beyond_declared"] = beyond(*this, d);
      actual["bytes"] = d.seen ? d.seen->bytes : 0;
      actual["flows"] = d.seen ? d.seen->flows : 0;
      OJson blocked = OJson::array();
      if (d.seen)
        for (const auto& f : d.seen->blocked)
          blocked.push_back({{"seq", f.seq},
                             {"flow_id", f.flow_id},
                             {"time", f.time},
                             {"verdict", f.verdict},
                             {"reason", f.reason}});
      actual["blocked"] = std::move(blocked);
    }
    j["actual"] = std::move(actual);
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace dc::audit
