#pragma once
// TCP resets for blocked flows (block action "reset"): a bare RST towards either end of the
// connection of a dropped segment, with the sequence numbers RFC 9293 §3.10.7 / RFC 5961 §3.2
// make acceptable. Worker thread; no heap (one mbuf from the given pool).
#include "inspect/packet/decode.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace dc::dataplane {

// A bare RST for the connection of the TCP segment `frame` (decoded as `d`):
//  - to_sender: back to the segment's sender, out of the ingress port;
//  - otherwise: on to the segment's receiver (which never got the segment).
// nullptr when `pool` is empty.
rte_mbuf* make_tcp_reset(rte_mempool* pool, const uint8_t* frame, const inspect::Decoded& d,
                         bool to_sender) noexcept;

}  // namespace dc::dataplane
