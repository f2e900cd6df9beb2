#pragma once
// Durable declaration bytes (docs/accounting.md "Durable declaration bytes"): the ledger thread
// grants each declaration's workers a byte budget ahead, reserving it in the PersonStore (LMDB
// commit, Redis INCRBY) before the workers may use it, so a crash over-counts by at most the
// unused budget and never under-counts. Workers charge with a relaxed atomic against it
// (policy::Snapshot::charge_declaration). Ledger thread only.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "audit/person_store.hpp"
#include "policy/snapshot.hpp"

namespace dc::audit {

class ByteGrants {
 public:
  explicit ByteGrants(PersonStore& store) : store_(store) {}

  // The budget one reservation adds: min(what is left, max(128 KiB, max_bytes / 64)).
  static uint64_t grant_size(uint64_t max_bytes) noexcept;

  // Reserves in the store (not yet durable) a new budget for every valid declaration of `s` with
  // half its budget used, or not granted yet. True when one was reserved: flush, then publish().
  bool plan(const policy::Snapshot& s);
  // After the store's flush: the reserved budgets become the workers' (`ok`), or are forgotten
  // (a failed flush: the reservation may still be on disk, which only over-counts).
  void publish(bool ok);
  // A clean stop, workers stopped: gives back every budget's unused bytes (flush after it).
  Result<void> release();

  uint64_t errors() const noexcept { return errors_; }  // reservations the store failed

 private:
  struct Account {
    policy::DeclarationBytes* bytes = nullptr;
    uint64_t granted = 0;  // the budget published to the workers (this run)
    uint64_t cap = 0;      // max_bytes when last reserved
    bool exhausted = false;
    bool taken = false;  // granted by this ledger at least once
  };
  struct Plan {
    Account* account;
    uint64_t granted;
    bool exhausted;
  };
  void plan_one(const std::string& id, Account& a, uint64_t cap);

  PersonStore& store_;
  std::map<std::string, Account> accounts_;  // by declaration id
  std::vector<Plan> planned_;
  uint64_t errors_ = 0;
};

}  // namespace dc::audit
