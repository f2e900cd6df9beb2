#include "dataplane/pipeline.hpp"

#include <rte_mbuf.h>

#include <span>

namespace dc::dataplane {

using inspect::DropReason;

void WorkerCounters::add(const WorkerCounters& o) noexcept {
  for (unsigned p = 0; p <= kMaxPorts; ++p) {
    port[p].rx_packets += o.port[p].rx_packets;
    port[p].rx_bytes += o.port[p].rx_bytes;
    port[p].tx_packets += o.port[p].tx_packets;
    port[p].tx_bytes += o.port[p].tx_bytes;
  }
  for (size_t i = 0; i < inspect::kDropReasonCount; ++i) drops[i] += o.drops[i];
  bursts += o.bursts;
  forwarded += o.forwarded;
  dropped += o.dropped;
  flows_created += o.flows_created;
  flows_expired += o.flows_expired;
  unknown_ethertype_forwarded += o.unknown_ethertype_forwarded;
  fragments += o.fragments;
}

void Pipeline::process(uint16_t in_port, rte_mbuf* const* pkts, uint16_t n, int64_t now_ns,
                       PacketAction* actions) noexcept {
  ++counters_.bursts;
  auto& pc = counters_.port[in_port <= kMaxPorts ? in_port : kMaxPorts];
  for (uint16_t i = 0; i < n; ++i) {
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    pc.rx_packets++;
    pc.rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
    actions[i] = process_one(in_port, pkts[i], now_ns);
    if (actions[i] == PacketAction::kForward) ++counters_.forwarded;
  }
}

PacketAction Pipeline::process_one(uint16_t in_port, rte_mbuf* m, int64_t now_ns) noexcept {
  // 1. Decode (headers must be in the first segment; our mempools hold a full frame per mbuf).
  const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
  std::span<const uint8_t> frame(data, rte_pktmbuf_data_len(m));
  inspect::Decoded d;
  DropReason r = inspect::decode(frame, d, decode_opts_);
  if (r == DropReason::kUnknownEtherType) {
    if (settings_.forward_unknown_ethertype) {
      ++counters_.unknown_ethertype_forwarded;
      return PacketAction::kForward;
    }
    return drop(r);
  }
  if (r != DropReason::kNone) return drop(r);
  if (d.is_fragment) ++counters_.fragments;

  // 2. Zone of the ingress port.
  uint16_t zone = settings_.port_zone[in_port <= kMaxPorts ? in_port : kMaxPorts];
  if (zone == kNoZone && in_port != kReplayPort) return drop(DropReason::kNoZone);

  // 3. Flow lookup / create.
  FlowTuple t;
  t.src = d.src;
  t.dst = d.dst;
  t.sport = d.sport;
  t.dport = d.dport;
  t.proto = d.proto;
  t.vlan = d.vlan_outer;
  Direction dir = Direction::kForward;
  Flow* f = flows_.lookup(t, dir);
  if (f == nullptr) {
    // New flows need a policy (fail closed) unless the operator allowed a transparent lab mode.
    if (!settings_.allow_without_policy) return drop(DropReason::kNoPolicy);
    f = flows_.create_flow(t, d.tcp_flags, now_ns);
    if (f == nullptr) return drop(DropReason::kFlowTableFull);
    f->id |= static_cast<uint64_t>(worker_id_) << 48;
    f->src_zone = zone;
    ++counters_.flows_created;
  }
  flows_.on_packet(*f, dir, d.tcp_flags, rte_pktmbuf_pkt_len(m), now_ns);
  if (f->verdict == FlowVerdict::kBlock) return drop(f->block_reason);
  return PacketAction::kForward;
}

void Pipeline::expire(int64_t now_ns) noexcept {
  counters_.flows_expired +=
      flows_.expire_some(now_ns, settings_.expiry_budget, [](Flow&) noexcept {});
}

void Pipeline::expire_all() noexcept {
  flows_.expire_all([this](Flow&) noexcept { ++counters_.flows_expired; });
}

}  // namespace dc::dataplane
