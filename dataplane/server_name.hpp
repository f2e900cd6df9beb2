#pragma once
// The server name of a flow for endpoints named by `sni`: the TLS ClientHello's server_name, or
// for plaintext HTTP/1.x the request's Host (docs/policy-reference.md §2.8, "Server names").
// Worker thread; no allocation.
#include "dataplane/inspect_pool.hpp"
#include "policy/snapshot.hpp"

namespace dc::dataplane {

// Fills q.sni / q.sni_state / q.name_source from the opener's stream as parsed so far:
// - a complete ClientHello: its server_name (absent when it has none);
// - a complete HTTP/1.x request head: its host (the parser lower-cases it and strips the port
//   and a trailing dot). Ambiguous heads never name a server: several Host fields (the parser
//   calls the head malformed) or an absolute-form target whose authority differs from the Host
//   header (host_conflict, RFC 9112 §3.2.2: the server would use the target, a proxy the
//   header) give kAbsent, so the flow is refused;
// - metadata settled otherwise (neither TLS nor HTTP, malformed, too large, HTTP/2): kAbsent;
// - nothing settled yet: kNotYet (admission keeps waiting).
inline void put_server_name(const InspectCtx& c, policy::FlowQuery& q) noexcept {
  q.sni = {};
  if (c.tls.complete()) {
    q.name_source = policy::NameSource::kTlsSni;
    q.sni = c.tls.sni();
  } else if (c.http.status() == inspect::HttpStatus::kDone) {
    q.name_source = policy::NameSource::kHttpHost;
    if (!c.http.host_conflict()) q.sni = c.http.host();
  } else if (!c.meta_done) {
    q.sni_state = policy::SniState::kNotYet;
    return;
  }
  q.sni_state = q.sni.empty() ? policy::SniState::kAbsent : policy::SniState::kPresent;
}

}  // namespace dc::dataplane
