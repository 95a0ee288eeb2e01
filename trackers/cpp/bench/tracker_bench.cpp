// Cost of tracking on the caller's thread: Tracker::track into an in-memory and a file (SQLite
// WAL) outbox, and the embedded core building a sensor event. The sender is pointed at a closed
// port with a one-hour back-off, so it stays idle and only the tracking path is measured.
// Run: build/release/trackers/cpp/furrow_tracker_bench
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <limits>

#include "furrow/tracker/embedded/tp1.h"
#include "furrow/tracker/tracker.h"

namespace ft = furrow::tracker;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<ft::Emitter> idle_emitter(const std::string& outbox) {
  ft::EmitterConfig c;
  c.collector_url = "http://127.0.0.1:9";  // discard port: refused at once
  c.outbox_path = outbox;
  c.max_outbox_events = std::numeric_limits<std::size_t>::max();
  c.retry_base = std::chrono::hours(1);
  c.retry_cap = std::chrono::hours(1);
  std::string error;
  return std::shared_ptr<ft::Emitter>(ft::Emitter::create(c, &error));
}

ft::Subject subject() {
  return ft::Subject{}
      .set_user_id("player-17")
      .set_screen_resolution(1920, 1080)
      .set_language("en-GB");
}

void track_structured(benchmark::State& state, const std::string& outbox) {
  auto emitter = idle_emitter(outbox);
  if (!emitter) {
    state.SkipWithError("emitter");
    return;
  }
  ft::Tracker tracker(emitter, {.tracker_namespace = "bench", .app_id = "bench"}, subject());
  for (auto _ : state) {
    auto r = tracker.track(
        ft::Structured{.category = "mission", .action = "start", .label = "m-7", .value = 3});
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_TrackStructuredMemoryOutbox(benchmark::State& state) {
  track_structured(state, "");
}
BENCHMARK(BM_TrackStructuredMemoryOutbox);

void BM_TrackStructuredFileOutbox(benchmark::State& state) {
  std::string tmpl = (fs::temp_directory_path() / "furrow-tracker-bench-XXXXXX").string();
  const fs::path dir = ::mkdtemp(tmpl.data());
  track_structured(state, (dir / "outbox.db").string());
  fs::remove_all(dir);
}
BENCHMARK(BM_TrackStructuredFileOutbox);

void BM_TrackSelfDescribingWithContext(benchmark::State& state) {
  auto emitter = idle_emitter("");
  ft::Tracker tracker(emitter, {.tracker_namespace = "bench", .app_id = "bench"}, subject());
  const ft::SelfDescribingJson event("iglu:com.acme/level_up/jsonschema/1-0-0",
                                     R"({"level":7,"ship":"frigate","score":12345.5})");
  ft::EventCommon common;
  common.contexts.emplace_back("iglu:com.acme/session/jsonschema/1-0-0",
                               R"({"id":"5b2e8f3a-1c4d-4e6f-8a9b-0c1d2e3f4a5b","n":3})");
  for (auto _ : state) {
    auto r = tracker.track(ft::SelfDescribing{.event = event, .common = common});
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TrackSelfDescribingWithContext);

void BM_EmbeddedSensorEvent(benchmark::State& state) {
  namespace emb = ft::embedded;
  uint64_t seed = 0x9E3779B97F4A7C15ULL;
  emb::Config config;
  config.app_id = "greenhouse";
  config.random = [](void* ctx, uint8_t* out, size_t n) {
    auto* s = static_cast<uint64_t*>(ctx);
    for (size_t i = 0; i < n; ++i) {
      *s ^= *s << 13;
      *s ^= *s >> 7;
      *s ^= *s << 17;
      out[i] = static_cast<uint8_t>(*s);
    }
  };
  config.random_context = &seed;
  const emb::Field fields[] = {emb::string_field("sensor", "north"),
                               emb::fixed_field("celsius", 2150, 2), emb::int_field("humidity", 64),
                               emb::bool_field("door_open", false)};
  char query[512];
  size_t length = 0;
  for (auto _ : state) {
    auto st = emb::build_self_describing(config, "iglu:com.acme/sensor_reading/jsonschema/1-0-0",
                                         fields, 4, 1700000000000ULL, query, sizeof query, &length);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(query);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EmbeddedSensorEvent);

}  // namespace

BENCHMARK_MAIN();
