// Helpers of the `audit report` renderers (audit/report_util.hpp).
#include "audit/report_util.hpp"

#include "audit/report.hpp"

namespace dc::audit {

std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

std::string pad_left(std::string_view s, std::size_t width) {
  return s.size() >= width ? std::string(s) : std::string(width - s.size(), ' ') + std::string(s);
}

std::string pad_right(std::string_view s, std::size_t width) {
  return s.size() >= width ? std::string(s) : std::string(s) + std::string(width - s.size(), ' ');
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string csv_field(std::string_view s) {
  std::string v = printable(s);
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) v = "'" + v;
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_comment(std::string_view s) { return printable(s); }

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
    }
  }
  return out;
}

std::string period_text(const AuditReport& r) {
  std::string s = (r.since.empty() ? std::string("(start of log)") : r.since) + " .. " +
                  (r.until.empty() ? std::string("(end of log)") : r.until);
  if (!r.first_time.empty()) s += " (flow records " + r.first_time + " .. " + r.last_time + ")";
  return printable(s);
}

std::vector<std::string> report_notes(const AuditReport& r) {
  std::vector<std::string> n;
  if (r.without_exporter > 0)
    n.push_back(std::to_string(r.without_exporter) +
                " flow records name no exporter: shown as \"unattributed\" (exporter accounting "
                "will fill it)");
  if (r.without_direction > 0)
    n.push_back(std::to_string(r.without_direction) +
                " flow records predate the exported/received members: their opener->responder "
                "bytes are counted as exported");
  if (!r.any_persons && r.total.flows > 0)
    n.push_back(
        "no record carries persons counts yet (exporter accounting will); findings are "
        "shown instead");
  return n;
}

std::string expiry_bucket(std::int64_t days_left) {
  if (days_left < 0) return "EXPIRED";
  if (days_left <= 30) return "within 30 days";
  return "within 90 days";
}

}  // namespace dc::audit
