#include "run/sqlite_handle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "sinks/loader.h"
#include "storage/models.h"
#include "storage/models_test_util.h"
#include "storage/sample_site.h"
#include "support/test_support.h"

namespace furrow::run {
namespace {

namespace fs = std::filesystem;

std::string one(storage::QueryStore& s, const std::string& sql) {
  auto v = s.scalar(sql);
  EXPECT_TRUE(v.ok()) << sql;
  return v.ok() ? *v : "?";
}

std::string dump(storage::QueryStore& s) {
  return storage::test_util::model_rows(s);
}

// The models thread's way to give a read snapshot back: a progress handler on the store's own
// connection stops a model run in its read phase; the run changes nothing (watermark, model rows)
// and the next one gives the rows a full recomputation gives.
TEST(SqliteHandle, AProgressHandlerInterruptsAModelRunWhichThenChangesNothing) {
  const fs::path dir = test::temp_dir("run-sqlite-handle");
  const fs::path db = dir / "m.db";
  const storage::SampleSite site = storage::make_sample_site({.seed = 9, .users = 20});
  {
    auto target = sinks::parse_db_target("sqlite:" + db.string());
    ASSERT_TRUE(target.ok());
    sinks::LoaderOptions o;
    o.batch_size = 50;
    auto l = sinks::open_loader(*target, o);
    ASSERT_TRUE(l.ok()) << l.error().message;
    for (const auto& e : site.events) ASSERT_TRUE((*l)->add_event(e));
    ASSERT_TRUE((*l)->flush());
  }
  sqlite3* handle = nullptr;
  auto store = open_store_with_handle(db, handle);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_NE(handle, nullptr);
  // Each call gets the connection of its own store.
  sqlite3* second = nullptr;
  auto other = open_store_with_handle(db, second);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(second, handle);
  EXPECT_EQ(sqlite3_db_filename(handle, "main"), std::string(sqlite3_db_filename(second, "main")));

  // Interrupt after some steps of the first run (its read phase: no write lock is held).
  struct Ctl {
    std::atomic<int> steps{0};
    std::atomic<bool> stop{true};
  } ctl;
  sqlite3_progress_handler(
      handle, 100,
      [](void* arg) {
        auto* c = static_cast<Ctl*>(arg);
        return c->stop.load() && ++c->steps > 20 && !storage::WriteLockPriority::held() ? 1 : 0;
      },
      &ctl);
  auto interrupted = storage::run_models(**store, {});
  ASSERT_FALSE(interrupted.ok());
  EXPECT_NE(interrupted.error().message.find("interrupt"), std::string::npos)
      << interrupted.error().message;
  EXPECT_EQ(one(**store, "SELECT count(*) FROM model_state"), "0");
  EXPECT_EQ(one(**store, "SELECT count(*) FROM sessions"), "0");

  ctl.stop = false;
  auto r = storage::run_models(**store, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sessions, site.sessions);
  const std::string incremental = dump(**store);
  auto full = storage::run_models(**other, {.full_refresh = true});
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(dump(**other), incremental);
  store->reset();
  other->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace furrow::run
