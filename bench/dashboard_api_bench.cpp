// Acceptance 5 of issue 7: every dashboard API query answers in under 500 ms over 10 million
// events. The data set is generated inside SQLite (a recursive CTE, no per-row binding), with
// realistic cardinalities: 3 apps, 2M sessions of 5 events (page views, page pings with web_page
// contexts, structured and self-describing events) from 400k visitors over 30 days, 2000 pages
// with a skewed popularity, referrers, search terms, campaigns, 100 countries, and a
// ua_parser_context on every event; plus 20k bad rows. It is cached at
// $FURROW_DASHBOARD_BENCH_DB (default /tmp/furrow_dashboard_bench/events.db) and regenerated when
// the event count differs ($FURROW_DASHBOARD_BENCH_EVENTS, default 10,000,000). The first
// benchmark reports the generation and refresh() times; the rest time each endpoint over the
// last 30, 7 and 1 days, with and without an app filter.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "dashboard/dashboard.h"
#include "storage/query_store.h"

namespace {

using furrow::dashboard::Dashboard;

constexpr int64_t kBaseS = 1709251200;  // 2024-03-01 00:00:00 UTC
constexpr int64_t kDaySMs = 86'400'000;

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "SQL failed: %s\n%s\n", err ? err : "", sql.c_str());
    std::abort();
  }
}

int64_t count(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    n = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  return n;
}

void generate(const std::filesystem::path& path, int64_t events) {
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  {
    auto store = furrow::storage::QueryStore::open("sqlite:" + path.string());
    if (!store) {
      std::fprintf(stderr, "%s\n", store.error().message.c_str());
      std::abort();
    }
  }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  // A throwaway bulk load: no journal, no sync (WAL would write everything twice); WAL again after.
  exec(db, "PRAGMA journal_mode=OFF");
  exec(db, "PRAGMA synchronous=OFF");
  exec(db, "PRAGMA cache_size=-262144");
  exec(db, "BEGIN");
  const std::string n = std::to_string(events);
  const std::string sessions = std::to_string(events / 5);
  // s: session number, k: event in session, h: a hash of the session.
  exec(db,
       "WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < " + n +
           " - 1), "
           "e AS (SELECT n, n / 5 AS s, n % 5 AS k, ((n / 5) * 2654435761) % 4294967296 AS h FROM "
           "c), "
           "f AS (SELECT *, " +
           std::to_string(kBaseS) + " + (s * 2592000) / " + sessions +
           " + k * 20 AS sec, CASE WHEN k IN (0, 2) THEN 'page_view' WHEN k IN (1, 3) THEN "
           "'page_ping' WHEN h % 3 = 0 THEN 'struct' WHEN h % 3 = 1 THEN 'unstruct' ELSE "
           "'page_view' END AS ev, (((s * 5 + (k / 2) * 2) * 2654435761) % 2000) AS p FROM e) "
           "INSERT INTO atomic_events (app_id, platform, collector_tstamp, derived_tstamp, event, "
           "event_id, v_collector, v_etl, domain_userid, domain_sessionid, page_urlhost, "
           "page_urlpath, page_title, refr_medium, refr_source, refr_term, mkt_source, "
           "mkt_medium, mkt_campaign, geo_country, derived_contexts, contexts, se_category, "
           "se_action, event_vendor, event_name, event_format, event_version, load_id) SELECT "
           "CASE h % 10 WHEN 0 THEN 'shop' WHEN 1 THEN 'blog' ELSE 'site' END, 'web', "
           "strftime('%Y-%m-%d %H:%M:%f', sec, 'unixepoch'), strftime('%Y-%m-%d %H:%M:%f', sec, "
           "'unixepoch'), ev, printf('%08x-0000-4000-8000-%012x', n, n), 'bench', 'bench', "
           "'u' || (h % 400000), 's' || s, 'www.example.com', '/page/' || (p * p / 2000), "
           "'Page ' || (p * p / 2000), CASE WHEN k = 0 AND h % 4 = 0 THEN 'search' WHEN k = 0 "
           "AND h % 4 = 1 THEN 'social' END, CASE WHEN k = 0 AND h % 4 < 2 THEN 'Source' || (h "
           "/ 7 % 50) END, CASE WHEN k = 0 AND h % 4 = 0 THEN 'term ' || (h / 11 % 5000) END, "
           "CASE WHEN k = 0 AND h % 9 = 0 THEN 'src' || (h / 13 % 20) END, CASE WHEN k = 0 AND h "
           "% 9 = 0 THEN CASE h % 2 WHEN 0 THEN 'email' ELSE 'cpc' END END, CASE WHEN k = 0 AND "
           "h % 9 = 0 THEN 'campaign' || (h / 17 % 200) END, 'C' || (h / 19 % 100), "
           "'{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\","
           "\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_context/"
           "jsonschema/1-0-0\",\"data\":{\"useragentFamily\":\"Browser' || (h / 23 % 20) || "
           "'\",\"useragentMajor\":\"120\",\"osFamily\":\"OS' || (h / 29 % 10) || "
           "'\",\"deviceFamily\":\"Device' || (h / 31 % 5) || '\"}}]}', CASE WHEN ev IN "
           "('page_view', 'page_ping') THEN "
           "'{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\","
           "\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/"
           "1-0-0\",\"data\":{\"id\":\"pv' || (s * 5 + (k / 2) * 2) || '\"}}]}' END, CASE WHEN "
           "ev = 'struct' THEN 'category' || (h / 37 % 20) END, CASE WHEN ev = 'struct' THEN "
           "'action' || (h / 41 % 10) END, CASE WHEN ev = 'unstruct' THEN 'com.acme' END, CASE "
           "WHEN ev = 'unstruct' THEN 'event' || (h / 43 % 30) END, CASE WHEN ev = 'unstruct' "
           "THEN 'jsonschema' END, CASE WHEN ev = 'unstruct' THEN '1-0-0' END, n / 10000 + 1 "
           "FROM f");
  exec(db, "WITH RECURSIVE c(b) AS (SELECT 1 UNION ALL SELECT b + 1 FROM c WHERE b < " + n +
               " / 10000 + 1) INSERT INTO load_batches (load_id, started_at, events) SELECT b, "
               "'2024-04-01 00:00:00.000', 10000 FROM c");
  exec(db,
       "WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < 19999) INSERT "
       "INTO bad_rows (row_hash, schema, failure_type, processor, failure_tstamp, document, "
       "load_id) SELECT printf('%064x', n), "
       "'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-0', CASE n "
       "% 3 WHEN 0 THEN 'schema_violations' WHEN 1 THEN 'adapter_failures' ELSE "
       "'tracker_protocol_violations' END, 'furrow', strftime('%Y-%m-%dT%H:%M:%fZ', " +
           std::to_string(kBaseS) +
           " + n * 129, 'unixepoch'), "
           "'{\"schema\":\"x\",\"data\":{\"failure\":{\"messages\":[\"field "
           "' || n || ' is invalid\"]}}}', 1 FROM c");
  exec(db, "COMMIT");
  exec(db, "PRAGMA journal_mode=WAL");
  sqlite3_close(db);
}

struct Fixture {
  std::filesystem::path path;
  std::unique_ptr<Dashboard> dashboard;
  double generate_s = 0, refresh_s = 0;
  int64_t events = 0;
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture fx;
    const int64_t events = env_int("FURROW_DASHBOARD_BENCH_EVENTS", 10'000'000);
    const char* env_db = std::getenv("FURROW_DASHBOARD_BENCH_DB");
    const std::filesystem::path path =
        env_db && *env_db ? env_db : "/tmp/furrow_dashboard_bench/events.db";
    std::filesystem::create_directories(path.parent_path());
    bool fresh = true;
    if (std::filesystem::exists(path)) {
      sqlite3* db = nullptr;
      sqlite3_open(path.c_str(), &db);
      // Generated batches (not the live ones BM_RefreshLiveBatch adds) identify the data set.
      fresh = count(db,
                    "SELECT coalesce(sum(events), 0) FROM load_batches WHERE started_at = "
                    "'2024-04-01 00:00:00.000'") != (events / 10'000 + 1) * 10'000;
      sqlite3_close(db);
    }
    auto t0 = std::chrono::steady_clock::now();
    if (fresh) generate(path, events);
    auto t1 = std::chrono::steady_clock::now();
    furrow::dashboard::Options o;
    o.db = path;
    // "now" is the end of the generated month, so the default ranges cover the data.
    o.now_ms = [] { return (kBaseS + 30 * 86400) * int64_t{1000}; };
    auto d = Dashboard::open(o);
    if (!d) {
      std::fprintf(stderr, "%s\n", d.error().message.c_str());
      std::abort();
    }
    fx.dashboard = std::move(*d);
    if (auto st = fx.dashboard->refresh(); !st) {
      std::fprintf(stderr, "refresh: %s\n", st.message().c_str());
      std::abort();
    }
    auto t2 = std::chrono::steady_clock::now();
    fx.generate_s = fresh ? std::chrono::duration<double>(t1 - t0).count() : 0;
    fx.refresh_s = std::chrono::duration<double>(t2 - t1).count();
    fx.events = events;
    fx.path = path;
    std::fprintf(stderr,
                 "dashboard bench data: %lld events, generated in %.1f s (0 = cached), rollups "
                 "refreshed in %.1f s\n",
                 static_cast<long long>(events), fx.generate_s, fx.refresh_s);
    return fx;
  }();
  return f;
}

std::string range_query(int days, bool app) {
  const int64_t to = (kBaseS + 30 * 86400) * int64_t{1000};
  std::string q = "from=" + std::to_string(to - days * kDaySMs) + "&to=" + std::to_string(to);
  if (app) q += "&app_id=site";
  return q;
}

void BM_Endpoint(benchmark::State& state, const char* endpoint, int days, bool app) {
  Fixture& f = fixture();
  const std::string target = std::string("/api/") + endpoint + "?" + range_query(days, app);
  furrow::collector::HttpRequest req;
  req.method = "GET";
  req.target = target;
  std::size_t bytes = 0;
  for (auto _ : state) {
    furrow::dashboard::Response out;
    f.dashboard->handle(req, out);
    if (out.status != 200) {
      state.SkipWithError(out.body.c_str());
      break;
    }
    bytes = out.body.size();
    benchmark::DoNotOptimize(out.body.data());
  }
  state.counters["events"] = static_cast<double>(f.events);
  state.counters["body_bytes"] = static_cast<double>(bytes);
}

// What furrow run pays per commit under live traffic: a new load batch of `range(0)` events (5 per
// session, new sessions, all in the last hour of the data set, as live traffic is) is inserted
// outside the timing, then refresh() is timed.
void BM_RefreshLiveBatch(benchmark::State& state) {
  Fixture& f = fixture();
  const int64_t batch = state.range(0);
  sqlite3* db = nullptr;
  sqlite3_open(f.path.c_str(), &db);
  sqlite3_busy_timeout(db, 10000);
  for (auto _ : state) {
    state.PauseTiming();
    const int64_t load_id = count(db, "SELECT max(load_id) FROM load_batches") + 1;
    // Event numbers above the generated ones, and apart for every live batch ever added (the
    // cached data set keeps the batches of earlier runs, so a fixed start would collide).
    const int64_t next = f.events + 1'000'000'000 + load_id * 1'000'000;
    const std::string first = std::to_string(next), n = std::to_string(batch);
    const std::string end_s = std::to_string(kBaseS + 30 * 86400);
    exec(db, "BEGIN");
    exec(db, "INSERT INTO load_batches (load_id, started_at, events) VALUES (" +
                 std::to_string(load_id) + ", '2024-04-02 00:00:00.000', " + n + ")");
    exec(db,
         "WITH RECURSIVE c(n) AS (SELECT " + first + " UNION ALL SELECT n + 1 FROM c WHERE n < " +
             first + " + " + n +
             " - 1), e AS (SELECT n, n / 5 AS s, n % 5 AS k, ((n / 5) * 2654435761) % 4294967296 "
             "AS h FROM c) INSERT INTO atomic_events (app_id, platform, collector_tstamp, "
             "derived_tstamp, event, event_id, v_collector, v_etl, domain_userid, "
             "domain_sessionid, page_urlhost, page_urlpath, geo_country, derived_contexts, "
             "contexts, load_id) SELECT 'site', 'web', strftime('%Y-%m-%d %H:%M:%f', " +
             end_s + " - 3600 + n % 3600, 'unixepoch'), strftime('%Y-%m-%d %H:%M:%f', " + end_s +
             " - 3600 + n % 3600, 'unixepoch'), CASE WHEN k % 2 = 0 THEN 'page_view' ELSE "
             "'page_ping' END, printf('%08x-0000-4000-8000-%012x', n, n), 'bench', 'bench', 'u' "
             "|| (h % 400000), 's' || s, 'www.example.com', '/page/' || (h % 2000), 'C' || (h % "
             "100), "
             "'{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\","
             "\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_context/"
             "jsonschema/1-0-0\",\"data\":{\"useragentFamily\":\"Browser' || (h % 20) || "
             "'\"}}]}', "
             "'{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\","
             "\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/web_page/"
             "jsonschema/1-0-0\",\"data\":{\"id\":\"pv' || s || '\"}}]}', " +
             std::to_string(load_id) + " FROM e");
    exec(db, "COMMIT");
    state.ResumeTiming();
    auto st = f.dashboard->refresh();
    if (!st) state.SkipWithError(st.message().c_str());
  }
  sqlite3_close(db);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(batch) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

void BM_Incremental(benchmark::State& state) {
  // A refresh with nothing new: what furrow run pays after a commit that brought no events.
  Fixture& f = fixture();
  for (auto _ : state) {
    auto st = f.dashboard->refresh();
    if (!st) state.SkipWithError(st.message().c_str());
  }
}

#define FURROW_ENDPOINT(name, ep)                                                           \
  BENCHMARK_CAPTURE(BM_Endpoint, name##_30d, ep, 30, false)->Unit(benchmark::kMillisecond); \
  BENCHMARK_CAPTURE(BM_Endpoint, name##_7d, ep, 7, false)->Unit(benchmark::kMillisecond);   \
  BENCHMARK_CAPTURE(BM_Endpoint, name##_1d, ep, 1, false)->Unit(benchmark::kMillisecond);   \
  BENCHMARK_CAPTURE(BM_Endpoint, name##_30d_app, ep, 30, true)->Unit(benchmark::kMillisecond)

FURROW_ENDPOINT(summary, "summary");
FURROW_ENDPOINT(timeseries, "timeseries");
FURROW_ENDPOINT(pages, "pages");
FURROW_ENDPOINT(entry_pages, "entry-pages");
FURROW_ENDPOINT(exit_pages, "exit-pages");
FURROW_ENDPOINT(referrers, "referrers");
FURROW_ENDPOINT(search_terms, "search-terms");
FURROW_ENDPOINT(campaigns, "campaigns");
FURROW_ENDPOINT(countries, "countries");
FURROW_ENDPOINT(browsers, "browsers");
FURROW_ENDPOINT(os, "os");
FURROW_ENDPOINT(devices, "devices");
FURROW_ENDPOINT(events, "events");
FURROW_ENDPOINT(live, "live");
FURROW_ENDPOINT(bad_rows, "bad-rows");
FURROW_ENDPOINT(apps, "apps");
BENCHMARK(BM_Incremental)->Unit(benchmark::kMillisecond);
// Last: it adds events to the cached data set (in batches the cache check ignores).
BENCHMARK(BM_RefreshLiveBatch)->Arg(10'000)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
