#pragma once
// Turns a FlowEvent (fixed-size, from the pipeline) into the flow record of the audit log and of
// offline replay. One formatter for both, so a replayed verdict is printed exactly as the live
// one was recorded. Runs off the fast path (audit writer thread, replay); allocates.
#include <string>

#include "audit/record.hpp"
#include "dataplane/flow_event.hpp"

namespace dc::appliance {

std::string ip_string(const inspect::IpAddr& a);
const char* proto_name(uint8_t proto);  // Suricata EVE spelling: TCP, UDP, ICMP, IPv6-ICMP, ...

// `hmac_key` empty: values carry their masked form only (replay has no appliance key).
audit::FlowRecord to_flow_record(const dataplane::FlowEvent& ev, const std::string& hmac_key);

// Whether a flow belongs in the audit log: it crossed (or tried to cross) the border, or it
// tried to cross an isolation boundary (no link between its zones).
bool audit_worthy(const dataplane::FlowEvent& ev);

}  // namespace dc::appliance
