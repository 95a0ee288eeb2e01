// Configuration of `furrow run`: the `run` mapping of a furrow YAML file (the collector's own
// settings stay in its `collector` mapping, parsed by collector::parse_collector_config). Every
// key is optional; with no file at all furrow run works on 127.0.0.1:8080 with ./furrow-data.
// Unknown keys are errors naming the key, so typos do not pass silently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "collector/config.h"
#include "common/result.h"

namespace furrow::run {

struct RunConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::filesystem::path data_dir = "furrow-data";
  std::string dashboard_path = "/";
  // Access secret for the app routes; FURROW_TOKEN overrides it when set.
  std::string token;
  bool secure_cookie = false;
  // Optional static Iglu registry directory (<dir>/schemas/...) besides the built-in schemas.
  std::filesystem::path iglu_registry;
  // Optional enrichment config directory; empty: the defaults found in the npm data, if any.
  std::filesystem::path enrichments;
  bool default_enrichments = true;
  unsigned enrich_threads = 1;
  int64_t commit_interval_ms = 250;
  int64_t models_interval_ms = 1000;
  // A model job (plus the dashboard refresh) waits at least this many times the last job's CPU
  // time after it, so models take at most about 1 / (1 + factor) of one core however large
  // jobs get; a higher factor leaves more CPU to loading under sustained load, for staler models.
  unsigned models_cost_factor = 4;
  // Run the models thread as SCHED_IDLE (only CPU that loading leaves over; its write
  // transactions at the normal policy; a chunk starved while loading gives its read snapshot
  // back, one starved by other work while nothing is loaded is raised), when the system lets it
  // return to the normal policy. See EngineOptions::models_idle_priority.
  bool models_idle_priority = true;
  // Events per model run (EngineOptions::models_chunk_events): smaller chunks hold the write
  // lock for less time, larger ones rewrite each touched session less often.
  std::size_t models_chunk_events = 50'000;
  // Back-pressure: the collector answers 503 while more than this is waiting in the raw log.
  uint64_t max_lag_bytes = 256ull << 20;
  bool micro_enabled = true;
  std::size_t micro_max_events = 50'000;
  std::size_t micro_max_bytes = 16u << 20;

  collector::CollectorConfig collector;
  bool collector_from_file = false;  // host/port then also come from the collector mapping
};

// Reads `file` (the `run` and optional `collector` mappings). Relative paths in the file are
// taken from the file's folder.
Result<RunConfig> load_run_config(const std::filesystem::path& file);
// The same from YAML text (tests); `where` names it in errors, `base` resolves relative paths.
Result<RunConfig> parse_run_config(std::string_view yaml, const std::string& where,
                                   const std::filesystem::path& base);

}  // namespace furrow::run
