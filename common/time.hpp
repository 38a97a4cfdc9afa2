// UTC time helpers: the clock, RFC 3339 formatting and parsing, civil dates.
//
// Every time custody records is UTC. Formatting never consults the process time
// zone; parsing accepts `Z` or a numeric offset and converts to UTC. Civil-date
// arithmetic uses Howard Hinnant's days_from_civil algorithm (proleptic
// Gregorian), so results do not depend on TZ or on timegm().
//
// Thread-safety: all functions are pure except now_*(), which read the clock.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace custody {

// Returns the system clock as milliseconds since the Unix epoch (UTC).
int64_t now_ms();
// Returns the system clock as nanoseconds since the Unix epoch (UTC).
int64_t now_ns();

struct CivilTime {
  int64_t year = 1970;
  int month = 1; // 1..12
  int day = 1;   // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int64_t nanos = 0; // 0..999'999'999
};

// Returns the number of days from 1970-01-01 to `y`-`m`-`d` (may be negative).
int64_t days_from_civil(int64_t y, int m, int d);
// Splits `ns` (nanoseconds since the epoch, UTC) into civil fields.
CivilTime civil_from_ns(int64_t ns);
// Returns nanoseconds since the epoch for civil UTC time `t`.
int64_t ns_from_civil(const CivilTime& t);
// Returns the number of days in month `m` of year `y`.
int days_in_month(int64_t y, int m);

// Formats `ms` as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string format_rfc3339_ms(int64_t ms);
// Formats `ns` as "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ".
std::string format_rfc3339_ns(int64_t ns);
// Formats `ms` as "YYYY-MM-DD HH:MM:SS" (the runbook's table and timeline form).
std::string format_utc_seconds(int64_t ms);
// Formats the UTC day of `ms` as "YYYY-MM-DD".
std::string format_utc_day(int64_t ms);
// Formats `ms` as "YYYYmmddHHMMSS" (used in snapshot descriptions).
std::string format_utc_compact(int64_t ms);

// Parses an RFC 3339 / ISO 8601 timestamp with a `Z` or `+HH:MM`/`-HH:MM`
// offset (also `+HHMM`), a `T` or space separator and up to 9 fractional
// digits, and returns UTC nanoseconds since the epoch.
Result<int64_t> parse_rfc3339_ns(std::string_view text);
// As parse_rfc3339_ns(), truncated to milliseconds.
Result<int64_t> parse_rfc3339_ms(std::string_view text);

} // namespace custody
