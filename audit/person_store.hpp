#pragma once
// Distinct-person sets for customs accounting (issue 15): the one contract every store keeps
// (in memory here; LMDB on the appliance's state directory; Redis for a site of appliances).
//
// A person is never stored: only a PersonDigest, the truncated HMAC-SHA256 of the person's
// normalised identifier under the appliance's accounting key (audit/ledger.*). A claim counts one
// person in several scopes at once (per exporter and year, per legal basis, per counterparty,
// per declaration…, each split sensitive / non-sensitive); the caller names the scopes and their
// limits, the store decides atomically. Control-plane code: it may allocate, block and do I/O.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace dc::audit {

// 128 bits of HMAC-SHA256: a collision among 10^9 persons has probability ~1.5e-21.
using PersonDigest = std::array<uint8_t, 16>;

// One set a claim counts in. `scope` is an opaque printable key built by the ledger (e.g.
// "2026/exporter=acme/basis=SCC-1/s"); stores never parse it, except to list by prefix.
// `limit` is the largest count the set may reach; 0 means "no limit".
struct ScopeLimit {
  std::string scope;
  uint64_t limit = 0;
};

struct ClaimResult {
  // True when the person is new to a scope whose count would then exceed its limit. Nothing was
  // added to any scope (a refused claim changes no count).
  bool refused = false;
  std::size_t refused_scope = 0;  // index into the claim's scopes when refused
  // Per scope, in the claim's order: the count after the claim (the current count when refused)
  // and whether this claim added the person to it (false when already counted there).
  std::vector<uint64_t> counts;
  std::vector<bool> added;
};

class PersonStore {
 public:
  virtual ~PersonStore() = default;

  // Atomically, over all `scopes`: if adding `who` would take any scope past its limit, refuse
  // and change nothing; otherwise add `who` to every scope that does not hold it yet. Repeating a
  // claim is idempotent (an already-counted person never moves a count and is never refused).
  // An Error means the store could not decide (unreachable, I/O failure): the caller applies the
  // policy's fallback; nothing may be assumed counted.
  virtual Result<ClaimResult> claim(const PersonDigest& who,
                                    std::span<const ScopeLimit> scopes) = 0;

  // The number of distinct persons in one scope (0 for a scope never claimed).
  virtual Result<uint64_t> count(std::string_view scope) = 0;

  // Every scope whose key starts with `prefix`, with its count, sorted by key (reports).
  virtual Result<std::vector<std::pair<std::string, uint64_t>>> scopes(std::string_view prefix) = 0;

  // Whether `who` is in `scope` (reconciliation and tests).
  virtual Result<bool> contains(std::string_view scope, const PersonDigest& who) = 0;

  // ---- declaration bytes (docs/accounting.md "Durable declaration bytes") ----
  // Reserves up to `want` more bytes under declaration `id` without taking its total past `cap`
  // and returns how many it reserved (0: the total is at the cap). Durable after flush(). A
  // shared store's total is the site's: every appliance's reservations together.
  virtual Result<uint64_t> reserve_bytes(std::string_view id, uint64_t want, uint64_t cap) = 0;
  // Gives back `n` reserved bytes that never crossed (a clean stop); the total never goes below 0.
  virtual Result<void> release_bytes(std::string_view id, uint64_t n) = 0;
  // The reserved total of declaration `id` (0: never reserved).
  virtual Result<uint64_t> reserved_bytes(std::string_view id) = 0;
  // Every declaration id with its reserved total, sorted by id (reports).
  virtual Result<std::vector<std::pair<std::string, uint64_t>>> all_reserved_bytes() = 0;

  // Everything claimed so far is durable once this returns (a no-op for memory).
  virtual Result<void> flush() = 0;

  // For messages and `accounting show`: "memory", "lmdb:/var/lib/datacustoms/accounting", ...
  virtual std::string describe() const = 0;
};

// Exact, in-process, not durable: replay without a state directory, and tests.
std::unique_ptr<PersonStore> make_memory_store();

}  // namespace dc::audit
