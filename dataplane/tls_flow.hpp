#pragma once
// Per-flow state of TLS decryption with escrowed keys, pooled per worker (like InspectPool): the
// passive inspect::tls::Session of one connection, the HTTP layer over its plaintext (HTTP/1.x, or
// HTTP/2 when ALPN says "h2"), the scanner streams of the plaintext and its decoded streams, and
// the bounded queue of packets that wait for the keys ("hold until keys"). Only TLS flows of
// escrow-eligible border links take a slot (dataplane/inspect_tls.cpp). Sized at start-up
// ([tls] sessions, hold_packets); an exhausted pool is the `stream_unavailable` failure condition
// (counter tls_sessions_exhausted). Single-threaded: owned by one worker.
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/decode_scan.hpp"
#include "dataplane/inspect_pool.hpp"
#include "inspect/decode/h2_flow.hpp"
#include "inspect/decode/http_flow.hpp"
#include "inspect/tls/session.hpp"

struct rte_mbuf;

namespace dc::dataplane {

// The TLS session's direction of the flow's direction index (0: opener -> responder).
constexpr inspect::tls::Direction tls_direction(unsigned di) noexcept {
  return di == 0 ? inspect::tls::Direction::kClientToServer
                 : inspect::tls::Direction::kServerToClient;
}

inline constexpr uint32_t kNoTlsCtx = 0xffffffff;

// A packet of the waiting direction whose bytes the session has not decrypted yet: its receiver
// bytes (the urgent view's parts, pointing into the mbuf) and the session offset of the first.
struct TlsHeld {
  rte_mbuf* m = nullptr;
  const uint8_t* part[2] = {nullptr, nullptr};
  uint32_t len[2] = {0, 0};
  uint64_t start = 0;  // session stream offset of part[0][0]
  uint16_t port = 0;   // ingress port (it leaves through that port's peer)
  uint32_t bytes() const noexcept { return len[0] + len[1]; }
};

// How a flow's payload was inspected, for the audit record (`payload_inspection`).
enum class TlsOutcome : uint8_t {
  kNone,        // no TLS session (not TLS, or escrow off)
  kDecrypted,   // application data decrypted with escrowed keys and inspected
  kOpaque,      // keys never came (or decryption stopped): the opaque_payload action applied
  kAuthFailed,  // a record failed authentication with an escrowed key
};

struct TlsCtx {
  static constexpr std::size_t kLanes = inspect::decoding::kMaxLanes;
  static constexpr std::size_t kDepths = InspectCtx::kDecodedStreams;

  explicit TlsCtx(inspect::tls::Crypto& c) : session(c) {}

  inspect::tls::Session session;
  inspect::decoding::HttpFlowDecoder http;
  inspect::decoding::H2FlowDecoder h2;
  bool h2_mode = false;       // ALPN "h2": the plaintext goes to `h2`, else to `http`
  bool layer_chosen = false;  // h2_mode was decided (at the first plaintext)
  inspect::Stream* plain[2] = {nullptr, nullptr};  // scanner streams of the plaintext
  inspect::Stream* decoded[2][kLanes][kDepths] = {};
  inspect::decoding::Path decoded_path[2][kLanes][kDepths] = {};
  uint64_t fed[2] = {0, 0};       // bytes handed to the session per direction (initiator-relative)
  bool lost[2] = {false, false};  // bytes of the direction went past undecrypted: feed no more
  // Hold until keys: packets of `wait_dir` from the one the session blocked on, FIFO.
  std::unique_ptr<TlsHeld[]> held;
  uint32_t held_cap = 0, held_head = 0, held_n = 0;
  bool waiting = false;
  uint8_t wait_dir = 0;
  int64_t wait_since_ns = 0;
  uint8_t keys_present = 0;  // KeySet::present bits installed in the session so far
  TlsOutcome outcome = TlsOutcome::kNone;
  bool have_key_hash = false;
  inspect::tls::LineHash key_hash{};     // the key log line that unlocked the exported data
  bool fin_pending[2] = {false, false};  // FIN reached while waiting: finish after the resume
  uint32_t flow_slot = 0;                // the flow (flow table slot and id) while waiting
  uint64_t flow_id = 0;
  uint32_t next_free = 0;

  DecodedSlots slots() noexcept { return {&decoded[0][0][0], &decoded_path[0][0][0], kLanes}; }
  TlsHeld& held_at(uint32_t i) noexcept { return held[(held_head + i) % held_cap]; }
  bool push_held(const TlsHeld& h) noexcept {
    if (held_n == held_cap) return false;
    held[(held_head + held_n++) % held_cap] = h;
    return true;
  }
  void pop_held() noexcept {
    held_head = (held_head + 1) % held_cap;
    --held_n;
  }
  // Back to a fresh slot (streams and decoder memory were returned by the pipeline first).
  void reset() noexcept;
};

class TlsPool {
 public:
  // `capacity` sessions (0: no decryption), each holding up to `hold_packets` packets.
  TlsPool(inspect::tls::Crypto* crypto, uint32_t capacity, uint32_t hold_packets);
  uint32_t acquire() noexcept;  // kNoTlsCtx when exhausted
  void release(uint32_t idx) noexcept;
  TlsCtx& at(uint32_t idx) noexcept { return *slots_[idx]; }
  const TlsCtx& at(uint32_t idx) const noexcept { return *slots_[idx]; }
  uint32_t capacity() const noexcept { return static_cast<uint32_t>(slots_.size()); }
  uint32_t in_use() const noexcept { return in_use_; }

 private:
  std::vector<std::unique_ptr<TlsCtx>> slots_;  // allocated once at start-up
  uint32_t free_head_ = kNoTlsCtx;
  uint32_t in_use_ = 0;
};

}  // namespace dc::dataplane
