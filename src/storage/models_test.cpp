#include "storage/models.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include "sinks/loader.h"
#include "storage/models_test_util.h"
#include "storage/query_store.h"
#include "storage/sample_site.h"
#include "support/test_support.h"

namespace furrow::storage {
namespace {

class ModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = furrow::test::temp_dir("furrow_models");
    url_ = "sqlite:" + (dir_ / "m.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void load(const std::vector<event::EnrichedEvent>& events, std::size_t from, std::size_t to) {
    auto target = sinks::parse_db_target(url_);
    ASSERT_TRUE(target.ok());
    sinks::LoaderOptions o;
    o.batch_size = 97;
    auto l = sinks::open_loader(*target, o);
    ASSERT_TRUE(l.ok()) << l.error().message;
    for (std::size_t i = from; i < to; ++i) ASSERT_TRUE((*l)->add_event(events[i]));
    ASSERT_TRUE((*l)->flush());
  }
  std::unique_ptr<QueryStore> store() {
    auto s = QueryStore::open(url_);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }
  static std::string one(QueryStore& s, const std::string& sql) {
    auto v = s.scalar(sql);
    EXPECT_TRUE(v.ok()) << sql << ": " << (v.ok() ? "" : v.error().message);
    return v.ok() ? *v : "";
  }
  static std::map<std::string, std::string> pairs(QueryStore& s, const std::string& sql) {
    std::map<std::string, std::string> out;
    Status st = s.query(sql, {}, RowHandler{nullptr, [&](const std::vector<Cell>& r) {
                                              out[std::string(r[0].text)] = std::string(r[1].text);
                                              return true;
                                            }});
    EXPECT_TRUE(st.ok()) << st.message();
    return out;
  }
  // Checks every known answer of the sample site.
  static void expect_answers(QueryStore& s, const SampleSite& site) {
    EXPECT_EQ(one(s, "SELECT count(*) FROM atomic_events"), std::to_string(site.unique_events));
    EXPECT_EQ(one(s, "SELECT count(*) FROM sessions"), std::to_string(site.sessions));
    EXPECT_EQ(one(s, "SELECT count(*) FROM page_views"), std::to_string(site.page_views));
    EXPECT_EQ(one(s, "SELECT count(*) FROM users"), std::to_string(site.users));
    EXPECT_EQ(one(s, "SELECT sum(is_bounce) FROM sessions"), std::to_string(site.bounces));
    EXPECT_EQ(one(s, "SELECT sum(engaged_time_in_s) FROM page_views"),
              std::to_string(site.engaged_seconds));
    EXPECT_EQ(one(s, "SELECT sum(engaged_time_in_s) FROM sessions"),
              std::to_string(site.engaged_seconds));
    EXPECT_EQ(one(s, "SELECT sum(page_views) FROM users"), std::to_string(site.page_views));
    std::map<std::string, std::string> landing;
    for (const auto& [path, n] : site.landing_pages) landing[path] = std::to_string(n);
    EXPECT_EQ(
        pairs(s, "SELECT landing_page_path, count(*) FROM sessions GROUP BY landing_page_path"),
        landing);
    std::map<std::string, std::string> per_user;
    for (const auto& [u, n] : site.sessions_by_user) per_user[u] = std::to_string(n);
    EXPECT_EQ(pairs(s, "SELECT domain_userid, sessions FROM users"), per_user);
    std::map<std::string, std::string> touch;
    for (const auto& [u, src] : site.first_touch) touch[u] = src;
    EXPECT_EQ(
        pairs(s,
              "SELECT domain_userid, coalesce(first_mkt_source, first_refr_source, '') FROM users"),
        touch);
  }

  std::filesystem::path dir_;
  std::string url_;
};

TEST_F(ModelsTest, KnownAnswersOfTheSampleSite) {
  const SampleSite site = make_sample_site({});
  ASSERT_GT(site.bounces, 0);
  ASSERT_GT(site.engaged_seconds, 0);
  ASSERT_GT(site.events.size(), static_cast<std::size_t>(site.unique_events));  // has duplicates
  load(site.events, 0, site.events.size());
  auto s = store();
  ASSERT_NE(s, nullptr);
  auto r = run_models(*s, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sessions, site.sessions);
  EXPECT_EQ(r->page_views, site.page_views);
  EXPECT_EQ(r->users, site.users);
  expect_answers(*s, site);
  // Page-level details: a page view's engaged time is a multiple of the heartbeat, the landing
  // page has index 1, scroll depth is capped at 100 %.
  EXPECT_EQ(one(*s, "SELECT count(*) FROM page_views WHERE engaged_time_in_s % 10 <> 0"), "0");
  EXPECT_EQ(one(*s, "SELECT count(*) FROM page_views WHERE page_view_in_session_index = 1"),
            std::to_string(site.sessions));
  EXPECT_EQ(one(*s, "SELECT max(vertical_percentage_scrolled) <= 100 FROM page_views"), "1");
  EXPECT_EQ(one(*s, "SELECT count(DISTINCT device_family) FROM sessions"), "3");
  // Nothing new: a second run processes nothing and changes nothing.
  auto again = run_models(*s, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->from_load_id, again->to_load_id);
  expect_answers(*s, site);
}

TEST_F(ModelsTest, IncrementalRunsGiveTheSameAnswersAsOneRun) {
  const SampleSite site = make_sample_site({.seed = 7, .users = 30});
  const std::size_t n = site.events.size();
  auto s = store();
  ASSERT_NE(s, nullptr);
  // Shuffled input: sessions span the three loads, so later runs must revisit earlier sessions.
  for (auto [from, to] :
       {std::pair<std::size_t, std::size_t>{0, n / 3}, {n / 3, 2 * n / 3}, {2 * n / 3, n}}) {
    load(site.events, from, to);
    auto r = run_models(*s, {});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_GT(r->to_load_id, r->from_load_id);
  }
  expect_answers(*s, site);
  auto full = run_models(*s, {.full_refresh = true});
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->from_load_id, 0);
  expect_answers(*s, site);
}

std::string dump(QueryStore& s) {
  return test_util::model_rows(s);
}

// Runs after each of several loads (sessions spanning them) leave exactly the rows, every column,
// that one full recomputation gives.
TEST_F(ModelsTest, IncrementalRowsEqualAFullRefreshColumnForColumn) {
  const SampleSite site = make_sample_site({.seed = 11, .users = 25});
  const std::size_t n = site.events.size();
  auto s = store();
  ASSERT_NE(s, nullptr);
  for (std::size_t k = 0; k < 4; ++k) {
    load(site.events, k * n / 4, (k + 1) * n / 4);
    ASSERT_TRUE(run_models(*s, {}).ok());
  }
  const std::string incremental = dump(*s);
  EXPECT_GT(std::count(incremental.begin(), incremental.end(), '\n'), site.sessions);
  auto full = run_models(*s, {.full_refresh = true});
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(dump(*s), incremental);
  // No temp table is left behind on the connection.
  EXPECT_EQ(one(*s, "SELECT count(*) FROM temp.sqlite_master"), "0");
}

// The sessions model carries each session's running state (model_session_state) and a run reads
// only its new events: runs after many small loads, with late events that become their session's
// new first event, ties of timestamp (first event decided by event_id) and a user_id that appears
// late, leave exactly the rows of one full recomputation.
TEST_F(ModelsTest, ManySmallIncrementalRunsEqualOneFullRun) {
  SampleSite site = make_sample_site({.seed = 5, .users = 30});
  for (std::size_t i = 0; i < site.events.size(); ++i) {
    auto& e = site.events[i];
    if (i % 7 == 0) {  // ties, early; the session's geo_city shows which one came first
      e[event::Field::derived_tstamp] = "2020-01-01 00:00:00.000";
      e[event::Field::geo_city] = "tie-" + std::to_string(i);
    }
    if (i % 11 == 0) e[event::Field::user_id] = "late-user-" + std::to_string(i % 3);
    if (i % 13 == 0) e[event::Field::domain_sessionid].clear();  // not part of any session
  }
  // Tracker re-sends of every 17th event, collected again later: a second row each (atomic
  // schema 3 keys rows by collector_tstamp, event_id and fingerprint), which the models count
  // like any other event.
  const std::size_t originals = site.events.size();
  std::size_t resent = 0;
  for (std::size_t i = 0; i < originals; i += 17, ++resent) {
    event::EnrichedEvent again = site.events[i];
    const std::string mm = std::to_string(100 + resent / 60).substr(1);
    const std::string ss = std::to_string(100 + resent % 60).substr(1);
    again[event::Field::collector_tstamp] = "2030-01-01 00:" + mm + ":" + ss + ".000";
    site.events.push_back(std::move(again));
  }
  const std::size_t n = site.events.size();
  auto s = store();
  ASSERT_NE(s, nullptr);
  int runs = 0;
  for (std::size_t from = 0, step = 1; from < n; from += step, step = step % 37 + 5) {
    load(site.events, from, std::min(n, from + step));
    auto r = run_models(*s, {});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ++runs;
  }
  ASSERT_GT(runs, 20);
  // The sample site's own duplicates (same collector_tstamp) are dropped, every re-send kept.
  EXPECT_EQ(one(*s, "SELECT count(*) FROM atomic_events"),
            std::to_string(static_cast<std::size_t>(site.unique_events) + resent));
  const std::string incremental = dump(*s);
  EXPECT_GT(std::count(incremental.begin(), incremental.end(), '\n'), site.sessions);
  EXPECT_EQ(one(*s, "SELECT count(*) FROM model_session_state"),
            one(*s, "SELECT count(*) FROM sessions"));
  EXPECT_EQ(one(*s, "SELECT sum(events) FROM model_session_state"),
            one(*s, "SELECT count(*) FROM atomic_events WHERE domain_sessionid IS NOT NULL"));
  // model_pv_events holds every page view and ping of a session, once.
  const std::string pv_events =
      "SELECT count(*) FROM atomic_events_entities WHERE domain_sessionid IS NOT NULL AND event "
      "IN ('page_view', 'page_ping') AND page_view_id IS NOT NULL";
  ASSERT_NE(one(*s, pv_events), "0");
  EXPECT_EQ(one(*s, "SELECT count(*) FROM model_pv_events"), one(*s, pv_events));
  auto full = run_models(*s, {.full_refresh = true});
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(dump(*s), incremental);
  EXPECT_EQ(one(*s, "SELECT count(*) FROM temp.sqlite_master"), "0");
}

// A database whose models were written by version 1 (no session state), 2 (no model_pv_events)
// or 3 (state tables without the events' collector_tstamp) is recomputed once by the next run,
// which then leaves the rows of a full recomputation.
class ModelsUpgradeTest : public ModelsTest, public ::testing::WithParamInterface<int> {};

TEST_P(ModelsUpgradeTest, OlderModelsAreRecomputedOnUpgrade) {
  const SampleSite site = make_sample_site({.seed = 3, .users = 20});
  const std::size_t n = site.events.size();
  auto s = store();
  ASSERT_NE(s, nullptr);
  load(site.events, 0, n / 2);
  ASSERT_TRUE(run_models(*s, {}).ok());
  // What the older version left: the same model tables, without the later state tables (a
  // version-2 run kept session state for the loads it modelled).
  if (GetParam() == 3) {
    // Version 3's layout of both state tables, with its rows.
    ASSERT_TRUE(s->exec(
        "CREATE TABLE v3_state (domain_sessionid TEXT PRIMARY KEY, first_ts TEXT NOT NULL, "
        "first_event_id TEXT NOT NULL, first_fp TEXT NOT NULL, end_ts TEXT NOT NULL, events "
        "INTEGER NOT NULL, user_id TEXT) WITHOUT ROWID; INSERT INTO v3_state SELECT "
        "domain_sessionid, first_ts, first_event_id, first_fp, end_ts, events, user_id FROM "
        "model_session_state; DROP TABLE model_session_state; ALTER TABLE v3_state RENAME TO "
        "model_session_state"));
    ASSERT_TRUE(s->exec(
        "CREATE TABLE v3_pv (domain_sessionid TEXT NOT NULL, event_id TEXT NOT NULL, fp TEXT NOT "
        "NULL, event TEXT, page_view_id NOT NULL, pp_yoffset_max, ts, PRIMARY KEY "
        "(domain_sessionid, event_id, fp)) WITHOUT ROWID; INSERT INTO v3_pv SELECT "
        "domain_sessionid, event_id, fp, event, page_view_id, pp_yoffset_max, ts FROM "
        "model_pv_events; DROP TABLE model_pv_events; ALTER TABLE v3_pv RENAME TO "
        "model_pv_events"));
  } else {
    ASSERT_TRUE(s->exec("DROP TABLE model_pv_events"));
  }
  if (GetParam() == 1) {
    ASSERT_TRUE(s->exec("DROP TABLE model_session_state"));
  }
  ASSERT_TRUE(s->exec("UPDATE furrow_schema SET version = " + std::to_string(GetParam()) +
                      " WHERE component = 'models'"));
  load(site.events, n / 2, n);
  auto r = run_models(*s, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->from_load_id, 0);
  EXPECT_EQ(r->sessions, site.sessions);
  expect_answers(*s, site);
  const std::string upgraded = dump(*s);
  ASSERT_TRUE(run_models(*s, {.full_refresh = true}).ok());
  EXPECT_EQ(dump(*s), upgraded);
  EXPECT_EQ(one(*s, "SELECT version FROM furrow_schema WHERE component = 'models'"), "4");
  EXPECT_EQ(one(*s, "SELECT sum(events) FROM model_session_state"),
            one(*s, "SELECT count(*) FROM atomic_events WHERE domain_sessionid IS NOT NULL"));
}

INSTANTIATE_TEST_SUITE_P(Versions, ModelsUpgradeTest, ::testing::Values(1, 2, 3));

// SQLite has no index on event_id alone (atomic schema 3: the unique key is led by
// collector_tstamp) nor on domain_sessionid: an incremental run reads atomic_events only through
// the load_id index (the new events) and the unique key (the rows of page views and of each
// session's first event), never by a scan, whose cost would grow with the whole table.
TEST_F(ModelsTest, SqliteRunReadsAtomicEventsOnlyThroughIndexes) {
  const SampleSite site = make_sample_site({.seed = 7, .users = 20});
  const std::size_t n = site.events.size();
  auto s = store();
  ASSERT_NE(s, nullptr);
  load(site.events, 0, n / 2);
  ASSERT_TRUE(run_models(*s, {}).ok());
  load(site.events, n / 2, n);
  std::vector<std::string> plans;
  auto r = run_models(*s, {.query_plans = &plans});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_GT(r->page_views, 0);
  std::string all;
  int by_key = 0, by_load_id = 0;
  for (const std::string& p : plans) {
    all += p + "\n";
    // The view atomic_events_entities reads atomic_events as `e`.
    const bool atomic = p == "SCAN e" || p.rfind("SCAN e ", 0) == 0 ||
                        p.rfind("SEARCH e ", 0) == 0 ||
                        p.find("atomic_events") != std::string::npos;
    if (!atomic) continue;
    EXPECT_EQ(p.rfind("SCAN", 0), std::string::npos) << p;
    EXPECT_EQ(p.find("AUTOMATIC"), std::string::npos) << p;
    if (p.find("USING INDEX atomic_events_key (collector_tstamp=? AND event_id=?") !=
        std::string::npos) {
      ++by_key;
    }
    if (p.find("USING INDEX atomic_events_load_id") != std::string::npos) ++by_load_id;
  }
  EXPECT_GE(by_key, 2) << all;  // page views, sessions' first events
  EXPECT_GE(by_load_id, 1) << all;
  EXPECT_EQ(all.find("SCAN e\n"), std::string::npos) << all;
}

// furrow run's models thread is SCHED_IDLE; its write transactions run at the normal policy.
TEST(WriteLockPriority, RaisesAnIdleThreadForItsScopeOnly) {
  if (!can_leave_idle_policy())
    GTEST_SKIP() << "this system does not let a thread leave SCHED_IDLE";
  auto policy = [] {
    int p = -1;
    sched_param param{};
    EXPECT_EQ(pthread_getschedparam(pthread_self(), &p, &param), 0);
    return p;
  };
  std::thread t([&] {
    {
      WriteLockPriority normal_thread;  // not idle: nothing changes
      EXPECT_EQ(policy(), SCHED_OTHER);
    }
    EXPECT_EQ(policy(), SCHED_OTHER);
    sched_param param{};
    ASSERT_EQ(pthread_setschedparam(pthread_self(), SCHED_IDLE, &param), 0);
    {
      WriteLockPriority writing;
      EXPECT_EQ(policy(), SCHED_OTHER);
    }
    EXPECT_EQ(policy(), SCHED_IDLE);
  });
  t.join();
}

TEST_F(ModelsTest, EmptyDatabaseRunsCleanly) {
  auto s = store();
  ASSERT_NE(s, nullptr);
  auto r = run_models(*s, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->to_load_id, 0);
  EXPECT_EQ(one(*s, "SELECT count(*) FROM sessions"), "0");
}

}  // namespace
}  // namespace furrow::storage
