#pragma once
// Per-worker flow table: fixed capacity sized at start-up, symmetric 5-tuple key, per-direction
// counters, TCP state and idle timeouts, incremental expiry.
//
// Threads: one table per worker lcore, used only by that lcore (symmetric RSS sends both
// directions of a connection to the same worker), so there is no locking. The control thread
// only reads the plain counters after the workers stopped (or tolerates torn reads while they run).
// Storage: an rte_hash (cuckoo, DPDK) maps the 16-byte key (dataplane/flow_table_key.hpp: an IPv4
// 5-tuple, or a reference to an IPv6 tuple, with the table's own compare) to its data: the slot
// number and the initiator's orientation in the key (so a lookup's direction reads no entry); slots
// live in one array allocated at creation, their cold state (FlowCold) in a second array of the
// same size just before it (reached by slot number, Flow::cold()), and free slot numbers in a FIFO
// queue (first free, first taken, as rte_hash hands out its own positions). Nothing is allocated
// per packet. When full, new flows are refused (fail closed).
#include <cstdint>
#include <memory>

#include "base/result.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/flow.hpp"
#include "dataplane/flow_table_key.hpp"
#include "dataplane/verdict_table.hpp"

struct rte_hash;

namespace dc::dataplane {

struct FlowTimeouts {
  // Idle timeouts in nanoseconds per protocol/state (see docs/operations.md).
  int64_t tcp_syn_ns = 30'000'000'000;  // handshake not completed
  int64_t tcp_established_ns = 3'600'000'000'000;
  int64_t tcp_closing_ns = 30'000'000'000;  // FIN seen
  int64_t tcp_closed_ns = 5'000'000'000;    // RST or both FINs
  int64_t udp_ns = 120'000'000'000;
  int64_t icmp_ns = 30'000'000'000;
  int64_t other_ns = 60'000'000'000;
};

// Written by the owning worker, read by other threads (dataplane/counters.hpp Counter).
struct FlowTableStats {
  Counter created;
  Counter expired;
  Counter full;  // new flows refused because the table was full
  Counter active;
};

class FlowTable {
 public:
  // capacity: maximum concurrent flows; name must be unique per process (rte_hash names are
  // global).
  static Result<std::unique_ptr<FlowTable>> create(const char* name, uint32_t capacity,
                                                   const FlowTimeouts& timeouts, int socket_id);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // Looks up the flow of `tuple`. Returns nullptr if absent. `dir` is set to the packet's
  // direction relative to the flow's initiator. Cost: one rte_hash lookup.
  Flow* lookup(const FlowTuple& tuple, Direction& dir) noexcept;

  // Looks up `n` tuples at once (at most kBulkMax): one rte_hash bulk lookup, which pipelines
  // the bucket and key-store loads of all of them, then a prefetch of each hit's hot entry.
  // flows[i] is nullptr when tuples[i] has no flow (yet); dirs[i] as lookup() sets `dir`.
  static constexpr uint32_t kBulkMax = 32;
  void lookup_bulk(const FlowTuple* const* tuples, uint32_t n, Flow** flows,
                   Direction* dirs) noexcept;

  // Creates a flow. Its initiator (opener) is the SYN sender (RFC 9293 §3.5): tuple's source for
  // a bare SYN or any packet without SYN, tuple's destination for a SYN-ACK (a flow first seen
  // at its SYN-ACK: asymmetric arrival, a restart, a capture that starts late). A TCP flow first
  // seen without a SYN is picked up mid-stream: it starts as established with Flow::midstream
  // set, and its initiator is only a guess (the first packet's source). Returns nullptr when the
  // table is full (counted in stats().full). The caller must have checked lookup() first; it
  // compares f->initiator with the tuple to find the packet's direction.
  Flow* create_flow(const FlowTuple& tuple, uint8_t tcp_flags, int64_t now_ns) noexcept;

  // Removes the flow (e.g. verdict final and flow torn down). `flow` must belong to this table.
  // Its interned verdicts go back to the attached VerdictTable.
  void remove(Flow* flow) noexcept;
  // The worker's interned verdicts (its Pipeline's; null: none attached).
  void set_verdicts(VerdictTable* t) noexcept { verdicts_ = t; }

  // Updates TCP state / counters for a packet of `len` bytes in direction `dir`.
  void on_packet(Flow& flow, Direction dir, uint8_t tcp_flags, uint32_t len,
                 int64_t now_ns) noexcept;
  // What on_packet does for every packet (counters, last-seen time), and all it does for a flow
  // that is not TCP; inline for the pipeline's quiet path.
  static void count_packet(Flow& f, Direction dir, uint32_t len, int64_t now_ns) noexcept {
    DirCounters& c = f.dir[static_cast<unsigned>(dir)];
    ++c.packets;
    c.bytes += len;
    if (now_ns > f.last_seen_ns) f.last_seen_ns = now_ns;
  }

  // Visits up to `budget` slots (round robin) and expires idle flows, at most `max_expired` of
  // them; calls on_expire(flow) before removal. Only the compact deadline array is read for a
  // slot whose deadline has not come (no Flow cache line is touched); a slot whose deadline came
  // but whose flow saw packets since gets its deadline moved on. Pipeline::expire calls this at
  // most once per kExpiryTickNs, never on every poll.
  template <class OnExpire>
  uint32_t expire_some(int64_t now_ns, uint32_t budget, OnExpire&& on_expire,
                       uint32_t max_expired = UINT32_MAX) noexcept {
    uint32_t n = 0;
    for (uint32_t i = 0; i < budget && n < max_expired; ++i) {
      const uint32_t s = cursor_;
      cursor_ = (cursor_ + 1 == capacity_) ? 0 : cursor_ + 1;
      if (now_ns < deadline_[s]) continue;  // free slots hold kNever
      Flow& f = slots_[s];
      if (now_ns - f.last_seen_ns > idle_timeout(f)) {
        on_expire(f);
        remove(&f);
        ++stats_.expired;
        ++n;
      } else {
        deadline_[s] = f.last_seen_ns + idle_timeout(f);
      }
    }
    return n;
  }

  // Expires every flow (shutdown, or end of a replay).
  template <class OnExpire>
  void expire_all(OnExpire&& on_expire) noexcept {
    for (uint32_t i = 0; i < capacity_; ++i) {
      if (slots_[i].in_use) {
        on_expire(slots_[i]);
        remove(&slots_[i]);
        ++stats_.expired;
      }
    }
  }

  int64_t idle_timeout(const Flow& f) const noexcept;
  Flow& slot(uint32_t i) noexcept { return slots_[i < capacity_ ? i : 0]; }
  const FlowTableStats& stats() const noexcept { return stats_; }
  uint32_t capacity() const noexcept { return capacity_; }

 private:
  FlowTable() = default;
  rte_hash* hash_ = nullptr;
  // One rte_zmalloc'ed block: capacity_ cold entries (slot i's at slots_ - (i + 1) entries,
  // Flow::cold()), then the cache-line aligned array of capacity_ hot entries, slots_.
  char* block_ = nullptr;
  Flow* slots_ = nullptr;
  VerdictTable* verdicts_ = nullptr;  // releases FlowCold's verdict indices on remove()
  // Per slot: a time at or before which the flow can first be idle (kNever: free slot). Set at
  // creation, lowered when a FIN or RST shortens the timeout, moved on by expire_some(); never
  // written per packet. 8 bytes per slot, so an expiry round reads 8 slots per cache line.
  int64_t* deadline_ = nullptr;
  static constexpr int64_t kNever = INT64_MAX;
  void lower_deadline(const Flow& f) noexcept;
  // Free slot numbers: a FIFO ring of capacity_ entries, free_n_ of them from free_head_.
  uint32_t* free_ = nullptr;
  uint32_t free_head_ = 0;
  uint32_t free_n_ = 0;
  uint32_t capacity_ = 0;
  uint32_t cursor_ = 0;
  FlowTimeouts timeouts_{};
  FlowTableStats stats_{};
};

}  // namespace dc::dataplane
