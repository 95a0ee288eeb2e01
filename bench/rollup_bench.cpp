// The steady-state cost of the dashboard rollup refresh (dashboard::refresh_rollups, which furrow
// run's models thread runs through Dashboard::refresh after each model run), per event, beside
// the data models' run (storage::run_models) over the same new events.
//
//   BM_RollupRefresh/<events_per_refresh>
//     A fresh database is filled through the real loader (sinks::open_sqlite_loader, LineKind
//     kEnrichedInProcess as furrow run) with `furrow gen` traffic (sources::Generator, 20,000
//     visitors: sessions continue across refreshes and visitors repeat) enriched by the real
//     pipeline with furrow run's default enrichments (user agent, referer, campaign, geo when
//     the npm data is found), committed every kEventsPerLoad events (one load id each, as furrow
//     run's batches). A prefill of $FURROW_ROLLUP_BENCH_PREFILL events (default 100,000) is
//     modelled and refreshed once, untimed. Then each iteration loads `events_per_refresh` new
//     events (untimed), runs the models over them and then the refresh (as furrow run does).
//     Only the refresh is timed (real time; the models run outside the timing). Counters (thread
//     CPU time per event): refresh_cpu_us_per_event, models_cpu_us_per_event; and the rows the
//     models rewrote per new event (model_pv_rows_per_event, model_session_rows_per_event,
//     model_user_rows_per_event, from ModelReport).
//     Iterations: $FURROW_ROLLUP_BENCH_REFRESHES (default 4). FURROW_ROLLUP_BENCH_MODELS=0 leaves
//     the models out of the iterations (they still run after the prefill).
//
// Noise-free figure (instructions per event), under callgrind with instrumentation only around
// the models and the refresh (the loading and enrichment run uninstrumented, hence fast):
//   FURROW_ROLLUP_BENCH_REFRESHES=2 valgrind --tool=callgrind --instr-atstart=no
//     --callgrind-out-file=/tmp/rollup.cg build/release/bench/rollup_bench
//     --benchmark_filter='BM_RollupRefresh/40000'
//   callgrind_annotate --inclusive=yes /tmp/rollup.cg | grep -e refresh_rollups -e run_models
//   then divide each inclusive count by REFRESHES x events_per_refresh (the bench prints the
//   exact number of events as the `events` counter).
#include <benchmark/benchmark.h>
#include <time.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/base64.h"
#include "dashboard/dashboard.h"
#include "enrich/enrichments/defaults.h"
#include "enrich/pipeline.h"
#include "sinks/loader.h"
#include "sinks/sqlite_loader.h"
#include "sources/generator.h"
#include "storage/models.h"
#include "storage/query_store.h"

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kEventsPerLoad = 6'000;
constexpr int64_t kNowMs = 1'767'312'000'000;  // 2026-01-02, after the generated traffic

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoll(v) : fallback;
}

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

struct TempDir {
  fs::path dir;
  TempDir() {
    char tmpl[] = "/tmp/furrow_rollup_bench.XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// furrow run's enrichment: the default set, with the npm data beside the source tree (the bench
// binary sits at build/<name>/bench/, so "its directory's parent" is what find_default_data
// takes for the furrow binary's directory) or in $FURROW_DATA_DIR.
std::unique_ptr<furrow::enrich::Pipeline> make_pipeline() {
  furrow::enrich::PipelineConfig pc;
  pc.artifact = "furrow-run";
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  auto d = furrow::enrich::enrichments::load_default_enrichments(
      furrow::enrich::enrichments::find_default_data(ec ? fs::path() : exe.parent_path()));
  if (d.ok()) {
    for (const auto& w : d->warnings) std::fprintf(stderr, "rollup_bench: %s\n", w.c_str());
    pc.enrichments = std::move(d->enrichments);
  } else {
    std::fprintf(stderr, "rollup_bench: default enrichments: %s\n", d.error().message.c_str());
  }
  return std::make_unique<furrow::enrich::Pipeline>(std::move(pc));
}

// Generated traffic, enriched and loaded.
class Feed {
 public:
  Feed(const std::string& db, const furrow::enrich::Pipeline& pipeline)
      : pipeline_(pipeline), gen_(config()) {
    furrow::sinks::LoaderOptions lo;
    lo.batch_size = 1'000'000;  // committed every kEventsPerLoad below, as furrow run's policy
    lo.source = "rollup_bench";
    auto l = furrow::sinks::open_sqlite_loader(db, lo, furrow::sinks::SqliteTuning{});
    if (l.ok()) loader_ = std::move(*l);
  }
  bool ok() const { return loader_ != nullptr; }

  // Loads at least `n` good events (whole payloads); returns how many, 0 on a loader failure.
  int64_t load(int64_t n) {
    int64_t loaded = 0;
    while (loaded < n) {
      gen_.next(10, payload_);
      if (!furrow::common::base64_decode(payload_.line, thrift_)) continue;
      out_.clear();
      pipeline_.process_thrift(thrift_, out_);
      for (const auto& line : out_.good) {
        if (!loader_->add(line, furrow::sinks::LineKind::kEnrichedInProcess)) return 0;
        ++loaded;
        if (++pending_ == kEventsPerLoad) {
          if (!loader_->flush()) return 0;
          pending_ = 0;
        }
      }
    }
    if (pending_ > 0) {
      if (!loader_->flush()) return 0;
      pending_ = 0;
    }
    return loaded;
  }

 private:
  static furrow::sources::GeneratorConfig config() {
    furrow::sources::GeneratorConfig c;
    c.seed = 9;
    c.visitors = 20'000;
    return c;
  }
  const furrow::enrich::Pipeline& pipeline_;
  furrow::sources::Generator gen_;
  furrow::sources::GeneratedPayload payload_;
  std::string thrift_;
  furrow::enrich::Output out_;
  std::unique_ptr<furrow::sinks::Loader> loader_;
  std::size_t pending_ = 0;
};

void BM_RollupRefresh(benchmark::State& state) {
  static const auto pipeline = make_pipeline();
  TempDir tmp;
  const std::string db = (tmp.dir / "furrow.db").string();
  Feed feed(db, *pipeline);
  if (!feed.ok()) {
    state.SkipWithError("cannot open the loader");
    return;
  }
  auto store = furrow::storage::QueryStore::open("sqlite:" + db);
  furrow::dashboard::Options o;
  o.db = db;
  o.now_ms = [] { return kNowMs; };
  auto dash = furrow::dashboard::Dashboard::open(o);
  if (!store.ok() || !dash.ok()) {
    state.SkipWithError("cannot open the models' or the dashboard's connection");
    return;
  }
  const furrow::storage::ModelOptions mo;
  if (feed.load(env_int("FURROW_ROLLUP_BENCH_PREFILL", 100'000)) == 0 ||
      !furrow::storage::run_models(**store, mo).ok() || !(*dash)->refresh()) {
    state.SkipWithError("prefill failed");
    return;
  }
  // FURROW_ROLLUP_BENCH_MODELS=0: the refresh alone (a faster callgrind run).
  const bool with_models = env_int("FURROW_ROLLUP_BENCH_MODELS", 1) != 0;
  int64_t events = 0;
  int64_t model_rows[3] = {0, 0, 0};  // page views, sessions, users rewritten by the models
  double refresh_us = 0, models_us = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const int64_t n = feed.load(state.range(0));
    if (n == 0) {
      state.SkipWithError("load failed");
      break;
    }
    events += n;
    CALLGRIND_START_INSTRUMENTATION;
    const double m0 = thread_cpu_us();
    bool models_ok = true;
    if (with_models) {
      auto r = furrow::storage::run_models(**store, mo);
      models_ok = r.ok();
      if (models_ok) {
        model_rows[0] += r->page_views;
        model_rows[1] += r->sessions;
        model_rows[2] += r->users;
      }
    }
    const double m1 = thread_cpu_us();
    state.ResumeTiming();
    const furrow::Status st = (*dash)->refresh();
    const double r1 = thread_cpu_us();
    CALLGRIND_STOP_INSTRUMENTATION;
    models_us += m1 - m0;
    refresh_us += r1 - m1;
    if (!models_ok || !st) {
      state.SkipWithError(st ? "models failed" : st.message().c_str());
      break;
    }
  }
  const double e = events > 0 ? static_cast<double>(events) : 1.0;
  state.counters["events"] = static_cast<double>(events);
  state.counters["refresh_cpu_us_per_event"] = refresh_us / e;
  state.counters["models_cpu_us_per_event"] = models_us / e;
  // What the models rewrite per new event (ModelReport): page views, sessions and users.
  state.counters["model_pv_rows_per_event"] = static_cast<double>(model_rows[0]) / e;
  state.counters["model_session_rows_per_event"] = static_cast<double>(model_rows[1]) / e;
  state.counters["model_user_rows_per_event"] = static_cast<double>(model_rows[2]) / e;
  state.SetItemsProcessed(events);
}
BENCHMARK(BM_RollupRefresh)
    ->Arg(20'000)
    ->Arg(40'000)
    ->Arg(100'000)
    ->Iterations(env_int("FURROW_ROLLUP_BENCH_REFRESHES", 4))
    ->Unit(benchmark::kMillisecond);

}  // namespace
