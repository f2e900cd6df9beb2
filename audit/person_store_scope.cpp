// Scope keys of customs accounting: parsing for reports, and the policy's limit on a scope.
#include "audit/person_store_scope.hpp"

#include <charconv>

#include "audit/accounting_view.hpp"
#include "policy/accounting.hpp"

namespace dc::audit {

Result<ScopeKey> parse_scope_key(std::string_view key) {
  auto bad = [&](const char* why) {
    return make_error(ErrorCode::kInvalid, "scope key \"" + std::string(key) + "\": " + why);
  };
  ScopeKey k;
  std::string_view rest = key;
  auto part = [&rest]() {
    auto slash = rest.find('/');
    std::string_view p = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    return p;
  };
  std::string_view year = part();
  auto [end, ec] = std::from_chars(year.data(), year.data() + year.size(), k.year);
  if (year.size() != 4 || ec != std::errc() || end != year.data() + year.size())
    return bad("the year is not 4 digits");
  bool last = false;
  while (!rest.empty()) {
    std::string_view p = part();
    if (rest.empty() && (p == "s" || p == "n")) {
      k.sensitive = p == "s";
      last = true;
      break;
    }
    if (p.size() < 3 || p[1] != '=') return bad("a part is not x=<id>");
    std::string v(p.substr(2));
    std::string* slot = p[0] == 'e'   ? &k.exporter
                        : p[0] == 'c' ? &k.counterparty
                        : p[0] == 'b' ? &k.basis
                        : p[0] == 'd' ? &k.declaration
                                      : nullptr;
    if (slot == nullptr || !slot->empty()) return bad("unknown or repeated part");
    *slot = std::move(v);
  }
  if (!last) return bad("it does not end in /s or /n");
  if (k.exporter.empty()) return bad("no exporter (e=)");
  return k;
}

std::string format_scope_key(const ScopeKey& k) {
  std::string s = std::to_string(k.year) + "/e=" + k.exporter;
  if (!k.counterparty.empty()) s += "/c=" + k.counterparty;
  if (!k.basis.empty()) s += "/b=" + k.basis;
  if (!k.declaration.empty()) s += "/d=" + k.declaration;
  return s + (k.sensitive ? "/s" : "/n");
}

AppliedLimit applicable_limit(const policy::Snapshot& policy, const ScopeKey& key) {
  AppliedLimit out;
  if (key.basis.empty() || !key.counterparty.empty()) return out;
  for (std::size_t b = 0; b < policy.basis_count(); ++b) {
    const auto& info = policy.basis(static_cast<policy::BasisId>(b));
    if (info.id != key.basis) continue;
    const uint64_t cap = key.sensitive ? info.max_sensitive_persons : info.max_persons;
    if (cap != 0) {
      out.limit = cap;
      out.source = "basis " + info.id + (key.sensitive ? " max_sensitive_persons" : " max_persons");
    }
    // The line above which the basis's mechanism no longer covers the exporter (the table of
    // policy/accounting.hpp): a standard contract or a certification up to the security-assessment
    // lines, the small-volume exemption up to the contract line.
    const policy::ExporterId e = policy.find_exporter(key.exporter);
    const bool ciio = e != policy::kNoExporter && policy.exporter(e).ciio;
    const auto m = policy::mechanism_limits(info.mechanism, info.exemption, ciio);
    const uint64_t line = key.sensitive ? m.sensitive : m.nonsensitive;
    if (line != policy::kUnlimited && line != 0 && (out.limit == 0 || line < out.limit)) {
      out.limit = line;
      out.source =
          std::string(policy::mechanism_name(info.mechanism)) + ": " + std::to_string(line + 1) +
          " or more needs " +
          (info.mechanism == policy::Mechanism::kExemption ? "a standard contract or certification"
                                                           : "a security assessment");
    }
    return out;
  }
  out.source = "basis " + key.basis + " is not in the policy";
  return out;
}

std::string_view required_mechanism(bool sensitive, uint64_t persons) {
  return sensitive ? exporter_mechanism(0, persons, false) : exporter_mechanism(persons, 0, false);
}

}  // namespace dc::audit
