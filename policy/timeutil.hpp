#pragma once
// Calendar arithmetic for policy dates. The engine's clock is int64 nanoseconds since the Unix
// epoch (UTC) taken from packet timestamps; policy dates are converted once, at compile time,
// with the policy's fixed UTC offset (no tz database: the same file gives the same instants on
// every machine). Pure functions; control plane (the fast path only compares integers).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dc::policy {

inline constexpr int64_t kNsPerSec = 1'000'000'000;
inline constexpr int64_t kNsPerDay = 86'400 * kNsPerSec;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept;
bool valid_date(int64_t y, unsigned m, unsigned d) noexcept;

// Local wall time at a fixed offset -> ns since the epoch.
int64_t to_epoch_ns(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                    uint32_t nanos, int32_t offset_minutes) noexcept;

// "+08:00", "-05:30", "Z", "UTC" -> minutes east of UTC.
std::optional<int32_t> parse_utc_offset(std::string_view text);

// RFC 3339 date-time with offset ("2026-06-01T12:00:00+08:00", "...Z") or a date
// ("2026-06-01", start of that day at `default_offset_minutes`). Used by CLI --at.
std::optional<int64_t> parse_rfc3339(std::string_view text, int32_t default_offset_minutes);

// ns since epoch -> "2026-06-01T12:00:00+08:00" at the given offset (seconds precision).
std::string format_time(int64_t ns, int32_t offset_minutes);

}  // namespace dc::policy
