#pragma once
// Streaming content scanner: one Hyperscan stream per flow direction, one scratch per worker.
//
// Threads and ownership
//  * DetectorDb (inspect/detect/detectors.hpp): immutable, shared by all workers.
//  * Scratch: one per worker thread (hs_scratch_t is not thread-safe). Created off the fast path.
//  * StreamPool: one per worker thread. create() pre-opens `capacity` Hyperscan streams (which
//    allocates); acquire()/release() then recycle them with hs_reset_stream and never allocate.
//    An exhausted pool returns nullptr: the caller counts it and fails closed.
//  * scan()/settle()/close(): per-packet calls; noexcept, no allocation, no locks, no I/O.
//
// What a Stream remembers between scan() calls (see docs/detectors.md "Streaming"):
//  * the last kHistory bytes (tail buffer), so a candidate split across segments at any offset
//    is cut out whole and the validator sees its neighbouring bytes;
//  * up to kMaxPendingCandidates matches still waiting for bytes after them (the boundary byte,
//    the rest of an e-mail domain or IBAN) - resolved as soon as those bytes arrive, or at close;
//  * a ring of the last kMaxKeywordMarks keyword occurrences (start, end, detector, sign);
//  * up to kMaxHeld confirmed findings without a keyword yet, held until the stream has moved
//    `forward_window` bytes past them so that a keyword shortly AFTER the value can still raise
//    their confidence; then they are emitted ("finalised"). close() finalises everything.
//    A full hold queue finalises its oldest entry early (counted in StreamStats::held_early).
// Findings can therefore reach the sink slightly out of offset order.
// settle() (below) reports now what would be reported if the stream ended now; the stream
// remembers up to kMaxSettled (detector, token start) pairs so that those values are never
// reported again when the stream continues.
// Memory: sizeof(Stream) = 1,296 bytes + DetectorDb::stream_size() (56 for the built-ins);
// StreamPool::bytes_per_stream() reports the sum. The raw values of held findings live in the
// stream until emitted and are not wiped on release.
#include <hs/hs.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "inspect/detect/detectors.hpp"

namespace dc::inspect {

struct HsScratchDeleter {
  void operator()(hs_scratch_t* p) const noexcept { hs_free_scratch(p); }
};
struct HsStreamDeleter {
  void operator()(hs_stream_t* p) const noexcept { hs_close_stream(p, nullptr, nullptr, nullptr); }
};
using HsScratchPtr = std::unique_ptr<hs_scratch_t, HsScratchDeleter>;
using HsStreamPtr = std::unique_ptr<hs_stream_t, HsStreamDeleter>;

// One confirmed value. `value` (the normalised raw value, e.g. for keyed hashing) is only valid
// inside FindingSink::on_finding; sinks must never print or store it. `masked` is safe to log.
struct Finding {
  uint16_t detector;  // index into the DetectorSpec list given to DetectorDb::compile
  uint64_t offset;    // stream offset of the first byte of the token
  uint16_t length;    // token length in bytes (as on the wire, separators included)
  Confidence confidence;
  char masked[40];  // NUL-terminated, e.g. 340202********1234
  uint8_t value_len;
  uint8_t value[48];
};

class FindingSink {
 public:
  virtual ~FindingSink() = default;
  // Called on the scanning thread, inside scan()/close(). Must not block or allocate on the
  // fast path.
  virtual void on_finding(const Finding& f) noexcept = 0;
};

enum class ScanStatus : uint8_t {
  kOk,
  kScanError,        // Hyperscan returned an error: fail closed
  kScratchMismatch,  // scratch built for another database
  kClosed,           // stream already closed (release and acquire a new one)
};

struct StreamStats {
  uint64_t bytes = 0;
  uint64_t findings = 0;
  uint64_t candidates_dropped = 0;  // pending-candidate queue full or bytes evicted
  uint64_t held_early = 0;          // a held finding emitted before its forward window closed
  uint64_t settled = 0;             // findings reported early by settle() (included in findings)
};

struct StreamOptions {
  // Bytes a confirmed keyword-less finding waits for a keyword after it. -1: the database's
  // largest detector proximity (300 by default). 0: emit at once, backward keywords only.
  int64_t forward_window = -1;
};

inline constexpr size_t kHistory = 256;  // tail buffer, power of two
inline constexpr size_t kMaxPendingCandidates = 8;
inline constexpr size_t kMaxKeywordMarks = 8;
inline constexpr size_t kMaxHeld = 4;
// (detector, token start) pairs already reported by settle(), suppressed when seen again.
inline constexpr size_t kMaxSettled = 8;
// A negative keyword counts only when it ends this close before the value ("订单号: 1101...").
inline constexpr uint32_t kNegativeWindow = 32;

class Stream;

class Scratch {
 public:
  static Result<Scratch> create(std::shared_ptr<const DetectorDb> db);
  // The date "today" for birth-date checks; the worker sets it from packet time (the engine
  // never reads the wall clock). Default: no limit.
  void set_today(CivilDate d) noexcept { today_ = d; }
  CivilDate today() const noexcept { return today_; }
  hs_scratch_t* get() const noexcept { return scratch_.get(); }
  const DetectorDb* db() const noexcept { return db_.get(); }

 private:
  friend ScanStatus settle(Stream&, Scratch&, FindingSink&) noexcept;
  std::shared_ptr<const DetectorDb> db_;
  HsScratchPtr scratch_;
  // Spare Hyperscan stream for settle(): a copy of a flow's stream is reset on it to learn the
  // end-of-data matches ("$", "\b" at the end of a custom pattern) without ending the flow.
  // Only opened when DetectorDb::eod_matches(): built-in triggers, keywords, literal words and
  // most custom regexes have no EOD matches.
  HsStreamPtr probe_;
  CivilDate today_ = kNoDateLimit;
};

class Stream {
 public:
  const StreamStats& stats() const noexcept { return stats_; }
  uint64_t offset() const noexcept { return offset_; }

 private:
  friend class StreamPool;
  friend struct ScanEngine;
  friend ScanStatus scan(Stream&, Scratch&, std::span<const uint8_t>, FindingSink&) noexcept;
  friend ScanStatus close(Stream&, Scratch&, FindingSink&) noexcept;
  friend ScanStatus settle(Stream&, Scratch&, FindingSink&) noexcept;
  struct Candidate {
    uint64_t start, end;  // token start (or trigger start) and trigger end
    uint32_t pattern;
  };
  struct Mark {
    uint64_t start, end;
    uint16_t group;  // DetectorDb::group(): the detectors this keyword supports
    bool negative;
  };
  struct Held {
    Finding finding;
    uint64_t end;
    Confidence with_keyword;
    bool keyword_required;
    bool keyword;
    bool negative;
  };
  void reset() noexcept;

  HsStreamPtr hs_;
  const DetectorDb* db_ = nullptr;
  uint64_t offset_ = 0;
  uint64_t window_ = 0;
  bool open_ = true;
  uint8_t n_cand_ = 0, n_marks_ = 0, next_mark_ = 0, n_held_ = 0;
  uint8_t n_settled_ = 0;
  Candidate cand_[kMaxPendingCandidates];
  Mark marks_[kMaxKeywordMarks];
  Held held_[kMaxHeld];
  // settle()d findings: token start << 16 | detector (stream offsets stay below 2^48). Dropped
  // once the start has left the tail buffer (no later token can start there any more).
  uint64_t settled_[kMaxSettled];
  StreamStats stats_;
  uint8_t history_[kHistory];
};

class StreamPool {
 public:
  static Result<std::unique_ptr<StreamPool>> create(std::shared_ptr<const DetectorDb> db,
                                                    size_t capacity, StreamOptions options = {});
  // nullptr when all streams are in use (counted in exhausted()).
  Stream* acquire() noexcept;
  // Returns a stream; pending findings that were not flushed with close() are discarded.
  void release(Stream* s) noexcept;
  size_t capacity() const noexcept { return streams_.size(); }
  size_t in_use() const noexcept { return streams_.size() - free_.size(); }
  uint64_t exhausted() const noexcept { return exhausted_; }
  const DetectorDb& db() const noexcept { return *db_; }
  // Bytes of memory per stream: our state + Hyperscan's stream state.
  size_t bytes_per_stream() const noexcept { return sizeof(Stream) + db_->stream_size(); }

 private:
  StreamPool() = default;
  std::shared_ptr<const DetectorDb> db_;
  std::vector<Stream> streams_;
  std::vector<Stream*> free_;
  uint64_t exhausted_ = 0;
  uint64_t window_ = 0;
};

// Scans the next in-order bytes of a stream. Findings go to `sink` (possibly from earlier bytes).
ScanStatus scan(Stream& s, Scratch& scratch, std::span<const uint8_t> bytes,
                FindingSink& sink) noexcept;
// Fail-closed checkpoint, for a caller that forwards bytes right after scanning them: call after
// scan() and BEFORE forwarding. Treats "end of the bytes seen so far" as the end of the stream,
// without ending it:
//  * every pending candidate that would be a confirmed finding if the stream ended now (its
//    boundary byte or the rest of its token has not arrived) is reported now;
//  * end-of-data matches of custom patterns ("$", trailing "\b") are found on a scratch copy of
//    the Hyperscan stream and reported now;
//  * held findings (forward keyword window) are emitted now at their current confidence, except
//    keyword-required ones still without a keyword, which stay held (not yet reportable);
//  * candidates that could not be valid even at end of data (e.g. 17 of 18 ID characters) are not
//    reported and stay pending: the next scan() reports them if they complete.
// The stream continues normally. Each (detector, token start) reported here is remembered and
// never reported again - by later scan()/settle()/close() calls - even if later bytes make the
// token longer or invalid (an ID followed by a 19th digit, an e-mail whose domain goes on): the
// accepted fail-closed cost is that such a value was reported in its end-of-segment form. A longer
// token that is a *different* detector's value (e.g. a valid 19-digit card) is still reported.
// Findings emitted here do not get a later forward keyword's confidence upgrade.
// Cost: O(pending candidates + held findings), each resolved once more with end-of-data rules;
// plus, for databases with a custom pattern that can match at end of data only
// (DetectorDb::eod_matches()), one copy of the Hyperscan stream state (stream_size() bytes) and
// its end-of-data check. Idle stream: a few compares.
// noexcept, allocation-free. Findings reported here count in StreamStats::findings and ::settled.
ScanStatus settle(Stream& s, Scratch& scratch, FindingSink& sink) noexcept;
// End of the stream: resolves pending candidates, emits held findings. The stream then accepts
// no more bytes until it is released and acquired again.
ScanStatus close(Stream& s, Scratch& scratch, FindingSink& sink) noexcept;

// Block-mode helper for tools and tests: one temporary stream over `bytes`, closed at the end.
// Allocates (scratch, pool). Returns the number of findings.
Result<size_t> scan_buffer(std::shared_ptr<const DetectorDb> db, std::span<const uint8_t> bytes,
                           FindingSink& sink, CivilDate today = kNoDateLimit);

}  // namespace dc::inspect
