// `furrow load`: enriched TSV (and bad-row JSON lines) from files or stdin into SQLite or
// PostgreSQL, idempotently (docs/storage.md).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "app/commands.h"
#include "kafka/stages.h"
#include "sinks/loader.h"
#include "sinks/loader_input.h"

namespace furrow::app {
namespace {

struct LoadOptions {
  std::string to;
  std::vector<std::string> files;
  std::vector<std::string> bad_files;
  std::size_t batch_size = 5000;
  bool force = false;
  bool quiet = false;
  bool no_progress = false;
  std::string source = "file";  // file | kafka (src/kafka, docs/kafka.md)
  kafka::StageOptions kafka;
};

// A one-line progress display on stderr, redrawn at most 5 times a second, only on a terminal.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled && ::isatty(2) == 1) {}
  void update(const sinks::LoaderInput& in, const sinks::LoadStats& s, bool force = false) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? static_cast<double>(in.lines()) / secs : 0;
    if (in.size() > 0) {
      const double frac = static_cast<double>(in.bytes_read()) / static_cast<double>(in.size());
      const int filled = static_cast<int>(frac * 30);
      std::fprintf(stderr, "\r%s [%.*s%*s] %3d%% %llu lines, %llu new, %.0f lines/s ",
                   in.name().c_str(), filled, "==============================", 30 - filled, "",
                   static_cast<int>(frac * 100), static_cast<unsigned long long>(in.lines()),
                   static_cast<unsigned long long>(s.inserted), rate);
    } else {
      std::fprintf(stderr, "\r%s %llu lines, %llu new, %.0f lines/s ", in.name().c_str(),
                   static_cast<unsigned long long>(in.lines()),
                   static_cast<unsigned long long>(s.inserted), rate);
    }
    dirty_ = true;
  }
  void done() {
    if (dirty_) std::fputc('\n', stderr);
    dirty_ = false;
  }

 private:
  bool enabled_;
  bool dirty_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

int run_load(const LoadOptions& o) {
  auto target = sinks::parse_db_target(o.to);
  if (!target) {
    std::fprintf(stderr, "furrow load: %s\n", target.error().message.c_str());
    return kExitUsage;
  }
  if (o.source == "kafka") {
    if (!o.files.empty() || !o.bad_files.empty()) {
      std::fprintf(stderr, "furrow load: --source kafka takes no input files\n");
      return kExitUsage;
    }
    kafka::StageOptions k = o.kafka;
    k.quiet = o.quiet;
    if (auto c = kafka::stage_config(k); !c.ok()) {
      std::fprintf(stderr, "furrow load: %s\n", c.error().message.c_str());
      return kExitUsage;
    }
    if (Status st = kafka::run_load_stage(k, *target, sinks::LoaderOptions{}); !st.ok()) {
      std::fprintf(stderr, "furrow load: %s\n", st.message().c_str());
      return kExitFailure;
    }
    return kExitOk;
  }
  sinks::LoaderOptions lo;
  lo.batch_size = o.batch_size;
  auto opened = sinks::open_loader(*target, lo);
  if (!opened) {
    std::fprintf(stderr, "furrow load: %s\n", opened.error().message.c_str());
    return kExitFailure;
  }
  sinks::Loader& loader = **opened;

  struct Input {
    std::string path;
    sinks::LineKind kind;
  };
  std::vector<Input> inputs;
  for (const auto& f : o.files) inputs.push_back({f, sinks::LineKind::kAuto});
  for (const auto& f : o.bad_files) inputs.push_back({f, sinks::LineKind::kBadRow});
  if (inputs.empty()) inputs.push_back({"-", sinks::LineKind::kAuto});

  uint64_t skipped_files = 0;
  for (const auto& input : inputs) {
    const bool named = input.path != "-";
    std::string digest;
    if (named) {
      auto d = sinks::file_digest(input.path);
      if (!d) {
        std::fprintf(stderr, "furrow load: %s\n", d.error().message.c_str());
        return kExitFailure;
      }
      digest = *d;
      auto seen = loader.file_loaded(digest);
      if (!seen) {
        std::fprintf(stderr, "furrow load: %s\n", seen.error().message.c_str());
        return kExitFailure;
      }
      if (*seen && !o.force) {
        if (!o.quiet)
          std::fprintf(stderr, "furrow load: %s: already loaded, skipped (--force reloads)\n",
                       input.path.c_str());
        ++skipped_files;
        continue;
      }
    }
    auto in = sinks::LoaderInput::open(input.path);
    if (!in) {
      std::fprintf(stderr, "furrow load: %s\n", in.error().message.c_str());
      return kExitFailure;
    }
    Progress progress(!o.quiet && !o.no_progress);
    std::string_view line;
    Status read_status;
    while ((*in)->next(line, read_status)) {
      Status st = loader.add(line, input.kind);
      if (!st) {
        progress.done();
        std::fprintf(stderr, "furrow load: %s\n", st.message().c_str());
        return kExitFailure;
      }
      progress.update(**in, loader.stats());
    }
    if (!read_status) {
      progress.done();
      std::fprintf(stderr, "furrow load: %s\n", read_status.message().c_str());
      // What was read so far is still loaded; the file is not recorded.
      Status st = loader.flush();
      if (!st) std::fprintf(stderr, "furrow load: %s\n", st.message().c_str());
      return kExitFailure;
    }
    Status st = named ? loader.finish_file(sinks::FileRecord{digest, input.path,
                                                             (*in)->bytes_read(), (*in)->lines()})
                      : loader.flush();
    progress.update(**in, loader.stats(), true);
    progress.done();
    if (!st) {
      std::fprintf(stderr, "furrow load: %s\n", st.message().c_str());
      return kExitFailure;
    }
  }
  const auto& s = loader.stats();
  if (!o.quiet) {
    std::fprintf(
        stderr,
        "furrow load: %llu events read, %llu inserted, %llu already loaded, %llu rejected as bad "
        "rows, %llu bad rows stored, %llu files skipped, %llu transactions\n",
        static_cast<unsigned long long>(s.events + s.rejected),
        static_cast<unsigned long long>(s.inserted), static_cast<unsigned long long>(s.duplicates),
        static_cast<unsigned long long>(s.rejected), static_cast<unsigned long long>(s.bad_rows),
        static_cast<unsigned long long>(skipped_files), static_cast<unsigned long long>(s.batches));
  }
  return kExitOk;
}

}  // namespace

void register_load(CLI::App& root) {
  auto o = std::make_shared<LoadOptions>();
  auto* cmd = root.add_subcommand(
      "load",
      "Load enriched TSV (plain or zstd) and bad rows into SQLite or PostgreSQL, idempotently: an "
      "event already loaded (same event_id and event_fingerprint) is skipped, a file already "
      "loaded "
      "is skipped, and lines the database cannot hold become rows of the bad_rows table");
  cmd->add_option("--to", o->to, "Database: sqlite:PATH or postgres://user:password@host:port/db")
      ->required();
  cmd->add_option(
      "files", o->files,
      "Enriched TSV files (lines starting with '{' are taken as bad-row JSON); stdin when "
      "none is named");
  cmd->add_option("--bad", o->bad_files,
                  "Files of bad-row JSON lines (Snowplow self-describing bad rows)");
  cmd->add_option("--batch-size", o->batch_size, "Events per transaction")
      ->check(CLI::Range(1, 1000000));
  cmd->add_flag("--force", o->force,
                "Read files even when recorded as loaded (events stay deduplicated)");
  cmd->add_flag("--no-progress", o->no_progress, "No progress bar, even on a terminal");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress and no summary");
  // Kafka (docs/kafka.md): a consumer group on the enriched and bad topics; offsets are committed
  // after each database transaction.
  cmd->add_option("--source", o->source, "file (files or stdin) | kafka (consumer group)")
      ->check(CLI::IsMember({"file", "kafka"}))
      ->capture_default_str();
  cmd->add_option("--kafka-config", o->kafka.kafka_config, "YAML file with a 'kafka' section")
      ->check(CLI::ExistingFile);
  cmd->add_option("--brokers", o->kafka.brokers, "Kafka bootstrap servers (over kafka.brokers)");
  cmd->add_option("--group", o->kafka.group, "Kafka consumer group (default furrow-load)");
  cmd->add_option("--admin-port", o->kafka.admin_port,
                  "With --source kafka: Prometheus /metrics and /health on 127.0.0.1 (0 = off)")
      ->check(CLI::Range(0, 65535));
  cmd->callback([o] { exit_code() = run_load(*o); });
}

}  // namespace furrow::app
