#pragma once
// Time for every module: civil (proleptic Gregorian) dates, RFC 3339 text, and the engine's clock.
//
// The engine's clock is int64 nanoseconds since the Unix epoch (UTC), taken from packet
// timestamps (live: the TSC against a wall-clock base read once; replay: the capture's own
// timestamps). Nothing here reads the wall clock. Policy dates are converted once, at compile
// time, with the policy's fixed UTC offset (no tz database: the same file gives the same instants
// on every machine). Pure functions, callable from any thread; the ones marked noexcept do not
// allocate and may be used on the fast path.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dc::base {

inline constexpr int64_t kNsPerSec = 1'000'000'000;
inline constexpr int64_t kNsPerDay = 86'400 * kNsPerSec;
// China Standard Time (UTC+8): the dates inside PRC identity numbers are local dates.
inline constexpr int32_t kChinaOffsetMinutes = 8 * 60;

// A proleptic Gregorian calendar date. {0,0,0} is "unset".
struct CivilDate {
  uint16_t year = 0;
  uint8_t month = 0;
  uint8_t day = 0;
  friend constexpr auto operator<=>(const CivilDate&, const CivilDate&) = default;
};
// A date far in the future: disables "not after today" checks when the caller has no date.
inline constexpr CivilDate kNoDateLimit{9999, 12, 31};

// Days since 1970-01-01 of a date, and back (H. Hinnant's days_from_civil / civil_from_days).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept;
struct YearMonthDay {
  int64_t year;
  unsigned month, day;
};
YearMonthDay civil_from_days(int64_t days) noexcept;

bool valid_date(int64_t y, unsigned m, unsigned d) noexcept;
// Parses exactly "YYYY-MM-DD" and checks it is a real date.
bool parse_civil_date(std::string_view s, CivilDate* out) noexcept;

// The local date at `offset_minutes` east of UTC of an engine time (the "packet clock").
CivilDate civil_date_at(int64_t epoch_ns, int32_t offset_minutes) noexcept;

// Local wall time at a fixed offset -> ns since the epoch (clamped to what int64 ns can hold:
// 1678..2261).
int64_t to_epoch_ns(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                    uint32_t nanos, int32_t offset_minutes) noexcept;

// "+08:00", "-05:30", "+0800", "Z", "UTC" -> minutes east of UTC.
std::optional<int32_t> parse_utc_offset(std::string_view text);

// RFC 3339 date-time with offset ("2026-06-01T12:00:00+08:00", "...Z", optional fraction) or a
// date ("2026-06-01", start of that day at `default_offset_minutes`) -> ns since the epoch.
std::optional<int64_t> parse_rfc3339(std::string_view text, int32_t default_offset_minutes);

// ns since epoch -> "2026-06-01T12:00:00+08:00" at the given offset (seconds precision; "Z" for
// offset 0).
std::string format_rfc3339(int64_t ns, int32_t offset_minutes);
// ns since epoch -> "2024-05-01T12:00:00.000123Z" (UTC, microseconds): the audit log's form.
std::string format_rfc3339_utc_micros(int64_t ns);

}  // namespace dc::base
