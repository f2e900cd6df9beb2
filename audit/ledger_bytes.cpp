// Durable declaration bytes: budgets reserved in the store before the workers may use them
// (audit/ledger_bytes.hpp, docs/accounting.md "Durable declaration bytes").
#include "audit/ledger_bytes.hpp"

#include <algorithm>

namespace dc::audit {

namespace {
// Half of it covers the largest IP payload (65,535 bytes): a ledger round between two packets
// (replay runs one after every packet) always leaves room for the next one.
constexpr uint64_t kMinGrant = 128 * 1024;
}  // namespace

uint64_t ByteGrants::grant_size(uint64_t max_bytes) noexcept {
  return std::max(kMinGrant, max_bytes / 64);
}

bool ByteGrants::plan(const policy::Snapshot& s) {
  planned_.clear();
  for (std::size_t i = 0; i < s.declaration_count(); ++i) {
    const policy::DeclarationInfo& d = s.declaration(static_cast<policy::DeclarationId>(i));
    if (d.state != policy::DeclarationState::kValid || d.bytes == nullptr) continue;
    Account& a = accounts_[d.id];
    if (a.bytes == nullptr) {
      a.bytes = d.bytes;
      const uint64_t g = d.bytes->granted.load(std::memory_order_relaxed);
      a.granted = g == policy::DeclarationBytes::kUngranted ? 0 : g;  // taken over (no ledger yet)
    }
    plan_one(d.id, a, d.max_bytes);
  }
  return !planned_.empty();
}

// Raises the budget to used + one grant once less than half a grant is left (or on first sight).
void ByteGrants::plan_one(const std::string& id, Account& a, uint64_t cap) {
  if (a.cap != cap) a.exhausted = false;  // a new version of the declaration: ask again
  if (a.exhausted) return;
  const uint64_t used = a.bytes->used.load(std::memory_order_relaxed);
  const uint64_t grant = grant_size(cap);
  if (a.taken && a.granted >= used + grant / 2) return;
  const uint64_t want = used + grant > a.granted ? used + grant - a.granted : 0;
  if (want == 0) return;
  auto got = store_.reserve_bytes(id, want, cap);
  if (!got) {
    ++errors_;  // no budget: the workers wait at the one they have (declaration_grant_wait)
    return;
  }
  a.cap = cap;
  planned_.push_back({&a, a.granted + *got, *got < want});
}

void ByteGrants::publish(bool ok) {
  for (const Plan& p : planned_) {
    if (!ok) continue;
    Account& a = *p.account;
    a.granted = p.granted;
    a.exhausted = p.exhausted;
    a.taken = true;
    // The budget before the exhaustion: a worker that sees `exhausted` sees the final budget.
    a.bytes->granted.store(a.granted, std::memory_order_release);
    a.bytes->exhausted.store(a.exhausted, std::memory_order_release);
  }
  planned_.clear();
}

Result<void> ByteGrants::release() {
  for (auto& [id, a] : accounts_) {
    if (!a.taken) continue;
    const uint64_t used = a.bytes->used.load(std::memory_order_relaxed);
    if (a.granted <= used) continue;
    if (auto r = store_.release_bytes(id, a.granted - used); !r) return r;
    a.granted = used;
    a.bytes->granted.store(used, std::memory_order_release);
  }
  return {};
}

}  // namespace dc::audit
