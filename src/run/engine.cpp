#include "run/engine.h"

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <vector>

#include "enrich/runner.h"
#include "run/checkpoint.h"
#include "run/sqlite_handle.h"
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
// Anything that holds SQLite's write lock (a commit, a model run's write phase) or runs a WAL
// checkpoint or a checkpoint-file write for longer is logged with the time it ended, so that a
// slow event (bench/run_load.sh's probes) can be set beside what the engine did at that moment.
constexpr std::chrono::milliseconds kSlowLock{100};

void log_line(const std::string& msg) {
  std::fprintf(stderr, "furrow run: %s\n", msg.c_str());
  std::fflush(stderr);
}

// The same, prefixed with the wall-clock time (UTC, milliseconds): "[HH:MM:SS.mmm] msg".
void log_timed(const std::string& msg) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) %
                  std::chrono::milliseconds(1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::fprintf(stderr, "furrow run: [%02d:%02d:%02d.%03d] %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
               static_cast<int>(ms.count()), msg.c_str());
  std::fflush(stderr);
}

// A SCHED_IDLE models thread that got less than this share of the CPU time it was runnable for
// over one kModelsWatch is starved in that window.
constexpr double kStarvedShare = 0.1;
// How often the checkpoint thread looks at a running models thread.
constexpr std::chrono::milliseconds kModelsWatch{200};
// The window over which a chunk's (or hook call's) share of the CPU is judged: a models thread
// starved over one such window gives its read snapshot back when the loader committed in it,
// else it is raised (watch_models). At 40,000 events/s the WAL grows ~90 MB a second while a
// snapshot is held, so this (plus up to one kModelsWatch) bounds that growth.
constexpr std::chrono::milliseconds kStarvedPatience{1000};
// After giving its snapshot back, the models thread waits this long before it tries again (with
// half the chunk, down to kMinChunkEvents), so that a checkpoint can empty the WAL meanwhile.
constexpr std::chrono::milliseconds kYieldBackoff{1000};
constexpr std::size_t kMinChunkEvents = 5'000;

// CPU time of the calling thread.
std::chrono::nanoseconds thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// CPU time run and time spent runnable but waiting (ns), and the state letter (R: runnable), of a
// thread of this process.
bool thread_schedstat(pid_t tid, uint64_t& run_ns, uint64_t& wait_ns, char& state) {
  const std::string dir = "/proc/self/task/" + std::to_string(tid);
  std::ifstream in(dir + "/schedstat");
  if (!(in >> run_ns >> wait_ns)) return false;
  // stat: "pid (comm) S ...": the state follows the last ')' (comm may hold anything).
  std::ifstream st(dir + "/stat");
  std::string line;
  std::getline(st, line);
  const auto close = line.rfind(')');
  state = close != std::string::npos && close + 2 < line.size() ? line[close + 2] : '?';
  return true;
}

int64_t ms_between(std::chrono::steady_clock::time_point a,
                   std::chrono::steady_clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
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
  // Starvation policy (guarded by models_mu; the checkpoint thread watches, see watch_models):
  // a job in progress (models_running: model chunks and the after-models hook) whose idle
  // thread gets next to no CPU for kStarvedPatience is asked to give its read snapshot back
  // (yield) when the loader committed meanwhile, or else raised to the normal policy
  // (models_raised) until its current chunk or hook call ends.
  bool models_running = false;
  bool models_raised = false;
  pid_t models_tid = 0;
  uint64_t loader_commits = 0;  // commits so far (the WAL grows with each)
  // The start of the checkpoint thread's current window on the models thread during the current
  // chunk or hook call: schedstat, time and the loader's commit count then.
  bool watch_have = false;
  uint64_t watch_run_ns = 0, watch_wait_ns = 0;
  Clock::time_point watch_at;
  uint64_t starved_commits = 0;
  // Set by the watch, read by the progress handlers of the models' SQLite connection and of the
  // hook's (should_yield): the current read phase stops with SQLITE_INTERRUPT and rolls back.
  // Cleared by the models thread before each chunk and hook call.
  std::atomic<bool> yield{false};
  sqlite3* models_db = nullptr;  // the connection of models_store (models thread only)
  // Models thread only: the chunk size (events per model run), halved after a yield.
  std::size_t chunk_events = 0;
  // The models are behind (a job ended by a yield): retry at models_retry_at even without new
  // commits. Guarded by models_mu.
  bool models_behind = false;
  Clock::time_point models_retry_at;
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
    const auto flush_start = Clock::now();
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
    const auto flushed = Clock::now();
    const auto took = flushed - flush_start;
    if (took >= kSlowLock) {
      log_timed("slow commit: " + std::to_string(pending_lines) + " lines in " +
                std::to_string(ms_between(flush_start, flushed)) + " ms (" +
                std::to_string(ms_between(last_commit, flush_start)) +
                " ms after the commit before; raw-log backlog " +
                (lag != nullptr ? std::to_string(lag->lag_bytes() >> 10) + " KiB" : "-") + ")");
    }
    {
      std::lock_guard lock(stats_mu);
      stats.commit_longest = std::max(stats.commit_longest,
                                      std::chrono::duration_cast<std::chrono::microseconds>(took));
      if (took >= kSlowLock) ++stats.slow_commits;
    }
    last_commit = flushed;
    // The checkpoint file (two fsyncs and a rename) is written by the checkpoint thread, off the
    // loader's path: it only ever gets positions already committed here, so it is never ahead
    // of the database; when it lags (a crash before it is written), the replay is deduplicated.
    {
      std::lock_guard lock(models_mu);
      file_pos = pending_pos;
      file_pos_new = true;
      ++loader_commits;
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

  // How a job (model chunks until caught up, then the hook) ended.
  enum class JobEnd { kDone, kYielded, kFailed };

  static int progress_handler(void* arg) { return static_cast<Impl*>(arg)->should_yield() ? 1 : 0; }
  // True while the models thread is asked to give its read snapshot back, except inside a
  // write phase (storage::WriteLockPriority: short, at the normal policy; finishing it is cheaper
  // than redoing it).
  bool should_yield() const {
    return yield.load(std::memory_order_relaxed) && !storage::WriteLockPriority::held();
  }

  // Back to SCHED_IDLE after a chunk or hook call that the watch raised (called between them,
  // never inside a write phase).
  void end_raise() {
    std::lock_guard lock(models_mu);
    if (models_raised && !models_stop) {
      sched_param param{};
      models_idle = pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0;
    }
    models_raised = false;
    watch_have = false;
  }

  void count_error() {
    std::lock_guard lock(stats_mu);
    ++stats.errors;
  }

  void log_yield(const std::string& what, Clock::time_point since) {
    {
      std::lock_guard lock(stats_mu);
      ++stats.models_yields;
    }
    log_timed(what + " gave its read snapshot back after " +
              std::to_string(ms_between(since, Clock::now())) +
              " ms (starved while loading); retry in " + std::to_string(kYieldBackoff.count()) +
              " ms");
  }

  // Sleeps `d` (at least the checkpoint interval, so that a checkpoint falls into the pause),
  // or until the engine stops.
  void pause_between_chunks(std::chrono::nanoseconds d) {
    const auto until = Clock::now() + std::max<Clock::duration>(d, opt.checkpoint_interval);
    std::unique_lock lock(models_mu);
    models_cv.wait_until(lock, until, [this] { return models_stop; });
  }

  // One job: model runs of at most chunk_events each until the models are caught up, then the
  // hook. Each chunk is its own read snapshot and its own short write transaction; a chunk that
  // is asked to yield (starved while the loader commits) rolls back and ends the job.
  JobEnd run_job() {
    const auto t0 = Clock::now();
    if (!models_store) {
      auto s = open_store_with_handle(opt.db_file, models_db);
      if (!s.ok()) {
        log_line("data models: " + s.error().message);
        count_error();
        return JobEnd::kFailed;
      }
      models_store = std::move(*s);
      // Every 1,000 virtual-machine steps: an atomic load, far below the cost of the steps.
      sqlite3_progress_handler(models_db, 1000, &Impl::progress_handler, this);
    }
    JobEnd end = JobEnd::kDone;
    int64_t from = -1, to = -1;
    int chunks = 0;
    int64_t read_us = 0, lock_us = 0, lock_max_us = 0;
    for (;;) {
      yield.store(false);
      const auto c0 = Clock::now();
      const auto chunk_cpu0 = thread_cpu();
      storage::ModelOptions mo;
      mo.max_events = static_cast<int64_t>(chunk_events);
      auto r = storage::run_models(*models_store, mo);
      const bool yielded = yield.load();
      end_raise();
      if (!r.ok()) {
        if (!sqlite3_get_autocommit(models_db)) {
          // run_models rolls back a failed transaction; should that have failed too, the
          // snapshot must not outlive the chunk.
          yield.store(false);
          (void)models_store->exec("ROLLBACK");
        }
        if (yielded) {
          chunk_events = std::max(kMinChunkEvents, chunk_events / 2);
          log_yield("model chunk (next one " + std::to_string(chunk_events) + " events)", c0);
          end = JobEnd::kYielded;
        } else {
          log_line("data models: " + r.error().message);
          count_error();
          end = JobEnd::kFailed;
        }
        break;
      }
      ++chunks;
      if (from < 0) from = r->from_load_id;
      to = r->to_load_id;
      read_us += r->read_us;
      lock_us += r->write_lock_us;
      lock_max_us = std::max(lock_max_us, r->write_lock_us);
      if (r->write_lock_us >= std::chrono::microseconds(kSlowLock).count()) {
        log_timed("model chunk: write lock held " + std::to_string(r->write_lock_us / 1000) +
                  " ms (read " + std::to_string(r->read_us / 1000) + " ms, load ids " +
                  std::to_string(r->from_load_id) + ".." + std::to_string(r->to_load_id) + ")");
      }
      {
        std::lock_guard lock(stats_mu);
        ++stats.model_runs;
      }
      // A chunk that finished grows the next one back towards the configured size.
      chunk_events = std::min(std::max<std::size_t>(1, opt.models_chunk_events), chunk_events * 2);
      if (!r->more || stopping.load()) break;
      // Behind: before the next chunk, a pause of models_cost_factor times this chunk's CPU
      // time, holding no snapshot. It bounds the models' share of a core while they catch up
      // under sustained load (as the cooldown does between jobs), and it lets a WAL checkpoint
      // copy everything and the next commit start the WAL over: back-to-back chunks always
      // held some snapshot, and the WAL grew for as long as the load lasted (3.7 GB in 60 s
      // at 40,500 events/s).
      pause_between_chunks((thread_cpu() - chunk_cpu0) * opt.models_cost_factor);
      if (stopping.load()) break;
    }
    const auto t1 = Clock::now();
    if (end == JobEnd::kDone && after_models) {
      yield.store(false);
      after_models();
      const bool yielded = yield.load();
      end_raise();
      if (yielded) {
        log_yield("dashboard refresh", t1);
        end = JobEnd::kYielded;
      }
    }
    yield.store(false);
    // A job's sorts and caches are freed by now; hand the pages back to the system instead of
    // keeping them in this thread's malloc arena until the next job.
    malloc_trim(0);
    const auto t2 = Clock::now();
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(t2 - t0);
    if (took >= kSlowModels && (chunks > 0 || end == JobEnd::kDone)) {
      log_timed("slow model run: models " + std::to_string(ms_between(t0, t1)) + " ms in " +
                std::to_string(chunks) + " chunks (read " + std::to_string(read_us / 1000) +
                " ms, write lock held " + std::to_string(lock_us / 1000) + " ms, longest " +
                std::to_string(lock_max_us / 1000) + " ms), then " +
                std::to_string(ms_between(t1, t2)) + " ms dashboard refresh (load ids " +
                (from >= 0 ? std::to_string(from) + ".." + std::to_string(to) : std::string("-")) +
                ")");
    }
    {
      std::lock_guard lock(stats_mu);
      stats.models_time += took;
      stats.models_longest = std::max(stats.models_longest, took);
    }
    return end;
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
    Clock::time_point next_watch = Clock::now() + kModelsWatch;
    for (;;) {
      checkpoint_cv.wait_until(lock, std::min(next_wal, next_watch),
                               [this] { return models_stop || file_pos_new; });
      if (file_pos_new) {
        const LogPosition pos = file_pos;
        file_pos_new = false;
        lock.unlock();
        const auto w0 = Clock::now();
        Status written = write_checkpoint(opt.checkpoint_file, pos);
        if (const auto w1 = Clock::now(); w1 - w0 >= kSlowLock) {
          log_timed("slow checkpoint file write: " + std::to_string(ms_between(w0, w1)) + " ms");
        }
        if (Status st = std::move(written); !st.ok()) {
          // The database has the events; an old checkpoint only means a replay, which is
          // deduplicated. The segments stay until a checkpoint past them is written.
          log_line(st.message());
        } else if (pos.segment > removed_before) {
          const auto r0 = Clock::now();
          RawLogTailer::remove_segments_before(opt.raw_dir, pos.segment);
          if (const auto r1 = Clock::now(); r1 - r0 >= kSlowLock) {
            log_timed("slow raw-log segment removal: " + std::to_string(ms_between(r0, r1)) +
                      " ms");
          }
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
      if (const auto now = Clock::now(); now >= next_watch) {
        watch_models();
        next_watch = now + kModelsWatch;
      }
      if (Clock::now() < next_wal) continue;
      lock.unlock();
      if (db.ok()) {
        int wal = 0, copied = 0;
        const auto c0 = Clock::now();
        Status st = sinks::sqlite_checkpoint(*db, wal, copied);
        if (const auto c1 = Clock::now(); c1 - c0 >= kSlowLock) {
          log_timed("slow WAL checkpoint (passive): " + std::to_string(ms_between(c0, c1)) +
                    " ms, " + std::to_string(copied) + " of " + std::to_string(wal) +
                    " WAL pages copied");
        }
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

  // Called by the checkpoint thread (models_mu held) every kModelsWatch while a job runs: the
  // starvation policy. A SCHED_IDLE thread gets only CPU that nothing else wants; when it gets
  // next to none for kStarvedPatience in a row, its read snapshot (which keeps WAL checkpoints
  // from emptying the WAL) could be held for as long as that lasts:
  //   - if the loader committed meanwhile (the WAL is growing: furrow's own load, or loading on
  //     a busy machine), the job is asked to yield: its read phase stops (SQLite progress
  //     handler), rolls back and is retried later with a smaller chunk; loading keeps all the
  //     CPU and the models lag until load drops (the watermark only moves on finished chunks);
  //   - otherwise (nothing is being loaded: the machine is busy with other work) holding the
  //     snapshot costs nothing but the wait, so the thread is raised to the normal policy until
  //     its current chunk or hook call ends (models_raised), and the models do not wait for the
  //     machine to become idle.
  // Write phases (storage::WriteLockPriority, SCHED_OTHER while they last) are left alone.
  void watch_models() {
    if (!models_running || !models_idle || models_raised || models_tid == 0 ||
        sched_getscheduler(models_tid) != SCHED_IDLE) {
      watch_have = false;
      return;
    }
    uint64_t run_ns = 0, wait_ns = 0;
    char state = '?';
    if (!thread_schedstat(models_tid, run_ns, wait_ns, state)) return;
    const auto now = Clock::now();
    if (!watch_have) {
      watch_have = true;
      watch_run_ns = run_ns;
      watch_wait_ns = wait_ns;
      watch_at = now;
      starved_commits = loader_commits;
      return;
    }
    // One window of at least kStarvedPatience (the kernel adds a thread's wait to its schedstat
    // only when the thread gets the CPU, so shorter windows of a starved thread often show none).
    const auto window = now - watch_at;
    if (window < kStarvedPatience) return;
    const double ran = static_cast<double>(run_ns - watch_run_ns);
    const double waited = static_cast<double>(wait_ns - watch_wait_ns);
    const double span =
        static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(window).count());
    const uint64_t commits = loader_commits - starved_commits;
    watch_run_ns = run_ns;
    watch_wait_ns = wait_ns;
    watch_at = now;
    starved_commits = loader_commits;
    // Starved: given less than a tenth of the window although it wanted the CPU (runnable now,
    // or waiting for it for half the window); not a hook that sleeps or waits for I/O.
    const bool starved = ran < kStarvedShare * span && (state == 'R' || ran + waited >= 0.5 * span);
    if (!starved) return;
    const auto starved_ms = std::chrono::duration_cast<std::chrono::milliseconds>(window).count();
    const std::string got = " (ran " + std::to_string(static_cast<int64_t>(ran / 1e6)) + " ms of " +
                            std::to_string(starved_ms) + " ms)";
    if (commits > 0) {
      yield.store(true);
      // Raised too, until the chunk or hook call has ended (end_raise): a starved thread would
      // otherwise reach its next progress check, and let go of the snapshot, only when it next
      // gets a moment of CPU; stopping and rolling back take a few milliseconds.
      sched_param param{};
      models_raised =
          pthread_setschedparam(models_thread.native_handle(), SCHED_OTHER, &param) == 0;
      log_timed("models thread starved" + got + " while " + std::to_string(commits) +
                " commits went on: asked to give its read snapshot back");
      return;
    }
    sched_param param{};
    if (pthread_setschedparam(models_thread.native_handle(), SCHED_OTHER, &param) != 0) return;
    models_raised = true;
    watch_have = false;
    {
      std::lock_guard sl(stats_mu);
      ++stats.models_starved;
    }
    log_timed("models thread starved" + got + " with no loading: normal priority until this " +
              "chunk ends");
  }

  // The models thread: waits until a job is due (see engine.h), runs it, repeats; on stop, one
  // last job when events are waiting.
  void models_loop() {
    pthread_setname_np(pthread_self(), "furrow-models");
    sched_param param{};
    const bool want_idle = opt.models_idle_priority && storage::can_leave_idle_policy();
    chunk_events = std::max<std::size_t>(1, opt.models_chunk_events);
    if (want_idle) {
      // Under models_mu, so that stop() either sees the thread idle and raises it, or this
      // thread sees the stop and stays at the normal policy.
      std::lock_guard lock(models_mu);
      models_tid = gettid();
      models_idle = !models_stop && pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0;
    }
    Clock::time_point last_end = Clock::now() - opt.models_interval;
    Clock::duration cooldown = opt.models_interval;
    Clock::duration last_cpu{0};
    std::unique_lock lock(models_mu);
    for (;;) {
      if (models_stop) break;
      const auto now = Clock::now();
      Clock::time_point due = Clock::time_point::max();
      if (models_waiting > 0 || models_behind) {
        const Clock::time_point ready = last_end + cooldown;
        Clock::time_point trigger = models_behind ? models_retry_at
                                    : models_waiting >= opt.models_batch_events
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
      models_behind = false;
      models_running = true;
      watch_have = false;
      lock.unlock();
      const auto cpu0 = thread_cpu();
      const JobEnd end = run_job();
      last_end = Clock::now();
      last_cpu = thread_cpu() - cpu0;
      // The cost factor bounds the models' share of a core by their own CPU time (at
      // SCHED_IDLE, wall time says how long they waited for spare CPU, not what they cost).
      cooldown = std::max<Clock::duration>(opt.models_interval, last_cpu * opt.models_cost_factor);
      lock.lock();
      models_running = false;
      if (end == JobEnd::kYielded) {
        models_behind = true;
        models_retry_at = last_end + kYieldBackoff;
      }
    }
    // A last job only when jobs are quick and the models are not behind: a slow one would hold
    // up the shutdown, and the next start models the waiting events anyway (the watermark is in
    // the database).
    const bool waiting = models_waiting > 0 && !models_behind && last_cpu < kSlowModels;
    models_waiting = 0;
    lock.unlock();
    if (waiting) (void)run_job();
  }

  void run() {
    pthread_setname_np(pthread_self(), "furrow-loader");
    const sources::PayloadProcessor payloads(pipeline, sources::InputFormat::kThriftBinary);
    const NamingProcessor processor(payloads);
    enrich::RunnerConfig rc;
    rc.threads = opt.workers == 0 ? 1 : opt.workers;
    rc.ring_batches = rc.threads * 4 + 2;
    rc.defer_fingerprints = opt.defer_fingerprints;
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

bool Engine::should_yield() const {
  return impl_->should_yield();
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
