#pragma once
// Customs accounting between the workers and the ledger (docs/accounting.md): per worker, one
// DPDK ring of fixed-size PersonClaim elements (worker -> ledger) and one of ClaimAnswer elements
// (ledger -> worker), each single-producer single-consumer, stored in the ring itself (no pool,
// no lock, no allocation on the worker). AccountingService drains every worker's claims through
// an audit::Ledger: on its own thread on the appliance, or run_once() after each replayed packet
// (deterministic: a claim is answered before the next packet).
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "audit/ledger.hpp"
#include "base/result.hpp"

struct rte_ring;

namespace dc::dataplane {

class AccountingChannel {
 public:
  // `capacity` claims (and answers) per worker. Needs EAL (rings live in its memory).
  static Result<std::unique_ptr<AccountingChannel>> create(unsigned workers, unsigned capacity);
  ~AccountingChannel();
  AccountingChannel(const AccountingChannel&) = delete;
  AccountingChannel& operator=(const AccountingChannel&) = delete;

  unsigned workers() const noexcept { return static_cast<unsigned>(claims_.size()); }
  // Worker `w`: false when the ring is full (the claim was not handed over).
  bool send(unsigned w, const audit::PersonClaim& c) noexcept;
  // Worker `w`: up to `n` answers into `out`; the count.
  unsigned receive(unsigned w, audit::ClaimAnswer* out, unsigned n) noexcept;
  // Ledger side.
  unsigned take(unsigned w, audit::PersonClaim* out, unsigned n) noexcept;
  bool answer(unsigned w, const audit::ClaimAnswer& a) noexcept;

 private:
  AccountingChannel() = default;
  std::vector<rte_ring*> claims_, answers_;
};

// The ledger's driver. Owns nothing but the thread; the ledger and its store outlive it.
class AccountingService {
 public:
  AccountingService(AccountingChannel& ch, audit::Ledger& ledger) : ch_(ch), ledger_(ledger) {}
  ~AccountingService() { stop(); }
  // Handles every waiting claim, grants declaration byte budgets, answers, flushes the store when
  // something was counted or granted. Returns the claims handled (+1 when a budget was granted).
  // One caller at a time (the thread, or replay).
  unsigned run_once();
  // A policy generation the workers' claims may name (thread-safe against the service thread).
  void adopt(std::shared_ptr<const policy::Snapshot> s);
  // While no claim comes: flushes the store once, so that its own duties go on without traffic
  // (the site store replays its reconciliation queue into Redis once Redis answers again). The
  // service thread calls it after each second without a claim.
  void idle();
  void start();
  void stop();
  // After the workers stopped (a clean stop): gives back the declarations' unused byte budgets,
  // so that the store holds the bytes that crossed (docs/accounting.md "Durable declaration
  // bytes").
  Result<void> release_bytes();

 private:
  AccountingChannel& ch_;
  audit::Ledger& ledger_;
  std::mutex mu_;  // ledger_ between run_once() and adopt(); never taken by a worker
  std::vector<std::deque<audit::ClaimAnswer>> backlog_;         // answers a full ring did not take
  std::vector<std::pair<unsigned, audit::ClaimAnswer>> round_;  // answers waiting for the flush
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace dc::dataplane
