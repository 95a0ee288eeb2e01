#include "storage/models.h"

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace furrow::storage {
namespace {

// 2: SQLite keeps model_session_state (each session's running aggregates and first event), so a
// run reads only the new events for the sessions model; a version-1 database gets the table and
// its watermark reset (the next run recomputes everything once).
// 3: SQLite keeps model_pv_events (the narrow page-view rows of each session), so the page views
// model no longer reads atomic_events by domain_sessionid (atomic schema 2 dropped that index);
// a version-1 or -2 database gets its watermark and session state reset (recomputed once).
// 4: SQLite's atomic_events is keyed by (collector_tstamp, event_id, fingerprint) (atomic schema
// 3), so model_session_state and model_pv_events carry each event's collector_tstamp and fetch
// its row through that key; older state tables are dropped and everything is recomputed once.
constexpr int kModelsVersion = 4;

struct Sql {
  Dialect d;
  std::string ts() const { return d == Dialect::kSqlite ? "TEXT" : "timestamp"; }
  std::string integer() const { return d == Dialect::kSqlite ? "INTEGER" : "bigint"; }
  std::string text() const { return d == Dialect::kSqlite ? "TEXT" : "text"; }
  // Whole seconds since the epoch of a timestamp expression.
  std::string epoch(const std::string& x) const {
    return d == Dialect::kSqlite ? "CAST(strftime('%s', " + x + ") AS INTEGER)"
                                 : "CAST(floor(extract(epoch FROM " + x + ")) AS bigint)";
  }
};

std::vector<std::string> model_ddl(const Sql& q) {
  const std::string T = q.ts(), I = q.integer(), X = q.text();
  std::vector<std::string> ddl = {
      "CREATE TABLE IF NOT EXISTS model_state (model " + X + " PRIMARY KEY, last_load_id " + I +
          " NOT NULL)",
      "CREATE TABLE IF NOT EXISTS page_views (page_view_id " + X + " NOT NULL, event_id " + X +
          ", app_id " + X + ", domain_userid " + X + ", user_id " + X + ", domain_sessionid " + X +
          " NOT NULL, domain_sessionidx " + I + ", page_view_in_session_index " + I +
          ", start_tstamp " + T + ", end_tstamp " + T + ", page_url " + X + ", page_urlhost " + X +
          ", page_urlpath " + X + ", page_title " + X + ", page_referrer " + X + ", refr_medium " +
          X + ", refr_source " + X + ", refr_term " + X + ", mkt_medium " + X + ", mkt_source " +
          X + ", mkt_campaign " + X + ", mkt_term " + X + ", mkt_content " + X + ", pings " + I +
          ", engaged_time_in_s " + I + ", max_scroll_depth_px " + I +
          ", vertical_percentage_scrolled " + I + ", geo_country " + X + ", geo_city " + X +
          ", br_family " + X + ", os_family " + X + ", device_family " + X + ")",
      "CREATE INDEX IF NOT EXISTS page_views_session ON page_views (domain_sessionid)",
      "CREATE INDEX IF NOT EXISTS page_views_id ON page_views (page_view_id)",
      "CREATE TABLE IF NOT EXISTS sessions (domain_sessionid " + X +
          " PRIMARY KEY, domain_userid " + X + ", user_id " + X + ", domain_sessionidx " + I +
          ", start_tstamp " + T + ", end_tstamp " + T + ", session_length_s " + I + ", events " +
          I + ", page_views " + I + ", engaged_time_in_s " + I + ", is_bounce " + I +
          ", landing_page_url " + X + ", landing_page_path " + X + ", landing_page_title " + X +
          ", exit_page_url " + X + ", exit_page_path " + X + ", page_referrer " + X +
          ", refr_urlhost " + X + ", refr_medium " + X + ", refr_source " + X + ", refr_term " + X +
          ", mkt_medium " + X + ", mkt_source " + X + ", mkt_campaign " + X + ", mkt_term " + X +
          ", mkt_content " + X + ", br_family " + X + ", os_family " + X + ", device_family " + X +
          ", dvce_ismobile " + I + ", geo_country " + X + ", geo_region " + X + ", geo_city " + X +
          ", geo_timezone " + X + ")",
      "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (domain_userid)",
      "CREATE TABLE IF NOT EXISTS users (domain_userid " + X + " PRIMARY KEY, user_id " + X +
          ", first_seen " + T + ", last_seen " + T + ", sessions " + I + ", page_views " + I +
          ", engaged_time_in_s " + I + ", first_landing_page_url " + X + ", first_page_referrer " +
          X + ", first_refr_medium " + X + ", first_refr_source " + X + ", first_mkt_medium " + X +
          ", first_mkt_source " + X + ", first_mkt_campaign " + X + ")",
  };
  if (q.d == Dialect::kSqlite) {
    // SQLite only (PostgreSQL recomputes touched sessions from all their events, under its table
    // lock): per session, what the sessions model needs from all its events so far: the first
    // event by (ts, event_id) and its key, the last ts, the event count, max(user_id). Written
    // in the same transaction as the watermark, so it always covers exactly the modelled loads.
    ddl.push_back(
        "CREATE TABLE IF NOT EXISTS model_session_state (domain_sessionid TEXT PRIMARY KEY, "
        "first_ts TEXT NOT NULL, first_event_id TEXT NOT NULL, first_fp TEXT NOT NULL, first_cts "
        "TEXT NOT NULL, end_ts TEXT NOT NULL, events INTEGER NOT NULL, user_id TEXT) WITHOUT "
        "ROWID");
    // SQLite only: every page view and page ping (with a page view id) of the modelled loads,
    // narrow, by session: what the page views model reads for a session with new page views
    // (atomic_events has no domain_sessionid index on SQLite: see sinks/loader_schema.cpp).
    // Written by the models in bulk once per run, in the transaction that moves the watermark,
    // instead of by the loader at every commit. page_view_id, pp_yoffset_max and ts have no
    // type, so their values keep the storage class they have in atomic_events. cts is the
    // event's collector_tstamp: with event_id and fp, its atomic_events key (a tracker re-send is
    // a second row with the same event_id and a later cts).
    ddl.push_back(
        "CREATE TABLE IF NOT EXISTS model_pv_events (domain_sessionid TEXT NOT NULL, event_id "
        "TEXT NOT NULL, fp TEXT NOT NULL, cts TEXT NOT NULL, event TEXT, page_view_id NOT NULL, "
        "pp_yoffset_max, ts, PRIMARY KEY (domain_sessionid, event_id, fp, cts)) WITHOUT ROWID");
  }
  return ddl;
}

// Sessions touched by the new events (load_id in (lo, hi]).
std::string touched_sessions(const std::string& lo, const std::string& hi) {
  return "(SELECT domain_sessionid FROM atomic_events WHERE load_id > " + lo +
         " AND load_id <= " + hi + " AND domain_sessionid IS NOT NULL)";
}

// Where the SQL of one model run writes and reads its own results. PostgreSQL: the model tables
// themselves, in one transaction. SQLite: temp tables (see run_sqlite).
struct Names {
  std::string page_views_out = "page_views";
  std::string page_views_in = "page_views";  // the touched sessions' (new) page views
  std::string sessions_out = "sessions";
  std::string users_out = "users";
  std::string session_state;  // SQLite: the touched sessions' new running state
  // SQLite: a SELECT of the narrow page views and pings of the sessions whose page views are
  // recomputed (event_id, fp, cts, event, page_view_id, pp_yoffset_max, ts); empty: read them from
  // atomic_events_entities by domain_sessionid (PostgreSQL).
  std::string pv_events;
};

std::string page_views_sql(const Sql& q, const Names& n, const std::string& touched,
                           int heartbeat) {
  const std::string h = std::to_string(heartbeat);
  // One pass of window functions over the page views and pings of the touched sessions, instead
  // of joining a per-page-view ping aggregate: SQLite plans such a LEFT JOIN between two CTEs as
  // a full scan of one per row of the other (no automatic index), which made every model run
  // quadratic in the new events (42 s for 50k events, ~0.2 s now). `win` is a ping's heartbeat
  // window; `new_win` marks the first ping of each window, so their sum counts distinct windows.
  // SQLite runs the windows over narrow rows (the key and the few columns they need) and then
  // fetches the page view's own row once through the unique (collector_tstamp, event_id,
  // fingerprint) index:
  // sorting whole 130-column rows took most of a model run. PostgreSQL keeps whole rows (its
  // planner handles them well and a join back through the view's jsonpath columns does not).
  // SQLite reads the narrow rows from n.pv_events (model_pv_events and the run's new events).
  const bool narrow = !n.pv_events.empty();
  return (narrow ? "WITH ev AS (" + n.pv_events + "), "
                 : "WITH ev AS (SELECT e.*, coalesce(e.derived_tstamp, e.collector_tstamp) AS ts "
                   "FROM atomic_events_entities e WHERE e.domain_sessionid IN " +
                       touched +
                       " AND e.page_view_id IS NOT NULL AND e.event IN ('page_view', "
                       "'page_ping')), ") +
         "ev2 AS (SELECT ev.*, CASE WHEN event = 'page_ping' THEN " + q.epoch("ts") + " / " + h +
         " END AS win FROM ev), "
         "ev3 AS (SELECT ev2.*, CASE WHEN event = 'page_ping' AND ROW_NUMBER() OVER (PARTITION BY "
         "page_view_id, win ORDER BY ts, event_id) = 1 THEN 1 ELSE 0 END AS new_win FROM ev2), " +
         (narrow ? "pv0" : "pv") +
         " AS (SELECT * FROM (SELECT ev3.*, ROW_NUMBER() OVER (PARTITION BY page_view_id ORDER "
         "BY CASE WHEN event = 'page_view' THEN 0 ELSE 1 END, ts, event_id) AS rn, max(CASE WHEN "
         "event = 'page_ping' THEN ts END) OVER pw AS last_ping, sum(CASE WHEN event = "
         "'page_ping' THEN 1 ELSE 0 END) OVER pw AS pings, sum(new_win) OVER pw AS windows, "
         "max(CASE WHEN event = 'page_ping' THEN pp_yoffset_max END) OVER pw AS max_y FROM ev3 "
         "WINDOW pw AS (PARTITION BY page_view_id)) x WHERE rn = 1 AND event = 'page_view') " +
         (narrow ? ", pv AS (SELECT e.*, pv0.ts, pv0.last_ping, pv0.pings, pv0.windows, pv0.max_y "
                   "FROM pv0 JOIN atomic_events_entities e ON e.collector_tstamp = pv0.cts AND "
                   "e.event_id = pv0.event_id AND coalesce(e.event_fingerprint, '') = pv0.fp) "
                 : "") +
         "INSERT INTO " + n.page_views_out +
         " SELECT pv.page_view_id, pv.event_id, pv.app_id, pv.domain_userid, "
         "pv.user_id, pv.domain_sessionid, pv.domain_sessionidx, ROW_NUMBER() OVER (PARTITION BY "
         "pv.domain_sessionid ORDER BY pv.ts, pv.event_id), pv.ts, coalesce(pv.last_ping, "
         "pv.ts), "
         "pv.page_url, pv.page_urlhost, pv.page_urlpath, pv.page_title, pv.page_referrer, "
         "pv.refr_medium, pv.refr_source, pv.refr_term, pv.mkt_medium, pv.mkt_source, "
         "pv.mkt_campaign, pv.mkt_term, pv.mkt_content, coalesce(pv.pings, 0), "
         "coalesce(pv.windows, 0) * " +
         h +
         ", pv.max_y, CASE WHEN pv.doc_height > 0 AND pv.max_y IS NOT NULL THEN CASE WHEN "
         "(pv.max_y + coalesce(pv.br_viewheight, 0)) * 100 / pv.doc_height > 100 THEN 100 ELSE "
         "(pv.max_y + coalesce(pv.br_viewheight, 0)) * 100 / pv.doc_height END END, "
         "pv.geo_country, pv.geo_city, coalesce(pv.ua_family, pv.br_family), "
         "coalesce(pv.ua_os_family, pv.os_family), pv.ua_device_family FROM pv";
}

std::string sessions_sql(const Sql& q, const Names& n, const std::string& touched) {
  // Per-session figures and the landing and exit page views looked up in page_views through its
  // domain_sessionid index (not a join of two CTEs, which SQLite runs as a nested full scan).
  const std::string& pvs = n.page_views_in;
  // SQLite: the session's figures come from its running state (n.session_state, see
  // run_sqlite), and the first event's row is fetched by its unique key (collector_tstamp,
  // event_id, fingerprint). PostgreSQL: window
  // functions over all events of the touched sessions, whole rows.
  const std::string first =
      q.d == Dialect::kSqlite
          ? "WITH first_ev AS (SELECT e.*, k.user_id AS s_user_id, k.first_ts AS s_start, "
            "k.end_ts AS s_end, k.events AS s_events FROM " +
                n.session_state +
                " k JOIN atomic_events_entities e ON e.collector_tstamp = k.first_cts AND "
                "e.event_id "
                "= k.first_event_id AND coalesce(e.event_fingerprint, '') = k.first_fp), "
          : "WITH ev AS (SELECT e.*, coalesce(e.derived_tstamp, e.collector_tstamp) AS ts FROM "
            "atomic_events_entities e WHERE e.domain_sessionid IN " +
                touched +
                "), first_ev AS (SELECT * FROM (SELECT ev.*, ROW_NUMBER() OVER (PARTITION BY "
                "domain_sessionid ORDER BY ts, event_id) AS rn, max(user_id) OVER sw AS "
                "s_user_id, min(ts) OVER sw AS s_start, max(ts) OVER sw AS s_end, count(*) OVER "
                "sw AS s_events FROM ev WINDOW sw AS (PARTITION BY domain_sessionid)) y WHERE rn "
                "= 1), ";
  return first + "f AS (SELECT first_ev.*, (SELECT count(*) FROM " + pvs +
         " p WHERE p.domain_sessionid = "
         "first_ev.domain_sessionid) AS pvc, coalesce((SELECT sum(engaged_time_in_s) FROM " +
         pvs +
         " p WHERE p.domain_sessionid = first_ev.domain_sessionid), 0) AS eng, (SELECT "
         "max(page_view_in_session_index) FROM " +
         pvs +
         " p WHERE p.domain_sessionid = "
         "first_ev.domain_sessionid) AS pv_last FROM first_ev) "
         "INSERT INTO " +
         n.sessions_out +
         " SELECT f.domain_sessionid, f.domain_userid, f.s_user_id, "
         "f.domain_sessionidx, f.s_start, f.s_end, " +
         q.epoch("f.s_end") + " - " + q.epoch("f.s_start") +
         ", f.s_events, f.pvc, f.eng, CASE WHEN "
         "f.pvc = 1 AND f.eng = 0 THEN 1 ELSE 0 END, "
         "l.page_url, l.page_urlpath, l.page_title, x.page_url, x.page_urlpath, "
         "coalesce(l.page_referrer, f.page_referrer), f.refr_urlhost, coalesce(l.refr_medium, "
         "f.refr_medium), coalesce(l.refr_source, f.refr_source), coalesce(l.refr_term, "
         "f.refr_term), coalesce(l.mkt_medium, f.mkt_medium), coalesce(l.mkt_source, "
         "f.mkt_source), coalesce(l.mkt_campaign, f.mkt_campaign), coalesce(l.mkt_term, "
         "f.mkt_term), coalesce(l.mkt_content, f.mkt_content), coalesce(f.ua_family, f.br_family), "
         "coalesce(f.ua_os_family, f.os_family), f.ua_device_family, CASE WHEN f.dvce_ismobile "
         "THEN 1 WHEN NOT f.dvce_ismobile THEN 0 END, f.geo_country, f.geo_region, f.geo_city, "
         "f.geo_timezone FROM f LEFT JOIN " +
         pvs +
         " l ON l.domain_sessionid = f.domain_sessionid AND l.page_view_in_session_index = 1 LEFT "
         "JOIN " +
         pvs +
         " x ON x.domain_sessionid = f.domain_sessionid AND x.page_view_in_session_index = "
         "f.pv_last";
}

std::string touched_users(const std::string& lo, const std::string& hi) {
  return "(SELECT domain_userid FROM atomic_events WHERE load_id > " + lo +
         " AND load_id <= " + hi +
         " AND domain_sessionid IS NOT NULL AND domain_userid IS NOT NULL)";
}

// `users_sessions`: a SELECT of every session row of the touched users, as after this run.
std::string users_sql(const Names& n, const std::string& users_sessions) {
  // Window functions over the users' sessions, first session by start (no join of two CTEs).
  return "WITH s AS (" + users_sessions +
         "), "
         "x AS (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY domain_userid ORDER BY start_tstamp, "
         "domain_sessionid) AS rn, max(user_id) OVER uw AS u_user_id, min(start_tstamp) OVER uw "
         "AS u_first_seen, max(end_tstamp) OVER uw AS u_last_seen, count(*) OVER uw AS "
         "u_sessions, sum(page_views) OVER uw AS u_page_views, sum(engaged_time_in_s) OVER uw AS "
         "u_engaged FROM s WINDOW uw AS (PARTITION BY domain_userid)) "
         "INSERT INTO " +
         n.users_out +
         " SELECT domain_userid, u_user_id, u_first_seen, u_last_seen, "
         "u_sessions, u_page_views, u_engaged, landing_page_url, page_referrer, refr_medium, "
         "refr_source, mkt_medium, mkt_source, mkt_campaign FROM x WHERE rn = 1";
}

int64_t to_int(const std::string& s) {
  return s.empty() ? 0 : std::stoll(s);
}

Status ensure_tables(QueryStore& store, const Sql& q) {
  auto v = store.scalar("SELECT version FROM furrow_schema WHERE component = 'models'");
  if (!v) return v.error();
  if (!v->empty() && to_int(*v) > kModelsVersion) {
    return Error{"model tables have version " + *v + ", newer than this furrow"};
  }
  if (!v->empty() && to_int(*v) == kModelsVersion) return Status::Ok();
  if (!v->empty() && q.d == Dialect::kSqlite) {
    // The state tables of older versions lack columns (version 3: the collector_tstamp of the
    // events they point at): made anew below, and filled by the recomputation.
    for (const char* sql :
         {"DROP TABLE IF EXISTS model_session_state", "DROP TABLE IF EXISTS model_pv_events"}) {
      Status st = store.exec(sql);
      if (!st) return st;
    }
  }
  for (const auto& sql : model_ddl(q)) {
    Status st = store.exec(sql);
    if (!st) return st;
  }
  if (!v->empty() && q.d == Dialect::kSqlite) {
    // Older versions' state tables were dropped above: the next run starts from load 0 and
    // builds them (the rows it writes replace every session's and page view's, as a full refresh
    // would).
    Status st = store.exec("DELETE FROM model_state WHERE model = 'web'");
    if (!st) return st;
  }
  return store.exec("INSERT INTO furrow_schema (component, version) VALUES ('models', " +
                    std::to_string(kModelsVersion) +
                    ") ON CONFLICT (component) DO UPDATE SET version = excluded.version");
}

auto counter(QueryStore& store) {
  return [&store](const std::string& sql) -> Result<int64_t> {
    auto v = store.scalar(sql);
    if (!v) return v.error();
    return to_int(*v);
  };
}

// PostgreSQL: everything in one transaction, the table locked against loads meanwhile.
Result<ModelReport> run_locked(QueryStore& store, const ModelOptions& options) {
  const Sql q{store.dialect()};
  Status st = ensure_tables(store, q);
  if (!st) return st.error();
  st = store.exec("LOCK TABLE atomic_events IN SHARE MODE");
  if (!st) return st.error();
  if (options.full_refresh) {
    for (const char* sql : {"DELETE FROM page_views", "DELETE FROM sessions", "DELETE FROM users",
                            "DELETE FROM model_state"}) {
      st = store.exec(sql);
      if (!st) return st.error();
    }
  }
  ModelReport r;
  auto lo = store.scalar("SELECT last_load_id FROM model_state WHERE model = 'web'");
  if (!lo) return lo.error();
  auto hi = store.scalar("SELECT coalesce(max(load_id), 0) FROM atomic_events");
  if (!hi) return hi.error();
  r.from_load_id = to_int(*lo);
  r.to_load_id = to_int(*hi);
  if (r.to_load_id <= r.from_load_id) {
    r.to_load_id = r.from_load_id;
    return r;
  }
  const std::string los = std::to_string(r.from_load_id), his = std::to_string(r.to_load_id);
  const std::string touched = touched_sessions(los, his);
  const std::string users = touched_users(los, his);
  const int heartbeat = options.heartbeat_s > 0 ? options.heartbeat_s : 10;
  const Names n;
  for (const std::string& sql :
       {"DELETE FROM page_views WHERE domain_sessionid IN " + touched,
        page_views_sql(q, n, touched, heartbeat),
        "DELETE FROM sessions WHERE domain_sessionid IN " + touched, sessions_sql(q, n, touched),
        "DELETE FROM users WHERE domain_userid IN " + users,
        users_sql(n, "SELECT * FROM sessions WHERE domain_userid IN " + users)}) {
    st = store.exec(sql);
    if (!st) return st.error();
  }
  auto count = counter(store);
  auto pv = count("SELECT count(*) FROM page_views WHERE domain_sessionid IN " + touched);
  auto se = count("SELECT count(*) FROM sessions WHERE domain_sessionid IN " + touched);
  auto us = count("SELECT count(*) FROM users WHERE domain_userid IN " + users);
  if (!pv) return pv.error();
  if (!se) return se.error();
  if (!us) return us.error();
  r.page_views = *pv;
  r.sessions = *se;
  r.users = *us;
  st = store.exec("INSERT INTO model_state (model, last_load_id) VALUES ('web', " + his +
                  ") ON CONFLICT (model) DO UPDATE SET last_load_id = excluded.last_load_id");
  if (!st) return st.error();
  return r;
}

// Runs `body` in a transaction opened with `begin`; commits when it succeeds, else rolls back.
// `held_us` (optional) gets the wall-clock time from the transaction's start (for BEGIN
// IMMEDIATE: the write lock granted) to its end.
template <class T, class F>
Result<T> in_transaction(QueryStore& store, const char* begin, F&& body,
                         int64_t* held_us = nullptr) {
  const bool writes = std::string_view(begin) == "BEGIN IMMEDIATE";
  std::optional<WriteLockPriority> priority;
  if (writes) priority.emplace();
  if (Status st = store.exec(begin); !st) return st.error();
  const auto t0 = std::chrono::steady_clock::now();
  auto done = [&] {
    if (held_us != nullptr) {
      *held_us = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - t0)
                     .count();
    }
  };
  Result<T> r = body();
  if (!r) {
    (void)store.exec("ROLLBACK");
    done();
    return r;
  }
  if (Status st = store.exec("COMMIT"); !st) {
    (void)store.exec("ROLLBACK");
    done();
    return st.error();
  }
  done();
  return r;
}

constexpr const char* kDropTemp =
    "DROP TABLE IF EXISTS temp.m_new; DROP TABLE IF EXISTS temp.m_touched; DROP TABLE IF EXISTS "
    "temp.m_users_touched; DROP TABLE IF EXISTS temp.m_pv_touched; DROP TABLE IF EXISTS "
    "temp.m_u; DROP TABLE IF EXISTS temp.m_state; DROP TABLE IF EXISTS temp.m_page_views; DROP "
    "TABLE IF EXISTS temp.m_pv_in; "
    "DROP TABLE IF EXISTS temp.m_sessions; DROP TABLE IF EXISTS temp.m_users; DROP TABLE IF EXISTS "
    "temp.m_us";

// SQLite: the same results as run_locked, computed so that the database's write lock is held
// only briefly (a loader writing at the same time is never stalled by a long model run):
//  1. read phase, in one read transaction (a WAL snapshot; loads go on meanwhile): the touched
//     sessions and users and the new page_views, sessions and users rows, into temp tables;
//     the sessions model reads only the new events (merged into model_session_state, the
//     running state of each session) and the page views model only the sessions with new page
//     views or pings, so a run costs in proportion to its new events and touched sessions, not
//     to all events of the sessions they touch;
//  2. write phase, one IMMEDIATE transaction: checks that no other run moved the watermark
//     meanwhile, then replaces the touched rows with the temp tables' and moves the watermark.
// The model SQL is run_locked's, reading the new rows from the temp tables instead of the model
// tables.
Result<ModelReport> run_sqlite(QueryStore& store, const ModelOptions& options) {
  const Sql q{store.dialect()};
  {
    auto v = store.scalar("SELECT version FROM furrow_schema WHERE component = 'models'");
    if (!v) return v.error();
    if (v->empty() || to_int(*v) != kModelsVersion) {
      auto made = in_transaction<bool>(store, "BEGIN IMMEDIATE", [&]() -> Result<bool> {
        if (Status st = ensure_tables(store, q); !st) return st.error();
        return true;
      });
      if (!made) return made.error();
    }
  }
  const int heartbeat = options.heartbeat_s > 0 ? options.heartbeat_s : 10;
  auto count = counter(store);
  ModelReport r;
  const auto read_start = std::chrono::steady_clock::now();
  auto read = in_transaction<bool>(store, "BEGIN", [&]() -> Result<bool> {
    if (Status st = store.exec(kDropTemp); !st) return st.error();
    auto lo = store.scalar("SELECT last_load_id FROM model_state WHERE model = 'web'");
    if (!lo) return lo.error();
    auto hi = store.scalar("SELECT coalesce(max(load_id), 0) FROM atomic_events");
    if (!hi) return hi.error();
    r.from_load_id = options.full_refresh ? 0 : to_int(*lo);
    r.to_load_id = to_int(*hi);
    if (r.to_load_id <= r.from_load_id && !options.full_refresh) {
      r.from_load_id = r.to_load_id = to_int(*lo);
      return false;
    }
    if (options.max_events > 0 && !options.full_refresh) {
      // The loads of this run: in load_id order while their events fit the cap (at least one).
      int64_t sum = 0, last = r.from_load_id;
      bool cut = false;
      Status st = store.query(
          "SELECT load_id, events FROM load_batches WHERE load_id > ?1 AND load_id <= ?2 ORDER "
          "BY load_id",
          {std::to_string(r.from_load_id), std::to_string(r.to_load_id)},
          RowHandler{nullptr, [&](const std::vector<Cell>& row) {
                       const int64_t n = to_int(std::string(row[1].text));
                       if (last > r.from_load_id && sum + n > options.max_events) {
                         cut = true;
                         return false;
                       }
                       sum += n;
                       last = to_int(std::string(row[0].text));
                       return true;
                     }});
      if (!st) return st.error();
      if (cut) {
        r.to_load_id = last;
        r.more = true;
      }
    }
    const std::string los = std::to_string(r.from_load_id), his = std::to_string(r.to_load_id);
    const std::string range = "load_id > " + los + " AND load_id <= " + his;
    Names n;
    n.page_views_out = "temp.m_page_views";
    n.page_views_in = "temp.m_pv_in";
    n.sessions_out = "temp.m_sessions";
    n.users_out = "temp.m_users";
    n.session_state = "temp.m_state";
    // The page views and pings of the sessions with new ones: the stored (none on a full
    // refresh) and the new. They never overlap: the stored ones are of loads up to the
    // watermark, atomic_events holds each (collector_tstamp, event_id, fingerprint) once.
    n.pv_events = std::string(options.full_refresh ? ""
                                                   : "SELECT event_id, fp, cts, event, "
                                                     "page_view_id, pp_yoffset_max, ts FROM "
                                                     "main.model_pv_events WHERE domain_sessionid "
                                                     "IN (SELECT domain_sessionid FROM "
                                                     "temp.m_pv_touched) UNION ALL ") +
                  "SELECT event_id, fp, cts, event, page_view_id, pp_yoffset_max, ts FROM "
                  "temp.m_new "
                  "WHERE page_view_id IS NOT NULL";
    const std::string touched = "(SELECT domain_sessionid FROM temp.m_touched)";
    const std::string pv_touched = "(SELECT domain_sessionid FROM temp.m_pv_touched)";
    const std::string users = "(SELECT domain_userid FROM temp.m_users_touched)";
    // The touched sessions' running state after this run: the stored state (none on a full
    // refresh) merged with the new events, by the same rules as window functions over all their
    // events: first by (ts, event_id), the latest ts, the count, max(user_id). On a tie of
    // (ts, event_id) (one event id with two fingerprints) the stored first event stays.
    const std::string old_state =
        options.full_refresh
            ? std::string()
            : "SELECT domain_sessionid, first_ts, first_event_id, first_fp, first_cts, end_ts, "
              "events, user_id, 0 AS src FROM main.model_session_state WHERE domain_sessionid IN " +
                  touched + " UNION ALL ";
    const std::vector<std::string> steps = {
        // The new events, narrow, in one scan of the load_id range; page_view_id is set for page
        // views and pings only (the web_page entity is only looked up for those events).
        "CREATE TEMP TABLE m_new AS SELECT event_id, coalesce(event_fingerprint, '') AS fp, "
        "collector_tstamp AS cts, domain_sessionid, domain_userid, user_id, "
        "coalesce(derived_tstamp, collector_tstamp) "
        "AS ts, event, pp_yoffset_max, CASE WHEN event IN ('page_view', 'page_ping') THEN "
        "page_view_id END AS page_view_id FROM atomic_events_entities WHERE " +
            range + " AND domain_sessionid IS NOT NULL",
        "CREATE TEMP TABLE m_touched (domain_sessionid TEXT PRIMARY KEY) WITHOUT ROWID",
        "INSERT OR IGNORE INTO temp.m_touched SELECT domain_sessionid FROM temp.m_new",
        "CREATE TEMP TABLE m_users_touched (domain_userid TEXT PRIMARY KEY) WITHOUT ROWID",
        "INSERT OR IGNORE INTO temp.m_users_touched SELECT domain_userid FROM temp.m_new WHERE "
        "domain_userid IS NOT NULL",
        // Page views depend only on the page views and pings of their session: only sessions
        // with such new events are recomputed.
        "CREATE TEMP TABLE m_pv_touched (domain_sessionid TEXT PRIMARY KEY) WITHOUT ROWID",
        std::string("INSERT OR IGNORE INTO temp.m_pv_touched SELECT domain_sessionid FROM "
                    "temp.m_new WHERE page_view_id IS NOT NULL"),
        "CREATE TEMP TABLE m_u AS " + old_state +
            "SELECT domain_sessionid, ts AS first_ts, event_id AS first_event_id, fp AS "
            "first_fp, cts AS first_cts, ts AS end_ts, 1 AS events, user_id, 1 AS src FROM "
            "temp.m_new",
        std::string("CREATE INDEX temp.m_u_first ON m_u (domain_sessionid, first_ts, "
                    "first_event_id, src)"),
        std::string("CREATE TEMP TABLE m_state (domain_sessionid TEXT PRIMARY KEY, first_ts TEXT, "
                    "first_event_id TEXT, first_fp TEXT, first_cts TEXT, end_ts TEXT, events "
                    "INTEGER, user_id TEXT) WITHOUT ROWID"),
        // Aggregates by GROUP BY and the first row through the index: window functions over the
        // same rows took six times as long.
        std::string(
            "INSERT INTO temp.m_state SELECT g.domain_sessionid, f.first_ts, f.first_event_id, "
            "f.first_fp, f.first_cts, g.end_ts, g.events, g.user_id FROM (SELECT domain_sessionid, "
            "max(end_ts) AS end_ts, sum(events) AS events, max(user_id) AS user_id FROM "
            "temp.m_u GROUP BY domain_sessionid) g JOIN temp.m_u f ON f.rowid = (SELECT x.rowid "
            "FROM temp.m_u x WHERE x.domain_sessionid = g.domain_sessionid ORDER BY x.first_ts, "
            "x.first_event_id, x.src LIMIT 1)"),
        std::string("CREATE TEMP TABLE m_page_views AS SELECT * FROM page_views WHERE 0"),
        page_views_sql(q, n, pv_touched, heartbeat),
        // The page views the sessions model reads: the recomputed ones, and the stored ones of
        // the other touched sessions.
        std::string("CREATE TEMP TABLE m_pv_in AS SELECT * FROM temp.m_page_views"),
        "INSERT INTO temp.m_pv_in SELECT * FROM main.page_views WHERE domain_sessionid IN " +
            touched + " AND domain_sessionid NOT IN " + pv_touched,
        std::string("CREATE INDEX temp.m_pv_in_session ON m_pv_in "
                    "(domain_sessionid, page_view_in_session_index)"),
        std::string("CREATE TEMP TABLE m_sessions AS SELECT * FROM sessions WHERE 0"),
        sessions_sql(q, n, touched),
        std::string("CREATE TEMP TABLE m_users AS SELECT * FROM users WHERE 0"),
        // The users model as users_sql computes it, without window functions (as m_state): every
        // session of the touched users, as after this run.
        "CREATE TEMP TABLE m_us AS SELECT * FROM temp.m_sessions WHERE domain_userid IN " + users +
            " UNION ALL SELECT * FROM main.sessions WHERE domain_userid IN " + users +
            " AND domain_sessionid NOT IN " + touched,
        std::string(
            "CREATE INDEX temp.m_us_first ON m_us (domain_userid, start_tstamp, domain_sessionid)"),
        std::string(
            "INSERT INTO temp.m_users SELECT g.domain_userid, g.user_id, g.first_seen, "
            "g.last_seen, g.sessions, g.page_views, g.engaged, f.landing_page_url, "
            "f.page_referrer, f.refr_medium, f.refr_source, f.mkt_medium, f.mkt_source, "
            "f.mkt_campaign FROM (SELECT domain_userid, max(user_id) AS user_id, "
            "min(start_tstamp) AS first_seen, max(end_tstamp) AS last_seen, count(*) AS sessions, "
            "sum(page_views) AS page_views, sum(engaged_time_in_s) AS engaged FROM temp.m_us "
            "GROUP BY domain_userid) g JOIN temp.m_us f ON f.rowid = (SELECT x.rowid FROM "
            "temp.m_us x WHERE x.domain_userid = g.domain_userid ORDER BY x.start_tstamp, "
            "x.domain_sessionid LIMIT 1)"),
    };
    for (const std::string& sql : steps) {
      if (options.query_plans != nullptr) {
        Status st = store.query("EXPLAIN QUERY PLAN " + sql, {},
                                RowHandler{nullptr, [&](const std::vector<Cell>& row) {
                                             if (row.size() > 3) {
                                               options.query_plans->emplace_back(row[3].text);
                                             }
                                             return true;
                                           }});
        if (!st) return st.error();
      }
      if (Status st = store.exec(sql); !st) return st.error();
    }
    return true;
  });
  r.read_us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - read_start)
                  .count();
  if (!read) return read.error();
  if (!*read) return r;
  const std::string los = std::to_string(r.from_load_id), his = std::to_string(r.to_load_id);
  auto write_phase = [&]() -> Result<bool> {
    auto now = store.scalar("SELECT last_load_id FROM model_state WHERE model = 'web'");
    if (!now) return now.error();
    if (!options.full_refresh && to_int(*now) != r.from_load_id) return false;  // raced
    const std::string touched = "(SELECT domain_sessionid FROM temp.m_touched)";
    const std::string pv_touched = "(SELECT domain_sessionid FROM temp.m_pv_touched)";
    const std::string users = "(SELECT domain_userid FROM temp.m_users_touched)";
    std::vector<std::string> steps;
    if (options.full_refresh) {
      steps = {"DELETE FROM page_views", "DELETE FROM sessions", "DELETE FROM users",
               "DELETE FROM model_session_state", "DELETE FROM model_pv_events"};
    } else {
      steps = {"DELETE FROM page_views WHERE domain_sessionid IN " + pv_touched,
               "DELETE FROM sessions WHERE domain_sessionid IN " + touched,
               "DELETE FROM users WHERE domain_userid IN " + users,
               "DELETE FROM model_session_state WHERE domain_sessionid IN " + touched};
    }
    for (const char* sql : {"INSERT INTO page_views SELECT * FROM temp.m_page_views",
                            "INSERT INTO sessions SELECT * FROM temp.m_sessions",
                            "INSERT INTO users SELECT * FROM temp.m_users",
                            "INSERT INTO model_session_state SELECT * FROM temp.m_state",
                            // In key order: neighbouring rows share their b-tree pages.
                            "INSERT INTO model_pv_events SELECT domain_sessionid, event_id, fp, "
                            "cts, event, page_view_id, pp_yoffset_max, ts FROM temp.m_new WHERE "
                            "page_view_id IS NOT NULL ORDER BY domain_sessionid, event_id, fp, "
                            "cts"}) {
      steps.emplace_back(sql);
    }
    steps.push_back("INSERT INTO model_state (model, last_load_id) VALUES ('web', " + his +
                    ") ON CONFLICT (model) DO UPDATE SET last_load_id = excluded.last_load_id");
    for (const auto& sql : steps) {
      if (Status st = store.exec(sql); !st) return st.error();
    }
    return true;
  };
  auto written = in_transaction<bool>(store, "BEGIN IMMEDIATE", write_phase, &r.write_lock_us);
  if (!written) return written.error();
  if (!*written) {
    (void)store.exec(kDropTemp);
    return Error{"data models: another model run moved the watermark meanwhile; run again"};
  }
  auto pv = count("SELECT count(*) FROM temp.m_page_views");
  auto se = count("SELECT count(*) FROM temp.m_sessions");
  auto us = count("SELECT count(*) FROM temp.m_users");
  (void)store.exec(kDropTemp);
  if (!pv) return pv.error();
  if (!se) return se.error();
  if (!us) return us.error();
  r.page_views = *pv;
  r.sessions = *se;
  r.users = *us;
  return r;
}

}  // namespace

namespace {
thread_local int t_write_lock_depth = 0;
}  // namespace

bool WriteLockPriority::held() {
  return t_write_lock_depth > 0;
}

WriteLockPriority::WriteLockPriority() {
  ++t_write_lock_depth;
  int policy = 0;
  sched_param param{};
  if (pthread_getschedparam(pthread_self(), &policy, &param) != 0 || policy != SCHED_IDLE) return;
  sched_param normal{};
  raised_ = pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal) == 0;
}

WriteLockPriority::~WriteLockPriority() {
  --t_write_lock_depth;
  if (!raised_) return;
  sched_param idle{};
  (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
}

bool can_leave_idle_policy() {
  bool ok = false;
  std::thread probe([&ok] {
    sched_param param{};
    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) != 0) return;
    ok = pthread_setschedparam(pthread_self(), SCHED_OTHER, &param) == 0;
  });
  probe.join();
  return ok;
}

Result<ModelReport> run_models(QueryStore& store, const ModelOptions& options) {
  if (store.dialect() == Dialect::kSqlite) return run_sqlite(store, options);
  return in_transaction<ModelReport>(store, "BEGIN", [&]() { return run_locked(store, options); });
}

}  // namespace furrow::storage
