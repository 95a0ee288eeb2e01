// The enrich-and-load half of `furrow run`: tails the raw log, enriches on worker threads
// (enrich::run_stream), loads good events and bad rows into SQLite in large transactions, then —
// only after each commit — writes the checkpoint, publishes the events to the Micro store,
// removes fully consumed raw-log segments and, at most once per models_interval, runs the data
// models and the after-models hook (the dashboard's refresh).
//
// Commit policy: a transaction is committed when the reader has caught up with the log (so at low
// rates an event is queryable within milliseconds), or every `commit_interval`, or at
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
  std::chrono::milliseconds commit_interval{250};
  std::size_t commit_events = 20'000;
  // 0: never run the models automatically.
  std::chrono::milliseconds models_interval{1000};
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
  uint64_t model_runs = 0;
  uint64_t errors = 0;  // raw-log problems, failed commits (retried), failed model runs
};

class Engine {
 public:
  // `lag` (may be null) is told how much of the log was consumed; `after_models` (may be empty)
  // runs on the loader thread after each model run.
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
  LogPosition committed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace furrow::run
