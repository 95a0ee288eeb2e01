// The enrich-and-load half of `furrow run`: tails the raw log, enriches on worker threads
// (enrich::run_stream), loads good events and bad rows into SQLite in large transactions, then —
// only after each commit — writes the checkpoint, publishes the events to the Micro store,
// removes fully consumed raw-log segments and tells the models thread that new events are in.
//
// The data models and the after-models hook (the dashboard's refresh) run on their own thread
// with their own SQLite connection, never on the loader's, so an event is queryable in
// atomic_events as soon as its batch commits, however far behind the models are. A model job is
// model runs (storage::run_models) of at most models_chunk_events each, until the models have
// caught up, then the hook. Each run ("chunk") reads in its own snapshot and writes its results
// in its own short transaction, so neither its snapshot (which keeps WAL checkpoints from
// emptying the WAL) nor its write lock (which the loader waits for) lasts long, however far
// behind the models are. Between two chunks of a job the thread pauses, holding no snapshot,
// for models_cost_factor times the chunk's CPU time and at least checkpoint_interval, so a
// checkpoint can empty the WAL and the models' share of a core stays bounded while they catch
// up. A job starts when there are new events and
//   - at least models_interval has passed since the last job ended, and at least
//     models_cost_factor times the last job's CPU time (so the models take a bounded share of
//     a core however large a job gets), and
//   - models_batch_events new events are waiting, or the loader has committed nothing for
//     models_idle (the trailing events of a burst), or models_max_delay has passed since the
//     first waiting event; or the last job gave its snapshot back (below) a second ago.
// Stopping the engine runs one more job when events are waiting and the last job took less than
// a second of CPU (otherwise the next start models them).
//
// Commit policy: a transaction is committed when the reader has caught up with the log and no
// batch read after it is still on its way through enrich (so at low rates an event is queryable
// within milliseconds, and under load commits are large), or every `commit_interval`, or at
// `commit_events` pending events, whichever comes first.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"
#include "enrich/pipeline.h"
#include "run/lag_sink.h"
#include "run/micro.h"
#include "run/tailer.h"

namespace furrow::sinks {
class Loader;
}
namespace furrow::storage {
class QueryStore;
}

namespace furrow::run {

struct EngineOptions {
  std::filesystem::path raw_dir;
  std::filesystem::path checkpoint_file;
  std::filesystem::path db_file;
  unsigned workers = 1;
  // MD5 event fingerprints are hashed a batch at a time and patched into the lines before the
  // loader reads them (enrich::RunnerConfig::defer_fingerprints); false hashes each event at once.
  bool defer_fingerprints = true;
  std::chrono::milliseconds commit_interval{250};
  // Also bounds the loader's memory: the pending events are held parsed until the commit.
  std::size_t commit_events = 5'000;
  // The loader connection's page cache (KiB). WAL checkpoints run on a thread of their own
  // ("furrow-ckpt", PASSIVE, every checkpoint_interval: once a second copies an index page that
  // many commits rewrote once, not once per commit), so a commit does not wait for one; the
  // loader checkpoints itself only as a fallback when the WAL reaches loader_checkpoint_pages.
  int loader_cache_kib = 8 * 1024;
  std::chrono::milliseconds checkpoint_interval{1000};
  int loader_checkpoint_pages = 50'000;
  // 0: never run the models (nor the after-models hook) automatically.
  std::chrono::milliseconds models_interval{1000};
  // Events per model run (storage::ModelOptions::max_events; a load is never split); halved
  // after a run gave its snapshot back (down to 5,000), doubled back after each finished one.
  std::size_t models_chunk_events = 50'000;
  std::size_t models_batch_events = 100'000;
  std::chrono::milliseconds models_idle{500};
  std::chrono::milliseconds models_max_delay{10'000};
  unsigned models_cost_factor = 4;
  // The models thread runs as SCHED_IDLE, so that under full load model runs and dashboard
  // refreshes take only the CPU that the collector, enrich and the loader leave over (a run
  // otherwise takes a whole core for seconds, during which loading falls behind and events wait
  // seconds to be queryable); their write transactions run at the normal policy
  // (storage::WriteLockPriority), so the loader never waits for the write lock of a starved
  // thread, and stop() raises the thread back to the normal policy. Only when the system lets a
  // thread leave SCHED_IDLE again (storage::can_leave_idle_policy).
  // An idle thread may get next to no CPU, and its read snapshot then keeps the WAL growing.
  // Every 200 ms the checkpoint thread looks at how much CPU the models thread got of the time
  // it was runnable; after a second in a row of less than a tenth, within one chunk or hook call:
  //   - when the loader committed meanwhile, the chunk (or the hook: should_yield()) is
  //     interrupted through an SQLite progress handler and rolled back (the thread is raised
  //     to the normal policy until it has, so that it gets the CPU to stop), and retried a
  //     second later with half the events: loading never waits for the models, the WAL is
  //     emptied between tries, and the models lag until the load leaves them CPU (then they
  //     catch up);
  //   - when nothing was loaded (the machine is busy with other work), the thread is raised to
  //     the normal policy until that chunk or hook call ends, so the models do not wait for the
  //     machine to become idle.
  bool models_idle_priority = true;
  // How long the reader sleeps when the log has nothing new.
  std::chrono::milliseconds idle_poll{5};
};

struct EngineStats {
  uint64_t records = 0;  // raw payloads read
  uint64_t good = 0;     // good events committed
  uint64_t bad = 0;      // bad rows committed (pipeline bad rows)
  uint64_t inserted = 0;
  uint64_t duplicates = 0;
  uint64_t commits = 0;
  uint64_t model_runs = 0;   // model runs (chunks) that finished
  uint64_t errors = 0;       // raw-log problems, failed commits (retried), failed model runs
  uint64_t checkpoints = 0;  // WAL checkpoints run by the checkpoint thread
  // Time spent (wall clock) in model runs plus the after-models hook, and the longest one.
  std::chrono::microseconds models_time{0};
  std::chrono::microseconds models_longest{0};
  // The longest commit (the loader's write transaction, including any wait for the write lock)
  // and how many took 100 ms or more.
  std::chrono::microseconds commit_longest{0};
  uint64_t slow_commits = 0;
  // Chunks or hook calls raised from SCHED_IDLE to the normal policy because they starved while
  // nothing was being loaded.
  uint64_t models_starved = 0;
  // Chunks or hook calls that gave their read snapshot back because they starved while loading.
  uint64_t models_yields = 0;
};

class Engine {
 public:
  // `lag` (may be null) is told how much of the log was consumed; `after_models` (may be empty)
  // runs on the models thread after each model run.
  Engine(EngineOptions options, const enrich::Pipeline& pipeline, MicroStore* micro,
         LagLimitedSink* lag, std::function<void()> after_models);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Reads the checkpoint, opens the database (creating it) and starts the threads.
  Status start();
  // Stops reading (what is not read stays in the log for the next start), commits what was read,
  // writes the final checkpoint and joins. Returns the first fatal error, if any.
  Status stop();

  EngineStats stats() const;
  // True while the models thread is asked to give its read snapshot back (outside write
  // phases). For the after-models hook's own SQLite connection: the dashboard checks it from a
  // progress handler (dashboard::Dashboard::interrupt_when), stops and rolls back its current
  // read; the engine retries the job later.
  bool should_yield() const;
  LogPosition committed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace furrow::run
