// The dashboard rollups (dashboard/rollup.cpp) refreshed after each of many small loads leave
// exactly the rollup tables of one refresh over everything, row for row: a check of the
// incremental session bookkeeping (stored session state read when a chunk first meets a session,
// only the contribution parts that change replaced) on storage's sample site, whose events come
// shuffled (late first events, pings before their page view) with duplicates. It lives here
// because furrow run is what refreshes the rollups after every model run.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "dashboard/rollup.h"
#include "dashboard/sqlite_conn.h"
#include "sinks/loader.h"
#include "storage/sample_site.h"
#include "support/test_support.h"

namespace furrow::run {
namespace {

void load(const std::string& file, const std::vector<event::EnrichedEvent>& events,
          std::size_t from, std::size_t to) {
  auto target = sinks::parse_db_target("sqlite:" + file);
  ASSERT_TRUE(target.ok());
  sinks::LoaderOptions o;
  o.batch_size = 13;
  auto l = sinks::open_loader(*target, o);
  ASSERT_TRUE(l.ok()) << l.error().message;
  for (std::size_t i = from; i < to; ++i) ASSERT_TRUE((*l)->add_event(events[i]));
  ASSERT_TRUE((*l)->flush());
}

// Every row of every rollup table, in key order.
std::string dump(dashboard::Conn& db) {
  std::string out;
  for (const char* sql :
       {"SELECT * FROM dash_totals ORDER BY 1, 2, 3",
        "SELECT * FROM dash_dims ORDER BY 1, 2, 3, 4, 5",
        "SELECT grain, bucket, app_id, hex(sketch) FROM dash_visitors ORDER BY 1, 2, 3",
        "SELECT domain_sessionid, app_id, start_ms, first_rank, first_ms, entry_page, exit_ms, "
        "exit_page, page_views, pings, refr_medium, refr_source, refr_term, mkt_source, "
        "mkt_medium, mkt_campaign, country, browser, os, device, hex(windows) FROM dash_sessions "
        "ORDER BY 1"}) {
    auto st = db.prepare(sql);
    EXPECT_TRUE(st.ok()) << sql;
    if (!st.ok()) return out;
    dashboard::Stmt& s = **st;
    while (s.step() == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(s.raw()); ++i) {
        out += s.is_null(i) ? std::string_view("<null>") : s.text(i);
        out += '\t';
      }
      out += '\n';
    }
    sqlite3_reset(s.raw());
  }
  return out;
}

TEST(RollupSteps, ManySmallRefreshesEqualOneRefreshRowForRow) {
  const auto dir = furrow::test::temp_dir("furrow_rollup_steps");
  const storage::SampleSite site = storage::make_sample_site({.seed = 9, .users = 30});
  const std::size_t n = site.events.size();
  const auto now = [] { return int64_t{1'700'000'000'000}; };

  const std::string whole_file = (dir / "whole.db").string();
  load(whole_file, site.events, 0, n);
  auto whole = dashboard::Conn::open(whole_file, false);
  ASSERT_TRUE(whole.ok());
  ASSERT_TRUE(dashboard::ensure_rollup_schema(**whole));
  ASSERT_TRUE(dashboard::refresh_rollups(**whole, now));

  const std::string steps_file = (dir / "steps.db").string();
  load(steps_file, site.events, 0, 0);
  auto steps = dashboard::Conn::open(steps_file, false);
  ASSERT_TRUE(steps.ok());
  ASSERT_TRUE(dashboard::ensure_rollup_schema(**steps));
  int refreshes = 0;
  for (std::size_t from = 0, step = 1; from < n; from += step, step = step % 29 + 3) {
    load(steps_file, site.events, from, std::min(n, from + step));
    // Small chunks too, so that one refresh meets a session in several chunks.
    ASSERT_TRUE(dashboard::refresh_rollups(**steps, now, 7));
    ++refreshes;
  }
  ASSERT_GT(refreshes, 20);
  const std::string expected = dump(**whole);
  EXPECT_GT(std::count(expected.begin(), expected.end(), '\n'), site.sessions);
  EXPECT_EQ(dump(**steps), expected);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace furrow::run
