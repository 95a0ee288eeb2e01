#include "run/engine.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "enrich/enrichments/event_fingerprint_config/event_fingerprint_config.h"
#include "event/collector_payload.h"
#include "iglu/resolver.h"
#include "run/checkpoint.h"
#include "sinks/raw_log.h"
#include "sinks/raw_log_format.h"
#include "storage/models.h"
#include "storage/query_store.h"
#include "support/test_support.h"

namespace furrow::run {
namespace {

namespace fs = std::filesystem;

std::string page_view(int n) {
  event::CollectorPayload p;
  p.timestamp = 1'700'000'000'000 + n;
  p.encoding = "UTF-8";
  p.collector = "furrow-test";
  p.path = "/i";
  char eid[40];
  std::snprintf(eid, sizeof eid, "%08x-0000-4000-8000-000000000000", static_cast<unsigned>(n));
  p.querystring = std::string("e=pv&p=web&tv=js-3.0.0&aid=shop&url=https%3A%2F%2Fexample.com%2Fp") +
                  std::to_string(n) + "&eid=" + eid;
  p.ip_address = "10.0.0.1";
  return event::encode_thrift(p);
}

// The scheduling policy of the calling thread.
int own_policy() {
  int p = -1;
  sched_param param{};
  pthread_getschedparam(pthread_self(), &p, &param);
  return p;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir("run-engine");
    fs::create_directories(dir_ / "raw");
    opts_.raw_dir = dir_ / "raw";
    opts_.checkpoint_file = dir_ / "checkpoint";
    opts_.db_file = dir_ / "furrow.db";
    opts_.commit_interval = std::chrono::milliseconds(20);
    opts_.models_interval = std::chrono::milliseconds(1);
    opts_.idle_poll = std::chrono::milliseconds(1);
    enrich::PipelineConfig pc;
    pc.validator = iglu::builtin_resolver();
    pipeline_ = std::make_unique<enrich::Pipeline>(std::move(pc));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Appends records as the collector would (a new segment per call, as after a restart).
  void write_log(const std::vector<std::string>& records) {
    sinks::RawLogOptions lo;
    lo.dir = opts_.raw_dir;
    lo.compress = false;
    auto b = sinks::RawLogBackend::open(lo);
    ASSERT_TRUE(b.ok()) << b.error().message;
    std::vector<std::string_view> v(records.begin(), records.end());
    ASSERT_TRUE((*b)->write(v).ok());
    ASSERT_TRUE((*b)->sync().ok());
    ASSERT_TRUE((*b)->close().ok());
  }

  // Five page views in the raw log, and an idle-policy models thread that runs as soon as they
  // are committed.
  void idle_models_over_five_events() {
    std::vector<std::string> recs;
    for (int i = 0; i < 5; ++i) recs.push_back(page_view(i));
    write_log(recs);
    opts_.models_idle_priority = true;
    opts_.models_idle = std::chrono::milliseconds(1);
  }

  std::string scalar(const std::string& sql) {
    auto store = storage::QueryStore::open("sqlite:" + opts_.db_file.string());
    EXPECT_TRUE(store.ok());
    auto v = (*store)->scalar(sql);
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
    return v.ok() ? *v : "";
  }

  void wait_for(MicroStore& micro, uint64_t good, uint64_t bad) {
    for (int i = 0; i < 2000; ++i) {
      auto c = micro.counts();
      if (c.good >= good && c.bad >= bad) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL() << "events did not arrive";
  }

  fs::path dir_;
  EngineOptions opts_;
  std::unique_ptr<enrich::Pipeline> pipeline_;
};

TEST_F(EngineTest, LoadsGoodAndBadThenResumesFromTheCheckpointExactlyOnce) {
  std::vector<std::string> first;
  for (int i = 0; i < 50; ++i) first.push_back(page_view(i));
  first.push_back("not thrift at all");
  write_log(first);
  int hook_calls = 0;
  {
    MicroStore micro;
    Engine engine(opts_, *pipeline_, &micro, nullptr, [&] { ++hook_calls; });
    ASSERT_TRUE(engine.start().ok());
    wait_for(micro, 50, 1);
    // Published only after the commit: the rows are in SQLite already.
    EXPECT_EQ(scalar("select count(*) from atomic_events"), "50");
    EXPECT_EQ(scalar("select count(*) from bad_rows"), "1");
    ASSERT_TRUE(engine.stop().ok());
    EXPECT_EQ(engine.stats().good, 50u);
    EXPECT_GE(engine.stats().model_runs, 1u);
  }
  EXPECT_GE(hook_calls, 1);
  EXPECT_EQ(scalar("select count(*) from page_views"), "0");  // no web_page context
  auto ck = read_checkpoint(opts_.checkpoint_file);
  ASSERT_TRUE(ck.ok());
  EXPECT_GT(ck->offset, 0u);

  // More traffic after a restart: only the new records are read.
  std::vector<std::string> second;
  for (int i = 50; i < 80; ++i) second.push_back(page_view(i));
  write_log(second);
  {
    MicroStore micro;
    Engine engine(opts_, *pipeline_, &micro, nullptr, {});
    ASSERT_TRUE(engine.start().ok());
    wait_for(micro, 30, 0);
    ASSERT_TRUE(engine.stop().ok());
    EXPECT_EQ(engine.stats().records, 30u);
    EXPECT_EQ(engine.stats().duplicates, 0u);
  }
  EXPECT_EQ(scalar("select count(*) from atomic_events"), "80");
  // The consumed first segment is gone.
  EXPECT_FALSE(fs::exists(opts_.raw_dir / sinks::rawlog::segment_name(1, false)));
  EXPECT_TRUE(fs::exists(opts_.raw_dir / sinks::rawlog::segment_name(2, false)));
}

// `furrow run` hashes MD5 event fingerprints a batch at a time (EngineOptions::defer_fingerprints,
// on by default) and patches them into the lines before the loader reads them: the fingerprints in
// SQLite are those of hashing each event at once.
TEST_F(EngineTest, DeferredFingerprintsInSqliteEqualImmediateOnes) {
  enrich::PipelineConfig pc;
  pc.validator = iglu::builtin_resolver();
  pc.enrichments = {std::make_shared<enrich::enrichments::EventFingerprintEnrichment>(
      std::vector<std::string>{"eid"}, *enrich::enrichments::Hasher::by_name("MD5"), "MD5")};
  const enrich::Pipeline pipeline(std::move(pc));
  std::vector<std::string> recs;
  for (int i = 0; i < 60; ++i) recs.push_back(page_view(i));
  auto fingerprints = [&](bool defer) {
    const fs::path sub = dir_ / (defer ? "deferred" : "immediate");
    fs::create_directories(sub / "raw");
    opts_.raw_dir = sub / "raw";
    opts_.checkpoint_file = sub / "checkpoint";
    opts_.db_file = sub / "furrow.db";
    opts_.defer_fingerprints = defer;
    write_log(recs);
    MicroStore micro;
    Engine engine(opts_, pipeline, &micro, nullptr, {});
    EXPECT_TRUE(engine.start().ok());
    wait_for(micro, 60, 0);
    EXPECT_TRUE(engine.stop().ok());
    return scalar(
        "select group_concat(event_id || ' ' || event_fingerprint, ',') from "
        "(select event_id, event_fingerprint from atomic_events order by event_id)");
  };
  const std::string deferred = fingerprints(true);
  const std::string immediate = fingerprints(false);
  EXPECT_EQ(deferred, immediate);
  // 60 distinct 32-digit hex fingerprints (the page URLs differ), none of them a placeholder.
  EXPECT_EQ(scalar("select count(distinct event_fingerprint) from atomic_events where "
                   "length(event_fingerprint) = 32 and event_fingerprint not glob '*[^0-9a-f]*' "
                   "and event_fingerprint != '00000000000000000000000000000000'"),
            "60");
}

// The checkpoint file is written by the checkpoint thread while the engine runs (not only at
// stop), with the position the loader committed, never past it; the segments before it go once
// it is written.
TEST_F(EngineTest, CheckpointThreadWritesTheCommittedPositionWhileRunning) {
  opts_.models_interval = std::chrono::milliseconds(0);
  std::vector<std::string> recs;
  for (int i = 0; i < 40; ++i) recs.push_back(page_view(i));
  write_log(recs);
  write_log({page_view(40)});  // a second segment: the first can go once the file passes it
  MicroStore micro;
  Engine engine(opts_, *pipeline_, &micro, nullptr, {});
  ASSERT_TRUE(engine.start().ok());
  wait_for(micro, 41, 0);
  const LogPosition committed = engine.committed();
  EXPECT_EQ(committed.segment, 2u);
  bool written = false;
  for (int i = 0; i < 1000 && !written; ++i) {
    auto ck = read_checkpoint(opts_.checkpoint_file);
    ASSERT_TRUE(ck.ok()) << ck.error().message;
    ASSERT_LE(std::make_pair(ck->segment, ck->offset),
              std::make_pair(committed.segment, committed.offset));
    written = ck->segment == committed.segment && ck->offset == committed.offset;
    if (!written) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(written) << "the checkpoint file did not reach the committed position";
  for (int i = 0; i < 1000 && fs::exists(opts_.raw_dir / sinks::rawlog::segment_name(1, false));
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(fs::exists(opts_.raw_dir / sinks::rawlog::segment_name(1, false)));
  EXPECT_TRUE(fs::exists(opts_.raw_dir / sinks::rawlog::segment_name(2, false)));
  EXPECT_EQ(scalar("select count(*) from atomic_events"), "41");
  ASSERT_TRUE(engine.stop().ok());
}

// The models run on their own thread, and the idle timer models the last events of a burst
// while the engine keeps running (no further traffic, no stop needed).
TEST_F(EngineTest, TrailingEventsAreModelledOnTheModelsThreadWhileRunning) {
  std::vector<std::string> recs;
  for (int i = 0; i < 30; ++i) recs.push_back(page_view(i));
  write_log(recs);
  opts_.models_interval = std::chrono::milliseconds(10);
  opts_.models_idle = std::chrono::milliseconds(20);
  opts_.models_max_delay = std::chrono::seconds(60);
  opts_.models_batch_events = 1'000'000;
  opts_.models_idle_priority = true;
  std::atomic<int> hook_calls{0};
  std::atomic<bool> hook_on_caller{false};
  std::atomic<int> hook_policy{-1};
  const auto caller = std::this_thread::get_id();
  MicroStore micro;
  Engine engine(opts_, *pipeline_, &micro, nullptr, [&] {
    if (std::this_thread::get_id() == caller) hook_on_caller = true;
    int policy = -1;
    sched_param param{};
    if (pthread_getschedparam(pthread_self(), &policy, &param) == 0) hook_policy = policy;
    ++hook_calls;
  });
  ASSERT_TRUE(engine.start().ok());
  wait_for(micro, 30, 0);
  for (int i = 0; i < 1000 && hook_calls.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(hook_calls.load(), 1);
  EXPECT_GE(engine.stats().model_runs, 1u);
  EXPECT_FALSE(hook_on_caller.load());
  // With models_idle_priority, models and the dashboard hook take spare CPU only, where the
  // system allows it (on a machine busy with other work the starvation watch may have raised
  // a chunk or the hook to the normal policy, for as long as it ran).
  if (!storage::can_leave_idle_policy()) {
    EXPECT_EQ(hook_policy.load(), SCHED_OTHER);
  } else if (engine.stats().models_starved == 0) {
    EXPECT_EQ(hook_policy.load(), SCHED_IDLE);
  }
  // The watermark covers every committed load batch.
  EXPECT_EQ(scalar("select last_load_id from model_state where model = 'web'"),
            scalar("select max(load_id) from atomic_events"));
  ASSERT_TRUE(engine.stop().ok());
}

// Models that are behind (more than one chunk waiting) pause between chunks, holding no
// snapshot, for at least the checkpoint interval (and models_cost_factor times the chunk's CPU
// time): a WAL checkpoint falls into each pause, so the WAL can start over while the models
// catch up under sustained load (back-to-back chunks kept it growing: 3.7 GB in 60 s at
// 40,500 events/s). The job still catches up.
TEST_F(EngineTest, ChunksOfAJobThatIsBehindArePausedAndStillCatchUp) {
  opts_.models_chunk_events = 1;  // one load per chunk
  opts_.models_cost_factor = 1;
  opts_.checkpoint_interval = std::chrono::milliseconds(150);
  opts_.models_interval = std::chrono::milliseconds(1);
  opts_.models_idle = std::chrono::milliseconds(2000);
  opts_.models_max_delay = std::chrono::seconds(60);
  opts_.models_batch_events = 1'000'000;
  opts_.models_idle_priority = false;
  MicroStore micro;
  Engine engine(opts_, *pipeline_, &micro, nullptr, [] {});
  ASSERT_TRUE(engine.start().ok());
  // Three loads, committed one after the other before the models start.
  for (int b = 0; b < 3; ++b) {
    std::vector<std::string> recs;
    for (int i = 0; i < 4; ++i) recs.push_back(page_view(b * 10 + i));
    write_log(recs);
    wait_for(micro, static_cast<uint64_t>(4 * (b + 1)), 0);
  }
  ASSERT_EQ(scalar("select count(distinct load_id) from atomic_events"), "3");
  // model_runs counts chunks as they finish; the job's time (models_longest) is recorded when
  // the whole job has ended, a moment after its last chunk: wait for both.
  auto job_done = [&] {
    const EngineStats s = engine.stats();
    return s.model_runs >= 3 && s.models_longest.count() > 0;
  };
  for (int i = 0; i < 1000 && !job_done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const EngineStats st = engine.stats();
  EXPECT_EQ(st.model_runs, 3u);
  // Two pauses of at least the checkpoint interval inside the one job.
  EXPECT_GE(st.models_longest, std::chrono::milliseconds(2 * 150));
  EXPECT_EQ(scalar("select last_load_id from model_state where model = 'web'"),
            scalar("select max(load_id) from atomic_events"));
  ASSERT_TRUE(engine.stop().ok());
}

// A stop raises an idle models thread to the normal policy, so that a run in progress does not
// wait for spare CPU (on a busy machine a SCHED_IDLE thread gets next to none).
TEST_F(EngineTest, StopRaisesAnIdleModelsThread) {
  if (!storage::can_leave_idle_policy()) GTEST_SKIP() << "no way back from SCHED_IDLE here";
  idle_models_over_five_events();
  std::atomic<bool> in_hook{false};
  std::atomic<int> policy_before{-1}, policy_at_stop{-1};
  MicroStore micro;
  Engine engine(opts_, *pipeline_, &micro, nullptr, [&] {
    if (in_hook.exchange(true)) return;  // the first run only
    policy_before = own_policy();
    // A long run: wait (up to 10 s) until stop() has raised this thread.
    for (int i = 0; i < 2000 && own_policy() != SCHED_OTHER; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    policy_at_stop = own_policy();
  });
  ASSERT_TRUE(engine.start().ok());
  for (int i = 0; i < 2000 && !in_hook.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(in_hook.load());
  ASSERT_TRUE(engine.stop().ok());
  // (Unless the starvation watch raised the run before the hook, on a busy machine.)
  if (engine.stats().models_starved == 0) {
    EXPECT_EQ(policy_before.load(), SCHED_IDLE);
  }
  EXPECT_EQ(policy_at_stop.load(), SCHED_OTHER);
}

// A model run in progress (here: the after-models hook, holding a read transaction as a run's
// read phase and the dashboard's chunk reads do) does not hold up loading: events that arrive
// meanwhile are committed and queryable before the run ends.
TEST_F(EngineTest, EventsAreCommittedWhileAModelRunIsInProgress) {
  std::vector<std::string> first;
  for (int i = 0; i < 10; ++i) first.push_back(page_view(i));
  write_log(first);
  opts_.models_idle = std::chrono::milliseconds(1);
  std::atomic<bool> in_hook{false}, snapshot_taken{false}, hook_done{false};
  std::atomic<int64_t> committed_during_run{-1};
  std::atomic<int64_t> snapshot_count{-1};
  MicroStore micro;
  Engine engine(opts_, *pipeline_, &micro, nullptr, [&] {
    if (in_hook.exchange(true)) return;  // the first run only
    auto store = storage::QueryStore::open("sqlite:" + opts_.db_file.string());
    if (!store.ok() || !(*store)->exec("BEGIN").ok()) return;
    auto n = (*store)->scalar("select count(*) from atomic_events");
    if (n.ok()) snapshot_count = std::stoll(*n);
    // The second batch is written only now: BEGIN is deferred, so the snapshot is the count's.
    snapshot_taken = true;
    // Up to 10 s for the second batch to be committed while this "run" holds its snapshot.
    for (int i = 0; i < 2000 && micro.counts().good < 20; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    committed_during_run = static_cast<int64_t>(micro.counts().good);
    (void)(*store)->exec("COMMIT");
    hook_done = true;
  });
  ASSERT_TRUE(engine.start().ok());
  for (int i = 0; i < 2000 && !snapshot_taken.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(snapshot_taken.load());
  std::vector<std::string> second;
  for (int i = 10; i < 20; ++i) second.push_back(page_view(i));
  write_log(second);
  for (int i = 0; i < 3000 && !hook_done.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(hook_done.load());
  EXPECT_EQ(snapshot_count.load(), 10);
  EXPECT_EQ(committed_during_run.load(), 20);
  EXPECT_EQ(scalar("select count(*) from atomic_events"), "20");
  ASSERT_TRUE(engine.stop().ok());
}

// An idle-policy models thread that gets next to no CPU while nothing is being loaded (the
// machine busy with other work) is raised to the normal policy by the checkpoint thread's watch
// until its chunk or hook call ends, so the models do not wait as long as the machine stays busy;
// the next one starts idle again. (While loading goes on it gives its snapshot back instead:
// StarvedWhileLoadingGivesItsSnapshotBackAndCatchesUpLater.)
TEST_F(EngineTest, StarvedIdleModelsThreadIsRaisedUntilItsRunEnds) {
  if (!storage::can_leave_idle_policy()) GTEST_SKIP() << "no way back from SCHED_IDLE here";
  idle_models_over_five_events();
  std::atomic<int> calls{0};
  std::atomic<bool> first_done{false};
  std::atomic<int> policy_raised{-1};
  std::atomic<pid_t> models_tid{0};
  MicroStore micro;
  Engine engine(opts_, *pipeline_, &micro, nullptr, [&] {
    if (++calls != 1) return;
    models_tid = gettid();
    // Runnable all the time (as a run computing), for up to 10 s or until raised. (On a machine
    // busy with other work the watch may raise it before the spinners below start.)
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (own_policy() != SCHED_OTHER && std::chrono::steady_clock::now() < until) {
    }
    policy_raised = own_policy();
    first_done = true;
  });
  ASSERT_TRUE(engine.start().ok());
  for (int i = 0; i < 2000 && calls.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(calls.load(), 1);
  // Other work at the normal policy on every CPU, twice over (threads of the test thread's
  // policy; the hook's thread would hand its idle policy on to threads it started).
  std::atomic<bool> spin{true};
  std::vector<std::thread> busy;
  const unsigned n = std::max(2u, 2 * std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    busy.emplace_back([&spin] {
      while (spin.load(std::memory_order_relaxed)) {
      }
    });
  }
  for (int i = 0; i < 3000 && !first_done.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  spin = false;
  for (auto& t : busy) t.join();
  ASSERT_TRUE(first_done.load());
  EXPECT_EQ(policy_raised.load(), SCHED_OTHER);
  // Once the run has ended the thread waits for the next one at the idle policy again.
  int after = -1;
  for (int i = 0; i < 1000; ++i) {
    after = sched_getscheduler(models_tid.load());
    if (after == SCHED_IDLE) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(after, SCHED_IDLE);
  ASSERT_TRUE(engine.stop().ok());
}

// Other work at the normal policy on every CPU, twice over, while it lives (threads of the
// test thread's policy; a hook's thread would hand its idle policy on to threads it started).
class Spinners {
 public:
  Spinners() {
    const unsigned n = std::max(2u, 2 * std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        while (spin_.load(std::memory_order_relaxed)) {
        }
      });
    }
  }
  ~Spinners() {
    spin_ = false;
    for (auto& t : threads_) t.join();
  }

 private:
  std::atomic<bool> spin_{true};
  std::vector<std::thread> threads_;
};

// WAL frames in the log and how many of them a PASSIVE checkpoint could copy into the database:
// fewer while a reader's snapshot keeps the later ones from being copied.
struct WalState {
  int64_t log = -1, checkpointed = -1;
};
WalState wal_state(storage::QueryStore& db) {
  WalState w;
  (void)db.query("PRAGMA wal_checkpoint(PASSIVE)", {},
                 storage::RowHandler{nullptr, [&](const std::vector<storage::Cell>& r) {
                                       w.log = std::stoll(std::string(r[1].text));
                                       w.checkpointed = std::stoll(std::string(r[2].text));
                                       return false;
                                     }});
  return w;
}

// An idle-policy job (here the after-models hook, holding a read snapshot as the dashboard's
// refresh does) that gets next to no CPU while the loader keeps committing is asked to give its
// snapshot back (Engine::should_yield), not raised: loading goes on, the WAL cannot be emptied
// while the snapshot is held and is emptied and started over once it is given back; the engine
// retries the job later and the models catch up when the load is gone.
TEST_F(EngineTest, StarvedWhileLoadingGivesItsSnapshotBackAndCatchesUpLater) {
  if (!storage::can_leave_idle_policy()) GTEST_SKIP() << "no way back from SCHED_IDLE here";
  idle_models_over_five_events();
  std::atomic<int> calls{0};
  std::atomic<bool> holding{false}, gave_back{false};
  std::atomic<int> policy_while_held{-1};
  std::atomic<int64_t> held_ms{-1};
  Engine* engine_ptr = nullptr;
  MicroStore micro;
  Engine engine(opts_, *pipeline_, &micro, nullptr, [&] {
    if (++calls != 1) return;
    auto store = storage::QueryStore::open("sqlite:" + opts_.db_file.string());
    if (!store.ok() || !(*store)->exec("BEGIN").ok()) return;
    (void)(*store)->scalar("select count(*) from atomic_events");  // the snapshot
    holding = true;
    // Runnable all the time (as a refresh computing), until asked to yield (up to 20 s).
    const auto t0 = std::chrono::steady_clock::now();
    const auto until = t0 + std::chrono::seconds(20);
    int policy = SCHED_IDLE;
    while (std::chrono::steady_clock::now() < until) {
      // (The policy first: the engine raises the thread only after asking it to yield, so that
      // it gets the CPU to stop.)
      const int p = own_policy();
      if (engine_ptr->should_yield()) break;
      if (p != SCHED_IDLE) policy = p;
    }
    policy_while_held = policy;
    held_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    (void)(*store)->exec("ROLLBACK");
    gave_back = engine_ptr->should_yield();
    holding = false;
  });
  engine_ptr = &engine;
  ASSERT_TRUE(engine.start().ok());
  for (int i = 0; i < 2000 && !holding.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(holding.load());
  auto db = storage::QueryStore::open("sqlite:" + opts_.db_file.string());
  ASSERT_TRUE(db.ok());
  int next = 5;
  int64_t peak_log = 0, peak_uncopied = 0;
  // One writer for the whole load (as the collector's): the engine removes consumed segments
  // meanwhile.
  sinks::RawLogOptions lo;
  lo.dir = opts_.raw_dir;
  lo.compress = false;
  auto log = sinks::RawLogBackend::open(lo);
  ASSERT_TRUE(log.ok()) << log.error().message;
  auto append = [&](int n) {
    std::vector<std::string> recs;
    for (int k = 0; k < n; ++k) recs.push_back(page_view(next++));
    std::vector<std::string_view> v(recs.begin(), recs.end());
    ASSERT_TRUE((*log)->write(v).ok());
    ASSERT_TRUE((*log)->sync().ok());
  };
  {
    Spinners busy;
    // Loading goes on: a small batch every 20 ms, each committed within a moment.
    for (int i = 0; i < 1000 && holding.load(); ++i) {
      append(20);
      const WalState w = wal_state(**db);
      peak_log = std::max(peak_log, w.log);
      peak_uncopied = std::max(peak_uncopied, w.log - w.checkpointed);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ASSERT_FALSE(holding.load());
  EXPECT_TRUE(gave_back.load());
  EXPECT_EQ(policy_while_held.load(), SCHED_IDLE);  // not raised before it was asked to yield
  EXPECT_GE(held_ms.load(), 900);                   // starved for about a second first
  // (Counted once the hook has returned.)
  for (int i = 0; i < 1000 && engine.stats().models_yields == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(engine.stats().models_yields, 1u);
  // While the snapshot was held, frames committed after it could not be copied.
  EXPECT_GT(peak_uncopied, 0);
  // Given back: once a checkpoint has copied every frame (the engine's runs once a second, and
  // no snapshot holds frames back now), the next commit starts the WAL over from its beginning,
  // so it holds fewer frames than at its peak (a WAL held by a snapshot only grows).
  WalState w;
  for (int i = 0; i < 250; ++i) {
    w = wal_state(**db);
    if (w.log >= 0 && w.log < peak_log) break;
    const uint64_t good_before = micro.counts().good;
    append(1);
    wait_for(micro, good_before + 1, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LT(w.log, peak_log);
  // The job is retried without new events, and the models catch up now that the load is gone.
  std::string watermark;
  for (int i = 0; i < 2000; ++i) {
    watermark = scalar("select last_load_id from model_state where model = 'web'");
    if (calls.load() >= 2 && watermark == scalar("select max(load_id) from atomic_events")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(calls.load(), 2);
  EXPECT_EQ(watermark, scalar("select max(load_id) from atomic_events"));
  EXPECT_EQ(scalar("select count(*) from atomic_events"), std::to_string(next));
  ASSERT_TRUE((*log)->close().ok());
  ASSERT_TRUE(engine.stop().ok());
}

TEST_F(EngineTest, AReplayFromAnOlderPositionIsDeduplicated) {
  std::vector<std::string> recs;
  for (int i = 0; i < 40; ++i) recs.push_back(page_view(i));
  write_log(recs);
  {
    MicroStore micro;
    Engine engine(opts_, *pipeline_, &micro, nullptr, {});
    ASSERT_TRUE(engine.start().ok());
    wait_for(micro, 40, 0);
    ASSERT_TRUE(engine.stop().ok());
  }
  // As after a crash between the commit and the checkpoint: the checkpoint is behind.
  fs::remove(opts_.checkpoint_file);
  {
    MicroStore micro;
    Engine engine(opts_, *pipeline_, &micro, nullptr, {});
    ASSERT_TRUE(engine.start().ok());
    wait_for(micro, 40, 0);
    ASSERT_TRUE(engine.stop().ok());
    EXPECT_EQ(engine.stats().duplicates, 40u);
    EXPECT_EQ(engine.stats().inserted, 0u);
  }
  EXPECT_EQ(scalar("select count(*) from atomic_events"), "40");
  EXPECT_EQ(scalar("select count(distinct event_id) from atomic_events"), "40");
}

TEST_F(EngineTest, BackPressureReportsConsumption) {
  sinks::RawLogOptions lo;
  lo.dir = opts_.raw_dir;
  lo.compress = false;
  auto inner = sinks::make_raw_log_sink(lo, sinks::QueuedSinkOptions{});
  ASSERT_TRUE(inner.ok());
  LagLimitedSink sink(std::move(*inner), 2000, 0);
  MicroStore micro;
  // Before the engine runs, the limit refuses once ~2000 bytes wait unread.
  int accepted = 0;
  sinks::SinkStatus st = sinks::SinkStatus::kOk;
  while (accepted < 1000) {
    st = sink.submit({page_view(accepted)}, [](sinks::SinkStatus) {});
    if (st != sinks::SinkStatus::kOk) break;
    ++accepted;
  }
  EXPECT_EQ(st, sinks::SinkStatus::kOverloaded);
  EXPECT_LT(accepted, 100);
  EXPECT_FALSE(sink.healthy());
  Engine engine(opts_, *pipeline_, &micro, &sink, {});
  ASSERT_TRUE(engine.start().ok());
  wait_for(micro, static_cast<uint64_t>(accepted), 0);
  for (int i = 0; i < 200 && sink.lag_bytes() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(sink.lag_bytes(), 0u);
  EXPECT_TRUE(sink.healthy());
  EXPECT_EQ(sink.submit({page_view(5000)}, [](sinks::SinkStatus) {}), sinks::SinkStatus::kOk);
  ASSERT_TRUE(engine.stop().ok());
  sink.close();
}

}  // namespace
}  // namespace furrow::run
