// Enrichment micro benchmarks: user-agent parsing (uncached, cached, hostile inputs), geo lookup,
// referer classification. Test data comes from FURROW_SHARED (default ../shared).
//   FURROW_SHARED=/path/to/shared ./enrichments_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "enrich/enrichments/config.h"
#include "enrich/enrichments/ip_lookups/ip_lookups.h"
#include "enrich/enrichments/referer_parser/referer_parser.h"
#include "enrich/enrichments/ua_parser_config/ua_rules.h"

namespace {

using namespace furrow::enrich::enrichments;
namespace fs = std::filesystem;

fs::path shared() {
  const char* s = std::getenv("FURROW_SHARED");
  return s != nullptr ? fs::path(s) : fs::path("../shared");
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

void BM_GeoLookupCity(benchmark::State& state) {
  auto db =
      GeoDatabase::open(shared() / "data/maxmind/test-data/GeoIP2-City-Test.mmdb", GeoRole::kCity);
  if (!db.ok()) std::abort();
  IpLookupsEnrichment::Databases dbs;
  dbs.geo = *db;
  IpLookupsEnrichment e(dbs);
  const char* ips[] = {"2.125.160.216", "81.2.69.142", "89.160.20.112",
                       "216.160.83.56", "2001:218::1", "67.43.156.1"};
  GeoResult r;
  std::size_t i = 0;
  for (auto _ : state) {
    e.lookup(ips[i++ % 6], r);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_GeoLookupCity);

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
