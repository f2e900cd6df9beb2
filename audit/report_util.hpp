#pragma once
// Shared helpers of the `audit report` renderers: safe text for terminals, CSV cells and HTML,
// the period line, the report's notes and the expiry buckets. Pure functions.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dc::audit {

struct AuditReport;

// Control characters (terminal escapes in an SNI, a Host, a path) shown as '?'.
std::string printable(std::string_view s);
std::string pad_left(std::string_view s, std::size_t width);
std::string pad_right(std::string_view s, std::size_t width);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
// RFC 4180 cell; a cell a spreadsheet would run as a formula (=, +, -, @) gets a leading '.
std::string csv_field(std::string_view s);
std::string csv_comment(std::string_view s);  // one line: line breaks removed
// &, <, >, " and ' escaped; control characters as '?'.
std::string html_escape(std::string_view s);

// "2026-05-01 .. 2026-05-08 (flow records 2026-05-01T00:01:00Z .. ...)"
std::string period_text(const AuditReport& r);
// What the reader must know: attribution missing, older records, persons not recorded.
std::vector<std::string> report_notes(const AuditReport& r);
// "EXPIRED", "within 30 days", "within 90 days" from days left.
std::string expiry_bucket(std::int64_t days_left);

}  // namespace dc::audit
