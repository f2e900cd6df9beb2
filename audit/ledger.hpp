#pragma once
// The ledger of customs accounting (docs/accounting.md): off the fast path, it turns the
// workers' person claims into keyed digests, builds the scopes and limits of each claim from the
// flow's policy (basis caps, the exporter's mechanism thresholds), asks the PersonStore, and
// answers. Workers and the ledger exchange the fixed-size PersonClaim / ClaimAnswer values below
// (through per-worker rings, dataplane/accounting_channel.hpp). One thread owns a Ledger.
#include <cstdint>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/flow_outcome.hpp"
#include "audit/ledger_bytes.hpp"
#include "audit/ledger_keys.hpp"
#include "audit/person_store.hpp"
#include "policy/snapshot.hpp"

namespace dc::audit {

enum class ClaimOp : uint8_t {
  kClaim,    // count one person of the flow (key, kinds)
  kReclaim,  // the flow's kinds grew (a sensitive category came): count its persons again
  kEnd,      // the flow ended: forget its persons (no answer)
};

inline constexpr uint16_t kNoExporterId = 0xffff;     // unattributed ("-" in scope keys)
inline constexpr uint16_t kNoDeclarationId = 0xffff;  // no declaration (declarations helper)

// Worker -> ledger. Plain, fixed size (a ring element).
struct PersonClaim {
  ClaimOp op = ClaimOp::kClaim;
  uint8_t kinds = 0;  // policy::kPersons* bits the flow's persons count as
  policy::PersonKeyKind key_kind = policy::PersonKeyKind::kNone;
  uint8_t key_len = 0;
  uint16_t year = 0;  // calendar year in the policy's accounting timezone
  uint16_t exporter = kNoExporterId;
  policy::CounterpartyId counterparty = policy::kNoCounterparty;
  policy::BasisId basis = policy::kNoBasis;
  uint16_t declaration = kNoDeclarationId;
  uint16_t worker = 0;
  uint32_t flow_slot = 0;
  uint32_t gen = 0;  // the flow's claim generation (answers to an older one only refuse)
  uint64_t flow_id = 0;
  const policy::Snapshot* policy = nullptr;  // resolved against Ledger::adopt()ed generations
  uint8_t key[kPersonKeyMax] = {};           // the normalised key (never leaves the ledger)
};

// The scopes of a claim, in this order (k = n, s); unused slots have no scope.
enum ScopeSlot : uint8_t {
  kExporterN,
  kExporterS,
  kBasisN,
  kBasisS,
  kCounterpartyN,
  kCounterpartyS,
  kDeclarationN,
  kDeclarationS,
  kScopeSlots
};
static_assert(kScopeSlots == AccountingOutcome::kSlots);

enum class ClaimStatus : uint8_t { kCounted, kRefused, kUnavailable };

// Ledger -> worker. Plain, fixed size.
struct ClaimAnswer {
  ClaimStatus status = ClaimStatus::kCounted;
  bool warn = false;          // a count reached warn_fraction of its limit
  uint32_t added = 0;         // persons new to at least one of the scopes
  uint32_t flow_persons = 0;  // distinct persons the ledger holds for the flow
  uint8_t refused_slot = kScopeSlots;
  uint8_t used = 0;  // bit per ScopeSlot the claim counted in
  uint16_t year = 0;
  uint32_t flow_slot = 0;
  uint32_t gen = 0;
  uint64_t flow_id = 0;
  uint64_t counts[kScopeSlots] = {};  // after the claim (current when refused)
  uint64_t limits[kScopeSlots] = {};  // policy::kUnlimited: none
};

// The scope key of a slot (ACCOUNTING6.md): "<year>/e=<exporter>[/c=<cp>]/b=<basis>/<k>",
// "<year>/e=<exporter>/d=<declaration>/<k>". Names are the policy's ids ("-": unattributed).
std::string scope_key(ScopeSlot slot, uint16_t year, std::string_view exporter,
                      std::string_view counterparty, std::string_view basis,
                      std::string_view declaration);

// What names a claim's scopes: the flow's exporter, counterparty, basis, declaration and kinds.
struct ScopeNames {
  uint16_t exporter = kNoExporterId;
  policy::CounterpartyId counterparty = policy::kNoCounterparty;
  policy::BasisId basis = policy::kNoBasis;
  uint16_t declaration = kNoDeclarationId;
  uint8_t kinds = 0;  // policy::kPersons* bits
};
// The scope slots a person of such a claim counts in (bit per ScopeSlot) and, in `limits`, their
// limits (policy::kUnlimited: none). The ledger's scopes and the record's (accounting_json) alike.
uint8_t scope_plan(const policy::Snapshot& s, const ScopeNames& n,
                   uint64_t (&limits)[kScopeSlots]) noexcept;

// The `accounting` member of a flow record (record_accounting.cpp); null when nothing claimed.
nlohmann::ordered_json accounting_json(const AccountingOutcome& a, const policy::Snapshot& s);

class Ledger {
 public:
  Ledger(PersonStore& store, const AccountingKey& key)
      : store_(store), digester_(key), bytes_(store) {}
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // A policy generation claims may name (the newest few are kept alive here).
  void adopt(std::shared_ptr<const policy::Snapshot> s);
  // One message. Returns true with `a` filled for kClaim / kReclaim.
  bool handle(const PersonClaim& c, ClaimAnswer& a);
  Result<void> flush() { return store_.flush(); }
  // Declaration byte budgets of the newest adopted generation (audit/ledger_bytes.hpp): reserve
  // (true: flush, then publish_bytes with the flush's outcome), and give back at a clean stop.
  bool plan_bytes() { return !kept_.empty() && bytes_.plan(*kept_.back().snapshot); }
  void publish_bytes(bool flushed) { bytes_.publish(flushed); }
  Result<void> release_bytes();
  const ByteGrants& byte_grants() const noexcept { return bytes_; }
  std::size_t flows() const noexcept { return flows_.size(); }

 private:
  struct Kept {
    std::shared_ptr<const policy::Snapshot> snapshot;
    uint64_t generation = 0;  // numbers adopt() calls: a freed snapshot's address may come back
  };
  // The scopes of a flow's claims and their limits, built once for the claim's policy generation,
  // year, exporter, counterparty, basis, declaration and kinds, and reused while those stay: a
  // flow's claims name the same scopes one after another, and each scope key is a string.
  struct ScopeSet {
    uint64_t generation = 0;  // 0: nothing built yet
    uint16_t year = 0;
    ScopeNames names;
    std::size_t n = 0;
    ScopeSlot slots[kScopeSlots] = {};  // scope i's slot
    uint64_t limits[kScopeSlots] = {};  // scope i's limit (policy::kUnlimited: none)
    std::vector<ScopeLimit> scopes;     // as the store takes them (limit 0: none)
    bool built_for(uint64_t gen, const PersonClaim& c) const noexcept {
      return generation == gen && year == c.year && names.exporter == c.exporter &&
             names.counterparty == c.counterparty && names.basis == c.basis &&
             names.declaration == c.declaration && names.kinds == c.kinds;
    }
  };
  struct FlowPersons {
    std::vector<PersonDigest> who;
    PersonClaim last;  // scopes of the latest claim (exporter, basis, ...) and its kinds
    ScopeSet scopes;
  };
  const Kept* kept(const policy::Snapshot* p) const noexcept;
  void claim_one(const policy::Snapshot& s, const ScopeSet& set, const PersonDigest& d,
                 ClaimAnswer& a);
  static void build_scopes(const policy::Snapshot& s, uint64_t generation, const PersonClaim& c,
                           ScopeSet& set);

  PersonStore& store_;
  PersonDigester digester_;
  std::deque<Kept> kept_;
  uint64_t generations_ = 0;
  std::unordered_map<uint64_t, FlowPersons> flows_;  // by flow id, until kEnd
  ByteGrants bytes_;
};

}  // namespace dc::audit
