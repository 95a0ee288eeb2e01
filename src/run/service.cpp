#include "run/service.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "assets/assets.h"
#include "collector/bad_output.h"
#include "collector/handler.h"
#include "collector/metrics.h"
#include "collector/server.h"
#include "dashboard/dashboard.h"
#include "enrich/enrichments/defaults.h"
#include "enrich/enrichments/registry.h"
#include "enrich/pipeline.h"
#include "iglu/registry.h"
#include "iglu/resolver.h"
#include "run/app_router.h"
#include "run/auth.h"
#include "run/checkpoint.h"
#include "run/engine.h"
#include "run/lag_sink.h"
#include "run/micro.h"
#include "sinks/raw_log.h"
#include "sinks/sqlite_loader.h"

namespace furrow::run {

namespace fs = std::filesystem;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int64_t kSqliteMemoryLimit = 32ll << 20;

void say(const std::string& msg) {
  std::fprintf(stderr, "furrow run: %s\n", msg.c_str());
  std::fflush(stderr);
}

std::string url_host(const std::string& host) {
  if (host == "0.0.0.0" || host == "::") return "127.0.0.1";
  if (host.find(':') != std::string::npos) return "[" + host + "]";
  return host;
}

// Periodic work off the I/O threads: times out /micro/wait requests.
class Ticker {
 public:
  explicit Ticker(MicroStore& micro)
      : thread_([this, &micro] {
          std::unique_lock lock(mu_);
          while (!stop_) {
            cv_.wait_for(lock, std::chrono::milliseconds(20));
            lock.unlock();
            micro.expire(std::chrono::steady_clock::now());
            lock.lock();
          }
        }) {}
  ~Ticker() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

int serve(RunConfig cfg) {
  collector::block_termination_signals();
  if (const char* env = std::getenv("FURROW_TOKEN"); env != nullptr && *env != '\0') {
    cfg.token = env;
  }
  const bool loopback = is_loopback_host(cfg.host);
  if (Status st = check_secret(cfg.token, loopback); !st.ok()) {
    say("refusing to start: " + st.message());
    return kExitUsage;
  }

  // Data directory: raw log, database, checkpoint.
  std::error_code ec;
  const fs::path raw_dir = cfg.data_dir / "raw";
  fs::create_directories(raw_dir, ec);
  if (ec) {
    say("cannot create " + raw_dir.string() + ": " + ec.message());
    return kExitFailure;
  }
  const fs::path db_file = cfg.data_dir / "furrow.db";
  const fs::path checkpoint_file = cfg.data_dir / "checkpoint";

  // Enrichment: built-in Iglu schemas plus an optional local registry, optional enrichments.
  enrich::PipelineConfig pc;
  pc.artifact = "furrow-run";
  {
    std::vector<std::shared_ptr<const iglu::Registry>> regs;
    regs.push_back(iglu::builtin_registry());
    if (!cfg.iglu_registry.empty()) {
      if (!fs::is_directory(cfg.iglu_registry / "schemas")) {
        say("iglu_registry: " + cfg.iglu_registry.string() + " has no schemas/ folder");
        return kExitUsage;
      }
      regs.push_back(
          std::make_shared<iglu::DirectoryRegistry>("local registry", cfg.iglu_registry.string()));
    }
    pc.validator = std::make_shared<iglu::Resolver>(std::move(regs));
  }
  if (!cfg.enrichments.empty()) {
    auto e = enrich::enrichments::load_enrichments(cfg.enrichments.string());
    if (!e.ok()) {
      say("enrichments: " + e.error().message);
      return kExitUsage;
    }
    pc.enrichments = std::move(*e);
  } else if (cfg.default_enrichments) {
    // The npm-installed data (user agents, referers, geo) when it can be found.
    std::error_code exe_ec;
    auto d = enrich::enrichments::load_default_enrichments(
        enrich::enrichments::find_default_data(fs::read_symlink("/proc/self/exe", exe_ec)));
    if (!d.ok()) {
      say("default enrichments: " + d.error().message);
      return kExitUsage;
    }
    for (const auto& w : d->warnings) say("default enrichments: " + w);
    pc.enrichments = std::move(d->enrichments);
  }
  const enrich::Pipeline pipeline(std::move(pc));

  // The collector, exactly as `furrow collector` with a raw log sink in the data directory.
  collector::CollectorConfig& cc = cfg.collector;
  cc.host = cfg.host;
  cc.port = cfg.port;
  cc.sink = collector::SinkKind::kRawLog;
  cc.raw_log_dir = raw_dir;
  if (cc.bad_output.empty()) cc.bad_output = (cfg.data_dir / "collector-bad-rows.jsonl").string();
  // The browser tracker, as `furrow collector` serves it, so pages can load it from furrow run.
  cc.assets.push_back({"/sp.js", "text/javascript; charset=utf-8", std::string(assets::sp_js()),
                       "public, max-age=3600"});
  if (Status st = collector::validate(cc); !st.ok()) {
    say(st.message());
    return kExitUsage;
  }
  sinks::QueuedSinkOptions q;
  q.durability = cc.fsync ? sinks::Durability::kFsync : sinks::Durability::kBuffered;
  q.max_pending_bytes = cc.max_pending_bytes;
  q.max_record_bytes = cc.max_record_bytes;
  q.flush_interval = std::chrono::milliseconds(cc.flush_interval_ms);
  q.stall_file = cc.stall_file;
  sinks::RawLogOptions lo;
  lo.dir = raw_dir;
  // Segments are read while written and deleted once loaded, so they stay uncompressed and
  // small enough that a consumed one goes soon.
  lo.segment_max_bytes = std::min<std::size_t>(cc.segment_max_bytes, 16u << 20);
  lo.segment_max_age = std::chrono::seconds(cc.segment_max_age_seconds);
  lo.compress = false;
  auto raw = sinks::make_raw_log_sink(lo, q);
  if (!raw.ok()) {
    say(raw.error().message);
    return kExitFailure;
  }
  auto start_pos = read_checkpoint(checkpoint_file);
  if (!start_pos.ok()) {
    say(start_pos.error().message);
    return kExitFailure;
  }
  const uint64_t backlog = RawLogTailer::backlog_bytes(raw_dir, *start_pos);
  LagLimitedSink sink(std::move(*raw), cfg.max_lag_bytes, backlog);
  auto bad = collector::BadOutput::open(cc.bad_output, cc.fsync);
  if (!bad.ok()) {
    say(bad.error().message);
    sink.close();
    return kExitFailure;
  }

  // All SQLite connections together (loader, models, checkpoints, dashboard) stay near this; their
  // page caches are recycled above it, which keeps the process's peak RSS bounded.
  sinks::limit_sqlite_memory(kSqliteMemoryLimit);

  MicroLimits ml;
  ml.max_events = cfg.micro_max_events;
  ml.max_bytes = cfg.micro_max_bytes;
  MicroStore micro(ml);

  EngineOptions eo;
  eo.raw_dir = raw_dir;
  eo.checkpoint_file = checkpoint_file;
  eo.db_file = db_file;
  eo.workers = cfg.enrich_threads;
  eo.commit_interval = std::chrono::milliseconds(cfg.commit_interval_ms);
  eo.models_cost_factor = cfg.models_cost_factor;
  eo.models_idle_priority = cfg.models_idle_priority;
  eo.models_chunk_events = cfg.models_chunk_events;
  eo.models_interval = std::chrono::milliseconds(cfg.models_interval_ms);
  // The dashboard reads the same database; its rollups are refreshed after each model run.
  std::shared_ptr<dashboard::Dashboard> dash;
  {
    dashboard::Options dopt;
    dopt.db = db_file;
    dopt.base_path = cfg.dashboard_path;
    auto opened = dashboard::Dashboard::open(dopt);
    if (!opened.ok()) {
      say("dashboard: " + opened.error().message);
      sink.close();
      return kExitFailure;
    }
    dash = std::move(*opened);
  }
  // The engine is made below; the hook only runs on its models thread, between start and stop.
  Engine* engine_ptr = nullptr;
  std::function<void()> after_models = [dash, &engine_ptr] {
    Status st = dash->refresh();
    // A refresh the engine asked to give its snapshot back is retried by the engine (logged there).
    if (!st.ok() && !(engine_ptr != nullptr && engine_ptr->should_yield())) {
      say("dashboard refresh: " + st.message());
    }
  };
  DashboardFn dashboard = [dash](const collector::HttpRequest& req, AppReply& r) {
    collector::AppResponse resp;
    if (!dash->handle(req, resp)) return false;
    r.status = resp.status;
    r.content_type = std::move(resp.content_type);
    r.body = std::move(resp.body);
    r.headers = std::move(resp.headers);
    return true;
  };
  Engine engine(eo, pipeline, cfg.micro_enabled ? &micro : nullptr, &sink, after_models);
  engine_ptr = &engine;
  dash->interrupt_when([&engine] { return engine.should_yield(); });
  if (Status st = engine.start(); !st.ok()) {
    say(st.message());
    sink.close();
    return kExitFailure;
  }

  AuthOptions ao;
  ao.secret = cfg.token;
  ao.secure_cookie = cfg.secure_cookie;
  Auth auth(ao);
  AppRouterOptions ro;
  ro.dashboard_path = cfg.dashboard_path;
  ro.micro_enabled = cfg.micro_enabled;
  AppRouter router(ro, auth, micro, dashboard);

  collector::Handler handler(cc, std::string(sink.kind()), sink.max_record_bytes());
  collector::Metrics metrics;
  int rc = kExitOk;
  {
    Ticker ticker(micro);
    collector::Server server(handler, sink, *bad.value(), metrics);
    server.set_app_router(
        [&router](const collector::HttpRequest& req, collector::AppRespond respond) {
          return router.handle(req, [respond = std::move(respond)](AppReply r) {
            collector::AppResponse out;
            out.status = r.status;
            out.content_type = std::move(r.content_type);
            out.body = std::move(r.body);
            out.headers = std::move(r.headers);
            respond(std::move(out));
          });
        });
    if (Status st = server.start(); !st.ok()) {
      say(st.message());
      micro.close();
      (void)engine.stop();
      sink.close();
      return kExitFailure;
    }
    const std::string base = "http://" + url_host(cfg.host) + ":" + std::to_string(server.port());
    say("listening on " + base + " (data in " + cfg.data_dir.string() + ")");
    say("  collector:  " + base +
        "/com.snowplowanalytics.snowplow/tp2  (and /i, GET /{vendor}/{version})");
    say("  dashboard:  " + base + cfg.dashboard_path +
        (auth.open() ? "" : "  (login: " + base + "/login)"));
    say("  micro API:  " + base + "/micro/all, /micro/good, /micro/bad, /micro/reset, /micro/wait");
    say(std::string("  database:   ") + db_file.string() +
        "  (furrow query --db sqlite:" + db_file.string() + " ...)");
    if (server.admin_port() != 0) {
      say("  metrics:    http://" + url_host(cc.admin_host) + ":" +
          std::to_string(server.admin_port()) + "/metrics");
    }
    if (auth.open()) say("app routes are open to this machine only (no token set)");
    server.wait();
    micro.close();
  }
  // The collector has stopped: flush the raw log, then commit what was read and checkpoint.
  sink.close();
  if (Status st = engine.stop(); !st.ok()) {
    say("stopped with an error: " + st.message());
    rc = kExitFailure;
  }
  const EngineStats s = engine.stats();
  say("stopped: " + std::to_string(s.good) + " good events, " + std::to_string(s.bad) +
      " bad rows loaded (" + std::to_string(s.duplicates) + " replayed duplicates skipped) in " +
      std::to_string(s.commits) + " commits (longest " +
      std::to_string(s.commit_longest.count() / 1000) + " ms, " + std::to_string(s.slow_commits) +
      " of 100 ms or more); " + std::to_string(s.model_runs) + " model runs (" +
      std::to_string(s.models_time.count() / 1000) + " ms, longest job " +
      std::to_string(s.models_longest.count() / 1000) + " ms; " + std::to_string(s.models_yields) +
      " snapshots given back, " + std::to_string(s.models_starved) +
      " raised); SQLite memory high-water " +
      std::to_string(sinks::sqlite_memory_highwater() >> 20) + " MB");
  return rc;
}

}  // namespace furrow::run
