#pragma once
// IPv4 / IPv6 reassembly on the fast path: DPDK's rte_ip_frag table behind a per-datagram
// FragmentLedger. The ledger judges every fragment's bytes against those already held (identical
// duplicate, overlap with different bytes = evasion, too many pieces) and feeds the library only
// new, non-overlapping pieces (copies: the original fragments are held untouched). A complete
// datagram comes back as one contiguous frame in a buffer of this reassembler that also owns the
// original fragments: forwarding it (take_originals) sends the fragments exactly as they arrived;
// freeing it, wherever that happens (drop list, reorder queue, flow end), frees them too.
//
// Threads: one per worker (or replay), owned by its Pipeline; not thread-safe. Per-packet calls
// never allocate from the heap (mbufs come from the pool given at creation), lock or throw.
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <memory>

#include "base/result.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/drop_reason.hpp"
#include "dataplane/fragment_ledger.hpp"
#include "inspect/packet/decode.hpp"

namespace dc::dataplane {

// appliance.toml [dataplane] reassembly_* (docs/operations.md "IP reassembly").
struct ReassemblyConfig {
  uint32_t max_datagrams = 256;          // incomplete datagrams in flight per worker
  uint32_t buffers = 64;                 // reassembled datagrams alive at once per worker
  int64_t timeout_ns = 2'000'000'000LL;  // a datagram not complete by then is dropped
};

class Reassembler {
 public:
  static constexpr uint32_t kMaxFragments = FragmentLedger::kMaxPieces;
  static constexpr uint32_t kBufferBytes = 65535;  // mbuf buf_len is 16-bit

  // `pool` supplies the pieces handed to rte_ip_frag and the mbufs of reassembled datagrams.
  // Fragments it gives up on outside add() (timeouts) are counted in `counters`.
  static Result<std::unique_ptr<Reassembler>> create(const ReassemblyConfig& cfg, rte_mempool* pool,
                                                     uint16_t worker_id, WorkerCounters& counters);
  ~Reassembler();
  Reassembler(const Reassembler&) = delete;
  Reassembler& operator=(const Reassembler&) = delete;

  enum class Outcome : uint8_t {
    kHeld,       // kept until its datagram completes
    kComplete,   // `datagram` is the reassembled frame
    kDuplicate,  // every byte already held, identical: the caller drops the fragment
    kDrop,       // the caller drops the fragment (and `dropped`) under `reason`
    kEvasion,    // overlap with different bytes: `dropped` go under kFragmentOverlap, and
                 // `datagram` (if not null) is the datagram's first fragment, whose flow the
                 // caller blocks as evasion
  };
  struct Step {
    Outcome outcome = Outcome::kHeld;
    DropReason reason = DropReason::kNone;
    rte_mbuf* datagram = nullptr;
    // Fragments of the datagram given up (kDrop: those held before; kEvasion: every one but
    // `datagram`, the new one included).
    rte_mbuf* dropped[kMaxFragments + 1];
    uint32_t n_dropped = 0;
  };

  // Takes the fragment `m` (decoded as `d`, d.is_fragment) received at `now_ns`. On kHeld and
  // kComplete the reassembler owns it; otherwise the caller disposes of it as Step says.
  void add(rte_mbuf* m, const inspect::Decoded& d, int64_t now_ns, Step& step) noexcept;

  // A reassembled datagram of this reassembler (cheap test: an external buffer, then its free
  // callback).
  static bool owns(const rte_mbuf* m) noexcept {
    return RTE_MBUF_HAS_EXTBUF(m) && m->shinfo->free_cb == &release_buffer;
  }
  // Moves the original fragments of reassembled `m` into `to` (up to kMaxFragments), in arrival
  // order; freeing `m` afterwards frees only its buffer.
  static uint32_t take_originals(rte_mbuf* m, rte_mbuf** to) noexcept;

  // Once per burst: frees the mbufs the library gave up (its death row).
  void end_burst() noexcept;
  // Datagrams older than the timeout (at most `budget` looked at): their fragments are freed and
  // counted under kFragmentIncomplete. Then the library's own expired entries.
  void expire(int64_t now_ns, uint32_t budget) noexcept;
  // Every incomplete datagram (shutdown, end of replay): counted under kFragmentIncomplete.
  void expire_all() noexcept;

  uint32_t in_flight() const noexcept { return used_; }

 private:
  struct Datagram;
  struct Buffer;
  Reassembler() = default;
  static void release_buffer(void* addr, void* opaque);

  struct FragView;  // where a fragment's data lies in its frame
  Datagram* find(const inspect::Decoded& d, uint8_t next, int64_t now_ns) noexcept;
  void expire_one(Datagram& g) noexcept;
  void give_up(Datagram& g, DropReason why, Step& step) noexcept;
  void evasion(Datagram& g, rte_mbuf* m, const inspect::Decoded& d, Step& step) noexcept;
  void accept(Datagram& g, rte_mbuf* m, const inspect::Decoded& d, const FragView& v,
              const FragmentLedger::Pieces& p, int64_t now_ns, Step& step) noexcept;
  bool feed(rte_mbuf* m, const inspect::Decoded& d, const FragView& v,
            const FragmentLedger::Pieces& p, bool last, int64_t now_ns, rte_mbuf*& chain) noexcept;
  rte_mbuf* make_piece(rte_mbuf* m, const inspect::Decoded& d, const FragView& v, FragmentRange r,
                       bool more) noexcept;
  rte_mbuf* finish(Datagram& g, rte_mbuf* chain, Step& step) noexcept;

  ReassemblyConfig cfg_;
  rte_mempool* pool_ = nullptr;
  WorkerCounters* counters_ = nullptr;
  rte_ip_frag_tbl* tbl_ = nullptr;
  std::unique_ptr<rte_ip_frag_death_row> dr_;
  std::unique_ptr<Datagram[]> table_;  // kWays-way buckets
  uint32_t bucket_mask_ = 0;
  uint32_t used_ = 0;
  uint32_t expiry_cursor_ = 0;
  int64_t last_feed_ns_ = 0;  // a piece was last handed to the library then
  std::unique_ptr<Buffer[]> buffers_;
  std::unique_ptr<uint8_t[]> arena_;        // the buffers' bytes
  std::unique_ptr<uint32_t[]> free_stack_;  // indexes of free buffers
  uint32_t n_free_ = 0;
};

}  // namespace dc::dataplane
