#include "policy/timeutil.hpp"

#include <cstdio>

namespace dc::policy {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool valid_date(int64_t y, unsigned m, unsigned d) noexcept {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1u : 0u);
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
  char sign = 0;
  std::string s(t);
  int consumed = 0;
  if (s.size() != 6 || std::sscanf(s.c_str(), "%c%2u:%2u%n", &sign, &hh, &mm, &consumed) != 3 ||
      consumed != 6 || (sign != '+' && sign != '-') || hh > 14 || mm > 59) {
    return std::nullopt;
  }
  int32_t v = static_cast<int32_t>(hh * 60 + mm);
  return sign == '-' ? -v : v;
}

std::optional<int64_t> parse_rfc3339(std::string_view t, int32_t default_offset) {
  std::string s(t);
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  int n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2u-%2u%n", &y, &mo, &d, &n) != 3 || n != 10 ||
      !valid_date(y, mo, d)) {
    return std::nullopt;
  }
  if (s.size() == 10) return to_epoch_ns(y, mo, d, 0, 0, 0, 0, default_offset);
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  int n2 = 0;
  if (std::sscanf(s.c_str() + 11, "%2u:%2u:%2u%n", &h, &mi, &sec, &n2) != 3 || n2 != 8 || h > 23 ||
      mi > 59 || sec > 60) {
    return std::nullopt;
  }
  std::string_view rest = t.substr(19);
  if (rest.empty()) return to_epoch_ns(y, mo, d, h, mi, sec, 0, default_offset);
  auto off = parse_utc_offset(rest);
  if (!off) return std::nullopt;
  return to_epoch_ns(y, mo, d, h, mi, sec, 0, *off);
}

std::string format_time(int64_t ns, int32_t offset_minutes) {
  int64_t secs = ns / kNsPerSec - (ns % kNsPerSec < 0 ? 1 : 0);
  secs += static_cast<int64_t>(offset_minutes) * 60;
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // civil_from_days (Hinnant)
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[64];
  int32_t off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  if (offset_minutes == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld%c%02d:%02d",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60),
                  offset_minutes < 0 ? '-' : '+', off / 60, off % 60);
  }
  return buf;
}

}  // namespace dc::policy
