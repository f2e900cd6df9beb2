#pragma once
// TCP stream normaliser: delivers each direction's payload to the scanner strictly in sequence
// order, exactly once, and recognises retransmissions and overlaps that try to show the scanner
// one set of bytes and the receiver another (the classic Ptacek/Newsham evasion).
//
// Who calls it: the worker lcore that owns the flow (symmetric RSS puts both directions on one
// worker), once per TCP segment, before anything is forwarded. Not thread-safe: the DirState is
// single-writer state of that worker. Everything is noexcept, allocation-free and lock-free.
//
// Ownership: the Reorderer never copies a queued segment's payload. A segment answered with
// kQueued stays owned by the caller (its `pkt` handle, e.g. an mbuf, must stay alive and
// unmodified) until it comes back in a Release (then scan `scan`, forward `pkt`) or through
// flush() (then free it). Only the last kRetransmitRing inspected bytes are copied, into a ring,
// so that retransmissions can be compared with what the scanner saw.
//
// Sequence numbers use RFC 9293 §3.4 modular arithmetic: an incoming seq is turned into a
// signed 32-bit distance from the next expected seq and then into a 64-bit stream offset, so a
// wrap at 2^32 is invisible and streams longer than 4 GiB work.
//
// Where the stream starts: from the SYN (ISN + 1, RFC 9293 §3.4: the SYN occupies one sequence
// number). A flow picked up mid-stream (no SYN seen, e.g. after a restart, if the flow table
// admits such flows at all) starts at the first segment seen, whatever its seq: bytes before it
// are never inspected and a later segment that lies before it is reported as
// kUnverifiableRetransmission (fail closed). If that first segment was itself out of order,
// the real next segment looks old and is refused: the connection stalls instead of leaking.
//
// Retransmission memory (decision): an exact copy of the last kRetransmitRing = 2048 inspected
// bytes per direction, not a hash per segment. Exact bytes cost no collisions (an unkeyed segment
// hash can be collided by the attacker who writes both copies) and survive re-segmentation (a
// retransmission may coalesce or split the original segments, which breaks per-segment hashes).
// The price: a retransmission that reaches further back than 2 KiB behind the next expected
// byte cannot be verified; by default it is refused (kUnverifiableRetransmission, fail closed),
// which can stall a high-bandwidth flow that lost data downstream of the gateway. The
// `trust_unverifiable` knob forwards it unscanned instead (fail open, counted by the caller).
//
// Memory per direction (fixed, see the static_assert in reorder.cpp): 2048-byte ring
// + 8 queue descriptors x 32 bytes + ~48 bytes of scalars = 2352 bytes, i.e. ~4.6 KiB per flow.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace dc::inspect {

inline constexpr std::size_t kReorderQueueCapacity = 8;  // out-of-order segments per direction
inline constexpr std::size_t kRetransmitRing = 2048;     // inspected bytes remembered (power of 2)
static_assert((kRetransmitRing & (kRetransmitRing - 1)) == 0);

// What the caller must do with the segment it just passed in.
#define DC_REORDER_ACTIONS(X)                                                                 \
  X(kInOrder, "deliverable now: scan and forward every entry of the Release, in order")       \
  X(kQueued, "held out of order: do not forward, do not free; it comes back in a Release")    \
  X(kDuplicate, "identical retransmission of inspected bytes: forward without scanning")      \
  X(kNoPayload, "no payload to inspect (pure ACK, keep-alive, FIN bookkeeping): forward")     \
  X(kEvasion, "bytes differ from inspected or queued bytes, or bad FIN: block the flow")      \
  X(kQueueFull, "out-of-order queue full: drop the segment (fail closed)")                    \
  X(kOutOfWindow, "too far from the expected seq, conflicting SYN or flow closed: drop")      \
  X(kUnverifiableRetransmission, "retransmits bytes older than the ring: drop (fail closed)") \
  X(kReset, "acceptable RST: forward it (without its data), flush() the queue, end the stream")

enum class ReorderAction : uint8_t {
#define DC_X(name, desc) name,
  DC_REORDER_ACTIONS(DC_X)
#undef DC_X
      kCount
};

const char* reorder_action_name(ReorderAction a) noexcept;  // "in_order", "queued", ...
const char* reorder_action_description(ReorderAction a) noexcept;

// One packet handed back to the caller. `scan` is the part of the packet's payload that the
// scanner has not seen yet (possibly empty: its bytes were all inspected already and compared
// equal); scan it, in Release order, then forward `pkt`. `stream_offset` is the 64-bit offset
// of scan[0] in the direction's byte stream (0 = first byte after the SYN or the pickup point).
struct Delivery {
  void* pkt = nullptr;
  std::span<const uint8_t> scan;
  uint64_t stream_offset = 0;
};

// Output of on_segment()/flush(): at most capacity + 1 packets (the current one plus every
// queued one). `fin` is set when the stream's FIN was reached in order: close the scan stream.
struct Release {
  std::array<Delivery, kReorderQueueCapacity + 1> items{};
  uint8_t count = 0;
  bool fin = false;
  std::span<const Delivery> deliveries() const noexcept { return {items.data(), count}; }
};

// One queued out-of-order segment: a descriptor only; the bytes stay in the caller's packet.
struct QueuedSegment {
  const uint8_t* data = nullptr;
  void* pkt = nullptr;
  int64_t offset = 0;  // stream offset of data[0]
  uint32_t len = 0;
  uint32_t used = 0;  // 0 = free slot
};

// Per-direction state. A POD: zero-initialised (`DirState{}`) means "nothing seen yet", so it
// can live in a preallocated flow-table slot and be reset with `= DirState{}`.
struct DirState {
  std::array<uint8_t, kRetransmitRing> ring{};  // ring[o % size] = inspected byte at offset o
  std::array<QueuedSegment, kReorderQueueCapacity> queue{};
  uint64_t next = 0;        // stream offset of the next expected byte (= bytes delivered)
  uint64_t fin_offset = 0;  // valid when has_fin: stream offset at which the FIN sits
  uint32_t base_seq = 0;    // seq of stream offset 0 (ISN + 1, or the pickup segment's seq)
  uint8_t queued = 0;       // used slots in `queue`
  bool started = false;     // base_seq is known
  bool from_syn = false;    // started by a SYN (false = picked up mid-stream)
  bool has_fin = false;     // a FIN was seen (maybe still out of order)
  bool fin_done = false;    // every byte up to the FIN was delivered
  bool reset = false;       // an acceptable RST closed the stream
  bool poisoned = false;    // evasion seen: every later segment is kEvasion
};

struct ReorderConfig {
  // Segments further than this ahead of (or behind) the next expected byte are kOutOfWindow.
  // 8 MiB covers scaled receive windows of fast links; must stay below 2^31 (RFC 9293 §3.4).
  uint32_t max_window = 8u << 20;
  // Queue slots usable per direction, 1..kReorderQueueCapacity (a policy knob; fewer = fail
  // closed sooner under reordering).
  uint8_t queue_limit = kReorderQueueCapacity;
  // Fail open for retransmissions older than the ring: answer kDuplicate instead of
  // kUnverifiableRetransmission. Default off (fail closed).
  bool trust_unverifiable = false;
};

class Reorderer {
 public:
  explicit Reorderer(const ReorderConfig& cfg = {}) noexcept;

  // Feeds one TCP segment of one direction. `flags` are the TCP flags (tcpflag::k*); `payload`
  // is the TCP payload (caller-owned; must stay valid while queued). `out` is cleared first and
  // filled only for kInOrder (and for kReset/kEvasion it stays empty: call flush()).
  // Cost: O(queue capacity) descriptor checks + memcmp/memcpy of the segment's bytes.
  ReorderAction on_segment(DirState& st, uint32_t seq, uint8_t flags,
                           std::span<const uint8_t> payload, void* pkt,
                           Release& out) const noexcept;

  // Hands back every queued packet (for freeing: their bytes were NOT inspected) and empties
  // the queue. Call on flow end, evasion, reset or eviction.
  static void flush(DirState& st, Release& out) noexcept;

  const ReorderConfig& config() const noexcept { return cfg_; }

 private:
  ReorderAction on_data(DirState& st, int64_t off, uint8_t flags, std::span<const uint8_t> payload,
                        void* pkt, Release& out) const noexcept;
  ReorderConfig cfg_;
};

}  // namespace dc::inspect
