// Calendar arithmetic and RFC 3339 text for the whole product (see time.hpp).
#include "base/time.hpp"

#include <cstdio>

namespace dc::base {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

YearMonthDay civil_from_days(int64_t days) noexcept {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool valid_date(int64_t y, unsigned m, unsigned d) noexcept {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1u : 0u);
}

namespace {

// `n` decimal digits at s[pos..]; false if any is not a digit or the text is too short.
bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned* out) noexcept {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  *out = v;
  return true;
}

// Splits floor division of ns by a day into (days, ns within the day).
void split_day(int64_t ns, int64_t* days, int64_t* rem) noexcept {
  *days = ns / kNsPerDay;
  *rem = ns % kNsPerDay;
  if (*rem < 0) {
    *rem += kNsPerDay;
    --*days;
  }
}

}  // namespace

bool parse_civil_date(std::string_view s, CivilDate* out) noexcept {
  unsigned y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 0, 4, &y) ||
      !digits(s, 5, 2, &m) || !digits(s, 8, 2, &d) || !valid_date(y, m, d)) {
    return false;
  }
  *out = CivilDate{static_cast<uint16_t>(y), static_cast<uint8_t>(m), static_cast<uint8_t>(d)};
  return true;
}

CivilDate civil_date_at(int64_t epoch_ns, int32_t offset_minutes) noexcept {
  int64_t days = 0, rem = 0;
  split_day(epoch_ns + static_cast<int64_t>(offset_minutes) * 60 * kNsPerSec, &days, &rem);
  YearMonthDay c = civil_from_days(days);
  return CivilDate{static_cast<uint16_t>(c.year), static_cast<uint8_t>(c.month),
                   static_cast<uint8_t>(c.day)};
}

int64_t to_epoch_ns(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                    uint32_t nanos, int32_t offset_minutes) noexcept {
  // int64 nanoseconds cover 1677-09-21 .. 2262-04-11; clamp instead of overflowing.
  if (y < 1678) return INT64_MIN / 2;
  if (y > 2261) return INT64_MAX / 2;
  int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
                 static_cast<int64_t>(offset_minutes) * 60;
  return secs * kNsPerSec + nanos;
}

std::optional<int32_t> parse_utc_offset(std::string_view t) {
  if (t == "Z" || t == "UTC" || t == "z") return 0;
  unsigned hh = 0, mm = 0;
  // "+08:00" (RFC 3339) or "+0800" (ISO 8601 basic, seen in older logs).
  bool colon = t.size() == 6 && t[3] == ':';
  if ((!colon && t.size() != 5) || (t[0] != '+' && t[0] != '-') || !digits(t, 1, 2, &hh) ||
      !digits(t, colon ? 4 : 3, 2, &mm) || hh > 14 || mm > 59) {
    return std::nullopt;
  }
  int32_t v = static_cast<int32_t>(hh * 60 + mm);
  return t[0] == '-' ? -v : v;
}

std::optional<int64_t> parse_rfc3339(std::string_view t, int32_t default_offset) {
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (t.size() < 10 || t[4] != '-' || t[7] != '-' || !digits(t, 0, 4, &y) ||
      !digits(t, 5, 2, &mo) || !digits(t, 8, 2, &d) || !valid_date(y, mo, d)) {
    return std::nullopt;
  }
  if (t.size() == 10) return to_epoch_ns(y, mo, d, 0, 0, 0, 0, default_offset);
  if ((t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t.size() < 19 || !digits(t, 11, 2, &h) ||
      t[13] != ':' || !digits(t, 14, 2, &mi) || t[16] != ':' || !digits(t, 17, 2, &sec) || h > 23 ||
      mi > 59 || sec > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  uint32_t nanos = 0;
  if (pos < t.size() && t[pos] == '.') {
    uint32_t scale = 100'000'000;
    std::size_t start = ++pos;
    for (; pos < t.size() && t[pos] >= '0' && t[pos] <= '9'; ++pos, scale /= 10)
      nanos += static_cast<uint32_t>(t[pos] - '0') * scale;
    if (pos == start) return std::nullopt;
  }
  std::string_view rest = t.substr(pos);
  if (rest.empty()) return to_epoch_ns(y, mo, d, h, mi, sec, nanos, default_offset);
  auto off = parse_utc_offset(rest);
  if (!off) return std::nullopt;
  return to_epoch_ns(y, mo, d, h, mi, sec, nanos, *off);
}

std::string format_rfc3339(int64_t ns, int32_t offset_minutes) {
  int64_t days = 0, rem = 0;
  split_day(ns + static_cast<int64_t>(offset_minutes) * 60 * kNsPerSec, &days, &rem);
  YearMonthDay c = civil_from_days(days);
  long long secs = static_cast<long long>(rem / kNsPerSec);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                        static_cast<long long>(c.year), c.month, c.day, secs / 3600, secs / 60 % 60,
                        secs % 60);
  int32_t off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  if (offset_minutes == 0) {
    std::snprintf(buf + n, sizeof buf - n, "Z");
  } else {
    std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', off / 60,
                  off % 60);
  }
  return buf;
}

std::string format_rfc3339_utc_micros(int64_t ns) {
  int64_t days = 0, rem = 0;
  split_day(ns, &days, &rem);
  YearMonthDay c = civil_from_days(days);
  long long secs = static_cast<long long>(rem / kNsPerSec);
  long long micros = static_cast<long long>(rem % kNsPerSec / 1000);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<long long>(c.year), c.month, c.day, secs / 3600, secs / 60 % 60,
                secs % 60, micros);
  return buf;
}

}  // namespace dc::base
