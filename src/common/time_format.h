// Timestamp text forms used by the enriched TSV and bad rows. Pure arithmetic on the proleptic
// Gregorian calendar in UTC (no time-zone database, no locale), valid for every int64 millisecond
// value, so far-future or negative inputs format correctly and can then be rejected by callers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace furrow {

// Civil date/time parts of a UTC instant.
struct CivilTime {
  int64_t year;
  int month;   // 1..12
  int day;     // 1..31
  int hour;    // 0..23
  int minute;  // 0..59
  int second;  // 0..59
  int millis;  // 0..999
};

CivilTime civil_from_ms(int64_t ms_since_epoch);
// Milliseconds since the epoch of a civil time; fields are not range-checked here.
int64_t ms_from_civil(const CivilTime& t);

// Appends `yyyy-MM-dd HH:mm:ss.SSS` (UTC, the enriched TSV form, spec 3.2). Years outside 0..9999
// are written as Joda would (more digits, or a leading '-'), so callers can quote them in errors.
void append_tsv_tstamp(int64_t ms_since_epoch, std::string& out);
std::string format_tsv_tstamp(int64_t ms_since_epoch);

// True when the formatted year is in 0..9999, i.e. the value can be stored in Redshift/PostgreSQL
// timestamp columns (Snowplow's "Redshift-compatible" check).
bool tstamp_year_ok(int64_t ms_since_epoch);

// Appends the ISO-8601 instant `yyyy-MM-ddTHH:mm:ss.SSSZ` used inside bad rows (spec 5).
void append_iso_instant(int64_t ms_since_epoch, std::string& out);
std::string format_iso_instant(int64_t ms_since_epoch);

// Parses the TSV form `yyyy-MM-dd HH:mm:ss[.f{1,9}]` (fraction truncated to milliseconds).
// Returns false for anything else, including out-of-range month/day/hour/minute/second.
bool parse_tsv_tstamp(std::string_view s, int64_t& ms_since_epoch);

// Wall-clock now, ms since the epoch.
int64_t now_ms();

}  // namespace furrow
