// The dashboard's pre-aggregations, kept in the same SQLite database as the events.
//
// Tables (all WITHOUT ROWID, keyed for range scans; grain 0 = hour, 1 = day; bucket = whole hours
// or days since the epoch, UTC; app_id '' stands for a NULL app_id):
//   dash_totals(grain, bucket, app_id, events, page_views, page_pings, struct_events,
//               unstruct_events, sessions, bounces, engaged_s)
//   dash_dims(dim, grain, bucket, app_id, value, n)       top-N tables; Dim says what n counts
//   dash_visitors(grain, bucket, app_id, sketch)          DistinctSketch of domain_userid
//   dash_sessions(domain_sessionid, ...)                  running state of every session
//   dash_bad(grain, bucket, failure_type, n)              bad rows by failure time and type
//   dash_state(key, value)                                watermarks and the schema version
//
// Event-level figures (events, page views, pages, structured and self-describing events,
// visitors) are bucketed by the event's time: derived_tstamp, else collector_tstamp. Session-level
// figures (sessions, bounces, engaged time, entry and exit pages, referrer, search term, campaign,
// country, browser, OS, device) are counted once per session, in the bucket of the session's
// first event, with the attributes of its first page view (or first event when it has none yet).
// A late event that changes a session (an earlier first event, a new exit page, a second page
// view that ends a bounce) moves the session's contribution: refresh subtracts the old one and
// adds the new one, so the rollups always equal a recomputation from scratch.
//
// Engaged time, as in the data models (storage/models.h): kHeartbeatS x the number of distinct
// (page view, kHeartbeatS-long window of epoch time) pairs that hold at least one page ping. A
// bounce is a session with exactly one page view and no page ping.
#pragma once

#include <cstdint>
#include <functional>

#include "common/result.h"
#include "dashboard/sqlite_conn.h"

namespace furrow::dashboard {

inline constexpr int kHeartbeatS = 10;
inline constexpr int64_t kHourMs = 3'600'000;
inline constexpr int64_t kDayMs = 86'400'000;

enum class Dim : int {
  kPage = 1,      // n = page views; value = page_urlhost + page_urlpath
  kStruct = 2,    // n = events; value = se_category "\x1f" se_action
  kUnstruct = 3,  // n = events; value = iglu:vendor/name/format/version
  kEntry = 10,    // the rest: n = sessions
  kExit = 11,
  kReferrer = 12,    // refr_medium "\x1f" (refr_source, else refr_urlhost)
  kSearchTerm = 13,  // refr_term
  kCampaign = 14,    // mkt_source "\x1f" mkt_medium "\x1f" mkt_campaign
  kCountry = 15,
  kBrowser = 16,
  kOs = 17,
  kDevice = 18,
};

// Creates the dash_* tables (idempotent).
Status ensure_rollup_schema(Conn& db);

// One incremental refresh (see Dashboard::refresh). `now_ms` dates bad rows whose failure time
// cannot be read. Events are taken in chunks of at most `chunk_events` (load batches permitting);
// each chunk is read and aggregated (with the stored session states and sketches it changes) in a
// read transaction, which never blocks a loader, and then written in a write transaction that
// only writes, so a refresh beside a running loader holds the write lock only briefly. The write
// transaction first checks that the watermark has not moved since the read (another refresh of
// the same database), and otherwise the chunk is read again.
// The chunk size trades the write transaction's length (the loader waits for the lock meanwhile)
// and the chunk's memory (about 1 KB per touched session) against the per-session work: each
// touched session's stored state is read, merged and written once per chunk however many of its
// events the chunk holds. 40,000: under run_load.sh's traffic (20,000 sessions, each with an
// event every half second at 40,000 events/s) a session is met twice per chunk instead of once,
// which halves that work (sqlite_load_bench BM_SqliteRollupRefresh); results do not depend on it.
Status refresh_rollups(Conn& db, const std::function<int64_t()>& now_ms,
                       int64_t chunk_events = 40'000);

// Milliseconds since the epoch of `yyyy-MM-dd HH:mm:ss[.fff]` or ISO `yyyy-MM-ddTHH:mm:ss[.fff]Z`.
bool parse_any_tstamp(std::string_view s, int64_t& ms);

inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace furrow::dashboard
