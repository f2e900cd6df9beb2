// Customs accounting rings (worker <-> ledger) and the ledger's driver thread.
#include "dataplane/accounting_channel.hpp"

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <chrono>
#include <string>

namespace dc::dataplane {

namespace {

rte_ring* make_ring(const std::string& name, unsigned elem, unsigned capacity) {
  return rte_ring_create_elem(name.c_str(), elem, capacity, SOCKET_ID_ANY,
                              RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
}

}  // namespace

Result<std::unique_ptr<AccountingChannel>> AccountingChannel::create(unsigned workers,
                                                                     unsigned capacity) {
  static std::atomic<unsigned> generation{0};  // ring names are process-wide
  const unsigned gen = generation.fetch_add(1);
  std::unique_ptr<AccountingChannel> c(new AccountingChannel());
  for (unsigned w = 0; w < workers; ++w) {
    const std::string tag = std::to_string(gen) + "_" + std::to_string(w);
    rte_ring* a = make_ring("dc_acq_" + tag, sizeof(audit::PersonClaim), capacity);
    rte_ring* b = a ? make_ring("dc_aca_" + tag, sizeof(audit::ClaimAnswer), capacity) : nullptr;
    if (a) c->claims_.push_back(a);
    if (b) c->answers_.push_back(b);
    if (a == nullptr || b == nullptr)
      return make_error(ErrorCode::kUnavailable, "accounting ring for worker " + std::to_string(w) +
                                                     ": " + rte_strerror(rte_errno));
  }
  return c;
}

AccountingChannel::~AccountingChannel() {
  for (rte_ring* r : claims_) rte_ring_free(r);  // claims hold normalised keys: never persisted
  for (rte_ring* r : answers_) rte_ring_free(r);
}

bool AccountingChannel::send(unsigned w, const audit::PersonClaim& c) noexcept {
  return rte_ring_enqueue_elem(claims_[w], const_cast<audit::PersonClaim*>(&c), sizeof c) == 0;
}

unsigned AccountingChannel::receive(unsigned w, audit::ClaimAnswer* out, unsigned n) noexcept {
  return rte_ring_dequeue_burst_elem(answers_[w], out, sizeof *out, n, nullptr);
}

unsigned AccountingChannel::take(unsigned w, audit::PersonClaim* out, unsigned n) noexcept {
  return rte_ring_dequeue_burst_elem(claims_[w], out, sizeof *out, n, nullptr);
}

bool AccountingChannel::answer(unsigned w, const audit::ClaimAnswer& a) noexcept {
  return rte_ring_enqueue_elem(answers_[w], const_cast<audit::ClaimAnswer*>(&a), sizeof a) == 0;
}

unsigned AccountingService::run_once() {
  std::lock_guard<std::mutex> lock(mu_);
  if (backlog_.size() < ch_.workers()) backlog_.resize(ch_.workers());
  unsigned handled = 0;
  audit::PersonClaim in[32];
  round_.clear();
  for (unsigned w = 0; w < ch_.workers(); ++w) {
    auto& back = backlog_[w];
    while (!back.empty() && ch_.answer(w, back.front())) back.pop_front();
    const unsigned n = ch_.take(w, in, 32);
    for (unsigned i = 0; i < n; ++i) {
      audit::ClaimAnswer a;
      if (ledger_.handle(in[i], a)) round_.emplace_back(w, a);
      std::fill(std::begin(in[i].key), std::end(in[i].key), uint8_t{0});
    }
    handled += n;
  }
  // Declaration byte budgets: reserved in the store now, published to the workers only once the
  // flush below made them durable (a crash never under-counts the bytes that crossed).
  const bool granted = ledger_.plan_bytes();
  if (handled == 0 && !granted) return 0;
  // Group commit: one flush per round, and only then the answers. A durable store has every
  // claim of the round on disk before any of its flows is released, so a crash never
  // under-counts a person whose bytes crossed. A failed flush turns the round's "counted" answers
  // into "unavailable" ([accounting] on_unavailable decides); refusals stand.
  const bool flushed = static_cast<bool>(ledger_.flush());
  if (!flushed) {
    for (auto& [w, a] : round_)
      if (a.status == audit::ClaimStatus::kCounted) a.status = audit::ClaimStatus::kUnavailable;
  }
  ledger_.publish_bytes(flushed);
  for (auto& [w, a] : round_) {
    auto& back = backlog_[w];
    if (!(back.empty() && ch_.answer(w, a))) back.push_back(a);
  }
  return handled + (granted ? 1u : 0u);
}

void AccountingService::adopt(std::shared_ptr<const policy::Snapshot> s) {
  std::lock_guard<std::mutex> lock(mu_);
  ledger_.adopt(std::move(s));
}

void AccountingService::idle() {
  std::lock_guard<std::mutex> lock(mu_);
  (void)ledger_.flush();  // nothing to answer: a failure is the next round's to report
}

void AccountingService::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    using Clock = std::chrono::steady_clock;
    Clock::time_point busy = Clock::now();
    while (!stop_.load(std::memory_order_relaxed)) {
      if (run_once() != 0) {
        busy = Clock::now();
        continue;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      if (Clock::now() - busy >= std::chrono::seconds(1)) {
        idle();
        busy = Clock::now();
      }
    }
  });
}

void AccountingService::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Result<void> AccountingService::release_bytes() {
  std::lock_guard<std::mutex> lock(mu_);
  return ledger_.release_bytes();
}

}  // namespace dc::dataplane
