#pragma once
// Per-flow inspection state, pooled per worker: only flows whose payload is inspected take a
// slot. Sized at start-up ([inspect] flows); an exhausted pool is the `stream_unavailable`
// failure condition (fail closed by default). Single-threaded: owned by one worker.
#include <cstdint>
#include <memory>
#include <vector>

#include "audit/flow_outcome.hpp"
#include "inspect/decode/http_flow.hpp"
#include "inspect/detect/scanner.hpp"
#include "inspect/protocol/http.hpp"
#include "inspect/protocol/tls.hpp"
#include "inspect/stream/reorder.hpp"
#include "policy/snapshot.hpp"

namespace dc::dataplane {

using audit::FindingSample;  // a value kept for the flow's record (audit/flow_outcome.hpp)
using audit::kMaxSamples;

// Values found in a flow's exported bytes, per source (the raw stream, each decoded path depth):
// the same bytes are seen raw and again in each decoding layer, so a value counts towards the
// tally as often as its most frequent source shows it, not once per layer (FlowFindings).
struct SeenValues {
  static constexpr std::size_t kSources = 1 + inspect::decoding::Path::kMaxDepth + 1;
  static constexpr std::size_t kEntries = 16;  // distinct values; beyond: every finding counts
  struct Entry {
    uint64_t key = 0;  // 0: free
    uint16_t count[kSources] = {};
  };
  Entry entries[kEntries];
  void clear() noexcept {
    for (auto& e : entries) e = Entry{};
  }
};

struct InspectCtx {
  inspect::DirState order[2];  // per direction, relative to the flow's initiator
  inspect::Stream* stream[2] = {nullptr, nullptr};
  inspect::TlsClientHelloParser tls;  // opener -> responder
  inspect::HttpRequestParser http;    // opener -> responder
  bool meta_done = false;             // TLS/HTTP metadata settled
  bool opaque = false;                // TLS: payload is encrypted
  // The HTTP/1.x decoding layer of this flow (both directions) and the scanner streams of its
  // decoded byte streams, one per direction and path depth (dataplane/decode_scan.hpp).
  inspect::decoding::HttpFlowDecoder http_decode;
  static constexpr std::size_t kDecodedStreams = inspect::decoding::Path::kMaxDepth + 1;
  inspect::Stream* decoded[2][kDecodedStreams] = {};
  // The path of the stream each decoded scanner stream reads: copied into the samples of its
  // findings (rendered to text by the audit writer), also for values judged at settle/close.
  inspect::decoding::Path decoded_path[2][kDecodedStreams] = {};
  bool decode_off = false;  // TLS, HTTP/2 or not HTTP/1.x: the raw bytes are scanned only
  // With a record hold (live): inspected payload that arrived before the server name decided
  // waits here, per flow and in order, instead of in the port's hold queue, where a head that
  // never completes would stall every flow behind it (docs/architecture.md step 5b). Packets
  // (rte_mbuf*) owned by the flow until the name decides or the flow ends.
  static constexpr uint8_t kNameWaitPackets = 3;
  void* name_wait[kNameWaitPackets] = {};
  uint8_t name_wait_dir[kNameWaitPackets] = {};
  uint8_t name_wait_n = 0;
  // First names reported for the audit record's reason details (static strings, or nullptr).
  const char* http_anomaly = nullptr;
  const char* uninspected = nullptr;
  SeenValues seen;
  uint8_t samples_n = 0;
  FindingSample samples[kMaxSamples];
  uint64_t findings = 0;
  // Findings in exported bytes per category (Snapshot::add_finding): only inspected flows have
  // any, so the tally lives here and not in every flow (Pipeline::tally_of).
  policy::CategoryTally tally{};
  // Bumped whenever `tally` may have changed (FlowFindings::on_finding, a reset): with the flags,
  // the flow's snapshot and the time window below it tells reevaluate() that decide() would
  // return the verdict it returned last time (flow_verdict.cpp).
  uint32_t tally_gen = 0;
  // The inputs of reevaluate()'s last decide() and what it interned. Valid while `policy` is not
  // null: set_admission() (the admission facts changed) and reset() clear it. Within
  // [from_ns, until_ns) (until_ns = Snapshot::next_change_ns of that decision) decide() cannot
  // change by time alone, so the same policy, flags and tally give the same verdict.
  struct Decided {
    const policy::Snapshot* policy = nullptr;
    uint32_t flags = 0;
    uint32_t tally_gen = 0;
    uint32_t verdict = 0;  // the VerdictTable index it interned (FlowCold::last after it)
    int64_t from_ns = 0;
    int64_t until_ns = 0;
  } decided;
  uint32_t next_free = 0;
  uint32_t owner = 0xffffffff;  // the flow slot using it (0xffffffff: free)
  // The flow's TLS decryption context (dataplane/tls_flow.hpp; 0xffffffff: none) and whether
  // one was considered already (escrow-eligible flows try once, at the first opener bytes).
  uint32_t tls_ctx = 0xffffffff;
  bool tls_tried = false;

  void reset() noexcept;
};

class InspectPool {
 public:
  explicit InspectPool(uint32_t capacity);
  // Index of a fresh context, or kNone when exhausted.
  uint32_t acquire() noexcept;
  void release(uint32_t idx) noexcept;
  InspectCtx& at(uint32_t idx) noexcept { return slots_[idx]; }
  const InspectCtx& at(uint32_t idx) const noexcept { return slots_[idx]; }
  uint32_t capacity() const noexcept { return static_cast<uint32_t>(slots_.size()); }
  uint32_t in_use() const noexcept { return in_use_; }
  bool used(uint32_t idx) const noexcept { return slots_[idx].owner != kNone; }
  uint64_t exhausted() const noexcept { return exhausted_; }
  static constexpr uint32_t kNone = 0xffffffff;

 private:
  std::vector<InspectCtx> slots_;  // allocated once at start-up
  uint32_t free_head_ = kNone;
  uint32_t in_use_ = 0;
  uint64_t exhausted_ = 0;
};

}  // namespace dc::dataplane
