#pragma once
// The outcome of one flow, as the dataplane hands it to the audit trail: a fixed-size, plain
// struct (no DPDK, no dataplane types) filled on a worker when a flow's verdict becomes final
// (blocked) or the flow ends, and read off the fast path by the audit writer thread
// (audit/writer_thread.hpp) or printed directly by offline replay (audit/flow_format.hpp).
// Names are resolved by the consumer: the outcome references the policy snapshot by pointer only.
#include <array>
#include <cstdint>

#include "inspect/decode/events.hpp"
#include "inspect/packet/decode.hpp"
#include "policy/snapshot.hpp"

namespace dc::audit {

// What the flow's verdict was ("verdict" of the record) and what the gateway did ("action").
enum class OutcomeVerdict : uint8_t { kPending, kAllow, kAlert, kBlock };
enum class OutcomeAction : uint8_t { kForward, kDrop, kAlert, kReset };

// A value found in the flow, kept for the record: its masked form and, hashed by the writer with
// the appliance key, the raw normalised value (which never leaves memory unhashed), and where it
// was found: the decoding path of the stream as text ("" = the raw TCP bytes). The worker formats
// it when it keeps the sample (at most kMaxSamples per flow, a bounded copy, no allocation),
// because named layers (ZIP archive and member names) are only valid while the decoder reports.
struct FindingSample {
  uint16_t detector = 0;
  uint8_t confidence = 0;
  uint8_t value_len = 0;
  char masked[40] = {};
  uint8_t value[48] = {};
  char path[112] = {};  // "http.request.body > gzip > zip:people.xlsx > xl/sharedStrings.xml"
};
inline constexpr unsigned kMaxSamples = 4;

// The connection as its first packet showed it (its source is the initiator).
struct OutcomeTuple {
  inspect::IpAddr src, dst;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  uint16_t vlan = 0;
};

struct OutcomeCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

// kClear: the payload was inspected as it crossed; kDecrypted: TLS decrypted with escrowed keys
// and inspected; kOpaque: encrypted and not decrypted (judged by [defaults] opaque_payload);
// kNone: no payload was inspected.
enum class PayloadInspection : uint8_t { kNone, kClear, kDecrypted, kOpaque };
const char* payload_inspection_name(PayloadInspection p) noexcept;  // "" for kNone

// Which record an outcome makes: the admission of a border flow (`flow_open`, which the flow's
// payload waits for), a long flow's progress (`flow_update`), or its final record (`flow`).
enum class OutcomeKind : uint8_t { kFinal, kOpen, kUpdate };

// Customs accounting of the flow (docs/accounting.md), from the ledger's latest answers: per
// scope slot (audit/ledger.hpp ScopeSlot: exporter, basis, counterparty+basis, declaration; each
// non-sensitive then sensitive) the count after the flow and the limit.
struct AccountingOutcome {
  static constexpr unsigned kSlots = 8;
  bool claimed = false;      // person keys were claimed
  bool refused = false;      // a person was refused (volume_cap)
  bool unavailable = false;  // no decision in time, or the store failed
  bool warn = false;         // a count reached warn_fraction of its limit
  uint8_t used = 0;          // bit per slot with a scope
  uint8_t kinds = 0;         // policy::kPersons* bits the flow's claims named (answered or not)
  uint8_t refused_slot = kSlots;
  uint16_t year = 0;
  uint32_t persons = 0;  // distinct persons of the flow counted by the ledger
  uint16_t exporter = 0xffff, declaration = 0xffff;
  policy::BasisId basis = policy::kNoBasis;
  policy::CounterpartyId counterparty = policy::kNoCounterparty;
  uint64_t counts[kSlots] = {};
  uint64_t limits[kSlots] = {};
};

struct FlowOutcome {
  OutcomeKind kind = OutcomeKind::kFinal;
  // kOpen: the worker and its ticket (a per-worker counter, in the worker's enqueue order); the
  // writer reports the highest ticket whose record is fsynced (OutcomeSource::set_durable).
  uint16_t worker = 0;
  uint32_t ticket = 0;
  uint64_t flow_id = 0;
  int64_t first_seen_ns = 0;
  int64_t last_seen_ns = 0;
  int64_t time_ns = 0;  // when the verdict became final / the flow ended
  OutcomeTuple initiator;
  uint16_t src_zone = 0xffff, dst_zone = 0xffff;  // zone indices of `policy`
  OutcomeCounters dir[2];      // [0] opener -> responder ("toserver"), [1] back ("toclient")
  OutcomeCounters crossed[2];  // forwarded by the appliance (same directions as `dir`)
  uint64_t dropped_packets = 0;
  OutcomeAction action = OutcomeAction::kForward;
  OutcomeVerdict verdict = OutcomeVerdict::kPending;
  // The dataplane's drop reason name for the flow's packets ("policy_block", ...): a static
  // string of the drop-reason table, valid for the life of the process; "none" when not blocked.
  const char* block_reason = "none";
  bool ended = false;  // false: emitted at block time while the flow still exists
  uint32_t flags = 0;  // policy::flag bits seen on the flow
  // The snapshot the flow was decided under. Not owned: it must outlive every consumer of this
  // outcome, so whoever frees policy generations counts an outcome still queued for the audit
  // writer as a reader of its snapshot.
  const policy::Snapshot* policy = nullptr;
  policy::Admission adm{};
  policy::CategoryTally tally{};
  policy::Verdict verdict_detail{};
  uint8_t samples_n = 0;
  FindingSample samples[kMaxSamples];
  char sni[256] = {};     // TLS server name ("" when none)
  uint8_t tls_state = 0;  // inspect::TlsStatus
  char http_host[256] = {};
  char http_method[24] = {};
  // The HTTP decoding layer's first ambiguous framing anomaly and first content_uninspected
  // condition (static names, e.g. "content_length_and_transfer_encoding", "ratio_limit"; nullptr:
  // none): the `detail` of the http_anomaly / content_uninspected reasons.
  const char* http_anomaly = nullptr;
  const char* content_uninspected = nullptr;
  // How the payload was inspected (`payload_inspection` of the record) and, for a TLS flow
  // decrypted with escrowed keys, the SHA-256 of the key log line that unlocked its exported
  // direction (evidence of which escrowed key was used; never the secret).
  PayloadInspection payload = PayloadInspection::kNone;
  bool has_key_line = false;
  std::array<uint8_t, 32> key_line_sha256{};
  AccountingOutcome acct{};
};

}  // namespace dc::audit
