#include "run/engine.h"

#include <malloc.h>
#include <pthread.h>
#include <sched.h>

#include <condition_variable>
#include <cstdio>
#include <vector>

#include "enrich/runner.h"
#include "run/checkpoint.h"
#include "sinks/loader.h"
#include "sinks/sqlite_loader.h"
#include "sources/input.h"
#include "storage/models.h"
#include "storage/query_store.h"

namespace furrow::run {

namespace {
using Clock = std::chrono::steady_clock;
// A model run (plus the hook) taking longer is logged.
constexpr std::chrono::seconds kSlowModels{1};

void log_line(const std::string& msg) {
  std::fprintf(stderr, "furrow run: %s\n", msg.c_str());
  std::fflush(stderr);
}

// Splits '\n'-terminated lines.
template <class F>
void for_each_line(const std::string& text, F&& f) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    if (nl > start) f(std::string_view(text).substr(start, nl - start));
    start = nl + 1;
  }
}
// The payload processor on named worker threads ("furrow-enrich"), for per-stage CPU figures.
class NamingProcessor final : public enrich::RecordProcessor {
 public:
  explicit NamingProcessor(const enrich::RecordProcessor& inner) : inner_(inner) {}
  bool process(std::string_view record, uint64_t line, bool oversized,
               enrich::Output& out) const override {
    thread_local bool named = false;
    if (!named) {
      pthread_setname_np(pthread_self(), "furrow-enrich");
      named = true;
    }
    return inner_.process(record, line, oversized, out);
  }

 private:
  const enrich::RecordProcessor& inner_;
};
}  // namespace

struct Engine::Impl {
  EngineOptions opt;
  const enrich::Pipeline& pipeline;
  MicroStore* micro;
  LagLimitedSink* lag;
  std::function<void()> after_models;

  std::unique_ptr<RawLogTailer> tailer;
  std::unique_ptr<sinks::Loader> loader;
  std::unique_ptr<storage::QueryStore> models_store;  // models thread only
  std::thread thread;
  std::thread models_thread;
  std::thread checkpoint_thread;
  std::atomic<bool> stopping{false};
  Status result;

  // Loader → models thread: events committed and not yet modelled.
  std::mutex models_mu;
  std::condition_variable models_cv;
  std::condition_variable checkpoint_cv;   // same mutex; only for stopping
  uint64_t models_waiting = 0;             // guarded by models_mu
  Clock::time_point models_first_waiting;  // when models_waiting became non-zero
  Clock::time_point models_last_commit;    // the loader's last commit with events
  bool models_stop = false;
  bool models_idle = false;  // the models thread runs as SCHED_IDLE; guarded by models_mu
  // Loader → checkpoint thread: the latest committed raw-log position not yet in the checkpoint
  // file (guarded by models_mu; checkpoint_cv wakes the thread).
  LogPosition file_pos;
  bool file_pos_new = false;

  // Positions of the batches read, in read order (the runner writes in read order).
  struct BatchEnd {
    LogPosition pos;
    bool caught_up;
  };
  std::mutex fifo_mu;
  std::deque<BatchEnd> fifo;

  bool reader_named = false;  // reader thread only

  // Loader-thread state.
  LogPosition pending_pos;
  bool have_pending = false;
  std::vector<std::string> pending_good, pending_bad;
  uint64_t pending_lines = 0;
  Clock::time_point last_commit = Clock::now();
  uint64_t removed_before = 0;  // checkpoint thread only

  mutable std::mutex stats_mu;
  EngineStats stats;
  LogPosition committed;

  Impl(EngineOptions o, const enrich::Pipeline& p, MicroStore* m, LagLimitedSink* l,
       std::function<void()> hook)
      : opt(std::move(o)), pipeline(p), micro(m), lag(l), after_models(std::move(hook)) {}

  Status read(enrich::RecordBatch& b, bool& eof) {
    if (!reader_named) {
      // Thread names make per-stage CPU visible in top -H, perf and /proc (at most 15 chars).
      pthread_setname_np(pthread_self(), "furrow-tailer");
      reader_named = true;
    }
    eof = false;
    std::string_view rec;
    for (;;) {
      if (stopping.load(std::memory_order_relaxed)) {
        eof = true;
        break;
      }
      const RawLogTailer::Next n = tailer->next(rec);
      if (n == RawLogTailer::Next::kRecord) {
        b.add_record(rec, b.size() + 1);
        if (b.size() >= 256 || b.data.size() >= (512u << 10)) break;
        continue;
      }
      if (n == RawLogTailer::Next::kProblem) {
        log_line(tailer->errors().back());
        std::lock_guard lock(stats_mu);
        ++stats.errors;
        continue;
      }
      if (b.size() > 0) break;  // caught up: hand over what we have now
      std::this_thread::sleep_for(opt.idle_poll);
    }
    if (b.size() > 0) {
      std::lock_guard lock(fifo_mu);
      fifo.push_back(BatchEnd{tailer->position(), !eof});
    }
    if (lag != nullptr) lag->set_consumed(tailer->bytes_consumed());
    {
      std::lock_guard lock(stats_mu);
      stats.records += b.size();
    }
    return Status::Ok();
  }

  Status write(const enrich::RecordBatch& b) {
    BatchEnd end;
    bool more_read = false;  // batches read after this one, on their way through enrich
    {
      std::lock_guard lock(fifo_mu);
      end = fifo.front();
      fifo.pop_front();
      more_read = !fifo.empty();
    }
    Status st;
    for_each_line(b.good, [&](std::string_view line) {
      if (!st.ok()) return;
      // Written by this process's enrich a moment ago: its JSON columns are not parsed again.
      st = loader->add(line, sinks::LineKind::kEnrichedInProcess);
      if (micro != nullptr) pending_good.emplace_back(line);
    });
    for_each_line(b.bad, [&](std::string_view line) {
      if (!st.ok()) return;
      st = loader->add(line, sinks::LineKind::kBadRow);
      if (micro != nullptr) pending_bad.emplace_back(line);
    });
    if (!st.ok()) return st;
    {
      std::lock_guard lock(stats_mu);
      stats.good += b.counts.good;
      stats.bad += b.counts.bad;
    }
    pending_pos = end.pos;
    have_pending = true;
    const auto now = Clock::now();
    pending_lines += b.counts.good + b.counts.bad;
    // Caught up: commit now, unless batches read after this one are already being enriched
    // (they arrive within milliseconds, and the last of them commits): under load the loader
    // then commits a few large transactions instead of one per raw-log read, each of which
    // rewrites the same index pages and writes a checkpoint file.
    if ((end.caught_up && !more_read) || now - last_commit >= opt.commit_interval ||
        pending_lines >= opt.commit_events) {
      return commit(false);
    }
    return Status::Ok();
  }

  // Commits the pending transaction (retrying infrastructure errors until it works or we stop),
  // then publishes everything that depends on the commit.
  Status commit(bool final) {
    if (!have_pending) return Status::Ok();
    int delay_ms = 50;
    for (;;) {
      Status st = loader->flush();
      if (st.ok()) break;
      log_line("commit failed (will retry): " + st.message());
      {
        std::lock_guard lock(stats_mu);
        ++stats.errors;
      }
      if (final || stopping.load()) return st;
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      delay_ms = std::min(delay_ms * 2, 2000);
    }
    last_commit = Clock::now();
    // The checkpoint file (two fsyncs and a rename) is written by the checkpoint thread, off the
    // loader's path: it only ever gets positions already committed here, so it is never ahead
    // of the database; when it lags (a crash before it is written), the replay is deduplicated.
    {
      std::lock_guard lock(models_mu);
      file_pos = pending_pos;
      file_pos_new = true;
    }
    checkpoint_cv.notify_one();
    {
      std::lock_guard lock(stats_mu);
      committed = pending_pos;
      const auto& ls = loader->stats();
      stats.inserted = ls.inserted;
      stats.duplicates = ls.duplicates;
      stats.commits = ls.batches;
    }
    have_pending = false;
    const uint64_t committed_lines = pending_lines;
    pending_lines = 0;
    if (micro != nullptr) {
      micro->add_moved(std::move(pending_good), std::move(pending_bad));
      pending_good.clear();
      pending_bad.clear();
    }
    if (committed_lines > 0 && models_thread.joinable()) {
      {
        std::lock_guard lock(models_mu);
        if (models_waiting == 0) models_first_waiting = last_commit;
        models_waiting += committed_lines;
        models_last_commit = last_commit;
      }
      models_cv.notify_one();
    }
    return Status::Ok();
  }

  // One model run plus the hook; false when it failed (logged and counted).
  bool run_models_once() {
    const auto t0 = Clock::now();
    if (!models_store) {
      auto s = storage::QueryStore::open("sqlite:" + opt.db_file.string());
      if (!s.ok()) {
        log_line("data models: " + s.error().message);
        std::lock_guard lock(stats_mu);
        ++stats.errors;
        return false;
      }
      models_store = std::move(*s);
    }
    auto r = storage::run_models(*models_store, storage::ModelOptions{});
    const auto t1 = Clock::now();
    if (r.ok() && after_models) after_models();
    // A run's sorts and caches are freed by now; hand the pages back to the system instead of
    // keeping them in this thread's malloc arena until the next run.
    malloc_trim(0);
    const auto t2 = Clock::now();
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(t2 - t0);
    if (took >= kSlowModels) {
      using std::chrono::duration_cast;
      using std::chrono::milliseconds;
      log_line("slow model run: models " +
               std::to_string(duration_cast<milliseconds>(t1 - t0).count()) + " ms, then " +
               std::to_string(duration_cast<milliseconds>(t2 - t1).count()) + " ms (load ids " +
               (r.ok() ? std::to_string(r->from_load_id) + ".." + std::to_string(r->to_load_id)
                       : std::string("-")) +
               ")");
    }
    {
      std::lock_guard lock(stats_mu);
      if (r.ok()) {
        ++stats.model_runs;
      } else {
        ++stats.errors;
      }
      stats.models_time += took;
      stats.models_longest = std::max(stats.models_longest, took);
    }
    if (!r.ok()) log_line("data models: " + r.error().message);
    return r.ok();
  }

  // The checkpoint thread: writes each committed position the loader hands over to the
  // checkpoint file, then removes the raw-log segments before it (only once the file says so:
  // a restart must find every record after its checkpoint); and a PASSIVE WAL checkpoint every
  // checkpoint_interval. At stop it writes the last position (the loader's final commit comes
  // before models_stop) and exits.
  void checkpoint_loop() {
    pthread_setname_np(pthread_self(), "furrow-ckpt");
    auto db = sinks::open_sqlite_database(opt.db_file.string());
    if (!db.ok()) log_line("checkpoints: " + db.error().message);
    std::unique_lock lock(models_mu);
    Clock::time_point next_wal = Clock::now() + opt.checkpoint_interval;
    for (;;) {
      checkpoint_cv.wait_until(lock, next_wal, [this] { return models_stop || file_pos_new; });
      if (file_pos_new) {
        const LogPosition pos = file_pos;
        file_pos_new = false;
        lock.unlock();
        if (Status st = write_checkpoint(opt.checkpoint_file, pos); !st.ok()) {
          // The database has the events; an old checkpoint only means a replay, which is
          // deduplicated. The segments stay until a checkpoint past them is written.
          log_line(st.message());
        } else if (pos.segment > removed_before) {
          RawLogTailer::remove_segments_before(opt.raw_dir, pos.segment);
          removed_before = pos.segment;
        }
        lock.lock();
      }
      if (models_stop) {
        if (file_pos_new) continue;
        break;
      }
      // (Checked after each file write too: commits arriving faster than the file is written
      // must not hold back the WAL checkpoints.)
      if (Clock::now() < next_wal) continue;
      lock.unlock();
      if (db.ok()) {
        int wal = 0, copied = 0;
        Status st = sinks::sqlite_checkpoint(*db, wal, copied);
        if (!st.ok()) log_line(st.message());
        if (st.ok() && wal > 0) {
          std::lock_guard sl(stats_mu);
          ++stats.checkpoints;
        }
      }
      next_wal = Clock::now() + opt.checkpoint_interval;
      lock.lock();
    }
    lock.unlock();
    if (db.ok()) sinks::close_sqlite_database(*db);
  }

  // The models thread: waits until a run is due (see engine.h), runs it, repeats; on stop, one
  // last run when events are waiting.
  void models_loop() {
    pthread_setname_np(pthread_self(), "furrow-models");
    sched_param param{};
    if (opt.models_idle_priority && storage::can_leave_idle_policy()) {
      // Under models_mu, so that stop() either sees the thread idle and raises it, or this
      // thread sees the stop and stays at the normal policy.
      std::lock_guard lock(models_mu);
      models_idle = !models_stop && pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0;
    }
    Clock::time_point last_end = Clock::now() - opt.models_interval;
    Clock::duration cooldown = opt.models_interval;
    Clock::duration last_took{0};
    std::unique_lock lock(models_mu);
    for (;;) {
      if (models_stop) break;
      const auto now = Clock::now();
      Clock::time_point due = Clock::time_point::max();
      if (models_waiting > 0) {
        const Clock::time_point ready = last_end + cooldown;
        Clock::time_point trigger = models_waiting >= opt.models_batch_events
                                        ? now
                                        : std::min(models_last_commit + opt.models_idle,
                                                   models_first_waiting + opt.models_max_delay);
        due = std::max(ready, trigger);
      }
      if (due > now) {
        if (due == Clock::time_point::max()) {
          models_cv.wait(lock);
        } else {
          models_cv.wait_until(lock, due);
        }
        continue;
      }
      models_waiting = 0;
      lock.unlock();
      const auto t0 = Clock::now();
      run_models_once();
      last_end = Clock::now();
      last_took = last_end - t0;
      cooldown = std::max<Clock::duration>(opt.models_interval, last_took * opt.models_cost_factor);
      lock.lock();
    }
    // A last run only when runs are quick: a slow one would hold up the shutdown, and the next
    // start models the waiting events anyway (the watermark is in the database).
    const bool waiting = models_waiting > 0 && last_took < kSlowModels;
    models_waiting = 0;
    lock.unlock();
    if (waiting) run_models_once();
  }

  void run() {
    pthread_setname_np(pthread_self(), "furrow-loader");
    const sources::PayloadProcessor payloads(pipeline, sources::InputFormat::kThriftBinary);
    const NamingProcessor processor(payloads);
    enrich::RunnerConfig rc;
    rc.threads = opt.workers == 0 ? 1 : opt.workers;
    rc.ring_batches = rc.threads * 4 + 2;
    enrich::RunCounts totals;
    Status st = enrich::run_stream(
        rc, processor, [this](enrich::RecordBatch& b, bool& eof) { return read(b, eof); },
        [this](const enrich::RecordBatch& b) { return write(b); }, totals);
    Status fin = commit(true);
    if (!st.ok()) log_line("enrichment stopped: " + st.message());
    if (!st.ok()) {
      result = st;
    } else if (!fin.ok()) {
      result = fin;
    }
  }
};

Engine::Engine(EngineOptions options, const enrich::Pipeline& pipeline, MicroStore* micro,
               LagLimitedSink* lag, std::function<void()> after_models)
    : impl_(std::make_unique<Impl>(std::move(options), pipeline, micro, lag,
                                   std::move(after_models))) {}

Engine::~Engine() {
  (void)stop();
}

Status Engine::start() {
  Impl& m = *impl_;
  auto pos = read_checkpoint(m.opt.checkpoint_file);
  if (!pos.ok()) return pos.error();
  m.committed = *pos;
  m.pending_pos = *pos;
  m.tailer = std::make_unique<RawLogTailer>(m.opt.raw_dir, *pos);
  sinks::LoaderOptions lo;
  lo.batch_size = 1'000'000;  // commits follow the engine's policy, not the loader's batch size
  lo.source = "furrow run";
  sinks::SqliteTuning tuning;
  tuning.cache_kib = m.opt.loader_cache_kib;
  tuning.wal_autocheckpoint_pages = m.opt.loader_checkpoint_pages;
  tuning.eager_busy_retry = true;
  auto loader = sinks::open_sqlite_loader(m.opt.db_file.string(), lo, tuning);
  if (!loader.ok()) return loader.error();
  m.loader = std::move(*loader);
  if (m.opt.models_interval.count() > 0) m.models_thread = std::thread([&m] { m.models_loop(); });
  m.checkpoint_thread = std::thread([&m] { m.checkpoint_loop(); });
  m.thread = std::thread([&m] { m.run(); });
  return Status::Ok();
}

Status Engine::stop() {
  Impl& m = *impl_;
  m.stopping.store(true);
  if (m.thread.joinable()) m.thread.join();
  {
    std::lock_guard lock(m.models_mu);
    m.models_stop = true;
    if (m.models_idle) {
      // A run in progress (and the last one) must not wait for spare CPU: on a machine busy
      // with other work a SCHED_IDLE thread gets next to none, and the stop would wait for it.
      sched_param param{};
      (void)pthread_setschedparam(m.models_thread.native_handle(), SCHED_OTHER, &param);
      m.models_idle = false;
    }
  }
  m.models_cv.notify_all();
  m.checkpoint_cv.notify_all();
  if (m.models_thread.joinable()) m.models_thread.join();
  if (m.checkpoint_thread.joinable()) m.checkpoint_thread.join();
  return m.result;
}

EngineStats Engine::stats() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->stats;
}

LogPosition Engine::committed() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->committed;
}

}  // namespace furrow::run
