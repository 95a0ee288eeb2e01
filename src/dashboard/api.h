// The JSON API under /api/ (docs/api.md): read-only queries over the rollup tables (rollup.h),
// plus the live count and the latest bad rows from the base tables. All values are bound
// parameters; every string from tracked data is emitted as a JSON string (UTF-8 repaired).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dashboard/dashboard.h"
#include "dashboard/sqlite_conn.h"

namespace furrow::dashboard {

// A time range resolved to whole hours: [from_ms, to_ms), hour-aligned.
struct TimeRange {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
};

// The time ranges a query covers, as at most three pieces: leading hours, whole days, trailing
// hours (empty pieces have lo == hi). Buckets are hours (grain 0) or days (grain 1).
struct Pieces {
  int64_t h0_lo = 0, h0_hi = 0, d_lo = 0, d_hi = 0, h1_lo = 0, h1_hi = 0;
};
Pieces split_range(const TimeRange& r);

// Epoch milliseconds (digits only), `yyyy-MM-dd`, or `yyyy-MM-ddTHH:mm[:ss[.fff]][Z]` (UTC).
std::optional<int64_t> parse_time_param(std::string_view s);

// Handles GET `path` (starting with "/api/") with the raw query string. `now_ms` is the wall
// clock. Fills `out` (status, content type, body; the caller adds the security headers).
void handle_api(Conn& db, std::string_view path, std::string_view query, int64_t now_ms,
                Response& out);

}  // namespace furrow::dashboard
