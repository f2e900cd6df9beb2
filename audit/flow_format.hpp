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

// The policy's legal bases as the audit log records them in `start` and `policy_reload` records
// (so `audit report` can list expiries without the policy file): [{id, kind, ref, status,
// expires}], `expires` the RFC 3339 instant the basis stops being valid (null: never).
nlohmann::ordered_json policy_bases_json(const policy::Snapshot& s);

}  // namespace dc::audit
