// TCP stream order: in-sequence delivery, bounded hold queue, retransmission and overlap checks.
#include "inspect/stream/reorder.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <optional>
#include <type_traits>

#include "base/names.hpp"
#include "inspect/packet/decode.hpp"

namespace dc::inspect {

// The state must stay a fixed-size, trivially copyable POD so that flow tables can preallocate
// it in a mempool/array and reset it with a plain assignment.
static_assert(std::is_trivially_copyable_v<DirState>);
static_assert(sizeof(QueuedSegment) == 32);
static_assert(sizeof(DirState) <= kRetransmitRing + kReorderQueueCapacity * 32 + 64,
              "per-direction reorder memory must stay bounded (see reorder.hpp)");

const char* reorder_action_name(ReorderAction a) noexcept {
  static constexpr const char* kNames[] = {
      "in_order", "queued",     "duplicate",     "no_payload",
      "evasion",  "queue_full", "out_of_window", "unverifiable_retransmission",
      "reset"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(ReorderAction::kCount));
  return base::enum_name(a, kNames);
}

const char* reorder_action_description(ReorderAction a) noexcept {
#define DC_X(name, desc) desc,
  static constexpr const char* kDescriptions[] = {DC_REORDER_ACTIONS(DC_X)};
#undef DC_X
  return base::enum_name(a, kDescriptions);
}

namespace {

constexpr uint64_t kRingMask = kRetransmitRing - 1;

// Copies inspected bytes [off, off + n) into the ring. Only the last kRetransmitRing bytes can
// matter, so a longer span writes its tail only. Cost: one or two memcpy.
void ring_write(DirState& st, uint64_t off, const uint8_t* p, std::size_t n) noexcept {
  if (n > kRetransmitRing) {
    off += n - kRetransmitRing;
    p += n - kRetransmitRing;
    n = kRetransmitRing;
  }
  while (n > 0) {
    const std::size_t at = static_cast<std::size_t>(off & kRingMask);
    const std::size_t chunk = std::min(n, kRetransmitRing - at);
    std::memcpy(st.ring.data() + at, p, chunk);
    off += chunk;
    p += chunk;
    n -= chunk;
  }
}

bool ring_equal(const DirState& st, uint64_t off, const uint8_t* p, std::size_t n) noexcept {
  while (n > 0) {
    const std::size_t at = static_cast<std::size_t>(off & kRingMask);
    const std::size_t chunk = std::min(n, kRetransmitRing - at);
    if (std::memcmp(st.ring.data() + at, p, chunk) != 0) return false;
    off += chunk;
    p += chunk;
    n -= chunk;
  }
  return true;
}

enum class Verify : uint8_t { kEqual, kDiffer, kUnverifiable };

// Compares bytes [off, off + n), all already delivered (off + n <= st.next), with what the
// scanner saw. The part still in the ring is compared first, so a visible difference is reported
// as evasion even when the rest is too old to check.
Verify verify_old(const DirState& st, int64_t off, const uint8_t* p, std::size_t n) noexcept {
  if (n == 0) return Verify::kEqual;
  const int64_t next = static_cast<int64_t>(st.next);
  const int64_t ring_lo = std::max<int64_t>(0, next - static_cast<int64_t>(kRetransmitRing));
  const int64_t end = off + static_cast<int64_t>(n);
  const int64_t a = std::max(off, ring_lo);
  if (a < end &&
      !ring_equal(st, static_cast<uint64_t>(a), p + (a - off), static_cast<std::size_t>(end - a))) {
    return Verify::kDiffer;
  }
  return off < ring_lo ? Verify::kUnverifiable : Verify::kEqual;
}

// Every byte that two segments both claim must be the same byte: a receiver keeps one of the
// copies (which one differs between stacks: RFC 9293 leaves it open, Ptacek & Newsham 1998), so
// any disagreement means the scanner could be shown the other copy.
bool agrees_with_queue(const DirState& st, int64_t off, const uint8_t* p, std::size_t n) noexcept {
  const int64_t end = off + static_cast<int64_t>(n);
  for (const QueuedSegment& q : st.queue) {
    if (!q.used) continue;
    const int64_t lo = std::max(off, q.offset);
    const int64_t hi = std::min(end, q.offset + static_cast<int64_t>(q.len));
    if (lo < hi && std::memcmp(p + (lo - off), q.data + (lo - q.offset),
                               static_cast<std::size_t>(hi - lo)) != 0) {
      return false;
    }
  }
  return true;
}

void deliver(DirState& st, Release& out, void* pkt, const uint8_t* p, std::size_t n) noexcept {
  Delivery& d = out.items[out.count++];
  d.pkt = pkt;
  d.scan = std::span<const uint8_t>(p, n);
  d.stream_offset = st.next;
  if (n > 0) {
    ring_write(st, st.next, p, n);
    st.next += n;
  }
}

// Releases every queued segment that the in-order stream has reached, smallest offset first.
// Their overlap with delivered bytes was compared when the later of the two arrived (each
// arrival is compared with the whole queue), so only the new tail is delivered.
// Cost: O(capacity^2) descriptor reads in the worst case (64 for capacity 8).
void drain(DirState& st, Release& out) noexcept {
  while (st.queued > 0) {
    QueuedSegment* best = nullptr;
    for (QueuedSegment& q : st.queue) {
      if (q.used && q.offset <= static_cast<int64_t>(st.next) &&
          (best == nullptr || q.offset < best->offset)) {
        best = &q;
      }
    }
    if (best == nullptr) return;
    const QueuedSegment q = *best;
    *best = QueuedSegment{};
    --st.queued;
    const int64_t qend = q.offset + static_cast<int64_t>(q.len);
    const int64_t next = static_cast<int64_t>(st.next);
    if (qend > next) {
      deliver(st, out, q.pkt, q.data + (next - q.offset), static_cast<std::size_t>(qend - next));
    } else {
      deliver(st, out, q.pkt, nullptr, 0);
    }
  }
}

void note_fin_reached(DirState& st, Release& out) noexcept {
  if (st.has_fin && !st.fin_done && st.next == st.fin_offset) {
    st.fin_done = true;
    out.fin = true;
  }
}

}  // namespace

Reorderer::Reorderer(const ReorderConfig& cfg) noexcept : cfg_(cfg) {
  // A segment is at most 64 KiB, and the window must stay far from 2^31 so the signed distance
  // of RFC 9293 §3.4 is unambiguous.
  cfg_.max_window = std::clamp<uint32_t>(cfg_.max_window, 1u << 16, 1u << 30);
  cfg_.queue_limit = std::clamp<uint8_t>(cfg_.queue_limit, 1, kReorderQueueCapacity);
}

void Reorderer::flush(DirState& st, Release& out) noexcept {
  out.count = 0;
  out.fin = false;
  for (QueuedSegment& q : st.queue) {
    if (!q.used) continue;
    Delivery& d = out.items[out.count++];
    d.pkt = q.pkt;
    d.scan = {};
    d.stream_offset = static_cast<uint64_t>(q.offset);
    q = QueuedSegment{};
  }
  st.queued = 0;
}

ReorderAction Reorderer::on_segment(DirState& st, uint32_t seq, uint8_t flags,
                                    std::span<const uint8_t> payload, void* pkt,
                                    Release& out) const noexcept {
  out.count = 0;
  out.fin = false;
  if (st.poisoned) return ReorderAction::kEvasion;
  const bool syn = (flags & tcpflag::kSyn) != 0;
  const bool rst = (flags & tcpflag::kRst) != 0;

  if (!st.started) {
    // Nothing known about this direction: nothing to flush. A RST's data is never stream data
    // (see below).
    if (rst) return ReorderAction::kReset;
    st.started = true;
    st.from_syn = syn;
    // RFC 9293 §3.4: the SYN occupies the ISN; the first data byte is ISN + 1.
    st.base_seq = syn ? seq + 1 : seq;
  } else if (syn && (!st.from_syn || seq + 1 != st.base_seq)) {
    // A SYN with another ISN inside a live stream (RFC 9293 §3.10.7.4 treats it as an error):
    // never re-anchor the stream on the sender's word.
    return ReorderAction::kOutOfWindow;
  }
  if (st.reset) return ReorderAction::kOutOfWindow;

  const uint32_t data_seq = syn ? seq + 1 : seq;
  // RFC 9293 §3.4 modular comparison: the distance is the signed 32-bit difference.
  const uint32_t next_seq = st.base_seq + static_cast<uint32_t>(st.next);
  const int64_t delta = static_cast<int32_t>(data_seq - next_seq);
  if (delta > static_cast<int64_t>(cfg_.max_window) ||
      delta < -static_cast<int64_t>(cfg_.max_window)) {
    return ReorderAction::kOutOfWindow;
  }
  const int64_t off = static_cast<int64_t>(st.next) + delta;

  if (rst) {
    // RST data is "diagnostic" text (RFC 9293 §3.5.3) that no receiver delivers to the
    // application: it is not part of the stream and is neither scanned nor compared. It is
    // legal, so it is not evasion; the caller must not carry it uninspected (the dataplane
    // trims it, dataplane/tcp_normalise.cpp).
    // RFC 5961 §3.2: only an in-window RST may reset (the caller's normaliser admits only one
    // exactly at the next expected seq). Behind the next expected byte is stale.
    if (delta < 0) return ReorderAction::kOutOfWindow;
    st.reset = true;
    return ReorderAction::kReset;
  }
  return on_data(st, off, flags, payload, pkt, out);
}

namespace {

// One data segment relative to the stream: [off, end) against the next expected offset.
struct Seg {
  int64_t off, end, next;
  const uint8_t* p;
  std::size_t n;
  bool fin;
  void* pkt;
};

// Evasion poisons the direction: nothing of it is trusted from then on.
ReorderAction poison(DirState& st) noexcept {
  st.poisoned = true;
  return ReorderAction::kEvasion;
}

// Records the FIN's position; false when held bytes lie beyond it (the receiver would stop
// where the scanner would not).
bool record_fin(DirState& st, const Seg& s) noexcept {
  if (!s.fin || st.has_fin) return true;
  for (const QueuedSegment& q : st.queue) {
    if (q.used && q.offset + static_cast<int64_t>(q.len) > s.end) return false;
  }
  st.has_fin = true;
  st.fin_offset = static_cast<uint64_t>(s.end);
  return true;
}

// Bytes [off, off+n) were inspected before: the same bytes again pass, others are evasion, and
// bytes older than the retransmission ring are unverifiable (refused unless trusted).
std::optional<ReorderAction> check_old(DirState& st, const ReorderConfig& cfg, int64_t off,
                                       const uint8_t* p, std::size_t n) noexcept {
  switch (verify_old(st, off, p, n)) {
    case Verify::kDiffer:
      return poison(st);
    case Verify::kUnverifiable:
      if (!cfg.trust_unverifiable) return ReorderAction::kUnverifiableRetransmission;
      break;
    case Verify::kEqual:
      break;
  }
  return std::nullopt;
}

// A FIN (bare, or on retransmitted bytes) that arrives exactly at the next expected offset is
// handed back like data, so the caller forwards it in stream order and closes the scan stream.
ReorderAction fin_in_order_or(DirState& st, const Seg& s, Release& out,
                              ReorderAction otherwise) noexcept {
  if (!s.fin || s.end != s.next || st.fin_done) return otherwise;
  deliver(st, out, s.pkt, nullptr, 0);
  note_fin_reached(st, out);
  return ReorderAction::kInOrder;
}

// In order, possibly starting with already inspected bytes (a retransmission that was
// extended, or a re-segmented one): compare the old part, deliver only the new part.
ReorderAction in_order(DirState& st, const Seg& s, const ReorderConfig& cfg,
                       Release& out) noexcept {
  const std::size_t old_len = static_cast<std::size_t>(s.next - s.off);
  if (auto a = check_old(st, cfg, s.off, s.p, old_len)) return *a;
  if (!agrees_with_queue(st, s.next, s.p + old_len, s.n - old_len)) return poison(st);
  if (!record_fin(st, s)) return poison(st);
  deliver(st, out, s.pkt, s.p + old_len, s.n - old_len);
  drain(st, out);
  note_fin_reached(st, out);
  return ReorderAction::kInOrder;
}

// Out of order: hold it, after checking it against everything already held.
ReorderAction hold(DirState& st, const Seg& s, const ReorderConfig& cfg) noexcept {
  if (!agrees_with_queue(st, s.off, s.p, s.n)) return poison(st);
  if (st.queued >= cfg.queue_limit) return ReorderAction::kQueueFull;
  if (!record_fin(st, s)) return poison(st);
  for (QueuedSegment& q : st.queue) {
    if (q.used) continue;
    q.data = s.p;
    q.pkt = s.pkt;
    q.offset = s.off;
    q.len = static_cast<uint32_t>(s.n);
    q.used = 1;
    ++st.queued;
    return ReorderAction::kQueued;
  }
  return ReorderAction::kQueueFull;  // unreachable: queued < limit <= capacity
}

}  // namespace

ReorderAction Reorderer::on_data(DirState& st, int64_t off, uint8_t flags,
                                 std::span<const uint8_t> payload, void* pkt,
                                 Release& out) const noexcept {
  const Seg s{off,
              off + static_cast<int64_t>(payload.size()),
              static_cast<int64_t>(st.next),
              payload.data(),
              payload.size(),
              (flags & tcpflag::kFin) != 0,
              pkt};
  // FIN bookkeeping (RFC 9293 §3.10.7.4: the FIN sits at seq + payload length). Two different
  // FIN positions, a FIN inside delivered bytes, or data beyond the FIN would let the scanner
  // and the receiver disagree about where the stream ends.
  if (s.fin) {
    if (st.has_fin && static_cast<int64_t>(st.fin_offset) != s.end) return poison(st);
    if (!st.has_fin && s.end < s.next) return poison(st);
  }
  // (A bare ACK after the FIN sits one sequence number beyond it, RFC 9293 §3.4: the FIN
  // occupies a sequence number. It carries no byte, so it cannot smuggle any.)
  if (st.has_fin && s.n > 0 && s.end > static_cast<int64_t>(st.fin_offset)) return poison(st);
  if (s.n == 0) {
    if (!record_fin(st, s)) return poison(st);
    return fin_in_order_or(st, s, out, ReorderAction::kNoPayload);
  }
  if (s.end <= s.next) {  // entirely a retransmission of inspected bytes
    if (auto a = check_old(st, cfg_, s.off, s.p, s.n)) return *a;
    if (!record_fin(st, s)) return poison(st);
    return fin_in_order_or(st, s, out, ReorderAction::kDuplicate);
  }
  if (s.off <= s.next) return in_order(st, s, cfg_, out);
  return hold(st, s, cfg_);
}

}  // namespace dc::inspect
