#pragma once
// The audit log's vocabulary: file naming, the chain's genesis, record types, timestamps, the
// checkpoint's signed canonical form, and the flow record schema. docs/audit-format.md is the
// normative description; this header and that document must agree.
// Threads: pure functions, re-entrant. Used by the writer thread, the verifier and the reporter.
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace dc::audit {

// UTC, nanoseconds since the Unix epoch. The audit writer never reads the wall clock itself: time
// comes from the injected clock (the appliance passes the system clock, tests a fake one).
using TimePoint = std::chrono::sys_time<std::chrono::nanoseconds>;

// RFC 3339 UTC with microseconds: "2024-05-01T12:00:00.000123Z".
std::string format_time(TimePoint t);
// Accepts RFC 3339 with 'Z' or a numeric offset ("+08:00", "+0800"); returns the UTC date
// "YYYY-MM-DD" of that instant.
std::optional<std::string> utc_date(std::string_view rfc3339);

// The first record of a log chains from 64 '0' characters (no record precedes it).
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Log files are "audit-<seq of the file's first record, 12 digits>.jsonl": lexical order is chain
// order, and the name of a missing file can be computed from its neighbours.
inline constexpr std::string_view kLogPrefix = "audit-";
inline constexpr std::string_view kLogSuffix = ".jsonl";
std::string log_file_name(std::uint64_t first_seq);
std::optional<std::uint64_t> parse_log_file_name(std::string_view name);

enum class RecordType {
  kFlow,
  kStart,
  kStop,
  kPolicyReload,
  kFailOpen,
  kFailClosed,
  kRotation,
  kCheckpoint,
  kRecordsLost,   // written after a write fault ends: how many records were dropped meanwhile
  kWitnessError,  // a checkpoint witness started failing (once per failure episode)
  kFlowOpen,      // a border flow's admission, durable before its first payload byte crosses
  kFlowUpdate,    // a long flow's progress (bytes, findings so far)
  kRecovery,      // written at start after an unclean run: the flows it opened and never closed
};
std::string_view record_type_name(RecordType t);
std::optional<RecordType> parse_record_type(std::string_view name);

// A signed checkpoint. It seals every record before it: `last_hash` is the hash of record
// `seq - 1`, which commits (through the chain) to every earlier record.
struct Checkpoint {
  std::uint64_t seq = 0;           // the checkpoint record's own seq
  std::string time;                // the checkpoint record's "time"
  std::uint64_t first_seq = 0;     // first record covered by this checkpoint
  std::uint64_t last_seq = 0;      // == seq - 1
  std::string last_hash;           // == the record's "prev"
  std::uint64_t records = 0;       // last_seq - first_seq + 1
  std::uint64_t flows = 0;         // flow records among them
  std::vector<std::string> files;  // log files holding records first_seq..seq, in order
  std::string reason;              // "records" | "interval" | "rotation" | "close"
  std::string key_id;              // SigningKey::key_id() of the signer
  std::string sig;                 // base64 Ed25519 signature over checkpoint_signing_bytes()
};

// The exact bytes that are signed (see docs/audit-format.md, "Checkpoint canonical form").
std::string checkpoint_signing_bytes(const Checkpoint& c);
nlohmann::ordered_json checkpoint_to_json(const Checkpoint& c);  // the "checkpoint" member
// Reads a checkpoint back from a parsed record (top-level seq/time + "checkpoint" member).
Result<Checkpoint> checkpoint_from_record(const nlohmann::json& record);

// --- Flow records --------------------------------------------------------------------------------
// Field names follow Suricata EVE where one exists (src_ip, dest_ip, proto, flow.pkts_toserver...).
struct CategoryCount {
  std::string name;         // negative-list category id, e.g. "resident_id"
  std::uint64_t count = 0;  // confirmed findings
  std::string confidence;   // highest level seen: very_unlikely .. very_likely
};
struct MaskedValue {
  std::string category;
  std::string masked;  // mask_value(raw)
  std::string hmac;    // hmac_sha256_hex(appliance key, raw)
  std::string path;    // where it was found: "raw" or e.g. "http.request.body > gzip > json"
};
struct EvidenceRef {
  std::string file;  // relative to the log directory: "evidence/<name>.pcap"
  std::string sha256;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  bool truncated = false;  // the per-flow packet/byte bound was reached
};
struct FlowRecord {
  TimePoint time{};  // the verdict's packet timestamp
  std::uint64_t flow_id = 0;
  std::string community_id;
  std::string src_ip;
  std::uint16_t src_port = 0;
  std::string dest_ip;
  std::uint16_t dest_port = 0;
  std::string proto;  // "TCP", "UDP", ... (EVE spelling)
  std::string src_zone;
  std::string dest_zone;
  std::string counterparty;     // empty: none matched
  std::string exporter;         // the domestic end's [[exporters]] id; empty: unattributed
  std::string legal_basis;      // "security_assessment" | "standard_contract" | ... ; empty: none
  std::string legal_basis_ref;  // approval reference number (the basis id when it has none)
  std::string legal_basis_id;   // the basis's stable id in the policy: the join key
  // Every legal basis of the counterparty, as judged for this flow (docs/audit-format.md):
  // [{id, kind, ref, outcome, category?}], outcome "covers", "valid", "expired", ...
  nlohmann::ordered_json bases_considered = nlohmann::ordered_json::array();
  std::string declaration;  // the declaration the flow crossed under (its id); empty: none
  std::string verdict;      // "allow" | "block" | "alert"
  std::string action;       // "forward" | "drop" | "reset" | "alert"
  // Ordered reasons, most decisive first: {kind, action, category?, detector?, count?,
  // counterparty?, basis?} objects (docs/audit-format.md).
  nlohmann::ordered_json reasons = nlohmann::ordered_json::array();
  std::string sni;        // TLS server name; empty: none
  std::string http_host;  // HTTP Host; empty: none
  // Which of them named the server the endpoint was matched by: "sni", "http_host"; empty: the
  // endpoint was matched by address alone (or none matched).
  std::string server_name_from;
  // How the payload was inspected: "clear", "decrypted" (TLS, escrowed keys), "opaque"; empty:
  // none. For "decrypted": the SHA-256 (hex) of the key log line that unlocked it, else empty.
  std::string payload_inspection;
  std::string tls_key_line_sha256;
  std::vector<CategoryCount> categories;
  std::vector<MaskedValue> values;
  std::uint64_t bytes_toserver = 0, bytes_toclient = 0;
  std::uint64_t pkts_toserver = 0, pkts_toclient = 0;
  // What the appliance forwarded (both directions): a flow blocked after some of its packets
  // crossed says so here, next to `verdict: block`.
  std::uint64_t crossed_packets = 0, crossed_bytes = 0;
  // Border flows: which end is foreign ("dest" or "src"; empty: not a border flow) and what was
  // forwarded towards it (exported) and back from it (received).
  std::string foreign_side;
  std::uint64_t exported_packets = 0, exported_bytes = 0;
  std::uint64_t received_packets = 0, received_bytes = 0;
  std::string policy_sha256;
  std::optional<EvidenceRef> evidence;
  std::string evidence_missing;  // a blocked flow's capture absent or partial: why ("" none)
  // Customs accounting (docs/accounting.md): null when the flow claimed no person.
  nlohmann::ordered_json accounting;
};
// The body passed to LogWriter::append_flow().
nlohmann::ordered_json flow_record_body(const FlowRecord& f);
// The body of a flow_open record: who, where, under which counterparty, basis and policy.
nlohmann::ordered_json flow_open_body(const FlowRecord& f);
nlohmann::ordered_json evidence_to_json(const EvidenceRef& e);

}  // namespace dc::audit
