// `audit report` renderings for terminals and tools: text, JSON and CSV (HTML: report_html.cpp).
// Every one starts with the log's integrity line.
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "audit/report.hpp"
#include "audit/report_util.hpp"

namespace dc::audit {
namespace {

// The report's breakdowns in print order: title, JSON key, rows.
struct Dimension {
  const char* title;
  const char* key;
  const std::map<std::string, Tally>* rows;
};

std::vector<Dimension> dimensions(const AuditReport& r) {
  return {{"verdict", "by_verdict", &r.by_verdict},
          {"exporter", "by_exporter", &r.by_exporter},
          {"counterparty", "by_counterparty", &r.by_counterparty},
          {"legal basis (id (reference))", "by_legal_basis", &r.by_basis},
          {"category", "by_category", &r.by_category},
          {"reason", "by_reason", &r.by_reason},
          {"zones", "by_zone_pair", &r.by_zone_pair},
          {"source host (domestic end)", "by_source_host", &r.by_source_host},
          {"day (UTC)", "by_day", &r.by_day}};
}

std::string u64s(std::uint64_t v) { return std::to_string(v); }

void text_table(std::string& out, const char* title, const std::map<std::string, Tally>& rows,
                bool persons) {
  std::size_t w = std::strlen(title);
  for (const auto& [k, v] : rows) w = std::max(w, printable(k).size());
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-*s %8s %8s %8s %8s %14s %14s %9s%s\n", static_cast<int>(w),
                title, "flows", "allow", "alert", "block", "exported_B", "received_B", "findings",
                persons ? "   persons" : "");
  out += buf;
  for (const auto& [k, t] : rows) {
    std::snprintf(buf, sizeof buf,
                  "%-*s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %14" PRIu64
                  " %14" PRIu64 " %9" PRIu64,
                  static_cast<int>(w), printable(k).c_str(), t.flows, t.allow, t.alert, t.block,
                  t.exported_bytes, t.received_bytes, t.findings);
    out += buf;
    if (persons) out += " " + pad_left(u64s(t.persons), 9);
    out += '\n';
  }
  out += '\n';
}

void text_header(std::string& out, const AuditReport& r) {
  out += printable(r.integrity.verified ? r.integrity.line
                                        : "log integrity: not verified (no --pubkey given)") +
         "\n";
  out += "datacustoms audit report: " + printable(r.dir) + "\n";
  out += "period: " + period_text(r) + "\n";
  out += "records: " + u64s(r.records) + " in " + u64s(r.files) + " files (" + u64s(r.unreadable) +
         " unreadable lines skipped); " + u64s(r.total.flows) + " flow records in the period, " +
         u64s(r.flows_outside) + " outside it\n";
  for (const auto& n : report_notes(r)) out += "note: " + n + "\n";
  out += '\n';
}

// printable() line by line: the line breaks stay.
std::string printable_lines(const std::string& text) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    out += printable(std::string_view(text).substr(at, nl - at)) + "\n";
    at = nl + 1;
  }
  return out;
}

// Customs accounting: counts, bytes, thresholds; declared against actual (docs/accounting.md).
void text_accounting(std::string& out, const AuditReport& r) {
  if (!r.accounting_in_use) return;
  out +=
      "== customs accounting per exporter / basis / counterparty / declaration (persons: the "
      "year's distinct count after the period's last flow record that counted them; bytes: "
      "exported in the period) ==\n";
  out += printable_lines(r.accounting.rows_text()) + "\n";
  out += "== declarations: declared against actual" +
         std::string(r.policy ? "" : " (declared side unknown: give --policy FILE)") + " ==\n";
  out += printable_lines(r.accounting.declarations_text()) + "\n";
}

void text_generations(std::string& out, const AuditReport& r) {
  out += "== policy generations in force ==\n";
  if (r.generations.empty()) out += "(none recorded)\n";
  for (const auto& g : r.generations)
    out += printable(g.time) + "  " + pad_right(g.event, 13) + " " + printable(g.sha256) + " " +
           printable(g.version) + " (" + u64s(g.flows) + " flows)" +
           (g.error.empty() ? "" : ": " + printable(g.error)) + "\n";
  out += '\n';
}

void text_expiries(std::string& out, const AuditReport& r) {
  out += "== legal bases expired or expiring within 90 days of " +
         (r.expiry_reference.empty() ? std::string("(no date)") : r.expiry_reference) +
         " (bases from " +
         printable(r.bases_from.empty() ? "nowhere: no record lists them; give "
                                          "--policy FILE"
                                        : r.bases_from) +
         ") ==\n";
  if (r.expiring.empty()) out += "(none)\n";
  for (const auto& b : r.expiring)
    out += pad_right(expiry_bucket(b.days_left), 16) + " " + printable(b.expires) + "  " +
           printable(b.id) + " (" + printable(b.kind) + " " + printable(b.ref) + ", " +
           printable(b.status) + ")\n";
  out += '\n';
}

void text_flagged(std::string& out, const AuditReport& r) {
  out += "== blocked and alerted flows (" + u64s(r.flagged.size()) + ") ==\n";
  for (const auto& f : r.flagged) {
    out += printable(f.time) + " " + f.verdict + "/" + f.action + " record " + u64s(f.seq) + " (" +
           f.file + ":" + u64s(f.line) + ") " + printable(f.src) + " -> " + printable(f.dest) +
           " " + printable(f.proto) + " [" + printable(f.zones) + "] " + "counterparty " +
           printable(f.counterparty) +
           (f.server_name.empty() ? "" : " name " + printable(f.server_name)) + "\n";
    out += "    reasons: " + printable(join(f.reasons, ", ")) + "\n";
    if (!f.bases.empty()) out += "    bases: " + printable(join(f.bases, ", ")) + "\n";
    if (!f.values.empty()) out += "    values: " + printable(join(f.values, ", ")) + "\n";
    out += "    evidence: " +
           printable(!f.evidence.empty()           ? f.evidence
                     : !f.evidence_missing.empty() ? "none: " + f.evidence_missing
                                                   : "none") +
           "\n";
  }
  out += '\n';
}

nlohmann::ordered_json tally_json(const Tally& t) {
  return {{"flows", t.flows},
          {"allow", t.allow},
          {"alert", t.alert},
          {"block", t.block},
          {"other", t.other},
          {"exported_bytes", t.exported_bytes},
          {"received_bytes", t.received_bytes},
          {"findings", t.findings},
          {"persons", t.persons}};
}

nlohmann::ordered_json flagged_json(const FlaggedFlow& f) {
  return {{"seq", f.seq},
          {"file", f.file},
          {"line", f.line},
          {"time", f.time},
          {"verdict", f.verdict},
          {"action", f.action},
          {"flow_id", f.flow_id},
          {"community_id", f.community_id},
          {"src", f.src},
          {"dest", f.dest},
          {"proto", f.proto},
          {"zones", f.zones},
          {"counterparty", f.counterparty},
          {"server_name", f.server_name},
          {"legal_basis", f.basis},
          {"exporter", f.exporter},
          {"reasons", f.reasons},
          {"bases_considered", f.bases},
          {"values", f.values},
          {"evidence", f.evidence},
          {"evidence_missing", f.evidence_missing},
          {"exported_bytes", f.exported_bytes}};
}

// One CSV row: section,key,flows,allow,alert,block,other,exported,received,findings,persons,detail
std::string csv_row(const std::string& section, const std::string& key, const Tally& t,
                    const std::string& detail) {
  std::string s = csv_field(section) + "," + csv_field(key);
  for (std::uint64_t v : {t.flows, t.allow, t.alert, t.block, t.other, t.exported_bytes,
                          t.received_bytes, t.findings, t.persons})
    s += "," + u64s(v);
  return s + "," + csv_field(detail) + "\n";
}

}  // namespace

std::string AuditReport::to_text() const {
  std::string out;
  text_header(out, *this);
  std::map<std::string, Tally> total_row{{"all flows", total}};
  text_table(out, "total", total_row, any_persons);
  for (const auto& d : dimensions(*this)) text_table(out, d.title, *d.rows, any_persons);
  text_accounting(out, *this);
  text_generations(out, *this);
  text_expiries(out, *this);
  text_flagged(out, *this);
  if (!integrity.intact && integrity.verified) {
    out += "== verifier findings ==\n";
    for (const auto& f : integrity.findings) out += printable(f) + "\n";
  }
  return out;
}

nlohmann::ordered_json AuditReport::to_json() const {
  nlohmann::ordered_json j;
  j["integrity"] = {{"verified", integrity.verified},
                    {"intact", integrity.intact},
                    {"summary", integrity.line},
                    {"findings", integrity.findings}};
  j["dir"] = dir;
  j["period"] = {
      {"since", since}, {"until", until}, {"first_flow", first_time}, {"last_flow", last_time}};
  j["files"] = files;
  j["records"] = records;
  j["unreadable"] = unreadable;
  j["flows_outside_period"] = flows_outside;
  j["notes"] = report_notes(*this);
  j["total"] = tally_json(total);
  for (const auto& d : dimensions(*this)) {
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    for (const auto& [k, t] : *d.rows) o[k] = tally_json(t);
    j[d.key] = std::move(o);
  }
  if (accounting_in_use)
    j["accounting"] = {{"policy_given", policy != nullptr},
                       {"rows", accounting.rows_json()},
                       {"declarations", accounting.declarations_json()}};
  auto gens = nlohmann::ordered_json::array();
  for (const auto& g : generations)
    gens.push_back({{"seq", g.seq},
                    {"time", g.time},
                    {"event", g.event},
                    {"policy_sha256", g.sha256},
                    {"policy_version", g.version},
                    {"flows", g.flows},
                    {"error", g.error}});
  j["policy_generations"] = std::move(gens);
  j["bases_from"] = bases_from;
  j["expiry_reference"] = expiry_reference;
  auto exp = nlohmann::ordered_json::array();
  for (const auto& b : expiring)
    exp.push_back({{"id", b.id},
                   {"kind", b.kind},
                   {"ref", b.ref},
                   {"status", b.status},
                   {"expires", b.expires},
                   {"days_left", b.days_left},
                   {"bucket", expiry_bucket(b.days_left)}});
  j["bases_expiring"] = std::move(exp);
  auto fl = nlohmann::ordered_json::array();
  for (const auto& f : flagged) fl.push_back(flagged_json(f));
  j["blocked_and_alerted"] = std::move(fl);
  return j;
}

std::string AuditReport::to_csv() const {
  std::string out =
      "# " + csv_comment(integrity.verified ? integrity.line : "log integrity: not verified") +
      "\n";
  out +=
      "section,key,flows,allow,alert,block,other,exported_bytes,received_bytes,findings,"
      "persons,detail\n";
  out += csv_row("total", "all flows", total, "period " + period_text(*this));
  for (const auto& d : dimensions(*this))
    for (const auto& [k, t] : *d.rows) out += csv_row(d.key, k, t, "");
  for (const auto& g : generations) {
    Tally t;
    t.flows = g.flows;
    out += csv_row("policy_generation", g.sha256, t, g.time + " " + g.event + " " + g.version);
  }
  for (const auto& b : expiring)
    out += csv_row(
        "basis_expiry", b.id, Tally{},
        expiry_bucket(b.days_left) + ", expires " + b.expires + ", " + b.kind + " " + b.ref);
  if (accounting_in_use)  // key: the scope without its kind; persons: non-sensitive
    for (const auto& row : accounting.rows_json()) {
      Tally t;
      t.flows = row.value("flows", std::uint64_t{0});
      t.exported_bytes = row["bytes"].is_number() ? row["bytes"].get<std::uint64_t>() : 0;
      t.persons = row["non_sensitive"].get<std::uint64_t>();
      std::string key =
          std::to_string(row["year"].get<int>()) + "/e=" + row["exporter"].get<std::string>();
      for (const char* part : {"counterparty", "basis", "declaration"})
        if (row.contains(part))
          key += "/" + std::string(1, part[0]) + "=" + row[part].get<std::string>();
      out += csv_row("accounting_" + row["row"].get<std::string>(), key, t,
                     "sensitive " + std::to_string(row["sensitive"].get<std::uint64_t>()) + "; " +
                         row["threshold"]["text"].get<std::string>());
    }
  for (const auto& f : flagged) {
    Tally t;
    t.flows = 1;
    (f.verdict == "block" ? t.block : t.alert) = 1;
    t.exported_bytes = f.exported_bytes;
    out += csv_row("flagged_flow", std::to_string(f.seq), t,
                   f.time + " " + f.src + " -> " + f.dest + " " + f.counterparty + " reasons " +
                       join(f.reasons, "; ") + " evidence " +
                       (f.evidence.empty() ? "none" : f.evidence));
  }
  return out;
}

}  // namespace dc::audit
