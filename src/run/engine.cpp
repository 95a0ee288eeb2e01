#include "run/engine.h"

#include <cstdio>
#include <vector>

#include "enrich/runner.h"
#include "run/checkpoint.h"
#include "sinks/loader.h"
#include "sources/input.h"
#include "storage/models.h"
#include "storage/query_store.h"

namespace furrow::run {

namespace {
using Clock = std::chrono::steady_clock;

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
}  // namespace

struct Engine::Impl {
  EngineOptions opt;
  const enrich::Pipeline& pipeline;
  MicroStore* micro;
  LagLimitedSink* lag;
  std::function<void()> after_models;

  std::unique_ptr<RawLogTailer> tailer;
  std::unique_ptr<sinks::Loader> loader;
  std::unique_ptr<storage::QueryStore> models_store;
  std::thread thread;
  std::atomic<bool> stopping{false};
  Status result;

  // Positions of the batches read, in read order (the runner writes in read order).
  struct BatchEnd {
    LogPosition pos;
    bool caught_up;
  };
  std::mutex fifo_mu;
  std::deque<BatchEnd> fifo;

  // Loader-thread state.
  LogPosition pending_pos;
  bool have_pending = false;
  std::vector<std::string> pending_good, pending_bad;
  uint64_t pending_lines = 0;
  Clock::time_point last_commit = Clock::now();
  Clock::time_point last_models = Clock::now();
  uint64_t removed_before = 0;

  mutable std::mutex stats_mu;
  EngineStats stats;
  LogPosition committed;

  Impl(EngineOptions o, const enrich::Pipeline& p, MicroStore* m, LagLimitedSink* l,
       std::function<void()> hook)
      : opt(std::move(o)), pipeline(p), micro(m), lag(l), after_models(std::move(hook)) {}

  Status read(enrich::RecordBatch& b, bool& eof) {
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
    {
      std::lock_guard lock(fifo_mu);
      end = fifo.front();
      fifo.pop_front();
    }
    Status st;
    for_each_line(b.good, [&](std::string_view line) {
      if (!st.ok()) return;
      st = loader->add(line, sinks::LineKind::kEnriched);
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
    if (end.caught_up || now - last_commit >= opt.commit_interval ||
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
    if (Status st = write_checkpoint(opt.checkpoint_file, pending_pos); !st.ok()) {
      // The database has the events; an old checkpoint only means a replay, which is deduplicated.
      log_line(st.message());
    }
    {
      std::lock_guard lock(stats_mu);
      committed = pending_pos;
      const auto& ls = loader->stats();
      stats.inserted = ls.inserted;
      stats.duplicates = ls.duplicates;
      stats.commits = ls.batches;
    }
    have_pending = false;
    pending_lines = 0;
    if (micro != nullptr) {
      std::vector<std::string_view> g(pending_good.begin(), pending_good.end());
      std::vector<std::string_view> bd(pending_bad.begin(), pending_bad.end());
      micro->add(g, bd);
      pending_good.clear();
      pending_bad.clear();
    }
    if (pending_pos.segment > removed_before) {
      RawLogTailer::remove_segments_before(opt.raw_dir, pending_pos.segment);
      removed_before = pending_pos.segment;
    }
    if (!final) maybe_models(last_commit);
    return Status::Ok();
  }

  void maybe_models(Clock::time_point now) {
    if (opt.models_interval.count() <= 0 || now - last_models < opt.models_interval) return;
    last_models = now;
    if (!models_store) {
      auto s = storage::QueryStore::open("sqlite:" + opt.db_file.string());
      if (!s.ok()) {
        log_line("data models: " + s.error().message);
        return;
      }
      models_store = std::move(*s);
    }
    auto r = storage::run_models(*models_store, storage::ModelOptions{});
    {
      std::lock_guard lock(stats_mu);
      if (r.ok()) {
        ++stats.model_runs;
      } else {
        ++stats.errors;
      }
    }
    if (!r.ok()) {
      log_line("data models: " + r.error().message);
      return;
    }
    if (after_models) after_models();
  }

  void run() {
    const sources::PayloadProcessor processor(pipeline, sources::InputFormat::kThriftBinary);
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
  auto loader =
      sinks::open_loader(sinks::DbTarget{sinks::Dialect::kSqlite, m.opt.db_file.string()}, lo);
  if (!loader.ok()) return loader.error();
  m.loader = std::move(*loader);
  m.thread = std::thread([&m] { m.run(); });
  return Status::Ok();
}

Status Engine::stop() {
  Impl& m = *impl_;
  m.stopping.store(true);
  if (m.thread.joinable()) m.thread.join();
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
