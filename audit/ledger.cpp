// The ledger of customs accounting: claims -> digests -> scopes and limits -> PersonStore ->
// answers (docs/accounting.md "The ledger").
#include "audit/ledger.hpp"

#include <algorithm>

namespace dc::audit {

namespace {

constexpr std::size_t kKeptGenerations = 8;
constexpr std::size_t kMaxPersonsPerFlow = 1u << 20;  // digests kept per flow for re-claims

// Scope-key names: the policy's ids; "-" for an unattributed flow or no declaration.
std::string_view exporter_name(const policy::Snapshot& s, uint16_t e) {
  return e < s.exporter_count() ? std::string_view(s.exporter(e).id) : std::string_view("-");
}

std::string_view declaration_name(const policy::Snapshot& s, uint16_t d) {
  return d < s.declaration_count() ? std::string_view(s.declaration(d).id) : std::string_view("-");
}

}  // namespace

std::string scope_key(ScopeSlot slot, uint16_t year, std::string_view exporter,
                      std::string_view counterparty, std::string_view basis,
                      std::string_view declaration) {
  char y[8];
  std::snprintf(y, sizeof y, "%04u", static_cast<unsigned>(year % 10000));
  std::string k = std::string(y) + "/e=" + std::string(exporter);
  switch (slot) {
    case kBasisN:
    case kBasisS:
      k += "/b=" + std::string(basis);
      break;
    case kCounterpartyN:
    case kCounterpartyS:
      k += "/c=" + std::string(counterparty) + "/b=" + std::string(basis);
      break;
    case kDeclarationN:
    case kDeclarationS:
      k += "/d=" + std::string(declaration);
      break;
    default:
      break;
  }
  return k + (slot % 2 == 0 ? "/n" : "/s");
}

void Ledger::adopt(std::shared_ptr<const policy::Snapshot> s) {
  if (!s || kept(s.get()) != nullptr) return;
  // Declarations compiled from now on start with no byte budget: this ledger grants them.
  if (s->declaration_usage() != nullptr) s->declaration_usage()->set_granting();
  kept_.push_back({std::move(s), ++generations_});
  if (kept_.size() > kKeptGenerations) kept_.pop_front();
}

Result<void> Ledger::release_bytes() {
  if (auto r = bytes_.release(); !r) return r;
  return store_.flush();
}

const Ledger::Kept* Ledger::kept(const policy::Snapshot* p) const noexcept {
  for (const auto& k : kept_)
    if (k.snapshot.get() == p) return &k;
  return nullptr;
}

uint8_t scope_plan(const policy::Snapshot& s, const ScopeNames& n,
                   uint64_t (&limits)[kScopeSlots]) noexcept {
  const bool has_basis = n.basis < s.basis_count();
  const bool has_cp = n.counterparty < s.counterparty_count();
  const bool has_decl = n.declaration < s.declaration_count();
  const bool ciio = n.exporter < s.exporter_count() && s.exporter(n.exporter).ciio;
  policy::PersonLimits mech;  // no basis: the flow is refused by decide(); no threshold known
  policy::PersonLimits caps;
  policy::PersonLimits declared;  // the declaration's persons caps (declaration_exceeded)
  if (has_basis) {
    const policy::BasisInfo& b = s.basis(n.basis);
    mech = policy::mechanism_limits(b.mechanism, b.exemption, ciio);
    caps = {policy::cap_limit(b.max_persons), policy::cap_limit(b.max_sensitive_persons)};
  }
  if (has_decl) {
    const policy::DeclarationInfo& d = s.declaration(n.declaration);
    declared.nonsensitive = policy::cap_limit(d.max_persons);
    if (d.max_sensitive_persons >= 0)
      declared.sensitive = static_cast<uint64_t>(d.max_sensitive_persons);
  }
  uint8_t mask = 0;
  for (int sens = 0; sens < 2; ++sens) {
    const uint8_t bit = sens ? policy::kPersonsSensitive : policy::kPersonsNonSensitive;
    if (!(n.kinds & bit)) continue;
    auto add = [&](ScopeSlot slot, uint64_t limit) {
      mask |= static_cast<uint8_t>(1u << slot);
      limits[slot] = limit;
    };
    add(sens ? kExporterS : kExporterN, sens ? mech.sensitive : mech.nonsensitive);
    if (has_basis) add(sens ? kBasisS : kBasisN, sens ? caps.sensitive : caps.nonsensitive);
    if (has_basis && has_cp) add(sens ? kCounterpartyS : kCounterpartyN, policy::kUnlimited);
    if (has_decl)
      add(sens ? kDeclarationS : kDeclarationN, sens ? declared.sensitive : declared.nonsensitive);
  }
  return mask;
}

// The scopes a person of claim `c` counts in, with their limits, in the order non-sensitive then
// sensitive; exporter, basis, counterparty, declaration.
void Ledger::build_scopes(const policy::Snapshot& s, uint64_t generation, const PersonClaim& c,
                          ScopeSet& set) {
  set.generation = generation;
  set.year = c.year;
  set.names = {c.exporter, c.counterparty, c.basis, c.declaration, c.kinds};
  uint64_t limits[kScopeSlots] = {};
  const uint8_t mask = scope_plan(s, set.names, limits);
  const std::string_view exporter = exporter_name(s, c.exporter);
  const std::string_view basis =
      c.basis < s.basis_count() ? std::string_view(s.basis(c.basis).id) : "-";
  const std::string_view cp = c.counterparty < s.counterparty_count()
                                  ? std::string_view(s.counterparty(c.counterparty).id)
                                  : "-";
  const std::string_view decl = declaration_name(s, c.declaration);
  set.scopes.clear();
  set.n = 0;
  for (unsigned sens = 0; sens < 2; ++sens) {
    for (unsigned kind = 0; kind < kScopeSlots / 2; ++kind) {
      const auto slot = static_cast<ScopeSlot>(kind * 2 + sens);
      if (!(mask >> slot & 1)) continue;
      set.slots[set.n] = slot;
      set.limits[set.n] = limits[slot];
      // The store's 0 means "no limit"; a limit of 0 persons is the ledger's to refuse.
      set.scopes.push_back({scope_key(slot, c.year, exporter, cp, basis, decl),
                            limits[slot] == policy::kUnlimited ? 0 : limits[slot]});
      ++set.n;
    }
  }
}

void Ledger::claim_one(const policy::Snapshot& s, const ScopeSet& set, const PersonDigest& d,
                       ClaimAnswer& a) {
  const std::size_t n = set.n;
  bool zero_refused = false;
  std::size_t zero_at = 0;
  for (std::size_t i = 0; i < n && !zero_refused; ++i) {
    if (set.limits[i] != 0) continue;
    auto in = store_.contains(set.scopes[i].scope, d);
    if (!in) {
      a.status = ClaimStatus::kUnavailable;
      return;
    }
    zero_refused = !*in;
    zero_at = i;
  }
  ClaimResult r;
  if (zero_refused) {
    r.refused = true;
    r.refused_scope = zero_at;
    for (std::size_t i = 0; i < n; ++i) {
      auto cnt = store_.count(set.scopes[i].scope);
      r.counts.push_back(cnt ? *cnt : 0);
      r.added.push_back(false);
    }
  } else {
    auto got = store_.claim(d, set.scopes);
    if (!got) {
      a.status = ClaimStatus::kUnavailable;
      return;
    }
    r = std::move(*got);
  }
  const double warn = s.accounting().warn_fraction;
  bool added = false;
  for (std::size_t i = 0; i < n && i < r.counts.size(); ++i) {
    a.used |= static_cast<uint8_t>(1u << set.slots[i]);
    a.counts[set.slots[i]] = r.counts[i];
    a.limits[set.slots[i]] = set.limits[i];
    added = added || r.added[i];
    if (set.limits[i] != policy::kUnlimited && set.limits[i] > 0 &&
        static_cast<double>(r.counts[i]) >= warn * static_cast<double>(set.limits[i]))
      a.warn = true;
  }
  if (r.refused) {
    a.status = ClaimStatus::kRefused;
    a.refused_slot = set.slots[r.refused_scope];
  } else if (added) {
    ++a.added;
  }
}

bool Ledger::handle(const PersonClaim& c, ClaimAnswer& a) {
  if (c.op == ClaimOp::kEnd) {
    flows_.erase(c.flow_id);
    return false;
  }
  a = ClaimAnswer{};
  a.flow_slot = c.flow_slot;
  a.flow_id = c.flow_id;
  a.gen = c.gen;
  a.year = c.year;
  const Kept* k = kept(c.policy);
  if (k == nullptr) {
    a.status = ClaimStatus::kUnavailable;
    return true;
  }
  const policy::Snapshot& s = *k->snapshot;
  FlowPersons& fp = flows_[c.flow_id];
  if (!fp.scopes.built_for(k->generation, c)) build_scopes(s, k->generation, c, fp.scopes);
  if (c.op == ClaimOp::kReclaim) {
    fp.last.kinds = c.kinds;
    for (const PersonDigest& d : fp.who) {
      claim_one(s, fp.scopes, d, a);
      if (a.status != ClaimStatus::kCounted) break;
    }
    a.flow_persons = static_cast<uint32_t>(fp.who.size());
    return true;
  }
  auto d = digester_.digest(c.key_kind, {c.key, c.key_len});
  if (!d) {
    a.status = ClaimStatus::kUnavailable;
    return true;
  }
  claim_one(s, fp.scopes, *d, a);
  if (a.status == ClaimStatus::kCounted && fp.who.size() < kMaxPersonsPerFlow &&
      std::find(fp.who.begin(), fp.who.end(), *d) == fp.who.end())
    fp.who.push_back(*d);
  a.flow_persons = static_cast<uint32_t>(fp.who.size());
  fp.last = c;
  std::fill(std::begin(fp.last.key), std::end(fp.last.key), uint8_t{0});
  return true;
}

}  // namespace dc::audit
