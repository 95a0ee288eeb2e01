// furrow-track: the C++ tracker from the command line. Tracks events into the outbox, optionally
// waits until they are delivered, and reports what it did. Used by the integration tests (every
// event type; a restart with the collector down) and handy for trying a collector by hand.
//
//   furrow-track --collector URL [options] all            one event of each type, ids on stdout
//   furrow-track --collector URL [options] structured N   N structured events (se_la = 0..N-1)
//   furrow-track --collector URL [options] drain          send what the outbox holds
//   furrow-track --collector URL embedded-query           print a structured and a sensor event
//                                                         query built by the embedded core
//
// Options: --method post|get, --outbox FILE, --app-id ID, --namespace NS, --plain-json,
// --retry-base-ms N, --retry-cap-ms N, --batch-size N, --flush-timeout-ms N (0: do not wait; the
// events stay in the outbox for the next run). Exit: 0 done (delivered when waiting), 1 events
// left undelivered at the timeout or an event refused, 2 bad usage.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "furrow/tracker/embedded/tp1.h"
#include "furrow/tracker/tracker.h"

namespace ft = furrow::tracker;

namespace {

int usage(const char* msg) {
  std::fprintf(stderr,
               "furrow-track: %s\nusage: furrow-track --collector URL [--method post|get] "
               "[--outbox FILE] [--app-id ID] [--namespace NS] [--plain-json] [--retry-base-ms N] "
               "[--retry-cap-ms N] [--batch-size N] [--flush-timeout-ms N] "
               "all|structured N|drain|embedded-query\n",
               msg);
  return 2;
}

bool parse_number(const char* text, long* out) {
  char* end = nullptr;
  *out = std::strtol(text, &end, 10);
  return end != text && *end == '\0' && *out >= 0;
}

// The embedded core's random source on a host: /dev/urandom.
void urandom(void*, uint8_t* out, size_t n) {
  if (FILE* f = std::fopen("/dev/urandom", "rb")) {
    const size_t got = std::fread(out, 1, n, f);
    std::fclose(f);
    if (got == n) return;
  }
  std::abort();
}

// Prints "structured <query>" and "sensor <query>" built into fixed stack buffers.
int embedded_query(const std::string& app_id) {
  namespace emb = ft::embedded;
  emb::Config config;
  config.app_id = app_id.c_str();
  config.tracker_namespace = "furrow-embedded";
  config.random = urandom;
  const auto now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  char query[1024];
  size_t length = 0;
  emb::StructuredEvent se;
  se.category = "pump";
  se.action = "start";
  se.label = "valve 3 & 4";
  se.value = "12.5";
  if (emb::build_structured(config, se, now, query, sizeof query, &length) != emb::Status::kOk)
    return 1;
  std::printf("structured %s\n", query);
  const emb::Field fields[] = {
      emb::string_field("sensor", "greenhouse/north \"A\""),
      emb::fixed_field("celsius", -215, 1),
      emb::int_field("humidity", 64),
      emb::bool_field("door_open", true),
  };
  if (emb::build_self_describing(config, "iglu:com.example.furrow/sensor_reading/jsonschema/1-0-0",
                                 fields, 4, now, query, sizeof query, &length) != emb::Status::kOk)
    return 1;
  std::printf("sensor %s\n", query);
  return 0;
}

void print_id(const char* kind, const ft::TrackResult& r) {
  std::printf("%s %s\n", kind, r.event_id.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  ft::EmitterConfig ec;
  ft::TrackerConfig tc;
  tc.tracker_namespace = "furrow-track";
  tc.app_id = "furrow-track";
  long flush_ms = 20000;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](long* n) {
      if (i + 1 >= argc) return false;
      return parse_number(argv[++i], n);
    };
    long n = 0;
    if (a == "--collector" && i + 1 < argc) {
      ec.collector_url = argv[++i];
    } else if (a == "--method" && i + 1 < argc) {
      const std::string m = argv[++i];
      if (m == "post") {
        ec.method = ft::Method::kPost;
      } else if (m == "get") {
        ec.method = ft::Method::kGet;
      } else {
        return usage("--method is post or get");
      }
    } else if (a == "--outbox" && i + 1 < argc) {
      ec.outbox_path = argv[++i];
    } else if (a == "--app-id" && i + 1 < argc) {
      tc.app_id = argv[++i];
    } else if (a == "--namespace" && i + 1 < argc) {
      tc.tracker_namespace = argv[++i];
    } else if (a == "--plain-json") {
      tc.encode_base64 = false;
    } else if (a == "--retry-base-ms" && value(&n)) {
      ec.retry_base = std::chrono::milliseconds(n);
    } else if (a == "--retry-cap-ms" && value(&n)) {
      ec.retry_cap = std::chrono::milliseconds(n);
    } else if (a == "--batch-size" && value(&n) && n > 0) {
      ec.batch_size = static_cast<std::size_t>(n);
    } else if (a == "--flush-timeout-ms" && value(&n)) {
      flush_ms = n;
    } else if (!a.empty() && a[0] == '-') {
      return usage(("bad option or value: " + a).c_str());
    } else {
      positional.push_back(a);
    }
  }
  if (ec.collector_url.empty()) return usage("--collector is required");
  if (positional.empty()) return usage("a command is required");
  if (positional[0] == "embedded-query") return embedded_query(tc.app_id);

  std::string error;
  std::shared_ptr<ft::Emitter> emitter = ft::Emitter::create(ec, &error);
  if (!emitter) {
    std::fprintf(stderr, "furrow-track: %s\n", error.c_str());
    return 1;
  }
  ft::Subject subject;
  subject.set_user_id("user-42")
      .set_screen_resolution(1920, 1080)
      .set_viewport(1280, 720)
      .set_color_depth(24)
      .set_language("en-GB")
      .set_timezone("Europe/London")
      .set_ip_address("203.0.113.7")
      .set_useragent("furrow-track/0.1 (integration)")
      .set_domain_user_id("c0ffee00-0000-4000-8000-000000000042");
  ft::Tracker tracker(emitter, tc, subject);

  int refused = 0;
  auto check = [&](const char* kind, const ft::TrackResult& r) {
    if (r) {
      print_id(kind, r);
    } else {
      ++refused;
      std::fprintf(stderr, "furrow-track: %s refused: %s\n", kind, r.error.c_str());
    }
  };
  const std::string& command = positional[0];
  if (command == "all") {
    ft::EventCommon with_context;
    with_context.contexts.emplace_back(
        "iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0",
        R"({"latitude":51.5074,"longitude":-0.1278})");
    with_context.true_timestamp_ms = 1700000000123;
    check("page_view", tracker.track(ft::PageView{.url = "https://shop.example/basket?x=1&y=2",
                                                  .title = "Basket — ünïcode",
                                                  .referrer = "https://search.example/?q=a+b",
                                                  .common = with_context}));
    check("screen_view", tracker.track(ft::ScreenView{.name = "settings",
                                                      .type = "modal",
                                                      .previous_name = "home",
                                                      .transition_type = "push",
                                                      .common = with_context}));
    check("structured", tracker.track(ft::Structured{.category = "game",
                                                     .action = "level-up",
                                                     .label = "level 7",
                                                     .property = "hard",
                                                     .value = 12.5,
                                                     .common = with_context}));
    check("self_describing",
          tracker.track(ft::SelfDescribing{
              .event = ft::SelfDescribingJson(
                  "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
                  R"({"targetUrl":"https://docs.example/a b","elementId":"help"})"),
              .common = with_context}));
    check("timing", tracker.track(ft::Timing{.category = "load",
                                             .variable = "level",
                                             .timing_ms = 1234,
                                             .label = "level 7",
                                             .common = with_context}));
  } else if (command == "structured" && positional.size() == 2) {
    long n = 0;
    if (!parse_number(positional[1].c_str(), &n)) return usage("structured N: N is a count");
    for (long i = 0; i < n; ++i) {
      check("structured",
            tracker.track(ft::Structured{
                .category = "restart", .action = "tracked", .label = std::to_string(i)}));
    }
  } else if (command != "drain") {
    return usage(("unknown command: " + command).c_str());
  }
  std::fflush(stdout);
  bool delivered = true;
  if (flush_ms > 0) delivered = tracker.flush(std::chrono::milliseconds(flush_ms));
  const auto stats = emitter->stats();
  std::fprintf(
      stderr,
      "furrow-track: sent %llu, pending %zu, requests %llu (failed %llu), last status %d%s%s\n",
      static_cast<unsigned long long>(stats.sent), emitter->pending(),
      static_cast<unsigned long long>(stats.requests),
      static_cast<unsigned long long>(stats.failed_requests), stats.last_status,
      stats.last_error.empty() ? "" : ", last error: ", stats.last_error.c_str());
  return delivered && refused == 0 ? 0 : 1;
}
