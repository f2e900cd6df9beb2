#pragma once
// Human-readable counter tables printed at shutdown (and on demand).
#include <cstdio>
#include <string>

#include "appliance/key_intake.hpp"
#include "dataplane/runtime.hpp"

namespace dc::appliance {

// Per port, per worker, per drop reason, flows. Control thread only, after Dataplane::stop().
void print_final_counters(FILE* out, const dataplane::Dataplane& plane,
                          const dataplane::DataplaneConfig& config);

// The same counters as JSON (for tests and monitoring scripts):
// {"ports":{name:{zone,rx_packets,...}},"workers":[...],"drops":{reason:n},"flows":{...},"totals":{...}}
// and, with a key intake, "keys":{keys_received,...}.
std::string counters_json(const dataplane::Dataplane& plane,
                          const dataplane::DataplaneConfig& config,
                          const KeyIntakeStats* keys = nullptr);

// One line of key intake counters ("== key intake ==").
void print_key_counters(FILE* out, const KeyIntakeStats& keys);

}  // namespace dc::appliance
