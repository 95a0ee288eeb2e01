// `furrow enrich`: raw payloads in, enriched TSV and bad rows out, streaming on all cores.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "app/commands.h"
#include "enrich/enrichments/defaults.h"
#include "enrich/enrichments/registry.h"
#include "enrich/pipeline.h"
#include "enrich/runner.h"
#include "iglu/resolver.h"
#include "kafka/stages.h"
#include "sinks/loader.h"
#include "sources/input.h"
#include "sources/line_reader.h"
#include "sources/raw_log_reader.h"

namespace furrow::app {

namespace {

struct EnrichOptions {
  std::string input = "-";
  std::string input_format = "thrift";
  std::string output = "-";
  std::string bad;
  std::string load;  // sqlite:PATH or postgres://...: also load good events and bad rows there
  std::string resolver;
  std::string enrichments;
  bool default_enrichments = false;
  std::size_t ua_cache = 10'000;
  unsigned threads = 0;
  bool quiet = false;
  bool no_progress = false;
  bool cpu_report = false;
  std::string source = "file";  // file | kafka (src/kafka, docs/kafka.md)
  kafka::StageOptions kafka;
};

// CPU seconds (user + sys) this process has used so far, all threads.
double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// An output file with a large buffer; errors name the file.
class OutFile {
 public:
  Status open(const std::string& path, FILE* fallback, const char* fallback_name) {
    if (path.empty() || path == "-") {
      file_ = fallback;
      name_ = fallback_name;
    } else {
      file_ = std::fopen(path.c_str(), "wb");
      if (file_ == nullptr)
        return Error{path + ": cannot open for writing: " + std::strerror(errno)};
      owned_ = true;
      name_ = path;
    }
    buffer_ = std::make_unique<char[]>(kBuffer);
    std::setvbuf(file_, buffer_.get(), _IOFBF, kBuffer);
    return Status::Ok();
  }
  Status write(const std::string& data) {
    if (data.empty()) return Status::Ok();
    if (data.size() < kDirect) {
      if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
        return Error{name_ + ": write failed: " + std::strerror(errno)};
      }
      return Status::Ok();
    }
    // A whole batch's lines: straight to the descriptor after what is buffered, instead of
    // being copied through the stdio buffer first (a copy of all the output).
    if (std::fflush(file_) != 0) return Error{name_ + ": write failed: " + std::strerror(errno)};
    const int fd = ::fileno(file_);
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error{name_ + ": write failed: " + std::strerror(errno)};
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    return Status::Ok();
  }
  Status close() {
    if (file_ == nullptr) return Status::Ok();
    const bool ok = std::fflush(file_) == 0 && !std::ferror(file_);
    const int err = errno;
    if (owned_) std::fclose(file_);
    file_ = nullptr;
    if (!ok) return Error{name_ + ": write failed: " + std::strerror(err)};
    return Status::Ok();
  }
  ~OutFile() { (void)close(); }

 private:
  static constexpr std::size_t kBuffer = 1 << 20;
  static constexpr std::size_t kDirect = 64 << 10;  // writes this large bypass the buffer
  FILE* file_ = nullptr;
  bool owned_ = false;
  std::string name_;
  std::unique_ptr<char[]> buffer_;
};

// Progress on a terminal: redrawn at most five times a second on one stderr line.
class Progress {
 public:
  Progress(bool enabled, uint64_t total_bytes) : enabled_(enabled), total_(total_bytes) {}
  void update(uint64_t bytes, const enrich::RunCounts& c) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double frac = total_ != 0 ? static_cast<double>(bytes) / static_cast<double>(total_) : 0;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(frac * kWidth);
    char bar[kWidth + 1];
    for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
    bar[kWidth] = '\0';
    std::fprintf(stderr, "\r[%s] %3d%%  %llu events  %.0f events/s ", bar,
                 static_cast<int>(frac * 100), static_cast<unsigned long long>(c.events()),
                 secs > 0 ? static_cast<double>(c.events()) / secs : 0.0);
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  bool enabled_;
  uint64_t total_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

int run_enrich(const EnrichOptions& o) {
  const bool rawlog = o.input_format == "rawlog";
  sources::InputFormat format = sources::InputFormat::kThriftBase64;
  if (!rawlog && !sources::parse_input_format(o.input_format, format)) {
    std::fprintf(stderr,
                 "furrow enrich: --input-format: unknown format '%s' (expected thrift, "
                 "cloudfront, tomcat or rawlog)\n",
                 o.input_format.c_str());
    return kExitUsage;
  }

  enrich::PipelineConfig pc;
  if (!o.resolver.empty()) {
    auto v = iglu::load_resolver(o.resolver);
    if (!v.ok()) {
      std::fprintf(stderr, "furrow enrich: --resolver: %s\n", v.error().message.c_str());
      return kExitUsage;
    }
    pc.validator = *v;
  }
  enrich::enrichments::LoadOptions load_options;
  load_options.ua_cache_size = o.ua_cache;
  if (!o.enrichments.empty()) {
    auto e = enrich::enrichments::load_enrichments(o.enrichments, load_options);
    if (!e.ok()) {
      std::fprintf(stderr, "furrow enrich: --enrichments: %s\n", e.error().message.c_str());
      return kExitUsage;
    }
    pc.enrichments = std::move(*e);
  }
  if (o.default_enrichments) {
    std::error_code ec;
    auto d = enrich::enrichments::load_default_enrichments(
        enrich::enrichments::find_default_data(std::filesystem::read_symlink("/proc/self/exe", ec)),
        load_options);
    if (!d.ok()) {
      std::fprintf(stderr, "furrow enrich: --default-enrichments: %s\n", d.error().message.c_str());
      return kExitUsage;
    }
    for (const auto& w : d->warnings)
      std::fprintf(stderr, "furrow enrich: warning: %s\n", w.c_str());
    pc.enrichments = std::move(d->enrichments);
  }
  const enrich::Pipeline pipeline(std::move(pc));
  const sources::PayloadProcessor processor(pipeline,
                                            rawlog ? sources::InputFormat::kThriftBinary : format);
  if (o.source == "kafka") {
    // The raw topic holds Thrift bytes, as the collector's Kafka sink writes them.
    const sources::PayloadProcessor raw(pipeline, sources::InputFormat::kThriftBinary);
    kafka::StageOptions k = o.kafka;
    k.quiet = o.quiet;
    if (auto c = kafka::stage_config(k); !c.ok()) {
      std::fprintf(stderr, "furrow enrich: %s\n", c.error().message.c_str());
      return kExitUsage;
    }
    if (Status st = kafka::run_enrich_stage(k, raw); !st.ok()) {
      std::fprintf(stderr, "furrow enrich: %s\n", st.message().c_str());
      return kExitFailure;
    }
    return kExitOk;
  }

  // Input: lines from a file or stdin, or the collector's raw log (a directory or segment).
  std::unique_ptr<sources::LineReader> lines;
  std::unique_ptr<sources::RawLogReader> segments;
  enrich::ReadFn read;
  uint64_t total_bytes = 0;
  if (rawlog) {
    if (o.input == "-") {
      std::fprintf(stderr, "furrow enrich: --input-format rawlog needs --input DIR or FILE\n");
      return kExitUsage;
    }
    auto r = sources::RawLogReader::open(o.input);
    if (!r.ok()) {
      std::fprintf(stderr, "furrow enrich: %s\n", r.error().message.c_str());
      return kExitFailure;
    }
    segments = std::move(*r);
    read = [&segments](enrich::RecordBatch& b, bool& eof) {
      std::string_view rec;
      eof = false;
      while (b.size() < 512 && b.data.size() < (1u << 20)) {
        if (!segments->next(rec)) {
          eof = true;
          break;
        }
        b.add_record(rec, segments->records_read());
      }
      return Status::Ok();
    };
  } else {
    auto r = sources::LineReader::open(o.input);
    if (!r.ok()) {
      std::fprintf(stderr, "furrow enrich: %s\n", r.error().message.c_str());
      return kExitFailure;
    }
    lines = std::move(*r);
    total_bytes = lines->size();
    read = [&lines](enrich::RecordBatch& b, bool& eof) { return lines->fill(b, eof); };
  }
  // --cpu-report: start-up ends when the reader asks for the first batch (enrichments loaded,
  // databases opened, rules compiled, outputs opened, workers started). The reader is one thread,
  // so the first call is seen by it alone.
  double startup_cpu = -1;
  if (o.cpu_report) {
    read = [inner = std::move(read), &startup_cpu](enrich::RecordBatch& b, bool& eof) {
      if (startup_cpu < 0) startup_cpu = process_cpu_seconds();
      return inner(b, eof);
    };
  }

  // --load: the loader as a sink, fed the same lines as the outputs (one transaction per batch,
  // idempotent, so re-running over the same input adds nothing).
  std::unique_ptr<sinks::Loader> loader;
  if (!o.load.empty()) {
    auto target = sinks::parse_db_target(o.load);
    if (!target.ok()) {
      std::fprintf(stderr, "furrow enrich: --load: %s\n", target.error().message.c_str());
      return kExitUsage;
    }
    sinks::LoaderOptions lo;
    lo.source = o.input;
    auto opened = sinks::open_loader(*target, lo);
    if (!opened.ok()) {
      std::fprintf(stderr, "furrow enrich: --load: %s\n", opened.error().message.c_str());
      return kExitFailure;
    }
    loader = std::move(*opened);
  }
  const auto load_lines = [&loader](const std::string& text, sinks::LineKind kind) -> Status {
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      if (Status s = loader->add(std::string_view(text).substr(pos, end - pos), kind); !s.ok()) {
        return s;
      }
      pos = end + 1;
    }
    return Status::Ok();
  };

  OutFile good, bad;
  if (Status s = good.open(o.output, stdout, "<stdout>"); !s.ok()) {
    std::fprintf(stderr, "furrow enrich: %s\n", s.message().c_str());
    return kExitFailure;
  }
  if (Status s = bad.open(o.bad, stderr, "<stderr>"); !s.ok()) {
    std::fprintf(stderr, "furrow enrich: %s\n", s.message().c_str());
    return kExitFailure;
  }

  // The bar shares stderr with bad rows when --bad is not given; then it stays off.
  Progress progress(!o.quiet && !o.no_progress && total_bytes != 0 && !o.bad.empty() &&
                        ::isatty(STDERR_FILENO) == 1,
                    total_bytes);
  enrich::RunCounts running;
  const auto write = [&](const enrich::RecordBatch& b) -> Status {
    if (Status s = good.write(b.good); !s.ok()) return s;
    if (Status s = bad.write(b.bad); !s.ok()) return s;
    if (loader) {
      if (Status s = load_lines(b.good, sinks::LineKind::kEnriched); !s.ok()) return s;
      if (Status s = load_lines(b.bad, sinks::LineKind::kBadRow); !s.ok()) return s;
    }
    running.add(b.counts);
    progress.update(b.input_offset, running);
    return Status::Ok();
  };

  enrich::RunnerConfig rc;
  rc.threads = o.threads;
  rc.defer_fingerprints = true;  // MD5 fingerprints hashed a batch at a time
  enrich::RunCounts totals;
  const auto start = std::chrono::steady_clock::now();
  Status st = enrich::run_stream(rc, processor, read, write, totals);
  if (st.ok() && loader) st = loader->flush();
  Status closed_good = good.close();
  Status closed_bad = bad.close();
  progress.finish();
  if (st.ok() && !closed_good.ok()) st = closed_good;
  if (st.ok() && !closed_bad.ok()) st = closed_bad;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (!o.quiet || !st.ok()) {
    std::fprintf(
        stderr, "furrow enrich: read %llu payloads carrying %llu events: %llu good, %llu bad",
        static_cast<unsigned long long>(totals.payloads),
        static_cast<unsigned long long>(totals.events()),
        static_cast<unsigned long long>(totals.good), static_cast<unsigned long long>(totals.bad));
    if (totals.skipped != 0) {
      std::fprintf(stderr, " (%llu non-payload lines skipped)",
                   static_cast<unsigned long long>(totals.skipped));
    }
    std::fprintf(stderr, " in %.2f s\n", secs);
    if (loader) {
      const sinks::LoadStats& ls = loader->stats();
      std::fprintf(stderr,
                   "furrow enrich: loaded %llu events (%llu duplicates skipped), %llu bad rows\n",
                   static_cast<unsigned long long>(ls.inserted),
                   static_cast<unsigned long long>(ls.duplicates),
                   static_cast<unsigned long long>(ls.bad_rows));
    }
  }
  if (o.cpu_report) {
    // One line, printed also with --quiet (asked for explicitly). The steady figure is what
    // benchmarks use: the start-up (1-3.5 s with the default enrichments) would swamp it.
    const double total_cpu = process_cpu_seconds();
    const double steady_cpu = startup_cpu < 0 ? 0.0 : total_cpu - startup_cpu;
    const auto events = static_cast<unsigned long long>(totals.events());
    std::fprintf(stderr,
                 "furrow enrich: cpu %.3f s after start-up (user+sys, all threads) of %.3f s "
                 "total; %llu events",
                 steady_cpu, total_cpu, events);
    if (events != 0 && steady_cpu > 0) {
      std::fprintf(stderr, ", %.3f us/event, %.0f events/s/core",
                   steady_cpu * 1e6 / static_cast<double>(events),
                   static_cast<double>(events) / steady_cpu);
    }
    std::fprintf(stderr, "\n");
  }
  if (segments) {
    for (const auto& e : segments->errors()) std::fprintf(stderr, "furrow enrich: %s\n", e.c_str());
  }
  if (!st.ok()) {
    std::fprintf(stderr, "furrow enrich: %s\n", st.message().c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void register_enrich(CLI::App& root) {
  auto opts = std::make_shared<EnrichOptions>();
  auto* cmd = root.add_subcommand(
      "enrich", "Enrich raw payloads into 131-field enriched TSV events and bad rows");
  cmd->footer(
      "Input formats: thrift (default: one base64 Thrift CollectorPayload per line, as Snowplow's "
      "stdout sink and `furrow gen` write), cloudfront and tomcat (access log lines of Snowplow's "
      "legacy collectors), rawlog (furrow collector's raw log: a directory or one segment). Good "
      "events go to --output, bad rows (one self-describing JSON per line) to --bad. Output order "
      "is input order. The summary on stderr reads 'read P payloads carrying E events: G good, B "
      "bad' with E = G + B: a payload rejected as a whole counts as one event. Exit codes: 0 done "
      "(bad rows are data, not an error), 1 input/output error, 2 bad flags or configuration.");
  cmd->add_option("-i,--input", opts->input, "Input file (rawlog: directory); - is standard input")
      ->capture_default_str();
  cmd->add_option("-f,--input-format", opts->input_format, "thrift | cloudfront | tomcat | rawlog")
      ->capture_default_str();
  cmd->add_option("-o,--output", opts->output, "Enriched TSV output; - is standard output")
      ->capture_default_str();
  cmd->add_option("-b,--bad", opts->bad, "Bad-row output (JSON lines); default standard error");
  cmd->add_option("--load", opts->load,
                  "Also load good events and bad rows into sqlite:PATH or postgres://... "
                  "(idempotent; as furrow load)");
  cmd->add_option("-t,--threads", opts->threads, "Worker threads; 0 = one per core")
      ->check(CLI::Range(0u, 1024u))
      ->capture_default_str();
  cmd->add_option("--resolver", opts->resolver,
                  "Iglu resolver config (Snowplow format) used to validate self-describing JSON; "
                  "without it only JSON and envelope shape are checked")
      ->check(CLI::ExistingFile);
  cmd->add_option("--enrichments", opts->enrichments,
                  "Directory of Snowplow enrichment configs (*.json) to enable; without it no "
                  "optional enrichment runs")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--default-enrichments", opts->default_enrichments,
                "Enable the default set (ua_parser, referer_parser, campaign_attribution, "
                "event_fingerprint, ip_lookups) with data from $FURROW_DATA_DIR or node_modules")
      ->excludes("--enrichments");
  cmd->add_option("--ua-cache", opts->ua_cache, "User-agent parser LRU cache entries; 0 = off")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", opts->quiet, "No summary line (errors are still printed)");
  cmd->add_flag("--no-progress", opts->no_progress, "No progress bar even on a terminal");
  cmd->add_flag("--cpu-report", opts->cpu_report,
                "Also print the CPU time (user+sys) used after start-up and the events/s/core "
                "it gives (for benchmarks; file input only)");
  // Kafka (docs/kafka.md): a consumer group on the raw topic, results to the enriched/bad topics.
  cmd->add_option("--source", opts->source,
                  "file (--input) | kafka (consumer group, until SIGTERM)")
      ->check(CLI::IsMember({"file", "kafka"}))
      ->capture_default_str();
  cmd->add_option("--kafka-config", opts->kafka.kafka_config, "YAML file with a 'kafka' section")
      ->check(CLI::ExistingFile);
  cmd->add_option("--brokers", opts->kafka.brokers, "Kafka bootstrap servers (over kafka.brokers)");
  cmd->add_option("--group", opts->kafka.group, "Kafka consumer group (default furrow-enrich)");
  cmd->add_option("--admin-port", opts->kafka.admin_port,
                  "With --source kafka: Prometheus /metrics and /health on 127.0.0.1 (0 = off)")
      ->check(CLI::Range(0, 65535));
  cmd->callback([opts] { exit_code() = run_enrich(*opts); });
}

}  // namespace furrow::app
