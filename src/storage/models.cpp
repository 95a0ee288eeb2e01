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
  return "WITH ev AS (SELECT e.*, coalesce(e.derived_tstamp, e.collector_tstamp) AS ts FROM "
         "atomic_events_entities e WHERE e.domain_sessionid IN " +
         touched +
         " AND e.page_view_id IS NOT NULL), "
         "pv AS (SELECT * FROM (SELECT ev.*, ROW_NUMBER() OVER (PARTITION BY page_view_id ORDER BY "
         "ts, event_id) AS rn FROM ev WHERE event = 'page_view') x WHERE rn = 1), "
         "pings AS (SELECT page_view_id, max(ts) AS last_ping, count(*) AS pings, count(DISTINCT " +
         q.epoch("ts") + " / " + h +
         ") AS windows, max(pp_yoffset_max) AS max_y FROM ev WHERE event = 'page_ping' GROUP BY "
         "page_view_id) "
         "INSERT INTO page_views SELECT pv.page_view_id, pv.event_id, pv.app_id, pv.domain_userid, "
         "pv.user_id, pv.domain_sessionid, pv.domain_sessionidx, ROW_NUMBER() OVER (PARTITION BY "
         "pv.domain_sessionid ORDER BY pv.ts, pv.event_id), pv.ts, coalesce(pings.last_ping, "
         "pv.ts), "
         "pv.page_url, pv.page_urlhost, pv.page_urlpath, pv.page_title, pv.page_referrer, "
         "pv.refr_medium, pv.refr_source, pv.refr_term, pv.mkt_medium, pv.mkt_source, "
         "pv.mkt_campaign, pv.mkt_term, pv.mkt_content, coalesce(pings.pings, 0), "
         "coalesce(pings.windows, 0) * " +
         h +
         ", pings.max_y, CASE WHEN pv.doc_height > 0 AND pings.max_y IS NOT NULL THEN CASE WHEN "
         "(pings.max_y + coalesce(pv.br_viewheight, 0)) * 100 / pv.doc_height > 100 THEN 100 ELSE "
         "(pings.max_y + coalesce(pv.br_viewheight, 0)) * 100 / pv.doc_height END END, "
         "pv.geo_country, pv.geo_city, coalesce(pv.ua_family, pv.br_family), "
         "coalesce(pv.ua_os_family, pv.os_family), pv.ua_device_family FROM pv LEFT JOIN pings ON "
         "pings.page_view_id = pv.page_view_id";
}

std::string sessions_sql(const Sql& q, const std::string& touched) {
  return "WITH ev AS (SELECT e.*, coalesce(e.derived_tstamp, e.collector_tstamp) AS ts FROM "
         "atomic_events_entities e WHERE e.domain_sessionid IN " +
         touched +
         "), "
         "first_ev AS (SELECT * FROM (SELECT ev.*, ROW_NUMBER() OVER (PARTITION BY "
         "domain_sessionid "
         "ORDER BY ts, event_id) AS rn FROM ev) x WHERE rn = 1), "
         "agg AS (SELECT domain_sessionid, max(user_id) AS user_id, min(ts) AS start_tstamp, "
         "max(ts) AS end_tstamp, count(*) AS events FROM ev GROUP BY domain_sessionid), "
         "pvs AS (SELECT domain_sessionid, count(*) AS page_views, sum(engaged_time_in_s) AS "
         "engaged FROM page_views WHERE domain_sessionid IN " +
         touched +
         " GROUP BY domain_sessionid), "
         "landing AS (SELECT * FROM page_views WHERE page_view_in_session_index = 1 AND "
         "domain_sessionid IN " +
         touched +
         "), "
         "exits AS (SELECT * FROM (SELECT p.*, ROW_NUMBER() OVER (PARTITION BY domain_sessionid "
         "ORDER BY page_view_in_session_index DESC) AS rn FROM page_views p WHERE domain_sessionid "
         "IN " +
         touched +
         ") x WHERE rn = 1) "
         "INSERT INTO sessions SELECT f.domain_sessionid, f.domain_userid, agg.user_id, "
         "f.domain_sessionidx, agg.start_tstamp, agg.end_tstamp, " +
         q.epoch("agg.end_tstamp") + " - " + q.epoch("agg.start_tstamp") +
         ", agg.events, coalesce(pvs.page_views, 0), coalesce(pvs.engaged, 0), CASE WHEN "
         "coalesce(pvs.page_views, 0) = 1 AND coalesce(pvs.engaged, 0) = 0 THEN 1 ELSE 0 END, "
         "l.page_url, l.page_urlpath, l.page_title, x.page_url, x.page_urlpath, "
         "coalesce(l.page_referrer, f.page_referrer), f.refr_urlhost, coalesce(l.refr_medium, "
         "f.refr_medium), coalesce(l.refr_source, f.refr_source), coalesce(l.refr_term, "
         "f.refr_term), coalesce(l.mkt_medium, f.mkt_medium), coalesce(l.mkt_source, "
         "f.mkt_source), coalesce(l.mkt_campaign, f.mkt_campaign), coalesce(l.mkt_term, "
         "f.mkt_term), coalesce(l.mkt_content, f.mkt_content), coalesce(f.ua_family, f.br_family), "
         "coalesce(f.ua_os_family, f.os_family), f.ua_device_family, CASE WHEN f.dvce_ismobile "
         "THEN 1 WHEN NOT f.dvce_ismobile THEN 0 END, f.geo_country, f.geo_region, f.geo_city, "
         "f.geo_timezone FROM first_ev f JOIN agg ON agg.domain_sessionid = f.domain_sessionid "
         "LEFT JOIN pvs ON pvs.domain_sessionid = f.domain_sessionid LEFT JOIN landing l ON "
         "l.domain_sessionid = f.domain_sessionid LEFT JOIN exits x ON x.domain_sessionid = "
         "f.domain_sessionid";
}

std::string touched_users(const std::string& lo, const std::string& hi) {
  return "(SELECT domain_userid FROM atomic_events WHERE load_id > " + lo +
         " AND load_id <= " + hi +
         " AND domain_sessionid IS NOT NULL AND domain_userid IS NOT NULL)";
}

std::string users_sql(const std::string& users) {
  return "WITH s AS (SELECT * FROM sessions WHERE domain_userid IN " + users +
         "), "
         "firsts AS (SELECT * FROM (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY domain_userid "
         "ORDER BY start_tstamp, domain_sessionid) AS rn FROM s) x WHERE rn = 1), "
         "agg AS (SELECT domain_userid, max(user_id) AS user_id, min(start_tstamp) AS first_seen, "
         "max(end_tstamp) AS last_seen, count(*) AS sessions, sum(page_views) AS page_views, "
         "sum(engaged_time_in_s) AS engaged FROM s GROUP BY domain_userid) "
         "INSERT INTO users SELECT agg.domain_userid, agg.user_id, agg.first_seen, agg.last_seen, "
         "agg.sessions, agg.page_views, agg.engaged, f.landing_page_url, f.page_referrer, "
         "f.refr_medium, f.refr_source, f.mkt_medium, f.mkt_source, f.mkt_campaign FROM agg JOIN "
         "firsts f ON f.domain_userid = agg.domain_userid";
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
