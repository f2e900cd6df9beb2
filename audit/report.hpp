#pragma once
// `datacustoms audit report`: the reviewer's period report of an audit log directory. The caller
// verifies the log first (audit/verify.hpp) and hands the outcome in, so every rendering (text,
// JSON, CSV, HTML) says on its first line whether the log is intact. Flow records are summed per
// verdict, exporter, counterparty, legal basis, category, reason, zone pair, source host and UTC
// day, with bytes exported (towards the foreign end) apart from bytes received; policy
// generations, legal bases expiring soon and the blocked/alerted flows with their evidence.
// Threads: any; reads files only. Renderers: audit/report_render.cpp, audit/report_html.cpp.
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "audit/accounting_view.hpp"
#include "audit/verify.hpp"
#include "base/result.hpp"

namespace dc::audit {

struct Tally {
  std::uint64_t flows = 0;
  std::uint64_t allow = 0;
  std::uint64_t block = 0;
  std::uint64_t alert = 0;
  std::uint64_t other = 0;           // any other verdict string
  std::uint64_t exported_bytes = 0;  // forwarded towards the foreign end
  std::uint64_t received_bytes = 0;  // forwarded from the foreign end
  std::uint64_t findings = 0;        // category findings (categories[].count)
  std::uint64_t persons = 0;         // persons exported, where records carry `persons`
};

// The log's integrity as `audit verify` found it, in the words the report prints.
struct ReportIntegrity {
  bool verified = false;  // false: no verification ran (summarise_log)
  bool intact = false;
  std::string line;                   // "intact: ..." or "NOT INTACT: ..." (one line)
  std::vector<std::string> findings;  // formatted verifier findings (errors first)
};
ReportIntegrity integrity_of(const VerifyReport& v, const std::string& dir);

// A legal basis as the log (start / policy_reload records) or --policy names it.
struct BasisExpiry {
  std::string id, kind, ref, status;
  std::string expires;  // RFC 3339; "" = never
  std::int64_t days_left = 0;
};

// A policy generation: the start of a run or a reload (ok or failed).
struct PolicyGeneration {
  std::string time, event, sha256, version, error;
  std::uint64_t seq = 0;
  std::uint64_t flows = 0;  // flow records in the period decided under this sha256
};

// A blocked or alerted flow, with where its record is and its evidence.
struct FlaggedFlow {
  std::uint64_t seq = 0, line = 0, flow_id = 0;
  std::string file, time, verdict, action, community_id, src, dest, proto, zones;
  std::string counterparty, server_name, basis, exporter;
  std::vector<std::string> reasons;  // "kind" or "kind:category" (+ " (detail)")
  std::vector<std::string> values;   // "category masked @ path"
  std::vector<std::string> bases;    // "id: outcome[ (category)]"
  std::string evidence, evidence_missing;
  std::uint64_t exported_bytes = 0;
};

struct ReportOptions {
  std::string dir;
  std::optional<std::int64_t> since_ns, until_ns;  // [since, until)
  std::string since_text, until_text;              // as given
  // Legal bases of a --policy file (replaces the ones recorded in the log), and whether given.
  std::vector<BasisExpiry> policy_bases;
  bool policy_given = false;
  std::string policy_path;
  // The --policy snapshot: thresholds, caps, CIIO flags and declarations of the accounting
  // section (null: only what the records wrote).
  std::shared_ptr<const policy::Snapshot> policy;
  // Declarations' durable bytes from the accounting store (--accounting-state DIR), shown beside
  // the bytes of the flow records (docs/accounting.md "Durable declaration bytes").
  std::map<std::string, std::uint64_t> store_bytes;
  bool has_store_bytes = false;
};

struct AuditReport {
  std::string dir;
  ReportIntegrity integrity;
  std::string since, until;           // the period as asked ("" = open)
  std::string first_time, last_time;  // of the flow records in the period
  std::uint64_t files = 0, records = 0, unreadable = 0;
  std::uint64_t flows_outside = 0;      // flow records outside the period
  std::uint64_t without_direction = 0;  // records without `exported` (older format)
  std::uint64_t without_exporter = 0;   // records without `exporter` (accounting not yet)
  bool any_persons = false;             // some record carried `persons`
  Tally total;
  std::map<std::string, Tally> by_verdict, by_exporter, by_counterparty, by_basis, by_category,
      by_reason, by_zone_pair, by_source_host, by_day;
  std::map<std::string, Tally> by_policy;  // policy_sha256 of the deciding snapshot
  // zone pair -> counterparty -> tally (the flow diagram)
  std::map<std::string, std::map<std::string, Tally>> zone_to_counterparty;
  std::vector<PolicyGeneration> generations;
  std::string bases_from;             // "log record N (time)" / "--policy FILE" / ""
  std::string expiry_reference;       // the date expiries are counted from
  std::vector<BasisExpiry> expiring;  // expired or expiring within 90 days, soonest first
  std::vector<BasisExpiry> bases;     // every basis known
  std::vector<FlaggedFlow> flagged;   // blocked and alerted flows, log order
  // Customs accounting (docs/accounting.md "Reports"): shown when a record carried `accounting`
  // or a declaration, or the --policy counts persons or has declarations.
  bool accounting_in_use = false;
  std::shared_ptr<const policy::Snapshot> policy;  // keeps accounting.policy alive
  AccountingView accounting;

  std::string to_text() const;
  nlohmann::ordered_json to_json() const;
  std::string to_csv() const;
  // `link_base`: the log directory relative to where the HTML file is stored ("" = same dir).
  std::string to_html(const std::string& link_base) const;
};

// "2026-05-01" (start of that UTC day; as --until: the end of it) or RFC 3339 with a zone.
Result<std::int64_t> parse_report_time(const std::string& text, bool end_of_day);

Result<AuditReport> build_report(const ReportOptions& options, const ReportIntegrity& integrity);
// build_report over the whole log without verification (kept for callers that only count).
Result<AuditReport> summarise_log(const std::string& dir);

}  // namespace dc::audit
