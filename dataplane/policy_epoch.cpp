// Building a published policy generation (engines per worker) on the control thread.
#include "dataplane/policy_epoch.hpp"

#include <new>
#include <string>

namespace dc::dataplane {

Result<std::unique_ptr<InspectEngine>> InspectEngine::create(const policy::Snapshot& snapshot,
                                                             uint32_t inspect_flows) {
  auto e = std::make_unique<InspectEngine>();
  const auto& db = snapshot.detector_db();
  if (db == nullptr || inspect_flows == 0) return e;
  // Findings are emitted as soon as they are confirmed (no wait for a keyword after the
  // value): a packet is forwarded only after its bytes were judged.
  inspect::StreamOptions so;
  so.forward_window = 0;
  // Control plane: an allocation failure is an error for the operator, never an abort.
  auto pool = [&]() -> Result<std::unique_ptr<inspect::StreamPool>> {
    try {
      // Two raw streams per inspected flow, and one more per flow on average for the decoded
      // streams of the HTTP decoding layer (shared: most flows carry no encoded body).
      return inspect::StreamPool::create(db, 3 * static_cast<size_t>(inspect_flows), so);
    } catch (const std::bad_alloc&) {
      return make_error(ErrorCode::kUnavailable,
                        "not enough memory for " + std::to_string(inspect_flows) +
                            " inspected flows per worker ([inspect] flows)");
    }
  }();
  if (!pool) return pool.error();
  e->streams = std::move(pool.value());
  auto scratch = inspect::Scratch::create(db);
  if (!scratch) return scratch.error();
  e->scratch = std::make_unique<inspect::Scratch>(std::move(scratch.value()));
  return e;
}

uint64_t PolicyEpoch::bound_flows() const noexcept {
  uint64_t n = 0;
  for (const auto& e : engines) n += e->flows.load(std::memory_order_acquire);
  return n;
}

Result<std::unique_ptr<PolicyEpoch>> PolicyEpoch::build(
    uint32_t generation, std::shared_ptr<const policy::Snapshot> snapshot,
    const std::vector<uint16_t>& zones, const std::vector<uint16_t>& peers, unsigned workers,
    uint32_t inspect_flows) {
  if (zones.size() != peers.size() || zones.size() > kMaxPorts)
    return make_error("policy epoch: bad port table");
  auto ep = std::make_unique<PolicyEpoch>();
  ep->generation = generation;
  for (size_t p = 0; p < zones.size(); ++p) {
    ep->port_zone[p] = zones[p];
    ep->port_peer_zone[p] = zones[peers[p]];
  }
  for (unsigned w = 0; w < workers; ++w) {
    auto e = InspectEngine::create(*snapshot, inspect_flows);
    if (!e) return e.error();
    ep->engines.push_back(std::move(e.value()));
  }
  ep->sources = ZoneSources::build(*snapshot);
  ep->snapshot = std::move(snapshot);
  return ep;
}

}  // namespace dc::dataplane
