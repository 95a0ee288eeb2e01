#include "storage/models.h"

#include <string>
#include <vector>

namespace furrow::storage {
namespace {

constexpr int kModelsVersion = 1;

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
  return {
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
}

// Sessions touched by the new events (load_id in (lo, hi]).
std::string touched_sessions(const std::string& lo, const std::string& hi) {
  return "(SELECT domain_sessionid FROM atomic_events WHERE load_id > " + lo +
         " AND load_id <= " + hi + " AND domain_sessionid IS NOT NULL)";
}

std::string page_views_sql(const Sql& q, const std::string& touched, int heartbeat) {
  const std::string h = std::to_string(heartbeat);
  // One pass of window functions over the page views and pings of the touched sessions, instead
  // of joining a per-page-view ping aggregate: SQLite plans such a LEFT JOIN between two CTEs as
  // a full scan of one per row of the other (no automatic index), which made every model run
  // quadratic in the new events (42 s for 50k events, ~0.2 s now). `win` is a ping's heartbeat
  // window; `new_win` marks the first ping of each window, so their sum counts distinct windows.
  return "WITH ev AS (SELECT e.*, coalesce(e.derived_tstamp, e.collector_tstamp) AS ts FROM "
         "atomic_events_entities e WHERE e.domain_sessionid IN " +
         touched +
         " AND e.page_view_id IS NOT NULL AND e.event IN ('page_view', 'page_ping')), "
         "ev2 AS (SELECT ev.*, CASE WHEN event = 'page_ping' THEN " +
         q.epoch("ts") + " / " + h +
         " END AS win FROM ev), "
         "ev3 AS (SELECT ev2.*, CASE WHEN event = 'page_ping' AND ROW_NUMBER() OVER (PARTITION BY "
         "page_view_id, win ORDER BY ts, event_id) = 1 THEN 1 ELSE 0 END AS new_win FROM ev2), "
         "pv AS (SELECT * FROM (SELECT ev3.*, ROW_NUMBER() OVER (PARTITION BY page_view_id ORDER "
         "BY CASE WHEN event = 'page_view' THEN 0 ELSE 1 END, ts, event_id) AS rn, max(CASE WHEN "
         "event = 'page_ping' THEN ts END) OVER pw AS last_ping, sum(CASE WHEN event = "
         "'page_ping' THEN 1 ELSE 0 END) OVER pw AS pings, sum(new_win) OVER pw AS windows, "
         "max(CASE WHEN event = 'page_ping' THEN pp_yoffset_max END) OVER pw AS max_y FROM ev3 "
         "WINDOW pw AS (PARTITION BY page_view_id)) x WHERE rn = 1 AND event = 'page_view') "
         "INSERT INTO page_views SELECT pv.page_view_id, pv.event_id, pv.app_id, pv.domain_userid, "
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

std::string sessions_sql(const Sql& q, const std::string& touched) {
  // Per-session figures from window functions over the session's events (not a join of two
  // CTEs, which SQLite runs as a nested full scan), and the landing and exit page views looked up
  // in page_views through its domain_sessionid index.
  return "WITH ev AS (SELECT e.*, coalesce(e.derived_tstamp, e.collector_tstamp) AS ts FROM "
         "atomic_events_entities e WHERE e.domain_sessionid IN " +
         touched +
         "), "
         "first_ev AS (SELECT * FROM (SELECT ev.*, ROW_NUMBER() OVER (PARTITION BY "
         "domain_sessionid ORDER BY ts, event_id) AS rn, max(user_id) OVER sw AS s_user_id, "
         "min(ts) OVER sw AS s_start, max(ts) OVER sw AS s_end, count(*) OVER sw AS s_events "
         "FROM ev WINDOW sw AS (PARTITION BY domain_sessionid)) x WHERE rn = 1), "
         "f AS (SELECT first_ev.*, (SELECT count(*) FROM page_views p WHERE p.domain_sessionid = "
         "first_ev.domain_sessionid) AS pvc, coalesce((SELECT sum(engaged_time_in_s) FROM "
         "page_views p WHERE p.domain_sessionid = first_ev.domain_sessionid), 0) AS eng, (SELECT "
         "max(page_view_in_session_index) FROM page_views p WHERE p.domain_sessionid = "
         "first_ev.domain_sessionid) AS pv_last FROM first_ev) "
         "INSERT INTO sessions SELECT f.domain_sessionid, f.domain_userid, f.s_user_id, "
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
         "f.geo_timezone FROM f LEFT JOIN page_views l ON l.domain_sessionid = f.domain_sessionid "
         "AND "
         "l.page_view_in_session_index = 1 LEFT JOIN page_views x ON x.domain_sessionid = "
         "f.domain_sessionid AND x.page_view_in_session_index = f.pv_last";
}

std::string touched_users(const std::string& lo, const std::string& hi) {
  return "(SELECT domain_userid FROM atomic_events WHERE load_id > " + lo +
         " AND load_id <= " + hi +
         " AND domain_sessionid IS NOT NULL AND domain_userid IS NOT NULL)";
}

std::string users_sql(const std::string& users) {
  // Window functions over the users' sessions, first session by start (no join of two CTEs).
  return "WITH s AS (SELECT * FROM sessions WHERE domain_userid IN " + users +
         "), "
         "x AS (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY domain_userid ORDER BY start_tstamp, "
         "domain_sessionid) AS rn, max(user_id) OVER uw AS u_user_id, min(start_tstamp) OVER uw "
         "AS u_first_seen, max(end_tstamp) OVER uw AS u_last_seen, count(*) OVER uw AS "
         "u_sessions, sum(page_views) OVER uw AS u_page_views, sum(engaged_time_in_s) OVER uw AS "
         "u_engaged FROM s WINDOW uw AS (PARTITION BY domain_userid)) "
         "INSERT INTO users SELECT domain_userid, u_user_id, u_first_seen, u_last_seen, "
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
  for (const auto& sql : model_ddl(q)) {
    Status st = store.exec(sql);
    if (!st) return st;
  }
  return store.exec("INSERT INTO furrow_schema (component, version) VALUES ('models', " +
                    std::to_string(kModelsVersion) +
                    ") ON CONFLICT (component) DO UPDATE SET version = excluded.version");
}

Result<ModelReport> run_locked(QueryStore& store, const ModelOptions& options) {
  const Sql q{store.dialect()};
  Status st = ensure_tables(store, q);
  if (!st) return st.error();
  if (q.d == Dialect::kPostgres) {
    st = store.exec("LOCK TABLE atomic_events IN SHARE MODE");
    if (!st) return st.error();
  }
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
  for (const std::string& sql :
       {"DELETE FROM page_views WHERE domain_sessionid IN " + touched,
        page_views_sql(q, touched, heartbeat),
        "DELETE FROM sessions WHERE domain_sessionid IN " + touched, sessions_sql(q, touched),
        "DELETE FROM users WHERE domain_userid IN " + users, users_sql(users)}) {
    st = store.exec(sql);
    if (!st) return st.error();
  }
  auto count = [&](const std::string& sql) -> Result<int64_t> {
    auto v = store.scalar(sql);
    if (!v) return v.error();
    return to_int(*v);
  };
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

}  // namespace

Result<ModelReport> run_models(QueryStore& store, const ModelOptions& options) {
  Status st = store.exec(store.dialect() == Dialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!st) return st.error();
  auto r = run_locked(store, options);
  st = store.exec(r ? "COMMIT" : "ROLLBACK");
  if (r && !st) return st.error();
  return r;
}

}  // namespace furrow::storage
