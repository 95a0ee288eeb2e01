// `furrow collector`: the HTTP collector (spec section 2). Flags override the YAML config.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "app/commands.h"
#include "assets/assets.h"
#include "collector/bad_output.h"
#include "collector/config.h"
#include "collector/handler.h"
#include "collector/metrics.h"
#include "collector/paced_sync.h"
#include "collector/server.h"
#include "kafka/raw_sink.h"
#include "sinks/raw_log.h"
#include "sinks/stdout_sink.h"

namespace furrow::app {
namespace {

struct CollectorFlags {
  std::string config;
  std::string host;
  int port = -1;
  std::string sink;
  std::string durability;
  int threads = -1;
  int admin_port = -1;
  std::string kafka_config;  // --sink kafka: the `kafka:` section (src/kafka, docs/kafka.md)
};

int run_collector(const CollectorFlags& f) {
  using namespace furrow::collector;
  // Before any thread exists, so that every thread inherits the mask (see Server::wait).
  block_termination_signals();
  // Large buffers (a segment being compressed, a write batch) come and go; a fixed mmap
  // threshold hands them back to the kernel when freed instead of letting glibc raise the
  // threshold and keep them in the heap, which doubled the collector's peak RSS under load.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  CollectorConfig cfg;
  if (!f.config.empty()) {
    auto loaded = load_collector_config(f.config);
    if (!loaded.ok()) {
      std::fprintf(stderr, "furrow collector: %s\n", loaded.error().message.c_str());
      return kExitUsage;
    }
    cfg = std::move(loaded.value());
  }
  if (!f.host.empty()) cfg.host = f.host;
  if (f.port >= 0) cfg.port = static_cast<uint16_t>(f.port);
  if (f.threads >= 0) cfg.threads = static_cast<unsigned>(f.threads);
  if (f.admin_port >= 0) cfg.admin_port = static_cast<uint16_t>(f.admin_port);
  if (!f.sink.empty() && !kafka::is_kafka_sink_spec(f.sink)) {
    Status st = parse_sink_spec(f.sink, cfg);
    if (!st.ok()) {
      std::fprintf(stderr, "furrow collector: --sink: %s\n", st.message().c_str());
      return kExitUsage;
    }
  }
  if (!f.durability.empty()) cfg.fsync = f.durability == "fsync";
  // The browser tracker, so that pages can load it from their collector.
  cfg.assets.push_back({"/sp.js", "text/javascript; charset=utf-8", std::string(assets::sp_js()),
                        "public, max-age=3600"});
  if (Status st = validate(cfg); !st.ok()) {
    std::fprintf(stderr, "furrow collector: %s\n", st.message().c_str());
    return kExitUsage;
  }

  sinks::QueuedSinkOptions q;
  q.durability = cfg.fsync ? sinks::Durability::kFsync : sinks::Durability::kBuffered;
  q.max_pending_bytes = cfg.max_pending_bytes;
  q.max_record_bytes = cfg.max_record_bytes;
  q.flush_interval = std::chrono::milliseconds(cfg.flush_interval_ms);
  q.stall_file = cfg.stall_file;
  std::unique_ptr<sinks::RawSink> sink;
  if (kafka::is_kafka_sink_spec(f.sink)) {
    auto made = kafka::make_collector_sink(f.sink, f.kafka_config, f.config, q);
    if (!made.ok()) {
      std::fprintf(stderr, "furrow collector: %s\n", made.error().message.c_str());
      return kExitUsage;
    }
    sink = std::move(made.value());
  } else if (cfg.sink == SinkKind::kStdout) {
    sink = sinks::make_stdout_sink(q);
  } else {
    sinks::RawLogOptions lo;
    lo.dir = cfg.raw_log_dir;
    lo.segment_max_bytes = cfg.segment_max_bytes;
    lo.segment_max_age = std::chrono::seconds(cfg.segment_max_age_seconds);
    lo.compress = cfg.compress_segments;
    // Buffered answers never wait for a sync, so the writer does not either (see RawLogOptions).
    lo.defer_syncs = !cfg.fsync;
    auto opened = sinks::RawLogBackend::open(lo);
    if (!opened.ok()) {
      std::fprintf(stderr, "furrow collector: %s\n", opened.error().message.c_str());
      return kExitFailure;
    }
    std::unique_ptr<sinks::SinkBackend> backend = std::move(opened.value());
    // Buffered answers never wait for a sync: keep fdatasync off the writer's every flush.
    if (!cfg.fsync) {
      backend = std::make_unique<PacedSyncBackend>(
          std::move(backend), std::chrono::milliseconds(cfg.buffered_sync_interval_ms));
    }
    sink = std::make_unique<sinks::QueuedSink>(std::move(backend), "rawlog", q);
  }
  auto bad = BadOutput::open(cfg.bad_output, cfg.fsync);
  if (!bad.ok()) {
    std::fprintf(stderr, "furrow collector: %s\n", bad.error().message.c_str());
    return kExitFailure;
  }
  Handler handler(cfg, std::string(sink->kind()), sink->max_record_bytes());
  Metrics metrics;
  int rc = kExitOk;
  {
    Server server(handler, *sink, *bad.value(), metrics);
    if (Status st = server.start(); !st.ok()) {
      std::fprintf(stderr, "furrow collector: %s\n", st.message().c_str());
      sink->close();
      return kExitFailure;
    }
    // One line on stderr that scripts and tests wait for (ports may be ephemeral).
    std::fprintf(stderr, "furrow collector: listening on %s:%u admin %u sink %s durability %s\n",
                 cfg.host.c_str(), server.port(), server.admin_port(),
                 std::string(sink->kind()).c_str(), cfg.fsync ? "fsync" : "buffered");
    std::fflush(stderr);
    server.wait();
    // Flush and fsync everything queued while the server (and its executors) still exist.
    sink->close();
  }
  std::fprintf(stderr, "furrow collector: stopped\n");
  return rc;
}

}  // namespace

void register_collector(CLI::App& root) {
  auto flags = std::make_shared<CollectorFlags>();
  auto* cmd = root.add_subcommand("collector", "Run the HTTP collector for Snowplow trackers");
  cmd->add_option("--config", flags->config, "YAML file with a 'collector' section")
      ->check(CLI::ExistingFile);
  cmd->add_option("--host", flags->host, "Listen address (default 0.0.0.0)");
  cmd->add_option("--port", flags->port, "Listen port (default 8080; 0 = ephemeral)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--sink", flags->sink, "stdout | rawlog:DIR | kafka[:BROKERS] (default stdout)");
  cmd->add_option("--kafka-config", flags->kafka_config,
                  "YAML file with a 'kafka' section, for --sink kafka (default: --config's)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--durability", flags->durability, "fsync (default) | buffered")
      ->check(CLI::IsMember({"fsync", "buffered"}));
  cmd->add_option("--threads", flags->threads, "I/O threads (default: one per core)")
      ->check(CLI::Range(0, 256));
  cmd->add_option("--admin-port", flags->admin_port,
                  "Prometheus metrics port on admin_host (0 = off)")
      ->check(CLI::Range(0, 65535));
  cmd->callback([flags] { exit_code() = run_collector(*flags); });
}

}  // namespace furrow::app
