#pragma once
// Turns a FlowOutcome (fixed-size, from the pipeline) into the flow record of the audit log and
// of offline replay. One formatter for both, so a replayed verdict is printed exactly as the live
// one was recorded. Runs off the fast path (audit writer thread, replay); allocates.
#include <string>

#include "audit/flow_outcome.hpp"
#include "audit/record.hpp"

namespace dc::audit {

std::string ip_string(const inspect::IpAddr& a);
const char* proto_name(uint8_t proto);  // Suricata EVE spelling: TCP, UDP, ICMP, IPv6-ICMP, ...

// `hmac_key` empty: values carry their masked form only (replay has no appliance key).
FlowRecord to_flow_record(const FlowOutcome& ev, const std::string& hmac_key);

// Whether a flow belongs in the audit log: it crossed (or tried to cross) the border, or it
// tried to cross an isolation boundary (no link between its zones).
bool audit_worthy(const FlowOutcome& ev);

}  // namespace dc::audit
