#pragma once
// A flow: both directions of one connection, keyed symmetrically.
#include <cstdint>

#include "inspect/decode.hpp"

namespace dc::dataplane {

enum class Direction : uint8_t { kForward = 0, kReverse = 1 };  // relative to the initiator

enum class TcpState : uint8_t {
  kNone,         // not TCP
  kSynSent,      // SYN seen from the initiator
  kSynReceived,  // SYN+ACK seen from the responder
  kEstablished,
  kClosing,      // a FIN seen
  kClosed,       // RST, or FIN seen both ways
};
const char* tcp_state_name(TcpState s) noexcept;

// The 5-tuple of one packet, as decoded.
struct FlowTuple {
  inspect::IpAddr src, dst;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  uint16_t vlan = 0;  // outer VLAN id: the same addresses on two VLANs are two flows
};

// Symmetric hash key: endpoints ordered so both directions produce the same key.
// 40 bytes, fixed layout (memcmp'ed by rte_hash).
struct alignas(8) FlowKey {
  uint8_t lo_addr[16];
  uint8_t hi_addr[16];
  uint16_t lo_port;
  uint16_t hi_port;
  uint8_t proto;
  uint8_t pad;
  uint16_t vlan;
};
static_assert(sizeof(FlowKey) == 40);

// Builds the symmetric key; `swapped` is true when tuple.src is the "hi" endpoint.
FlowKey make_flow_key(const FlowTuple& t, bool& swapped) noexcept;

enum class FlowVerdict : uint8_t { kPending, kAllow, kAlert, kBlock };

struct DirCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

// One flow slot. Cache-line aligned; the per-flow inspection state lives in later fields.
struct alignas(64) Flow {
  FlowTuple initiator;  // tuple of the first packet seen (its source is the initiator)
  int64_t first_seen_ns = 0;
  int64_t last_seen_ns = 0;
  uint64_t id = 0;  // unique per worker: (worker << 48) | sequence
  DirCounters dir[2];
  bool in_use = false;
  bool initiator_is_lo = false;  // key orientation of the initiator
  TcpState tcp = TcpState::kNone;
  uint8_t fin_seen = 0;  // bit per direction
  uint16_t src_zone = 0xffff;
  uint16_t dst_zone = 0xffff;
  FlowVerdict verdict = FlowVerdict::kPending;
  uint32_t slot = 0;
  // Policy facts (filled by the pipeline when a policy is loaded).
  uint16_t counterparty = 0xffff;
  uint16_t legal_basis = 0xffff;
  bool crosses_border = false;
  bool inspected = false;
  uint32_t policy_generation = 0;
  inspect::DropReason block_reason = inspect::DropReason::kNone;
};

}  // namespace dc::dataplane
