#pragma once
// The per-packet pipeline: one function over a burst of packets, shared by the live workers
// (mbufs from ports) and offline replay (mbufs built from capture records). Same code, same
// data structures, same decisions. See docs/architecture.md for the life of a packet.
//
// Threads: one Pipeline per worker lcore (or one for replay); never shared.
// Never allocates, locks, throws or does I/O on the packet path.
#include <rte_mbuf.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "base/result.hpp"
#include "dataplane/accounting_channel.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/decode_scan.hpp"
#include "dataplane/drop_reason.hpp"
#include "dataplane/flow_event.hpp"
#include "dataplane/flow_findings.hpp"
#include "dataplane/flow_table.hpp"
#include "dataplane/inspect_pool.hpp"
#include "dataplane/key_handoff.hpp"
#include "dataplane/policy_epoch.hpp"
#include "dataplane/reassembly.hpp"
#include "dataplane/record_hold.hpp"
#include "dataplane/tls_flow.hpp"
#include "dataplane/tls_scan.hpp"
#include "dataplane/verdict_table.hpp"
#include "inspect/decode/worker.hpp"
#include "inspect/detect/scanner.hpp"
#include "inspect/stream/reorder.hpp"
#include "inspect/tls/key_store.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace dc::dataplane {

inline constexpr uint16_t kNoZone = 0xffff;

struct PipelineSettings {
  bool forward_unknown_ethertype = false;
  bool allow_without_policy = false;  // no policy: forward (lab) instead of fail-closed drop
  uint32_t expiry_budget = 64;
  uint32_t inspect_flows = 4096;  // per worker: flows with inspection state at once
  // Distinct verdicts the worker's flows hold at once (verdict_table.hpp); 0: 2 x inspect_flows
  // + 1024 (flows with findings carry their counts; the others share a few values).
  uint32_t verdicts = 0;
  // An inspected flow idle this long gives its inspection context back to the pool when nothing
  // in it is needed again (Pipeline::park_idle; appliance.toml [inspect] idle_return_s; 0: never).
  int64_t inspect_idle_ns = 60'000'000'000;
  uint32_t evidence_packets = 0;  // per flow: packets copied for evidence (0: none)
  // Blocked TCP flows: also reset both ends (RFC 9293 §3.10.7), once per flow, so applications
  // fail at once instead of waiting for a timeout. RSTs come from `tx_pool`.
  bool reset_on_block = false;
  ::rte_mempool* tx_pool = nullptr;
  inspect::ReorderConfig reorder{};
  // The HTTP decoding layer of inspected flows (appliance.toml [inspect] decode_*): the worker's
  // decoder arena and the per-flow output / expansion-ratio limits.
  inspect::decoding::DecodeLimits decode{};
  // Record before release (with a sink that records_opens()): a border flow's payload waits, at
  // most hold_timeout_ns, until its flow_open record is fsynced; then it crosses, or is dropped
  // and the flow meets the audit_unavailable failure action. hold_packets: per ingress port.
  bool hold_for_record = true;
  uint32_t hold_packets = 1024;
  int64_t hold_timeout_ns = 500'000'000;
  int64_t update_interval_ns = 60'000'000'000;  // flow_update records of long flows (0: none)
  uint16_t port_zone[kMaxPorts + 1];            // ingress port -> zone id (kNoZone: unknown)
  uint16_t port_peer_zone[kMaxPorts + 1];       // ingress port -> zone of its paired (egress) port
  // The policy: either fixed (`policy`, replay and tests: the pipeline builds its own engine) or
  // published generations (`epoch`, the live appliance: switched at the next burst).
  const policy::Snapshot* policy = nullptr;  // owned by the caller; outlives the pipeline
  const std::atomic<const PolicyEpoch*>* epoch = nullptr;
  PipelineSettings() {
    for (auto& z : port_zone) z = kNoZone;
    for (auto& z : port_peer_zone) z = kNoZone;
  }
  // IP reassembly (appliance.toml [dataplane] reassembly_*): needs tx_pool (pieces, buffers).
  ReassemblyConfig reassembly{};
  // Ingress port -> its frames end with the 4-byte Ethernet FCS (appliance.toml ports `fcs =
  // "strip"`): checked and stripped before decoding (dataplane/ethernet_fcs.cpp).
  bool port_fcs_strip[kMaxPorts + 1] = {};
  // Ingress port -> ARP / IPv6 neighbour discovery frames cross unchanged, outside flows and
  // audit (appliance.toml pairs option pass_arp / pass_nd; dataplane/l2_passthrough.cpp).
  bool port_pass_arp[kMaxPorts + 1] = {};
  bool port_pass_nd[kMaxPorts + 1] = {};
  // TLS with escrowed keys (appliance.toml [tls]; policy [defaults] tls_escrow): per worker, the
  // TLS flows decrypted at once and the connections whose keys are kept; per TLS flow, the packets
  // that wait for its keys and how long (then [defaults] opaque_payload applies). `keys`: the
  // live appliance's hand-off ring (drained by take_keys()); replay adds keys with add_key().
  uint32_t tls_sessions = 256;
  uint32_t tls_hold_packets = 64;
  int64_t tls_key_wait_ns = 200'000'000;
  uint32_t tls_key_store = 4096;
  int64_t tls_key_ttl_ns = 60'000'000'000;
  KeyHandoff* keys = nullptr;
  // Customs accounting (docs/accounting.md): person claims go to the ledger through `accounting`
  // (null: accounting off); the exported direction of a flow with claims pending waits, at most
  // accounting_wait_ns ([accounting] decision_wait_ms; then on_unavailable applies), in a
  // per-worker hold of accounting_hold_packets packets.
  AccountingChannel* accounting = nullptr;
  int64_t accounting_wait_ns = 50'000'000;
  uint32_t accounting_hold_packets = 1024;
};

// Packets the caller must transmit (to the paired port of the burst's ingress port) and free.
// Forwarded packets may include packets held from earlier bursts (out-of-order TCP segments
// released once the gap filled); held packets appear in neither list.
//
// `back` holds packets the pipeline made to go back out of the ingress port (TCP resets towards
// the sender of a blocked flow's packet).
struct BurstOutput {
  // One burst (each packet may release its reorder queue) plus one release_held() turn.
  static constexpr uint32_t kCapacity = 256 * (4 + inspect::kReorderQueueCapacity);
  rte_mbuf* fwd[kCapacity];
  rte_mbuf* drop[kCapacity];
  rte_mbuf* back[256];
  uint32_t n_fwd = 0;
  uint32_t n_drop = 0;
  uint32_t n_back = 0;
  void clear() noexcept { n_fwd = n_drop = n_back = 0; }
};

class Pipeline {
 public:
  // Builds the worker's inspection resources (stream pool, scratch) for settings.policy.
  static Result<std::unique_ptr<Pipeline>> create(uint16_t worker_id, FlowTable& flows,
                                                  const PipelineSettings& settings,
                                                  WorkerCounters& counters, FlowEventSink* sink);

  ~Pipeline();

  // Decides every packet of a burst (at most 256) received on `in_port` (kReplayPort in
  // replay) at time `now_ns` (ns since the Unix epoch).
  void process(uint16_t in_port, rte_mbuf* const* pkts, uint16_t n, int64_t now_ns,
               BurstOutput& out) noexcept;

  // Adopts the newest published generation (epoch mode); the live worker calls it once per loop
  // turn, right after it reports a quiescent state (process() calls it too).
  void refresh_epoch() noexcept;

  // Incremental expiry; called after every poll, but it works at most once per kExpiryTickNs
  // (an empty poll costs one comparison): each round reads max(expiry_budget, capacity / 1024)
  // deadlines, so a sweep of the table takes about a second at any capacity, and expires at most
  // expiry_budget flows. Held packets of expired flows are freed.
  void expire(int64_t now_ns) noexcept;
  static constexpr int64_t kExpiryTickNs = 1'000'000;
  // Ends every flow (shutdown / end of replay), emitting their records; held packets are freed.
  void expire_all(int64_t now_ns) noexcept;
  // Record before release: forwards the packets held on `in_port` whose flow_open record is now
  // durable, drops those that waited longer than the hold timeout. Called every loop turn.
  void release_held(uint16_t in_port, int64_t now_ns, BurstOutput& out) noexcept;
  uint32_t held_packets() const noexcept;
  // Escrowed keys (inspect_tls.cpp): take_keys() moves the worker's keys from the hand-off ring
  // into its key store (the live worker calls it once per loop turn); add_key() stores one key
  // directly (replay --keylog, tests). `now_ns` on the packet clock.
  void take_keys(int64_t now_ns) noexcept;
  inspect::tls::KeyStoreStatus add_key(const inspect::tls::KeyLogEntry& e, int64_t now_ns) noexcept;

  FlowTable& flows() noexcept { return flows_; }
  const InspectPool& inspect_pool() const noexcept { return pool_; }
  const VerdictTable& verdicts() const noexcept { return *verdicts_; }

 private:
  Pipeline(uint16_t worker_id, FlowTable& flows, const PipelineSettings& settings,
           WorkerCounters& counters, FlowEventSink* sink);

  // The packet path (pipeline.cpp): decode, zones, flow, verdict, forward or drop.
  // A burst is handled in batches of kBatch: decode_batch() runs steps 1-2 of every packet and
  // looks their flows up in bulk; process_one() then takes each packet on from step 3.
  static constexpr uint16_t kBatch = FlowTable::kBulkMax;
  struct BatchPacket {
    inspect::Decoded d;
    FlowTuple tuple;
    Flow* flow = nullptr;  // found by the bulk lookup
    Direction dir = Direction::kForward;
    uint16_t src_zone = 0, dst_zone = 0;
    bool go = false;  // false: handled (dropped or passed) in steps 1-2
  };
  BatchPacket batch_[kBatch];
  static FlowTuple tuple_of(const inspect::Decoded& d) noexcept {
    return FlowTuple{d.src, d.dst, d.sport, d.dport, d.proto, d.vlan_outer};
  }
  void decode_batch(uint16_t in_port, rte_mbuf* const* pkts, uint16_t k, BurstOutput& out) noexcept;
  void process_one(uint16_t in_port, rte_mbuf* m, BatchPacket& b, int64_t now_ns,
                   BurstOutput& out) noexcept;
  void process_packet(uint16_t in_port, rte_mbuf* m, BatchPacket& b, int64_t now_ns,
                      BurstOutput& out) noexcept;
  // A packet of flow `f` (found by the bulk lookup, so not a fragment) for which process_packet
  // would only count it in the flow and forward it: allowed or alerted under the current policy
  // (no re-admission), not TCP (no normaliser, no close), its direction not inspected, no server
  // name pending, no flow_open hold, no flow_update due, no reverse payload on a one-way link;
  // and for a border flow: no time re-decision due, no bytes to charge to a declaration, no
  // evidence copy to make. Reads lines 0-1 of the entry (and the cold evidence count only for a
  // border flow while evidence is being kept). Any other packet takes process_packet.
  bool quiet(const Flow& f, Direction dir, const inspect::Decoded& d,
             int64_t now_ns) const noexcept {
    if ((f.verdict != FlowVerdict::kAllow && f.verdict != FlowVerdict::kAlert) ||
        f.tcp != TcpState::kNone || f.finished || !f.open_durable || f.updates || f.sni_pending() ||
        f.inspects(dir) || f.policy != snap_ || (f.flags & policy::flag::kReversePayload) != 0)
      return false;
    if (dir == Direction::kReverse && d.payload_len > 0 && !f.reverse_payload_allowed())
      return false;
    if (!f.border()) return true;
    return now_ns < f.recheck_ns && !(f.has_declaration() && f.exports(dir) && d.payload_len > 0) &&
           !wants_evidence(f);
  }
  void forward_quiet(Flow& f, Direction dir, rte_mbuf* m, int64_t now_ns,
                     BurstOutput& out) noexcept {
    cur_flow_ = &f;
    FlowTable::count_packet(f, dir, rte_pktmbuf_pkt_len(m), now_ns);  // note_packet, on_packet
    cross(f, dir, m, out);                                            // judge_packet, forward_pkt
  }
  bool decode_frame(rte_mbuf* m, inspect::Decoded& d, BurstOutput& out) noexcept;
  bool zones_of(uint16_t in_port, const inspect::Decoded& d, rte_mbuf* m, uint16_t& src_zone,
                uint16_t& dst_zone, BurstOutput& out) noexcept;
  Flow* flow_of(const inspect::Decoded& d, uint16_t src_zone, uint16_t dst_zone, rte_mbuf* m,
                int64_t now_ns, Direction& dir, BurstOutput& out, Flow* known) noexcept;
  void note_packet(Flow& f, Direction dir, const inspect::Decoded& d, rte_mbuf* m,
                   int64_t now_ns) noexcept;
  void judge_packet(Flow& f, Direction dir, const inspect::Decoded& d, rte_mbuf* m, int64_t now_ns,
                    BurstOutput& out) noexcept;
  void drop_pkt(rte_mbuf* m, DropReason r, BurstOutput& out) noexcept;
  // Evidence: the first packets of every flow that is new, crosses the border or is blocked.
  bool wants_evidence(const Flow& f) const noexcept {
    return sink_ != nullptr && settings_.evidence_packets > 0 &&
           (f.verdict == FlowVerdict::kPending || f.border() || f.verdict == FlowVerdict::kBlock) &&
           f.cold().evidence_packets < settings_.evidence_packets;
  }
  void forward_pkt(rte_mbuf* m, BurstOutput& out) noexcept {
    if (Reassembler::owns(m)) return forward_fragments(m, out);  // one flag test otherwise
    ++counters_.forwarded;
    out.fwd[out.n_fwd++] = m;
  }
  // Forwards a packet of flow `f` and counts it as crossed (the flow record says what left). A
  // border flow's payload (and what follows it) first waits for its flow_open record.
  void forward_pkt(Flow& f, Direction dir, rte_mbuf* m, BurstOutput& out,
                   bool payload = true) noexcept {
    // No payload crosses before the server name (SNI / Host) decided: with the record hold it
    // waits in the flow (a few packets, name_wait.cpp; its flow_open record follows the name);
    // otherwise it is dropped once inspected, and crosses with the sender's retransmission
    // (kDuplicate) once decided.
    if (f.sni_pending() && payload) {
      if (hold_ != nullptr && wait_for_name(f, dir, m)) return;
      ++f.cold().dropped_packets;
      return drop_pkt(m, DropReason::kServerNamePending, out);
    }
    if (!f.open_durable && (payload || f.held > 0) && !cleared_to_cross(f, dir, m, out)) return;
    cross(f, dir, m, out);
  }
  void cross(Flow& f, Direction dir, rte_mbuf* m, BurstOutput& out) noexcept {
    DirCounters& c = f.crossed[static_cast<unsigned>(dir)];
    ++c.packets;
    c.bytes += rte_pktmbuf_pkt_len(m);
    forward_pkt(m, out);
  }
  // Drops a packet of a blocked flow; with reset_on_block, first resets both ends of a TCP flow
  // (tcp_reset.cpp).
  void drop_blocked(Flow& f, const inspect::Decoded& d, rte_mbuf* m, BurstOutput& out) noexcept;
  // Ethernet FCS: strip it on ports configured so; name a trailer that is one (ethernet_fcs.cpp).
  bool strip_fcs(uint16_t in_port, rte_mbuf* m, BurstOutput& out) noexcept;
  static DropReason trailer_reason(std::span<const uint8_t> frame) noexcept;
  // ARP / ND pass-through on ports that enable it (l2_passthrough.cpp). True when forwarded.
  bool pass_l2(inspect::DecodeStatus st, const inspect::Decoded& d, rte_mbuf* m,
               BurstOutput& out) noexcept;
  // The TCP normaliser in front of the reorderer (tcp_normalise.cpp): RST acceptance, RST data,
  // PAWS and window acceptance, urgent data, mid-stream pickup. False when the packet was consumed
  // (dropped).
  bool normalise_tcp(Flow& f, Direction dir, inspect::Decoded& d, rte_mbuf* m,
                     BurstOutput& out) noexcept;
  void refuse_unaccepted(Flow& f, unsigned di, rte_mbuf* m, DropReason r,
                         BurstOutput& out) noexcept;
  void scan_view(Flow& f, InspectCtx& ctx, Direction dir, const inspect::UrgentView& v,
                 int64_t now_ns) noexcept;
  // IP fragments (fragments.cpp): reassembly. True when `m` and `d` are now the reassembled
  // datagram (or, cur_frag_evasion_, the first fragment of an evasive one) to process further.
  bool reassemble(rte_mbuf*& m, inspect::Decoded& d, int64_t now_ns, BurstOutput& out) noexcept;
  void fragment_evasion(Flow& f, Direction dir, const inspect::Decoded& d, rte_mbuf* m,
                        int64_t now_ns, BurstOutput& out) noexcept;
  // A reassembled datagram crosses as the original fragments it was rebuilt from.
  void forward_fragments(rte_mbuf* m, BurstOutput& out) noexcept;

  // Admission and verdicts (flow_verdict.cpp).
  bool admit_new(Flow& f, const inspect::Decoded& d, int64_t now_ns) noexcept;
  void apply_verdict(Flow& f, const policy::Verdict& v, int64_t now_ns) noexcept;
  // Interned verdicts (verdict_table.hpp): the flow keeps indices. set_admission stores the
  // admission's facts and interns its verdict; admission_of rebuilds the whole Admission for the
  // policy's questions; apply_interned takes over one reference of `idx` as the latest verdict
  // (kFull: the table had no room, the flow fails closed as verdict_table_full).
  void set_admission(Flow& f, const policy::Admission& a) noexcept;
  policy::Admission admission_of(const Flow& f) const noexcept;
  const policy::Verdict& last_verdict(const Flow& f) const noexcept {
    return verdicts_->get(f.cold().last);
  }
  void apply_interned(Flow& f, uint32_t idx, int64_t now_ns) noexcept;
  void reevaluate(Flow& f, int64_t now_ns) noexcept;
  void settle_admission(Flow& f, int64_t now_ns) noexcept;

  // Payload inspection (inspect_payload.cpp).
  bool inspect_payload(Flow& f, Direction dir, const inspect::Decoded& d, rte_mbuf* m,
                       int64_t now_ns, BurstOutput& out) noexcept;
  bool inspect_datagram(Flow& f, InspectCtx& ctx, Direction dir, const inspect::Decoded& d,
                        rte_mbuf* m, int64_t now_ns, BurstOutput& out) noexcept;
  bool refuse_segment(Flow& f, InspectCtx& ctx, Direction dir, inspect::ReorderAction act,
                      rte_mbuf* m, int64_t now_ns, BurstOutput& out) noexcept;
  void deliver(Flow& f, InspectCtx& ctx, Direction dir, const inspect::Release& rel,
               const inspect::Decoded& d, rte_mbuf* m, int64_t now_ns, BurstOutput& out) noexcept;
  void scan_bytes(Flow& f, InspectCtx& ctx, Direction dir, std::span<const uint8_t> bytes,
                  int64_t now_ns) noexcept;
  void close_stream(Flow& f, InspectCtx& ctx, unsigned di) noexcept;
  // The HTTP decoding layer (inspect_decode.cpp): in-order bytes of an inspected direction are
  // decoded and the decoded bytes scanned before the segment carrying them is forwarded.
  bool decode_wanted(const InspectCtx& ctx) const noexcept;
  void decode_view(Flow& f, InspectCtx& ctx, Direction dir, const inspect::UrgentView& v) noexcept;
  void decode_fin(Flow& f, InspectCtx& ctx, Direction dir) noexcept;
  // Decoding after the burst's raw scans (inspect_decode.cpp): one in-order segment of a plain
  // HTTP/1.x direction is scanned raw at once; its decoding, the flow's judgement and the
  // segment's fate wait until the burst's raw scans are done (or the flow's next packet).
  struct DeferredSegment {
    Flow* f;
    InspectCtx* ctx;
    rte_mbuf* m;   // the packet being processed (resets come from it if it decides a block)
    rte_mbuf* pm;  // the packet the reorderer released
    inspect::UrgentView v;
    inspect::Decoded d;
    int64_t now_ns;
    Direction dir;
  };
  static constexpr uint16_t kMaxDeferred = 256;
  void defer_decode(const DeferredSegment& s, BurstOutput& out) noexcept;
  void settle_deferred(BurstOutput& out) noexcept;
  static void prefetch_payload(const DeferredSegment& s) noexcept;
  void end_decoding(Flow& f, InspectCtx& ctx) noexcept;
  void meta_bytes(Flow& f, InspectCtx& ctx, std::span<const uint8_t> bytes,
                  int64_t now_ns) noexcept;
  // The flow's inspection context, taken from the pool at its first inspected payload byte (or
  // FIN), never at the SYN; nullptr when the pool is empty (inspect_payload.cpp).
  InspectCtx* ctx_of(Flow& f) noexcept;
  void seed_streams(const Flow& f, InspectCtx& ctx) const noexcept;
  static void resume_meta(InspectCtx& ctx) noexcept;
  // The flow's category tally (in its InspectCtx; a flow without one has found nothing).
  const policy::CategoryTally& tally_of(const Flow& f) const noexcept {
    static constexpr policy::CategoryTally kNothingFound{};
    return f.inspect_ctx != kNoInspectCtx ? pool_.at(f.inspect_ctx).tally : kNothingFound;
  }
  // Idle inspection contexts back to the pool (inspect_park.cpp), from expire().
  void park_idle(int64_t now_ns) noexcept;
  bool parkable(const Flow& f, const InspectCtx& ctx) const noexcept;
  void park(Flow& f) noexcept;
  uint32_t park_cursor_ = 0;

  // Payload waiting in its flow for the server name, with a record hold (name_wait.cpp).
  bool wait_for_name(Flow& f, Direction dir, rte_mbuf* m) noexcept;
  void end_name_wait(Flow& f, InspectCtx& ctx, BurstOutput* out) noexcept;
  uint32_t name_waiting_ = 0;  // packets waiting in flows of this worker (bounded by hold_packets)
  // TLS with escrowed keys (inspect_tls.cpp, tls_hold.cpp): a Session per TLS flow of an
  // escrow-eligible border link, fed with both directions' in-order bytes; the exported
  // direction's packets wait for the keys (bounded, with a deadline) before they cross.
  TlsCtx* tls_admit(Flow& f, InspectCtx& ctx, const inspect::UrgentView& v) noexcept;
  bool tls_view(Flow& f, InspectCtx& ctx, Direction dir, const inspect::UrgentView& v, rte_mbuf* m,
                int64_t now_ns, BurstOutput& out) noexcept;
  void tls_feed(Flow& f, InspectCtx& ctx, TlsCtx& t, unsigned di, const uint8_t* p, uint32_t len,
                uint64_t start) noexcept;
  bool tls_try_keys(TlsCtx& t, int64_t now_ns) noexcept;
  void tls_conditions(Flow& f, InspectCtx& ctx, TlsCtx& t) noexcept;
  bool tls_holds(const Flow& f, unsigned di) const noexcept;
  bool tls_waiting(Flow& f, Direction dir) noexcept;
  void tls_fin(Flow& f, InspectCtx& ctx, Direction dir) noexcept;
  void tls_end(Flow& f, InspectCtx& ctx, int64_t now_ns) noexcept;
  void tls_close_layer(Flow& f, InspectCtx& ctx, TlsCtx& t, unsigned di, bool judge) noexcept;
  void tls_start_wait(TlsCtx& t, uint32_t idx, unsigned di, int64_t now_ns) noexcept;
  void tls_resume(Flow& f, InspectCtx& ctx, TlsCtx& t, int64_t now_ns, BurstOutput& out) noexcept;
  void tls_give_up(Flow& f, TlsCtx& t, int64_t now_ns, BurstOutput* out) noexcept;
  void tls_release_held(Flow& f, TlsCtx& t, uint64_t upto, BurstOutput* out) noexcept;
  void tls_poll(uint16_t in_port, int64_t now_ns, BurstOutput& out) noexcept;
  bool tls_poll_one(TlsCtx& t, uint16_t in_port, int64_t now_ns, BurstOutput& out) noexcept;

  // Record before release (record_hold.cpp).
  bool cleared_to_cross(Flow& f, Direction dir, rte_mbuf* m, BurstOutput& out) noexcept;
  void open_record(Flow& f, int64_t now_ns) noexcept;
  void update_record(Flow& f, int64_t now_ns) noexcept;
  bool release_one(const HeldPacket& h, bool timed_out, int64_t now_ns, BurstOutput& out) noexcept;
  void finish_if_closed(Flow& f, int64_t now_ns) noexcept;  // pipeline.cpp

  // Flow end and its record (flow_end.cpp).
  void end_flow(Flow& f, int64_t now_ns) noexcept;
  void emit(Flow& f, int64_t now_ns, bool ended) noexcept;
  void fill_outcome(const Flow& f, int64_t now_ns, bool ended,
                    audit::FlowOutcome& ev) const noexcept;

  void set_today(int64_t now_ns) noexcept;

  // Customs accounting (accounting_flow.cpp): claims from person-key findings, the hold of the
  // exported direction while they are pending, the ledger's answers.
  struct AcctTap final : PersonTap {
    Pipeline* p = nullptr;
    void on_person(Flow& f, const inspect::Finding& fd) noexcept override { p->acct_person(f, fd); }
  };
  struct AcctHeld {
    rte_mbuf* m;
    uint32_t slot;
    uint64_t flow_id;
    uint16_t port;
    uint8_t dir;
  };
  void acct_person(Flow& f, const inspect::Finding& fd) noexcept;
  void acct_kinds(Flow& f) noexcept;
  void acct_claim_base(const Flow& f, audit::PersonClaim& c) const noexcept;
  // True when a packet of `dir` must wait for the flow's pending claims (one byte test for flows
  // without person keys).
  bool acct_holds(Flow& f, Direction dir) noexcept {
    if (!f.acct.claimed) return false;
    acct_kinds(f);
    return static_cast<uint8_t>(dir) == f.acct.dir && (f.acct.pending > 0 || f.acct.held > 0);
  }
  void acct_hold(Flow& f, Direction dir, rte_mbuf* m, BurstOutput& out) noexcept;
  void acct_answer(const audit::ClaimAnswer& a, int64_t now_ns) noexcept;
  void acct_poll(uint16_t in_port, int64_t now_ns, BurstOutput& out) noexcept;
  bool acct_release(const AcctHeld& h, uint16_t in_port, int64_t now_ns, BurstOutput& out) noexcept;
  void acct_end(Flow& f) noexcept;
  void acct_fill(const Flow& f, audit::FlowOutcome& ev) const noexcept;
  policy::BasisId acct_basis(const Flow& f, int64_t now_ns) const noexcept;

  std::unique_ptr<Reassembler> reasm_;  // null without a tx_pool: fragments are dropped
  bool cur_reassembled_ = false;        // the packet being processed was reassembled
  bool cur_frag_evasion_ = false;       // ... is the first fragment of an evasive datagram
  uint16_t worker_id_;
  FlowTable& flows_;
  const PipelineSettings& settings_;
  WorkerCounters& counters_;
  FlowEventSink* sink_;
  inspect::DecodeOptions decode_opts_{};
  inspect::Reorderer reorderer_;
  // Declared before pool_: the flows' decoders return their codec memory to it on destruction.
  std::unique_ptr<inspect::decoding::DecodeWorker> decode_worker_;
  std::unique_ptr<VerdictTable> verdicts_;  // the flows' interned verdicts (verdict_table.hpp)
  InspectPool pool_;
  void adopt(const PolicyEpoch* e) noexcept;
  void bind_engine(Flow& f, InspectEngine* e) noexcept;
  void readmit(Flow& f, Direction dir, uint16_t in_port, int64_t now_ns) noexcept;
  inspect::Scratch* scratch_for(Flow& f) noexcept;
  Result<void> create_tls();
  Result<void> create_verdicts();  // the VerdictTable, attached to the flow table
  Result<void> create_accounting();

  // The current policy generation (fixed mode: settings.policy and an own engine).
  const policy::Snapshot* snap_ = nullptr;
  InspectEngine* engine_ = nullptr;
  const uint16_t* port_zone_ = nullptr;
  const uint16_t* port_peer_zone_ = nullptr;
  const ZoneSources* sources_ = nullptr;  // snap_'s zones' IPv4 sources (zone_sources.hpp)
  ZoneSources own_sources_;               // fixed mode: built from settings.policy
  const PolicyEpoch* epoch_seen_ = nullptr;
  uint32_t generation_ = 0;
  std::unique_ptr<InspectEngine> own_engine_;
  inspect::CivilDate today_ = inspect::kNoDateLimit;
  FlowFindings findings_;
  DecodedScan decoded_scan_{findings_, counters_};
  std::array<DeferredSegment, kMaxDeferred> deferred_;
  uint16_t n_deferred_ = 0;
  bool deferring_ = false;  // in process(): segments may wait for the burst's end
  int64_t today_day_ = -1;
  int64_t next_expiry_ns_ = INT64_MIN;     // expire() does nothing before this time
  int64_t next_key_sweep_ns_ = INT64_MIN;  // expired escrowed keys are wiped once a second
  Flow* cur_flow_ = nullptr;               // the flow of the packet being processed
  uint16_t cur_port_ = 0;                  // the ingress port of the burst being processed
  int64_t cur_now_ns_ = 0;
  std::unique_ptr<HoldQueue[]> hold_;  // per ingress port (kMaxPorts + 1), or null: no holding
  // TLS decryption: the worker's OpenSSL contexts, escrowed keys, sessions, plaintext scanning,
  // and the sessions whose flows wait for keys (indices into tls_pool_; reserved at creation).
  std::unique_ptr<inspect::tls::Crypto> crypto_;
  std::unique_ptr<inspect::tls::KeyStore> key_store_;
  std::unique_ptr<TlsPool> tls_pool_;
  TlsPlainScan tls_scan_{findings_, decoded_scan_, counters_};
  std::vector<uint32_t> tls_waiting_;
  uint32_t open_tickets_ = 0;          // flow_open tickets issued by this worker
  AccountingChannel* acct_ = nullptr;  // customs accounting (null: off)
  AcctTap acct_tap_;
  std::vector<AcctHeld> acct_held_;                 // reserved at creation (hold_packets)
  std::vector<audit::AccountingOutcome> acct_sum_;  // per inspect context: the record's counts
};

}  // namespace dc::dataplane
