// The dashboard's interrupt hook (Dashboard::interrupt_when), through which furrow run's models
// thread makes a starved refresh give its read snapshot back: an interrupted refresh keeps the
// chunks it finished and changes nothing else, and the next refresh ends with the rollups of
// one uninterrupted refresh.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "dashboard/dashboard.h"
#include "dashboard/rollup.h"
#include "dashboard/sqlite_conn.h"
#include "sinks/loader.h"
#include "storage/sample_site.h"
#include "support/test_support.h"

namespace furrow::run {
namespace {

void load_all(const std::string& file, const std::vector<event::EnrichedEvent>& events) {
  auto target = sinks::parse_db_target("sqlite:" + file);
  ASSERT_TRUE(target.ok());
  sinks::LoaderOptions o;
  o.batch_size = 40;
  auto l = sinks::open_loader(*target, o);
  ASSERT_TRUE(l.ok()) << l.error().message;
  for (const auto& e : events) ASSERT_TRUE((*l)->add_event(e));
  ASSERT_TRUE((*l)->flush());
}

std::string rows(const std::string& file, const char* sql) {
  auto db = dashboard::Conn::open(file, true);
  EXPECT_TRUE(db.ok());
  if (!db.ok()) return "";
  auto st = (*db)->prepare(sql);
  EXPECT_TRUE(st.ok()) << sql;
  if (!st.ok()) return "";
  std::string out;
  dashboard::Stmt& s = **st;
  while (s.step() == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(s.raw()); ++i) {
      out += s.is_null(i) ? std::string_view("<null>") : s.text(i);
      out += '\t';
    }
    out += '\n';
  }
  return out;
}

std::string rollups(const std::string& file) {
  return rows(file, "SELECT * FROM dash_totals ORDER BY 1, 2, 3") +
         rows(file, "SELECT * FROM dash_dims ORDER BY 1, 2, 3, 4, 5") +
         rows(file,
              "SELECT grain, bucket, app_id, hex(sketch) FROM dash_visitors ORDER BY 1, 2, 3");
}

TEST(DashboardInterrupt, AnInterruptedRefreshChangesNothingButFinishedChunksAndResumes) {
  const auto dir = test::temp_dir("furrow_dash_interrupt");
  const storage::SampleSite site = storage::make_sample_site({.seed = 4, .users = 30});
  const std::string file = (dir / "i.db").string();
  const std::string ref_file = (dir / "ref.db").string();
  load_all(file, site.events);
  load_all(ref_file, site.events);
  const auto now = [] { return int64_t{1'700'000'000'000}; };
  {
    auto ref = dashboard::Conn::open(ref_file, false);
    ASSERT_TRUE(ref.ok());
    ASSERT_TRUE(dashboard::ensure_rollup_schema(**ref));
    ASSERT_TRUE(dashboard::refresh_rollups(**ref, now));
  }
  dashboard::Options o;
  o.db = file;
  o.now_ms = now;
  auto dash = dashboard::Dashboard::open(o);
  ASSERT_TRUE(dash.ok()) << dash.error().message;
  std::atomic<int> checks{0};
  (*dash)->interrupt_when([&] { return ++checks > 3; });
  Status st = (*dash)->refresh();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("interrupt"), std::string::npos) << st.message();
  EXPECT_GT(checks.load(), 3);
  // Stopped before the end (whatever chunks finished stay, with their watermark).
  EXPECT_NE(rollups(file), rollups(ref_file));
  // The hook removed, the next refresh finishes the job.
  (*dash)->interrupt_when({});
  const int before = checks.load();
  ASSERT_TRUE((*dash)->refresh().ok());
  EXPECT_EQ(checks.load(), before);
  EXPECT_EQ(rollups(file), rollups(ref_file));
  dash->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace furrow::run
