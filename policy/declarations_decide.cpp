// Declarations on the fast path: matching a flow to an active declaration at admission, the
// declaration rules of decide() (declaration_missing, undeclared_category) and the byte caps.
// noexcept and allocation-free like policy/decide.cpp (docs/policy-reference.md "Declarations").
#include "policy/snapshot.hpp"

namespace dc::policy {

std::string_view declaration_state_name(DeclarationState s) noexcept {
  switch (s) {
    case DeclarationState::kValid:
      return "valid";
    case DeclarationState::kRevoked:
      return "revoked";
    default:
      return "invalid";
  }
}

DeclarationId Snapshot::find_declaration(std::string_view id) const noexcept {
  for (std::size_t i = 0; i < declarations_.size(); ++i) {
    if (declarations_[i].id == id) return static_cast<DeclarationId>(i);
  }
  return kNoDeclaration;
}

namespace {
// In force at `now`, for this exporter, counterparty and basis. A policy without [[exporters]]
// leaves the declaration's exporter a label (exporter_index kNoExporter): any flow's matches.
bool in_force(const DeclarationInfo& d, const Admission& a, BasisId basis, int64_t now) noexcept {
  return d.state == DeclarationState::kValid && now >= d.valid_from_ns && now < d.valid_until_ns &&
         d.counterparty == a.counterparty && d.basis == basis &&
         (d.exporter_index == kNoExporter || d.exporter_index == a.exporter);
}
}  // namespace

DeclarationId Snapshot::match_declaration(const Admission& a, BasisId basis,
                                          int64_t now) const noexcept {
  for (std::size_t i = 0; i < declarations_.size(); ++i) {
    if (in_force(declarations_[i], a, basis, now)) return static_cast<DeclarationId>(i);
  }
  return kNoDeclaration;
}

bool Snapshot::needs_declaration(CounterpartyId cp, BasisId basis) const noexcept {
  return (cp < counterparties_.size() && counterparties_[cp].require_declaration) ||
         (basis < bases_.size() && bases_[basis].require_declaration);
}

bool Snapshot::declaration_reason(const Admission& a, BasisId basis, int64_t now,
                                  Reason& r) const noexcept {
  if (!needs_declaration(a.counterparty, basis)) return false;
  if (a.declaration < declarations_.size() && in_force(declarations_[a.declaration], a, basis, now))
    return false;
  r = Reason{};
  r.kind = ReasonKind::kDeclarationMissing;
  r.action = Action::kBlock;
  r.counterparty = a.counterparty;
  r.basis = basis;
  return true;
}

bool Snapshot::undeclared_category(const Admission& a, CategoryId cat, int64_t now,
                                   Reason& r) const noexcept {
  if (a.declaration >= declarations_.size()) return false;
  const DeclarationInfo& d = declarations_[a.declaration];
  if (d.state != DeclarationState::kValid || now < d.valid_from_ns || now >= d.valid_until_ns)
    return false;
  if (cat >= kMaxCategories || (d.categories >> cat & 1)) return false;
  r = Reason{};
  r.kind = ReasonKind::kUndeclaredCategory;
  r.action = Action::kBlock;
  r.category = cat;
  r.counterparty = a.counterparty;
  r.basis = d.basis;
  return true;
}

Snapshot::Charge Snapshot::charge_declaration(DeclarationId d, uint64_t n) const noexcept {
  if (d >= declarations_.size() || declarations_[d].bytes == nullptr) return Charge::kCharged;
  DeclarationBytes& b = *declarations_[d].bytes;
  const uint64_t after = b.used.fetch_add(n, std::memory_order_relaxed) + n;
  const uint64_t granted = b.granted.load(std::memory_order_acquire);
  if (after <= declarations_[d].max_bytes && after <= granted) return Charge::kCharged;
  b.used.fetch_sub(n, std::memory_order_relaxed);  // those bytes do not cross
  if (after > declarations_[d].max_bytes || b.exhausted.load(std::memory_order_acquire))
    return Charge::kExceeded;
  return Charge::kWait;
}

}  // namespace dc::policy
