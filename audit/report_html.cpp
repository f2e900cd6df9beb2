// The HTML period report: one self-contained file (inline CSS and SVG, no script, no fetch; a
// Content-Security-Policy forbids any), readable printed to PDF, every log string escaped.
#include <cctype>
#include <cstdio>

#include "audit/report.hpp"
#include "audit/report_svg.hpp"
#include "audit/report_util.hpp"

namespace dc::audit {
namespace {

using svg::human_bytes;

constexpr const char* kCss = R"css(
:root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#212529}
body{margin:0 auto;max-width:1100px;padding:1rem 1.5rem;line-height:1.4}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;border-bottom:2px solid #adb5bd;margin-top:2rem}
.integrity{padding:.6rem 1rem;border:3px solid;font-weight:600;margin:.6rem 0}
.ok{border-color:#2f9e44;background:#ebfbee}.bad{border-color:#c92a2a;background:#fff5f5}
.summary{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
.summary dt{font-weight:600}.summary dd{margin:0}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.88rem}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #ced4da;padding:.2rem .4rem;vertical-align:top;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
thead th{background:#e9ecef}tbody th{font-weight:500}
.v-block{font-weight:700;color:#a51111}.v-alert{font-weight:700;color:#8a5a00}
.chart{max-width:760px;display:block;margin:.5rem 0}.chart text{font-size:12px;fill:#212529}
.chart text.small{font-size:10px}.grid{display:grid;grid-template-columns:1fr;gap:1rem}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.82rem;word-break:break-all}
nav ul{columns:3;list-style:none;padding:0}.note{color:#495057}
@media print{body{max-width:none;padding:0;font-size:10pt}nav{display:none}
h2{break-after:avoid}table,.chart,figure{break-inside:avoid}tr{break-inside:avoid}
a{color:#000;text-decoration:none}.integrity{background:none}}
)css";

std::string u64s(std::uint64_t v) { return std::to_string(v); }

// A relative link to a file of the log directory: each path segment percent-encoded, so a
// file name from the log can never become another scheme or leave the attribute.
std::string file_href(const std::string& base, const std::string& rel) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = base.empty() ? "." : base;
  out += '/';
  for (unsigned char c : rel) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == '~')
      out += static_cast<char>(c);
    else
      out += std::string("%") + kHex[c >> 4] + kHex[c & 15];
  }
  return html_escape(out);
}

std::string verdict_cell(const std::string& v) {
  const std::string mark = v == "block" ? "\xe2\x9c\x96 " : v == "alert" ? "\xe2\x96\xb2 " : "";
  return "<td class=\"v-" + html_escape(v) + "\">" + mark + html_escape(v) + "</td>";
}

std::string tally_table(const std::string& caption, const std::string& key_title,
                        const std::map<std::string, Tally>& rows, bool persons) {
  std::string s = "<table><caption>" + html_escape(caption) +
                  "</caption><thead><tr><th scope=\"col\">" + html_escape(key_title) + "</th>";
  for (const char* c : {"flows", "allow", "alert", "block", "exported", "received", "findings"})
    s += std::string("<th scope=\"col\" class=\"n\">") + c + "</th>";
  if (persons) s += "<th scope=\"col\" class=\"n\">persons</th>";
  s += "</tr></thead><tbody>";
  for (const auto& [k, t] : rows) {
    s += "<tr><th scope=\"row\">" + html_escape(k) + "</th>";
    for (std::uint64_t v : {t.flows, t.allow, t.alert, t.block})
      s += "<td class=\"n\">" + u64s(v) + "</td>";
    for (std::uint64_t v : {t.exported_bytes, t.received_bytes})
      s += "<td class=\"n\" title=\"" + u64s(v) + " bytes\">" + human_bytes(v) + "</td>";
    s += "<td class=\"n\">" + u64s(t.findings) + "</td>";
    if (persons) s += "<td class=\"n\">" + u64s(t.persons) + "</td>";
    s += "</tr>";
  }
  return s + "</tbody></table>";
}

void header(std::string& s, const AuditReport& r) {
  const bool ok = r.integrity.verified && r.integrity.intact;
  s += "<header><h1>Audit period report</h1><p class=\"integrity " +
       std::string(ok ? "ok" : "bad") + "\" role=\"status\">" +
       (ok ? "\xe2\x9c\x94 INTACT. " : "\xe2\x9c\x96 NOT INTACT. ") +
       html_escape(r.integrity.verified ? r.integrity.line : "log integrity: not verified") +
       "</p><dl class=\"summary\"><dt>Log directory</dt><dd><code>" + html_escape(r.dir) +
       "</code></dd><dt>Period</dt><dd>" + html_escape(period_text(r)) + "</dd><dt>Flows</dt><dd>" +
       u64s(r.total.flows) + " (" + u64s(r.total.allow) + " allowed, " + u64s(r.total.alert) +
       " alerted, " + u64s(r.total.block) + " blocked); " + u64s(r.flows_outside) +
       " outside the period</dd><dt>Exported</dt><dd>" + human_bytes(r.total.exported_bytes) +
       " towards foreign ends; received " + human_bytes(r.total.received_bytes) +
       "</dd><dt>Policy hashes</dt><dd>";
  for (const auto& g : r.generations)
    s += "<code>" + html_escape(g.sha256.substr(0, 16)) + "</code> (" + html_escape(g.event) + " " +
         html_escape(g.time) + ") ";
  s += "</dd></dl>";
  for (const auto& n : report_notes(r)) s += "<p class=\"note\">Note: " + html_escape(n) + "</p>";
  s += "</header>";
}

void nav(std::string& s) {
  s += "<nav aria-label=\"Contents\"><ul>";
  for (const char* a : {"over-time", "top", "diagram", "timeline", "expiries", "flagged",
                        "breakdowns", "generations"})
    s += std::string("<li><a href=\"#") + a + "\">" + a + "</a></li>";
  s += "</ul></nav>";
}

void charts(std::string& s, const AuditReport& r) {
  s += "<section id=\"over-time\"><h2>Exports over time by verdict</h2>" +
       svg::day_bars(r.by_day, "Flows per day by verdict") + "</section>";
  s += "<section id=\"top\"><h2>Top counterparties, categories and exporters</h2>";
  s += "<h3>Counterparties</h3>" + svg::top_bars(r.by_counterparty, 10, "Top counterparties");
  s += "<h3>Categories</h3>" + svg::top_bars(r.by_category, 10, "Top categories");
  s += "<h3>Exporters</h3>" + svg::top_bars(r.by_exporter, 10, "Top exporters") + "</section>";
  s += "<section id=\"diagram\"><h2>Zone to counterparty flows</h2>" +
       svg::flow_diagram(r.zone_to_counterparty, "Flows from zone pairs to counterparties") +
       "</section>";
  s += "<section id=\"timeline\"><h2>Timeline of blocks</h2>" +
       svg::block_timeline(r.flagged, r.first_time, r.last_time,
                           "Blocked and alerted flows over time") +
       "</section>";
}

void expiries_section(std::string& s, const AuditReport& r) {
  s += "<section id=\"expiries\"><h2>Legal basis expiries</h2><p>Counted from " +
       html_escape(r.expiry_reference.empty() ? "(no date)" : r.expiry_reference) +
       "; bases from " +
       html_escape(r.bases_from.empty() ? "nowhere (give --policy FILE)" : r.bases_from) +
       ".</p><table><caption>Legal bases expired or expiring within 90 days</caption><thead><tr>"
       "<th scope=\"col\">when</th><th scope=\"col\">expires</th><th scope=\"col\" "
       "class=\"n\">days left</th><th scope=\"col\">basis id</th><th scope=\"col\">kind</th><th "
       "scope=\"col\">reference</th><th scope=\"col\">status</th></tr></thead><tbody>";
  if (r.expiring.empty()) s += "<tr><td colspan=\"7\">none</td></tr>";
  for (const auto& b : r.expiring)
    s += "<tr><td>" + html_escape(expiry_bucket(b.days_left)) + "</td><td>" +
         html_escape(b.expires) + "</td><td class=\"n\">" + std::to_string(b.days_left) +
         "</td><th scope=\"row\">" + html_escape(b.id) + "</th><td>" + html_escape(b.kind) +
         "</td><td>" + html_escape(b.ref) + "</td><td>" + html_escape(b.status) + "</td></tr>";
  s += "</tbody></table></section>";
}

// Customs accounting: the rows as a table, declared against actual as preformatted text.
void accounting_section(std::string& s, const AuditReport& r) {
  if (!r.accounting_in_use) return;
  s += "<section id=\"accounting\"><h2>Customs accounting</h2><table><caption>Persons (the "
       "year's count after the period's last flow that counted them), bytes exported, threshold "
       "and mechanism</caption><thead><tr>";
  for (const char* h : {"year", "exporter", "row", "basis", "counterparty", "declaration",
                        "non-sensitive", "sensitive", "bytes", "flows", "threshold and mechanism"})
    s += std::string("<th scope=\"col\">") + h + "</th>";
  s += "</tr></thead><tbody>";
  for (const auto& row : r.accounting.rows_json()) {
    s += "<tr>";
    for (const char* k : {"year", "exporter", "row", "basis", "counterparty", "declaration",
                          "non_sensitive", "sensitive", "bytes", "flows"}) {
      auto it = row.find(k);
      const bool number = it != row.end() && it->is_number();
      const std::string v = it == row.end() || it->is_null() ? "-"
                            : it->is_string()                ? it->get<std::string>()
                                                             : it->dump();
      s += std::string(number ? "<td class=\"n\">" : "<td>") + html_escape(v) + "</td>";
    }
    s += "<td>" + html_escape(row["threshold"]["text"].get<std::string>()) + "</td></tr>";
  }
  s += "</tbody></table><h3>Declarations: declared against actual</h3><pre>";
  const std::string text = r.accounting.declarations_text();
  for (std::size_t at = 0, nl; at < text.size(); at = nl + 1) {  // escaped line by line
    nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    s += html_escape(std::string_view(text).substr(at, nl - at)) + "\n";
  }
  s += "</pre></section>";
}

std::string list_cell(const std::vector<std::string>& items) {
  std::string s = "<td>";
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? "<br>" : "") + html_escape(items[i]);
  return s + "</td>";
}

void flagged_section(std::string& s, const AuditReport& r, const std::string& base) {
  constexpr std::size_t kMaxRows = 2000;
  s += "<section id=\"flagged\"><h2>Blocked and alerted flows</h2>";
  if (r.flagged.size() > kMaxRows)
    s += "<p>The first " + u64s(kMaxRows) + " of " + u64s(r.flagged.size()) +
         " are listed; --format json lists all.</p>";
  s += "<table><caption>Blocked and alerted flows with their record and evidence</caption><thead>"
       "<tr><th scope=\"col\">record</th><th scope=\"col\">time</th><th scope=\"col\">verdict</th>"
       "<th scope=\"col\">flow</th><th scope=\"col\">counterparty / name</th><th "
       "scope=\"col\">reasons</th><th scope=\"col\">legal bases considered</th><th "
       "scope=\"col\">masked values</th><th scope=\"col\">evidence</th></tr></thead><tbody>";
  for (std::size_t i = 0; i < r.flagged.size() && i < kMaxRows; ++i) {
    const auto& f = r.flagged[i];
    s += "<tr><th scope=\"row\"><a href=\"" + file_href(base, f.file) + "\">" + u64s(f.seq) +
         "</a><br><span class=\"mono\">" + html_escape(f.file) + ":" + u64s(f.line) +
         "</span></th><td class=\"mono\">" + html_escape(f.time) + "</td>" +
         verdict_cell(f.verdict) + "<td class=\"mono\">" +
         html_escape(f.src + " \xe2\x86\x92 " + f.dest + " " + f.proto) + "<br>" +
         html_escape(f.zones) + "</td><td>" + html_escape(f.counterparty) +
         (f.server_name.empty() ? "" : "<br><code>" + html_escape(f.server_name) + "</code>") +
         "</td>" + list_cell(f.reasons) + list_cell(f.bases) + list_cell(f.values) + "<td>";
    if (!f.evidence.empty())
      s += "<a href=\"" + file_href(base, f.evidence) + "\">" + html_escape(f.evidence) + "</a>";
    else
      s += html_escape(f.evidence_missing.empty() ? "none" : "none: " + f.evidence_missing);
    s += "</td></tr>";
  }
  s += "</tbody></table></section>";
}

void generations_section(std::string& s, const AuditReport& r) {
  s += "<section id=\"generations\"><h2>Policy generations in force</h2><table><caption>Starts "
       "and reloads (policy SHA-256)</caption><thead><tr><th scope=\"col\">time</th><th "
       "scope=\"col\">event</th><th scope=\"col\">policy sha256</th><th scope=\"col\">version</th>"
       "<th scope=\"col\" class=\"n\">flows decided</th><th scope=\"col\">error</th></tr></thead>"
       "<tbody>";
  for (const auto& g : r.generations)
    s += "<tr><td class=\"mono\">" + html_escape(g.time) + "</td><th scope=\"row\">" +
         html_escape(g.event) + "</th><td class=\"mono\">" + html_escape(g.sha256) + "</td><td>" +
         html_escape(g.version) + "</td><td class=\"n\">" + u64s(g.flows) + "</td><td>" +
         html_escape(g.error) + "</td></tr>";
  s += "</tbody></table></section>";
}

// The integrity line as the file's first line (a comment may precede the doctype): escaped, and
// without "--", which would end the comment.
std::string comment_text(const ReportIntegrity& i) {
  std::string t =
      html_escape(i.verified ? i.line : std::string("log integrity: NOT VERIFIED (--no-verify)"));
  for (std::size_t p; (p = t.find("--")) != std::string::npos;) t.replace(p, 2, "- -");
  return t;
}

}  // namespace

std::string AuditReport::to_html(const std::string& link_base) const {
  const std::string title = "datacustoms audit report: " + dir;
  std::string s =
      "<!-- " + comment_text(integrity) +
      " -->\n<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta "
      "http-equiv=\"Content-Security-"
      "Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" +
      html_escape(title) + "</title><style>" + kCss + "</style></head><body>";
  header(s, *this);
  nav(s);
  s += "<main>";
  charts(s, *this);
  expiries_section(s, *this);
  flagged_section(s, *this, link_base);
  accounting_section(s, *this);
  s += "<section id=\"breakdowns\"><h2>Breakdowns</h2>";
  std::map<std::string, Tally> total_row{{"all flows", total}};
  s += tally_table("All flows of the period", "total", total_row, any_persons);
  const std::pair<const char*, const std::map<std::string, Tally>*> dims[] = {
      {"verdict", &by_verdict},
      {"exporter", &by_exporter},
      {"counterparty", &by_counterparty},
      {"legal basis (id (reference))", &by_basis},
      {"category", &by_category},
      {"reason", &by_reason},
      {"zone pair", &by_zone_pair},
      {"source host (domestic end)", &by_source_host},
      {"day (UTC)", &by_day}};
  for (const auto& [name, rows] : dims)
    s += tally_table(std::string("By ") + name, name, *rows, any_persons);
  s += "</section>";
  generations_section(s, *this);
  if (!integrity.intact && integrity.verified) {
    s += "<section id=\"findings\"><h2>Verifier findings</h2><ul>";
    for (const auto& f : integrity.findings) s += "<li><code>" + html_escape(f) + "</code></li>";
    s += "</ul></section>";
  }
  return s + "</main></body></html>\n";
}

}  // namespace dc::audit
