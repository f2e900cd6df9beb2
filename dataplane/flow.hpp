#pragma once
// A flow: both directions of one connection, keyed symmetrically.
#include <cstddef>
#include <cstdint>

#include "dataplane/drop_reason.hpp"
#include "inspect/packet/decode.hpp"
#include "inspect/stream/normalise.hpp"
#include "policy/snapshot.hpp"

namespace dc::dataplane {

enum class Direction : uint8_t { kForward = 0, kReverse = 1 };  // relative to the initiator

enum class TcpState : uint8_t {
  kNone,         // not TCP
  kSynSent,      // SYN seen from the initiator
  kSynReceived,  // SYN+ACK seen from the responder
  kEstablished,
  kClosing,  // a FIN seen
  kClosed,   // RST, or FIN seen both ways
};
const char* tcp_state_name(TcpState s) noexcept;

// The 5-tuple of one packet, as decoded.
struct FlowTuple {
  inspect::IpAddr src, dst;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  uint16_t vlan = 0;  // outer VLAN id: the same addresses on two VLANs are two flows
};

// The policy's question about a flow opened as `t` between two zones at `now_ns` (admission,
// re-admission after a reload, and the SNI re-decision all ask it).
inline policy::FlowQuery flow_query(const FlowTuple& t, uint16_t src_zone, uint16_t dst_zone,
                                    int64_t now_ns) noexcept {
  policy::FlowQuery q;
  q.src_zone = src_zone;
  q.dst_zone = dst_zone;
  q.src = t.src;
  q.dst = t.dst;
  q.sport = t.sport;
  q.dport = t.dport;
  q.proto = t.proto;
  q.now_ns = now_ns;
  return q;
}

enum class FlowVerdict : uint8_t { kPending, kAllow, kAlert, kBlock };

struct DirCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

inline constexpr uint32_t kNoInspectCtx = 0xffffffff;
struct InspectEngine;

// Customs accounting of a flow (dataplane/accounting_flow.cpp): person claims in flight to the
// ledger, and packets of the exported direction held until they are answered.
struct FlowAccounting {
  uint16_t pending = 0;  // claims not answered yet (in the current generation)
  uint16_t held = 0;     // packets in the worker's accounting hold
  uint8_t kinds = 0;     // policy::kPersons* bits claimed so far
  uint8_t dir = 0;       // the exported direction (index) whose packets wait
  bool claimed = false;  // a claim was sent: the ledger keeps the flow until kEnd
  uint8_t pad = 0;
  uint32_t gen = 0;      // bumped when a wait times out: older answers no longer release
  int64_t since_ns = 0;  // when the oldest pending claim was sent
};

// ---- Cold flow state ----
// What a flow needs only at its decisions and records, never on the per-packet path of an
// established uninspected flow: the admission result, the latest verdict, audit bookkeeping.
// (The category tally lives in the flow's InspectCtx: only inspected flows have findings.) It lives
// in a side array of the flow table (one entry per slot, reached through Flow::cold()), so the hot
// entry stays small and the burst path touches fewer cache lines. New fields that are not read per
// packet (record attribution, pending accounting, ...) belong here. The fields an admitted flow's
// packets read (the admission facts, the flow_update time, the evidence count) come first, in the
// entry's first 40 bytes.
struct FlowCold {
  // Policy facts: the admission under Flow::policy (readmitted_generation says whether it was
  // re-admitted under a newer one) and the latest verdict (the reasons of the flow's record).
  // Both verdicts are indices into the worker's VerdictTable (dataplane/verdict_table.hpp), set
  // and read through Pipeline (set_admission, admission_of, last_verdict); the flow table
  // releases them when the flow is removed.
  policy::AdmissionFacts adm{};
  int64_t next_update_ns = 0;     // when the next flow_update record is due (0: none)
  uint32_t evidence_packets = 0;  // packets copied to the evidence store so far
  uint32_t adm_verdict = 0;       // VerdictTable::kDefault
  uint32_t last = 0;
  // Record before release (dataplane/record_hold.cpp): the ticket of the flow's flow_open record
  // (0 until written).
  uint32_t open_ticket = 0;
  // After a policy reload the flow is re-admitted once under the newest generation (a number,
  // since freed snapshots' addresses are reused): if that blocks it, it is blocked and moves to
  // that generation (Flow::policy).
  uint32_t readmitted_generation = 0;
  int64_t first_seen_ns = 0;
  uint64_t id = 0;  // unique per process: (worker << 48) | sequence
  uint64_t dropped_packets = 0;
};
static_assert(sizeof(FlowCold) == 80);

// Flow::facts bits: the admission facts (policy::AdmissionFacts) the per-packet path reads.
namespace fact {
inline constexpr uint8_t kBorder = 1 << 0, kReversePayloadAllowed = 1 << 1, kSniPending = 1 << 2,
                         kDeclaration = 1 << 3, kInspectForward = 1 << 4, kInspectReverse = 1 << 5,
                         kForwardExport = 1 << 6, kReverseExport = 1 << 7;
}
inline uint8_t facts_of(const policy::AdmissionFacts& a) noexcept {
  return static_cast<uint8_t>((a.border ? fact::kBorder : 0) |
                              (a.reverse_payload_allowed ? fact::kReversePayloadAllowed : 0) |
                              (a.sni_pending ? fact::kSniPending : 0) |
                              (a.declaration != policy::kNoDeclaration ? fact::kDeclaration : 0) |
                              (a.inspect_forward ? fact::kInspectForward : 0) |
                              (a.inspect_reverse ? fact::kInspectReverse : 0) |
                              (a.forward_is_export() ? fact::kForwardExport : 0) |
                              (a.reverse_is_export() ? fact::kReverseExport : 0));
}
// A new flow's facts: those of a default AdmissionFacts (flow_table_test checks it).
inline constexpr uint8_t kDefaultFacts = fact::kReversePayloadAllowed;

// ---- Hot flow entry ----
// One flow slot in the worker's flow table: what the per-packet path reads and writes. Inspection
// state (reorder queues, scanner streams, TLS/HTTP parsers) lives in a separate pool
// (dataplane/inspect_pool.hpp) and only inspected flows take a slot there; cold state is in
// FlowCold. Four cache lines, ordered by use: line 0 is what every packet reads and writes (time,
// counters, state bytes, the hot copy of the admission facts), line 1 what a forwarded packet adds
// (crossed counters, policy, a border flow's re-decision time), line 2 the tuple and the
// accounting state (read at decisions, records and by inspected flows), line 3 the TCP normaliser
// (TCP packets only). No pointer to the cold state: Flow::cold() computes it from the slot number
// (the flow table lays the cold array out just before the hot one, FlowTable::create).
struct alignas(64) Flow {
  // -- line 0
  int64_t last_seen_ns = 0;
  DirCounters dir[2];
  uint32_t slot = 0;
  uint32_t flags = 0;  // policy::flag bits seen on this flow (evasion, failures, ...)
  uint32_t inspect_ctx = kNoInspectCtx;
  bool in_use = false;
  bool initiator_is_lo = false;  // key orientation of the initiator
  TcpState tcp = TcpState::kNone;
  uint8_t fin_seen = 0;                         // bit per direction
  FlowVerdict verdict = FlowVerdict::kPending;  // the flow's sticky outcome so far
  bool reported = false;  // the flow's record was emitted (a block is final at once)
  bool finished = false;  // TCP closed both ways: inspection ended, record emitted
  // Rare events, one byte for the three (room in this line for `facts` and `updates`).
  bool reset_sent : 1 = false;     // RSTs sent to both ends (block action "reset")
  bool evidence_lost : 1 = false;  // an evidence copy failed (before admission: border not known)
  bool midstream : 1 = false;      // first seen without a SYN: its opener is a guess (`midstream`)
  bool decode_deferred : 1 = false;  // a segment waits for its decoding (Pipeline::defer_decode)
  DropReason block_reason = DropReason::kNone;
  // Record before release (dataplane/record_hold.cpp): a border flow's payload crosses only once
  // its flow_open record (FlowCold::open_ticket) is durable.
  bool open_durable = true;  // false: payload waits for the flow_open record
  // The admission facts a packet reads (fact:: bits of FlowCold::adm, facts_of()), here so that
  // no packet of an admitted flow reads its cold entry. Written only with FlowCold::adm
  // (Pipeline::set_admission, Flow::clear_sni_pending).
  uint8_t facts = kDefaultFacts;
  bool updates = false;  // flow_update records are due (FlowCold::next_update_ns set)
  // -- line 1
  DirCounters crossed[2];  // forwarded by the appliance, per direction (what actually crossed)
  // `policy` is the snapshot the flow was admitted with; `engine` scans with that snapshot's
  // detector database (FlowCold::readmitted_generation: re-admission after a reload).
  const policy::Snapshot* policy = nullptr;
  InspectEngine* engine = nullptr;
  int64_t recheck_ns = 0;  // re-decide by time alone from here on (Snapshot::next_change_ns)
  uint16_t src_zone = 0xffff;
  uint16_t dst_zone = 0xffff;
  uint16_t held = 0;  // packets of the flow waiting in the hold queues
  // Its inspection context went back to the pool while the flow was idle (Pipeline::park_idle):
  // a context taken again resumes the streams where the receivers are, not at the SYN.
  bool inspect_parked = false;
  // -- line 2
  FlowAccounting acct{};  // customs accounting: claims in flight, held packets
  FlowTuple initiator;    // tuple of the first packet seen (its source is the initiator)
  // -- line 3: TCP normaliser state of both senders (dataplane/tcp_normalise.cpp).
  inspect::TcpNormState norm{};

  // This slot's cold state (FlowTable::create: cold entry i lies (i + 1) entries before hot slot
  // 0). Computed, not stored: 8 bytes less per slot. Only for flows inside a FlowTable.
  FlowCold& cold() const noexcept;

  // The hot copies of the admission facts (`facts`).
  bool border() const noexcept { return facts & fact::kBorder; }
  bool sni_pending() const noexcept { return facts & fact::kSniPending; }
  bool has_declaration() const noexcept { return facts & fact::kDeclaration; }
  bool reverse_payload_allowed() const noexcept { return facts & fact::kReversePayloadAllowed; }
  bool inspects(Direction d) const noexcept {
    return facts & (d == Direction::kForward ? fact::kInspectForward : fact::kInspectReverse);
  }
  bool exports(Direction d) const noexcept {
    return facts & (d == Direction::kForward ? fact::kForwardExport : fact::kReverseExport);
  }
  void set_admission_facts(const policy::AdmissionFacts& a) noexcept;
  void clear_sni_pending() noexcept;
};
static_assert(sizeof(FlowTuple) == 40 && sizeof(FlowAccounting) == 24);
static_assert(offsetof(Flow, crossed) == 64 && offsetof(Flow, recheck_ns) < 128 &&
                  offsetof(Flow, acct) == 128 && offsetof(Flow, norm) == 192 && sizeof(Flow) == 256,
              "hot flow entry: four cache lines (a border flow's time re-decision in line 1), norm "
              "alone in the last");

// Slot i's cold entry, given the table's hot slot 0: it sits (i + 1) entries below slots[0] in
// the same allocation (FlowTable::create). Why arithmetic: a pointer per slot would cost 8 bytes
// of every flow. Also used by FlowTable::lookup_bulk to prefetch a hit's cold entry before the
// hot entry (and its `slot`) has been read.
inline FlowCold* cold_entry(const Flow* slots0, std::size_t i) noexcept {
  char* hot0 = const_cast<char*>(reinterpret_cast<const char*>(slots0));
  return reinterpret_cast<FlowCold*>(hot0 - (i + 1) * sizeof(FlowCold));
}

inline FlowCold& Flow::cold() const noexcept { return *cold_entry(this - slot, slot); }

inline void Flow::set_admission_facts(const policy::AdmissionFacts& a) noexcept {
  cold().adm = a;
  facts = facts_of(a);
}
inline void Flow::clear_sni_pending() noexcept {
  cold().adm.sni_pending = false;
  facts &= static_cast<uint8_t>(~fact::kSniPending);
}

}  // namespace dc::dataplane
