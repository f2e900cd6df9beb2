#pragma once
// What one IP datagram's fragments have said so far: each held fragment's (offset, bytes), so a
// new fragment is judged against the bytes already held before reassembly sees it. rte_ip_frag
// never reads payload bytes (it drops any overlap, benign or not, and reports nothing): this
// ledger tells an identical duplicate from an overlap whose bytes differ (evasion, RFC 5722 for
// IPv6 and RFC 1858 §3 for IPv4 call both out) and hands the reassembler only the bytes not yet
// covered, as non-overlapping pieces.
//
// Pure (no DPDK): the dataplane's Reassembler owns one per datagram in flight, the fuzzer
// fuzz_reassembly drives it alone. Never allocates; every operation is O(kMaxHeld^2).
#include <cstdint>
#include <span>

namespace dc::dataplane {

// A range of the datagram's fragmentable part, in bytes from its start.
struct FragmentRange {
  uint32_t begin = 0;
  uint32_t end = 0;
};

class FragmentLedger {
 public:
  // rte_ip_frag keeps at most RTE_LIBRTE_IP_FRAG_MAX_FRAG (8 in the Debian build, fixed inside
  // the shipped library) fragments per datagram: the first, the last and six others.
  static constexpr uint32_t kMaxPieces = 8;
  static constexpr uint32_t kMaxMiddlePieces = 6;

  enum class Verdict : uint8_t {
    kAccept,     // new bytes: `pieces` lists the uncovered ranges to reassemble
    kDuplicate,  // every byte already held, identical: nothing new (drop the copy)
    kConflict,   // overlaps held bytes with different bytes, or disagrees on the datagram's end
    kTooMany,    // would need more pieces than the reassembler holds
  };

  struct Pieces {
    FragmentRange range[kMaxPieces];
    uint32_t n = 0;
  };

  // Judges a fragment at byte `offset` carrying `bytes`, the datagram's last one when `last`
  // (MF clear). Fills `out` on kAccept. Does not change the ledger.
  Verdict check(uint32_t offset, std::span<const uint8_t> bytes, bool last,
                Pieces& out) const noexcept;
  // Records a fragment check() accepted, with the pieces it returned. `bytes` must stay valid
  // (the caller holds the packet) until reset().
  void add(uint32_t offset, std::span<const uint8_t> bytes, bool last,
           const Pieces& pieces) noexcept;
  void reset() noexcept { *this = FragmentLedger{}; }

  uint32_t held() const noexcept { return held_; }
  uint32_t pieces() const noexcept { return pieces_; }
  // The datagram's length once its last fragment was seen (0 before).
  uint32_t total() const noexcept { return total_; }
  // Every byte in [0, total) is held.
  bool complete() const noexcept;

 private:
  struct Held {
    uint32_t begin = 0;
    std::span<const uint8_t> bytes;
    uint32_t end() const noexcept { return begin + static_cast<uint32_t>(bytes.size()); }
  };
  bool differs(const Held& h, uint32_t offset, std::span<const uint8_t> bytes) const noexcept;
  void uncovered(uint32_t begin, uint32_t end, Pieces& out) const noexcept;

  Held held_frag_[kMaxPieces];
  uint32_t held_ = 0;
  uint32_t pieces_ = 0;
  uint32_t middle_pieces_ = 0;
  uint32_t total_ = 0;
};

}  // namespace dc::dataplane
