// `audit report`: reads a log directory once and sums its flow records for the period report.
#include "audit/report.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "audit/record.hpp"
#include "base/time.hpp"

namespace dc::audit {
namespace fs = std::filesystem;
namespace {

using Json = nlohmann::json;

std::uint64_t u64_at(const Json& j, const char* a, const char* b) {
  auto it = j.find(a);
  if (it == j.end() || !it->is_object()) return 0;
  auto v = it->find(b);
  return v != it->end() && v->is_number_unsigned() ? v->get<std::uint64_t>() : 0;
}

// A member that is not an unsigned number (a hand-edited log) reads as 0, never throws.
std::uint64_t u64_of(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

std::string str_or(const Json& j, const char* key, const char* fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string(fallback);
}

// What one flow record adds to every tally it belongs to.
struct FlowFacts {
  std::string verdict;
  std::uint64_t exported = 0, received = 0, findings = 0, persons = 0;
};

void count(Tally& t, const FlowFacts& f) {
  ++t.flows;
  t.exported_bytes += f.exported;
  t.received_bytes += f.received;
  t.findings += f.findings;
  t.persons += f.persons;
  if (f.verdict == "allow")
    ++t.allow;
  else if (f.verdict == "block")
    ++t.block;
  else if (f.verdict == "alert")
    ++t.alert;
  else
    ++t.other;
}

// "exporter" as accounting writes it (a string or {id}); none yet: "unattributed".
std::string exporter_of(const Json& j, bool& present) {
  auto it = j.find("exporter");
  present = it != j.end() && !it->is_null();
  if (present && it->is_string()) return it->get<std::string>();
  if (present && it->is_object()) return str_or(*it, "id", "unattributed");
  return "unattributed";
}

// The stable id of the covering basis: "id (ref)"; older records without id: "kind ref".
std::string basis_of(const Json& j) {
  auto it = j.find("legal_basis");
  if (it == j.end() || !it->is_object()) return "(none)";
  const std::string id = str_or(*it, "id", ""), ref = str_or(*it, "ref", "");
  if (!id.empty()) return ref.empty() || ref == id ? id : id + " (" + ref + ")";
  return str_or(*it, "kind", "?") + " " + ref;
}

std::string zones_of(const Json& j) {
  auto z = j.find("zones");
  if (z == j.end() || !z->is_object()) return "(unknown)";
  return str_or(*z, "src", "?") + "->" + str_or(*z, "dest", "?");
}

std::vector<std::string> reason_texts(const Json& j) {
  std::vector<std::string> out;
  auto it = j.find("reasons");
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& r : *it) {
    if (!r.is_object()) continue;
    std::string s = str_or(r, "kind", "?");
    if (auto c = str_or(r, "category", ""); !c.empty()) s += ":" + c;
    if (auto d = str_or(r, "detail", ""); !d.empty()) s += " (" + d + ")";
    out.push_back(std::move(s));
  }
  return out;
}

FlaggedFlow flagged_of(const Json& j, const std::string& file, std::uint64_t line) {
  FlaggedFlow f;
  f.seq = u64_of(j, "seq");
  f.file = file;
  f.line = line;
  f.flow_id = u64_of(j, "flow_id");
  f.time = str_or(j, "time", "");
  f.verdict = str_or(j, "verdict", "");
  f.action = str_or(j, "action", "");
  f.community_id = str_or(j, "community_id", "");
  f.src = str_or(j, "src_ip", "?") + ":" + std::to_string(u64_of(j, "src_port"));
  f.dest = str_or(j, "dest_ip", "?") + ":" + std::to_string(u64_of(j, "dest_port"));
  f.proto = str_or(j, "proto", "");
  f.zones = zones_of(j);
  f.counterparty = str_or(j, "counterparty", "(none)");
  f.server_name = str_or(j, "sni", "");
  if (f.server_name.empty()) f.server_name = str_or(j, "http_host", "");
  f.basis = basis_of(j);
  bool present = false;
  f.exporter = exporter_of(j, present);
  f.reasons = reason_texts(j);
  if (auto v = j.find("values"); v != j.end() && v->is_array())
    for (const auto& x : *v)
      if (x.is_object())
        f.values.push_back(str_or(x, "category", "?") + " " + str_or(x, "masked", "?") + " @ " +
                           str_or(x, "path", "raw"));
  if (auto b = j.find("bases_considered"); b != j.end() && b->is_array())
    for (const auto& x : *b)
      if (x.is_object()) {
        std::string s = str_or(x, "id", "?") + ": " + str_or(x, "outcome", "?");
        if (auto c = str_or(x, "category", ""); !c.empty()) s += " (" + c + ")";
        f.bases.push_back(std::move(s));
      }
  if (auto e = j.find("evidence"); e != j.end() && e->is_object())
    f.evidence = str_or(*e, "file", "");
  f.evidence_missing = str_or(j, "evidence_missing", "");
  f.exported_bytes = u64_at(j, "exported", "bytes");
  return f;
}

// Reads every log line, in chain order; calls fn(json, file, line) for each parsed record.
template <class F>
Result<void> for_each_record(const std::string& dir, AuditReport& r, F&& fn) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return make_error(dir + ": not a directory");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (parse_log_file_name(e.path().filename().string())) files.push_back(e.path().filename());
  if (files.empty()) return make_error(dir + ": no audit-*.jsonl files");
  std::sort(files.begin(), files.end());
  r.files = files.size();
  for (const auto& name : files) {
    std::ifstream in(fs::path(dir) / name, std::ios::binary);
    if (!in) return make_error(dir + "/" + name + ": cannot read");
    std::string line;
    std::uint64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      ++r.records;
      auto j = Json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        ++r.unreadable;
        continue;
      }
      fn(j, name, n);
    }
  }
  return {};
}

std::optional<std::int64_t> time_ns(const Json& j) {
  const std::string t = str_or(j, "time", "");
  if (!utc_date(t)) return std::nullopt;  // a zoned date-time only
  return base::parse_rfc3339(t, 0);
}

bool in_period(const ReportOptions& o, std::optional<std::int64_t> t) {
  if (!t) return !o.since_ns && !o.until_ns;
  return (!o.since_ns || *t >= *o.since_ns) && (!o.until_ns || *t < *o.until_ns);
}

void add_flow(AuditReport& r, const Json& j, const std::string& file, std::uint64_t line) {
  FlowFacts f;
  f.verdict = str_or(j, "verdict", "(none)");
  if (auto e = j.find("exported"); e != j.end() && e->is_object()) {
    f.exported = u64_at(j, "exported", "bytes");
    f.received = u64_at(j, "received", "bytes");
  } else {
    // Older records: the opener is the domestic end in the common case.
    ++r.without_direction;
    f.exported = u64_at(j, "flow", "bytes_toserver");
    f.received = u64_at(j, "flow", "bytes_toclient");
  }
  if (auto p = j.find("persons"); p != j.end() && p->is_number_unsigned()) {
    f.persons = p->get<std::uint64_t>();
    r.any_persons = true;
  }
  std::vector<std::pair<std::string, std::uint64_t>> cats;
  if (auto c = j.find("categories"); c != j.end() && c->is_array())
    for (const auto& cat : *c)
      if (cat.is_object())
        cats.emplace_back(str_or(cat, "name", "(unnamed)"), u64_of(cat, "count"));
  for (const auto& c : cats) f.findings += c.second;
  count(r.total, f);
  count(r.by_verdict[f.verdict], f);
  bool has_exporter = false;
  count(r.by_exporter[exporter_of(j, has_exporter)], f);
  if (!has_exporter) ++r.without_exporter;
  const std::string cp = str_or(j, "counterparty", "(none)");
  count(r.by_counterparty[cp], f);
  count(r.by_basis[basis_of(j)], f);
  count(r.by_policy[str_or(j, "policy_sha256", "?")], f);
  const std::string zones = zones_of(j);
  count(r.by_zone_pair[zones], f);
  count(r.zone_to_counterparty[zones][cp], f);
  const bool foreign_src = str_or(j, "foreign", "") == "src";
  count(r.by_source_host[str_or(j, foreign_src ? "dest_ip" : "src_ip", "?")], f);
  auto day = utc_date(str_or(j, "time", ""));
  count(r.by_day[day ? *day : "(no time)"], f);
  for (const auto& [name, n] : cats) {
    FlowFacts one = f;
    one.findings = n;
    count(r.by_category[name], one);
  }
  std::set<std::string> kinds;
  if (auto rs = j.find("reasons"); rs != j.end() && rs->is_array())
    for (const auto& x : *rs)
      if (x.is_object()) kinds.insert(str_or(x, "kind", "?"));
  for (const auto& k : kinds) count(r.by_reason[k], f);
  const std::string t = str_or(j, "time", "");
  if (r.first_time.empty() || t < r.first_time) r.first_time = t;
  if (t > r.last_time) r.last_time = t;
  if (f.verdict == "block" || f.verdict == "alert") r.flagged.push_back(flagged_of(j, file, line));
  r.accounting.add_flow_record(j);
  if (auto a = j.find("accounting"); a != j.end() && a->is_object()) r.accounting_in_use = true;
  if (auto d = j.find("declaration"); d != j.end() && d->is_string()) r.accounting_in_use = true;
}

std::vector<BasisExpiry> bases_of(const Json& list) {
  std::vector<BasisExpiry> out;
  if (!list.is_array()) return out;
  for (const auto& b : list) {
    if (!b.is_object()) continue;
    out.push_back({str_or(b, "id", "?"), str_or(b, "kind", ""), str_or(b, "ref", ""),
                   str_or(b, "status", ""), str_or(b, "expires", ""), 0});
  }
  return out;
}

// Policy generations (start / policy_reload records) and the bases they recorded.
struct PolicyTrack {
  std::vector<PolicyGeneration> all;
  std::vector<std::optional<std::int64_t>> times;
  std::vector<BasisExpiry> bases;
  std::string bases_from;
};

void add_generation(PolicyTrack& p, const ReportOptions& o, const Json& j,
                    const std::string& type) {
  auto t = time_ns(j);
  if (o.until_ns && t && *t >= *o.until_ns) return;  // after the period
  PolicyGeneration g;
  g.seq = u64_of(j, "seq");
  g.time = str_or(j, "time", "");
  g.sha256 = str_or(j, "policy_sha256", "");
  g.version = str_or(j, "policy_version", "");
  if (type == "start") {
    g.event = "start";
  } else if (str_or(j, "result", "ok") == "ok") {
    g.event = "reload";
  } else {
    g.event = "reload failed";
    g.error = str_or(j, "error", "");
    g.sha256 = str_or(j, "previous_sha256", "");
  }
  if (auto b = j.find("bases"); b != j.end() && b->is_array()) {
    p.bases = bases_of(*b);
    p.bases_from = "log record " + std::to_string(g.seq) + " (" + g.event + ", " + g.time + ")";
  }
  p.all.push_back(std::move(g));
  p.times.push_back(t);
}

// Generations in force during the period: the last one before it, and those within.
void finish_generations(AuditReport& r, const ReportOptions& o, PolicyTrack& p) {
  std::size_t first = 0;
  if (o.since_ns)
    for (std::size_t i = 0; i < p.all.size(); ++i)
      if (p.times[i] && *p.times[i] <= *o.since_ns && p.all[i].event != "reload failed") first = i;
  for (std::size_t i = first; i < p.all.size(); ++i) r.generations.push_back(p.all[i]);
}

void finish_expiries(AuditReport& r, const ReportOptions& o, const PolicyTrack& p) {
  r.bases = o.policy_given ? o.policy_bases : p.bases;
  r.bases_from = o.policy_given ? "--policy " + o.policy_path : p.bases_from;
  std::optional<std::int64_t> ref = o.until_ns;
  if (!ref && !r.last_time.empty()) ref = base::parse_rfc3339(r.last_time, 0);
  if (!ref) return;
  r.expiry_reference = base::format_rfc3339(*ref, 0).substr(0, 10);
  const std::int64_t ref_day = *ref / base::kNsPerDay;
  for (auto& b : r.bases) {
    auto e = b.expires.empty() ? std::nullopt : base::parse_rfc3339(b.expires, 0);
    if (!e) continue;
    // Days until the last valid day ends: expires is the first instant no longer valid.
    b.days_left = (*e - 1) / base::kNsPerDay - ref_day;
    if (b.days_left <= 90) r.expiring.push_back(b);
  }
  std::stable_sort(
      r.expiring.begin(), r.expiring.end(),
      [](const BasisExpiry& a, const BasisExpiry& b) { return a.days_left < b.days_left; });
}

}  // namespace

ReportIntegrity integrity_of(const VerifyReport& v, const std::string& dir) {
  ReportIntegrity i;
  i.verified = true;
  i.intact = v.intact();
  std::size_t errors = 0;
  for (const auto& f : v.findings) {
    if (f.severity == Severity::kError) ++errors;
    i.findings.push_back(format_finding(f));
  }
  std::stable_partition(i.findings.begin(), i.findings.end(),
                        [](const std::string& s) { return s.find(": error: ") != s.npos; });
  if (i.intact) {
    i.line = "log integrity: intact: " + std::to_string(v.records) + " records in " +
             std::to_string(v.files) + " files, sealed through record " +
             std::to_string(v.sealed_through) + " of " + std::to_string(v.last_seq) + " by " +
             std::to_string(v.checkpoints) + " signed checkpoints, " +
             std::to_string(v.evidence_checked) + " evidence files checked, key id " + v.key_id;
  } else {
    i.line = "LOG NOT INTACT (" + dir + "): " + (i.findings.empty() ? "?" : i.findings.front()) +
             (errors + v.findings_omitted > 1
                  ? " (" + std::to_string(errors + v.findings_omitted - 1) + " more errors)"
                  : "");
  }
  return i;
}

Result<std::int64_t> parse_report_time(const std::string& text, bool end_of_day) {
  base::CivilDate d;
  if (base::parse_civil_date(text, &d))
    return base::to_epoch_ns(d.year, d.month, d.day, 0, 0, 0, 0, 0) +
           (end_of_day ? base::kNsPerDay : 0);
  if (utc_date(text))
    if (auto ns = base::parse_rfc3339(text, 0)) return *ns;
  return make_error("'" + text +
                    "' is not a date (YYYY-MM-DD, UTC) or an RFC 3339 time with a zone "
                    "(2026-05-01T08:00:00Z, 2026-05-01T16:00:00+08:00)");
}

Result<AuditReport> build_report(const ReportOptions& o, const ReportIntegrity& integrity) {
  AuditReport r;
  r.dir = o.dir;
  r.integrity = integrity;
  r.since = o.since_text;
  r.until = o.until_text;
  r.policy = o.policy;
  r.accounting.from_log = true;
  r.accounting.policy = o.policy.get();
  r.accounting.store_bytes = o.store_bytes;
  r.accounting.has_store_bytes = o.has_store_bytes;
  if (o.policy)
    r.accounting_in_use = o.policy->accounting().enabled || o.policy->declaration_count() > 0;
  PolicyTrack policy;
  auto read =
      for_each_record(o.dir, r, [&](const Json& j, const std::string& file, std::uint64_t line) {
        const std::string type = str_or(j, "type", "");
        if (type == "start" || type == "policy_reload") return add_generation(policy, o, j, type);
        if (type != "flow") return;
        if (!in_period(o, time_ns(j))) {
          ++r.flows_outside;
          return;
        }
        add_flow(r, j, file, line);
      });
  if (!read) return read.error();
  finish_generations(r, o, policy);
  for (auto& g : r.generations)
    if (auto it = r.by_policy.find(g.sha256); g.event != "reload failed" && it != r.by_policy.end())
      g.flows = it->second.flows;
  finish_expiries(r, o, policy);
  // Declarations' states at the end of the period (or at its last flow).
  if (o.until_ns)
    r.accounting.at_ns = *o.until_ns - 1;
  else if (auto t = base::parse_rfc3339(r.last_time, 0))
    r.accounting.at_ns = *t;
  return r;
}

Result<AuditReport> summarise_log(const std::string& dir) {
  ReportOptions o;
  o.dir = dir;
  return build_report(o, ReportIntegrity{});
}

}  // namespace dc::audit
