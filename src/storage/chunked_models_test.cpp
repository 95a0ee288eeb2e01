// Bounded model runs (ModelOptions::max_events): runs that each take a few loads, repeated until
// caught up, leave exactly the rows of one uncapped run and of a full recomputation.
#include <gtest/gtest.h>

#include <filesystem>

#include "sinks/loader.h"
#include "storage/models.h"
#include "storage/models_test_util.h"
#include "storage/query_store.h"
#include "storage/sample_site.h"
#include "support/test_support.h"

namespace furrow::storage {
namespace {

class ChunkedModelsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = furrow::test::temp_dir("furrow_chunked_models"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string url(const std::string& name) const { return "sqlite:" + (dir_ / name).string(); }

  // Loads `events` in loads of `batch` events each (one load_batches row per load).
  static void load(const std::string& url, const std::vector<event::EnrichedEvent>& events,
                   std::size_t batch) {
    auto target = sinks::parse_db_target(url);
    ASSERT_TRUE(target.ok());
    sinks::LoaderOptions o;
    o.batch_size = batch;
    auto l = sinks::open_loader(*target, o);
    ASSERT_TRUE(l.ok()) << l.error().message;
    for (const auto& e : events) ASSERT_TRUE((*l)->add_event(e));
    ASSERT_TRUE((*l)->flush());
  }
  static std::unique_ptr<QueryStore> store(const std::string& url) {
    auto s = QueryStore::open(url);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }
  static std::string one(QueryStore& s, const std::string& sql) {
    auto v = s.scalar(sql);
    EXPECT_TRUE(v.ok()) << sql << ": " << (v.ok() ? "" : v.error().message);
    return v.ok() ? *v : "";
  }
  // Every column of every model row and of the models' running state, in a fixed order.
  static std::string dump(QueryStore& s) { return test_util::model_rows(s, true); }

  std::filesystem::path dir_;
};

// The sample site (shuffled: every session's events are spread over many loads, so most
// sessions span several chunks) with late first events, ties of timestamp and late user ids.
SampleSite awkward_site() {
  SampleSite site = make_sample_site({.seed = 19, .users = 30});
  for (std::size_t i = 0; i < site.events.size(); ++i) {
    auto& e = site.events[i];
    if (i % 7 == 0) e[event::Field::derived_tstamp] = "2020-01-01 00:00:00.000";
    if (i % 11 == 0) e[event::Field::user_id] = "late-user-" + std::to_string(i % 3);
  }
  return site;
}

TEST_F(ChunkedModelsTest, CappedRunsUntilCaughtUpEqualOneRunAndAFullRefresh) {
  const SampleSite site = awkward_site();
  constexpr std::size_t kLoad = 23;
  load(url("chunked.db"), site.events, kLoad);
  load(url("single.db"), site.events, kLoad);
  auto chunked = store(url("chunked.db"));
  auto single = store(url("single.db"));
  ASSERT_NE(chunked, nullptr);
  ASSERT_NE(single, nullptr);
  const int64_t loads = std::stoll(one(*chunked, "SELECT count(*) FROM load_batches"));
  ASSERT_GT(loads, 20);

  // Three loads per run (3 x 23 <= 70 < 4 x 23), then the rest.
  int runs = 0;
  int64_t watermark = 0;
  for (;;) {
    auto r = run_models(*chunked, {.max_events = 70});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ++runs;
    EXPECT_EQ(r->from_load_id, watermark);
    EXPECT_GT(r->to_load_id, r->from_load_id);
    const int64_t events = std::stoll(
        one(*chunked, "SELECT coalesce(sum(events), 0) FROM load_batches WHERE load_id > " +
                          std::to_string(r->from_load_id) +
                          " AND load_id <= " + std::to_string(r->to_load_id)));
    EXPECT_LE(events, 70);
    watermark = r->to_load_id;
    if (!r->more) break;
    ASSERT_LT(runs, 1000);
  }
  EXPECT_GE(runs, static_cast<int>(loads / 3));
  EXPECT_EQ(watermark, std::stoll(one(*chunked, "SELECT max(load_id) FROM atomic_events")));
  // Sessions really span runs: most have events in the loads of several runs.
  EXPECT_GT(
      std::stoll(one(*chunked,
                     "SELECT count(*) FROM (SELECT domain_sessionid FROM atomic_events "
                     "GROUP BY domain_sessionid HAVING count(DISTINCT (load_id - 1) / 3) > 1)")),
      site.sessions / 2);
  // Nothing is waiting now.
  auto idle = run_models(*chunked, {.max_events = 70});
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->from_load_id, idle->to_load_id);
  EXPECT_FALSE(idle->more);

  auto one_run = run_models(*single, {});
  ASSERT_TRUE(one_run.ok()) << one_run.error().message;
  EXPECT_FALSE(one_run->more);
  const std::string by_chunks = dump(*chunked);
  EXPECT_GT(std::count(by_chunks.begin(), by_chunks.end(), '\n'), 3 * site.sessions);
  EXPECT_EQ(by_chunks, dump(*single));
  EXPECT_EQ(one(*chunked, "SELECT count(*) FROM sessions"), std::to_string(site.sessions));
  // A full refresh ignores the cap and recomputes everything from scratch: the same rows.
  auto full = run_models(*chunked, {.full_refresh = true, .max_events = 70});
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->from_load_id, 0);
  EXPECT_FALSE(full->more);
  EXPECT_EQ(dump(*chunked), by_chunks);
  EXPECT_EQ(one(*chunked, "SELECT count(*) FROM temp.sqlite_master"), "0");
}

// A cap below one load still moves on by one whole load per run (a load is never split).
TEST_F(ChunkedModelsTest, ACapBelowOneLoadTakesOneLoadPerRun) {
  const SampleSite site = make_sample_site({.seed = 3, .users = 5});
  load(url("small.db"), site.events, 10);
  auto s = store(url("small.db"));
  ASSERT_NE(s, nullptr);
  const int64_t loads = std::stoll(one(*s, "SELECT count(*) FROM load_batches"));
  ASSERT_GT(loads, 2);
  int64_t runs = 0;
  for (;;) {
    auto r = run_models(*s, {.max_events = 1});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ++runs;
    EXPECT_EQ(r->to_load_id, r->from_load_id + 1);
    if (!r->more) break;
    ASSERT_LE(runs, loads);
  }
  EXPECT_EQ(runs, loads);
  EXPECT_EQ(one(*s, "SELECT count(*) FROM sessions"), std::to_string(site.sessions));
}

}  // namespace
}  // namespace furrow::storage
