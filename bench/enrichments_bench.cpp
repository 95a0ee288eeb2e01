// Enrichment micro benchmarks: user-agent parsing (uncached, cached, hostile inputs), geo lookup,
// the event fingerprint, referer classification. Test data comes from FURROW_SHARED (default
// ../shared).
//   FURROW_SHARED=/path/to/shared ./enrichments_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "enrich/enrichments/config.h"
#include "enrich/enrichments/defaults.h"
#include "enrich/enrichments/event_fingerprint_config/event_fingerprint_config.h"
#include "enrich/enrichments/ip_lookups/ip_lookups.h"
#include "enrich/enrichments/referer_parser/referer_parser.h"
#include "enrich/enrichments/ua_parser_config/ua_parser_config.h"
#include "enrich/enrichments/ua_parser_config/ua_rules.h"
#include "event/enriched_event.h"
#include "event/raw_event.h"
#include "protocol/param_keys.h"

namespace {

using namespace furrow::enrich::enrichments;
namespace fs = std::filesystem;

fs::path shared() {
  const char* s = std::getenv("FURROW_SHARED");
  return s != nullptr ? fs::path(s) : fs::path("../shared");
}

// The repository's node_modules (default data of furrow run): FURROW_SOURCE_DIR, else the cwd.
fs::path source() {
  const char* s = std::getenv("FURROW_SOURCE_DIR");
  return s != nullptr ? fs::path(s) : fs::path(".");
}

// Current desktop and mobile browser user agents (what real traffic mostly is).
const std::vector<std::string>& browser_uas() {
  static const std::vector<std::string> uas = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/17.1 Safari/605.1.15",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
      "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Mobile Safari/537.36",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 "
      "Safari/537.36",
      "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
      "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
      "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "CriOS/119.0.6045.169 Mobile/15E148 Safari/604.1",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:120.0) Gecko/20100101 Firefox/120.0",
  };
  return uas;
}

std::shared_ptr<const UserAgentRules> rules() {
  static auto r = UserAgentRules::from_file(shared() / "data/uap-core/regexes.yaml");
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    std::abort();
  }
  return *r;
}

void BM_UaParseUncached(benchmark::State& state) {
  UserAgentParser parser(rules(), 0);
  ParsedUserAgent out;
  std::size_t i = 0;
  const auto& uas = browser_uas();
  for (auto _ : state) {
    parser.parse(uas[i++ % uas.size()], out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_UaParseUncached);

// The same parse without the rule-group guards (every candidate rule tested on its own): the
// session-8 guards' effect is BM_UaParseUncached against this, in one run.
void BM_UaParseUncachedUnguarded(benchmark::State& state) {
  auto r = rules();
  ParsedUserAgent out;
  std::size_t i = 0;
  const auto& uas = browser_uas();
  for (auto _ : state) {
    r->parse_unguarded(uas[i++ % uas.size()], out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_UaParseUncachedUnguarded);

void BM_UaParseCached(benchmark::State& state) {
  UserAgentParser parser(rules(), 10'000);
  ParsedUserAgent out;
  std::size_t i = 0;
  const auto& uas = browser_uas();
  for (auto _ : state) {
    parser.parse(uas[i++ % uas.size()], out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_UaParseCached);

// The ua_parser_context JSON of a parse result (written for every event with --ua-cache 0), over
// the parse results of the ten browser user agents.
void BM_UaParserContextJson(benchmark::State& state) {
  std::vector<ParsedUserAgent> parsed;
  for (const auto& ua : browser_uas()) parsed.push_back(rules()->parse(ua));
  std::size_t i = 0;
  for (auto _ : state) {
    std::string json = ua_parser_context_json(parsed[i++ % parsed.size()]);
    benchmark::DoNotOptimize(json);
  }
}
BENCHMARK(BM_UaParserContextJson);

// Hostile inputs: 8 KB and 64 KB of one character, and strings built to make backtracking engines
// explode on uap-core-style patterns.
void BM_UaParseHostile(benchmark::State& state) {
  std::string in;
  switch (state.range(0)) {
    case 0:
      in = std::string(8 * 1024, 'a');
      break;
    case 1:
      in = std::string(64 * 1024, 'a');
      break;
    case 2:
      in = "Mozilla/5.0 (Linux; Android " + std::string(64 * 1024, '1');
      break;
    default:
      for (int i = 0; i < 2000; ++i) in += "Mobile Safari/ Build/ Chrome/1.";
      break;
  }
  UserAgentParser parser(rules(), 0);
  ParsedUserAgent out;
  for (auto _ : state) {
    parser.parse(in, out);
    benchmark::DoNotOptimize(out);
  }
  state.SetLabel(std::to_string(in.size()) + " bytes");
}
BENCHMARK(BM_UaParseHostile)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

// Varied addresses, so that the per-thread record cache of ip_lookups is measured honestly:
// `networks` base addresses, each with `per_network` different host parts (addresses of one
// network usually share a record, as in real traffic).
std::vector<std::string> varied_ips(const std::vector<std::string>& bases, int per_network) {
  std::vector<std::string> out;
  for (int h = 0; h < per_network; ++h) {
    for (const auto& b : bases) {
      if (b.find(':') != std::string::npos) {
        out.push_back(b + std::to_string(h * 37 % 9000 + 1));
      } else {
        out.push_back(b + std::to_string(h * 37 % 254 + 1));
      }
    }
  }
  return out;
}

// Arg: 1 = record cache on (the default), 0 = off (every record decoded).
void BM_GeoLookupCity(benchmark::State& state) {
  auto db =
      GeoDatabase::open(shared() / "data/maxmind/test-data/GeoIP2-City-Test.mmdb", GeoRole::kCity);
  if (!db.ok()) std::abort();
  IpLookupsEnrichment::Databases dbs;
  dbs.geo = *db;
  IpLookupsEnrichment e(dbs, state.range(0) != 0);
  // The networks of the earlier fixed-address benchmark (2.125.160.216, 81.2.69.142, ...).
  const auto ips = varied_ips(
      {"2.125.160.", "81.2.69.", "89.160.20.", "216.160.83.", "2001:218::", "67.43.156."}, 64);
  GeoResult r;
  std::size_t i = 0;
  for (auto _ : state) {
    e.lookup(ips[i++ % ips.size()], r);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_GeoLookupCity)->Arg(1)->Arg(0);

// The real free City database furrow uses by default (DB-IP City Lite, ~63 MB, flat layout), on
// 4,096 pseudo-random public addresses (7 of 8 IPv4, mostly distinct records: the cache's worst
// case). Arg: record cache on (1) or off (0).
void BM_GeoLookupDbipCity(benchmark::State& state) {
  DefaultData d = find_default_data(source() / "build" / "x" / "furrow");
  if (d.geo_city_v4.empty() || d.geo_city_v6.empty()) {
    state.SkipWithError("DB-IP City files not found under FURROW_SOURCE_DIR/node_modules");
    return;
  }
  auto v4 = GeoDatabase::open(d.geo_city_v4, GeoRole::kCity);
  auto v6 = GeoDatabase::open(d.geo_city_v6, GeoRole::kCity);
  if (!v4.ok() || !v6.ok()) std::abort();
  IpLookupsEnrichment::Databases dbs;
  dbs.geo = *v4;
  dbs.geo_v6 = *v6;
  IpLookupsEnrichment e(dbs, state.range(0) != 0);
  std::vector<std::string> ips;
  uint64_t x = 42;
  for (int i = 0; i < 4096; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    uint32_t v = static_cast<uint32_t>(x >> 32);
    if (i % 8 == 7) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "2a0%u:%x:%x::1", v % 10, (v >> 4) & 0xffff, v >> 20);
      ips.emplace_back(buf);
    } else {
      ips.push_back(std::to_string(1 + (v >> 24) % 222) + "." + std::to_string((v >> 16) & 255) +
                    "." + std::to_string((v >> 8) & 255) + "." + std::to_string(v & 255));
    }
  }
  GeoResult r;
  std::size_t i = 0;
  for (auto _ : state) {
    e.lookup(ips[i++ % ips.size()], r);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_GeoLookupDbipCity)->Arg(1)->Arg(0);

// The enrichments' own cost per event in `furrow enrich --default-enrichments` (the per-event core
// of the pipeline is measured by pipeline_bench): every default enrichment applied to a rotation
// of 64 distinct page views (10 browsers, varied IPs, referrers and campaign URLs). Arg: the
// user-agent cache size (0 = off). With the cache on, the 10 user agents are cached after the
// first round, as in real traffic where a few hundred user agents make most events.
void BM_DefaultEnrichmentChain(benchmark::State& state) {
  DefaultData d = find_default_data(source() / "build" / "x" / "furrow");
  LoadOptions options;
  options.ua_cache_size = static_cast<std::size_t>(state.range(0));
  auto set = load_default_enrichments(d, options);
  if (!set.ok() || !set->warnings.empty()) {
    state.SkipWithError("default data missing (FURROW_SOURCE_DIR/node_modules)");
    return;
  }
  struct Input {
    std::string ua, ip, referrer, query;
  };
  std::vector<Input> inputs;
  const char* referrers[] = {"https://www.google.com/search?q=warm+socks&hl=en",
                             "https://www.bing.com/search?q=furrow+analytics",
                             "https://t.co/abc123", "https://news.example.org/article/42", ""};
  const char* queries[] = {"utm_source=news&utm_medium=email&utm_campaign=winter", "gclid=abc123",
                           "", "id=7&ref=home"};
  for (int i = 0; i < 64; ++i) {
    Input in;
    in.ua = browser_uas()[static_cast<std::size_t>(i) % browser_uas().size()];
    in.ip = (i % 8 == 7) ? "2001:4860:4860::" + std::to_string(8800 + i)
                         : std::to_string(20 + i * 3) + "." + std::to_string(i * 7 % 256) + "." +
                               std::to_string(i * 13 % 256) + ".1";
    in.referrer = referrers[i % 5];
    in.query = queries[i % 4];
    inputs.push_back(std::move(in));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    const Input& in = inputs[i++ % inputs.size()];
    furrow::event::EnrichedEvent ev;
    furrow::event::RawEvent raw;
    ev[furrow::event::Field::useragent] = in.ua;
    ev[furrow::event::Field::user_ipaddress] = in.ip;
    ev[furrow::event::Field::page_urlhost] = "shop.example.com";
    ev[furrow::event::Field::page_urlquery] = in.query;
    if (!in.referrer.empty()) ev[furrow::event::Field::page_referrer] = in.referrer;
    raw.parameters.set("e", "pv");
    raw.parameters.set("eid", "c6ef3124-b53a-4b13-a233-0088f79dcbcb");
    raw.parameters.set("url", "https://shop.example.com/?" + in.query);
    raw.parameters.set("tv", "js-3.17.0");
    furrow::enrich::EventContext ctx(ev, raw);
    for (const auto& e : set->enrichments) e->apply(ctx);
    benchmark::DoNotOptimize(ctx.pending_contexts().data());
  }
}
BENCHMARK(BM_DefaultEnrichmentChain)->Arg(10'000)->Arg(0);

// The same loop with no enrichment: what building the event costs in the benchmark above.
void BM_DefaultEnrichmentChainBaseline(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    furrow::event::EnrichedEvent ev;
    furrow::event::RawEvent raw;
    ev[furrow::event::Field::useragent] = browser_uas()[i++ % browser_uas().size()];
    ev[furrow::event::Field::user_ipaddress] = "81.2.69.142";
    ev[furrow::event::Field::page_urlhost] = "shop.example.com";
    raw.parameters.set("e", "pv");
    raw.parameters.set("eid", "c6ef3124-b53a-4b13-a233-0088f79dcbcb");
    raw.parameters.set("url", "https://shop.example.com/");
    raw.parameters.set("tv", "js-3.17.0");
    furrow::enrich::EventContext ctx(ev, raw);
    benchmark::DoNotOptimize(ctx.pending_contexts().data());
  }
}
BENCHMARK(BM_DefaultEnrichmentChainBaseline);

// event_fingerprint_config as `furrow enrich --default-enrichments` configures it (MD5, excluding
// eid, nuid, stm, cv) on a browser page view of 26 parameters (~900 bytes, a base64 context
// included) read as the pipeline passes them (views with their key ids). Arg 1: one unknown
// parameter name added (the merge path).
void BM_EventFingerprint(benchmark::State& state) {
  auto hasher = Hasher::by_name("MD5");
  if (!hasher) std::abort();
  const EventFingerprintEnrichment fp({"eid", "nuid", "stm", "cv"}, *hasher, "MD5");
  std::vector<std::pair<std::string, std::string>> params = {
      {"e", "pv"},
      {"url", "https://shop.example.com/products/tarot-cards?utm_source=news&utm_medium=email"},
      {"page", "Tarot Cards | Furrow Shop"},
      {"refr", "https://www.google.com/search?q=warm+socks&hl=en"},
      {"tv", "js-3.17.0"},
      {"tna", "sp1"},
      {"aid", "shop"},
      {"p", "web"},
      {"cookie", "1"},
      {"cs", "UTF-8"},
      {"lang", "en-GB"},
      {"res", "1920x1080"},
      {"cd", "24"},
      {"tz", "Europe/London"},
      {"dtm", "1732812345678"},
      {"stm", "1732812345999"},
      {"vp", "1280x720"},
      {"ds", "1280x3400"},
      {"vid", "3"},
      {"sid", "5b1c6f0e-8f7e-4f4a-9d63-2c0c8e5a9b11"},
      {"duid", "0f3e7a52-7c4e-4b8e-a0b5-5c2f1d6e9a33"},
      {"eid", "c6ef3124-b53a-4b13-a233-0088f79dcbcb"},
      {"uid", "user-1842"},
      {"cx", std::string(420, 'Q')},
      {"co",
       R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[]})"},
      {"fp", "2734950834"}};
  if (state.range(0) == 1) params.emplace_back("x_custom", "42");
  std::vector<furrow::protocol::ParamView> views;
  for (const auto& [n, v] : params) views.push_back({n, v, furrow::protocol::param_key_id(n)});
  const std::vector<std::string> headers;
  furrow::event::EnrichedEvent ev;
  furrow::event::RawEvent raw;
  furrow::enrich::EventContext ctx(ev, raw);
  ctx.set_request(&headers, views);
  for (auto _ : state) {
    fp.apply(ctx);
    benchmark::DoNotOptimize(ev[furrow::event::Field::event_fingerprint].data());
  }
}
BENCHMARK(BM_EventFingerprint)->Arg(0)->Arg(1);

void BM_RefererClassify(benchmark::State& state) {
  auto db = RefererDatabase::from_file(shared() / "data/referer-parser/referers.yml");
  if (!db.ok()) std::abort();
  std::vector<std::string> internal;
  RefererResult r;
  for (auto _ : state) {
    classify_referer(**db, "https", "www.google.co.uk", "/search", "q=gateway+oracle+cards&hl=en",
                     "shop.example", internal, r);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_RefererClassify);

}  // namespace
