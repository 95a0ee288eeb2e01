#include "enrich/enrichments/registry.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>

#include "enrich/enrichments/test_helpers.h"
#include "iglu/registry.h"
#include "iglu/resolver.h"
#include "support/test_support.h"

namespace furrow::enrich::enrichments {
namespace {

namespace fs = std::filesystem;
using event::Field;

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

void copy_asset(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

// Options for loading the sample configs offline: the remote assets they name are put in the
// asset cache beforehand (test data from ../shared), as an offline install would.
LoadOptions offline_options() {
  LoadOptions o;
  o.asset_cache_dir = test::temp_dir("assets");
  o.default_ua_regexes = test::shared_dir() / "data/uap-core/regexes.yaml";
  fs::path data = test::shared_dir() / "data";
  copy_asset(
      data / "maxmind/test-data/GeoIP2-City-Test.mmdb",
      asset_cache_path(o, "http://snowplow-hosted-assets.s3.amazonaws.com/third-party/maxmind",
                       "GeoLite2-City.mmdb"));
  copy_asset(
      data / "referer-parser/referers.yml",
      asset_cache_path(
          o,
          "https://s3-eu-west-1.amazonaws.com/snowplow-hosted-assets/third-party/referer-parser/",
          "referers-latest.json"));
  write(asset_cache_path(o, "https://example.com/iab", "ip_exclude_current_cidr.txt"),
        "192.0.2.0/24\n");
  write(asset_cache_path(o, "https://example.com/iab", "exclude_current.txt"), "crawler\n");
  write(asset_cache_path(o, "https://example.com/iab", "include_current.txt"), "");
  return o;
}

std::vector<std::string> names(const std::vector<std::shared_ptr<const Enrichment>>& es) {
  std::vector<std::string> out;
  for (const auto& e : es) out.emplace_back(e->name());
  return out;
}

// Acceptance 5: the sample configs (examples/enrichments, Snowplow's format) load unchanged,
// and every context they derive validates against its schema in iglu-central.
TEST(Registry, SampleConfigsLoadAndDerivedContextsValidate) {
  LoadOptions o = offline_options();
  auto loaded = load_enrichments(test::source_dir() / "examples/enrichments", o);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  // Disabled currency_conversion_config is skipped; the rest come in pipeline step order.
  EXPECT_EQ(names(*loaded),
            (std::vector<std::string>{
                "iab_spiders_and_robots_enrichment", "user_agent_utils_config", "ua_parser_config",
                "referer_parser", "campaign_attribution", "cross_navigation_config",
                "event_fingerprint_config", "cookie_extractor_config",
                "http_header_extractor_config", "ip_lookups", "anon_ip", "pii_enrichment_config"}));

  testing::TestEvent t;
  t.ev[Field::derived_tstamp] = "2024-01-01 00:00:00.000";
  t.ev[Field::useragent] =
      "Mozilla/5.0 (iPhone; CPU iPhone OS 14_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) Version/14.0.2 Mobile/15E148 Safari/604.1";
  t.ev[Field::user_ipaddress] = "2.125.160.216";
  t.ev[Field::user_id] = "alice";
  t.ev[Field::page_urlhost] = "www.example.com";
  t.ev[Field::page_urlquery] =
      "utm_source=news&utm_medium=email&_sp=4da6ee6d6d69aa18.1381188927100.75d0fc90-cef4-11e4-"
      "8830-0800200c9a66";
  t.ev[Field::page_referrer] = "https://www.google.com/search?q=tarot";
  t.raw.parameters.set("e", "pv");
  t.raw.headers = {"Cookie: sp=c5f3a09f-75f8-4309-bec5-fea560f78455",
                   "X-Forwarded-For: 2.125.160.216", "Accept-Language: en-GB"};
  for (const auto& e : *loaded) e->apply(t.ctx);
  EXPECT_TRUE(t.ctx.failures().empty());
  EXPECT_EQ(t.ev[Field::geo_country], "GB");
  EXPECT_EQ(t.ev[Field::user_ipaddress], "2.125.160.x");
  EXPECT_EQ(t.ev[Field::refr_medium], "search");
  EXPECT_EQ(t.ev[Field::mkt_source], "news");
  EXPECT_EQ(t.ev[Field::br_family], "Safari");
  EXPECT_EQ(t.ev[Field::event_fingerprint].size(), 32u);
  EXPECT_EQ(t.ev[Field::user_id].size(), 64u);  // pseudonymised

  iglu::Resolver resolver({std::make_shared<iglu::DirectoryRegistry>(
      "iglu-central", (test::shared_dir() / "iglu-central").string())});
  std::vector<std::string> schemas;
  for (const auto& sdj : t.ctx.pending_contexts()) {
    rapidjson::Document doc;
    doc.Parse(sdj.c_str());
    ASSERT_FALSE(doc.HasParseError()) << sdj;
    std::string schema = doc["schema"].GetString();
    schemas.push_back(schema);
    auto outcome = resolver.validate(schema, doc["data"]);
    EXPECT_EQ(outcome.status, iglu::ValidationOutcome::Status::kValid) << sdj << "\n"
                                                                       << outcome.error_json;
  }
  // One context each from IAB, ua_parser, cross_navigation, cookie, 2 headers, PII.
  EXPECT_EQ(schemas.size(), 7u);
}

TEST(Registry, ErrorsNameFileAndKey) {
  LoadOptions o = offline_options();
  auto dir = test::temp_dir("enrichments");
  auto expect_error = [&](const std::string& json, const std::string& needle) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    write(dir / "x.json", json);
    auto r = load_enrichments(dir, o);
    ASSERT_FALSE(r.ok()) << json;
    EXPECT_NE(r.error().message.find("x.json"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  expect_error(
      testing::config_json("com.snowplowanalytics.snowplow", "no_such_enrichment", "1-0-0", "{}"),
      "unknown enrichment 'no_such_enrichment'");
  expect_error(testing::config_json("com.snowplowanalytics.snowplow", "anon_ip", "2-0-0",
                                    R"({"anonOctets":1})"),
               "criterion");
  expect_error(testing::config_json("com.snowplowanalytics.snowplow", "anon_ip", "1-0-0", "{}"),
               "data.parameters.anonOctets");
  expect_error(
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-0","data":{"vendor":"com.snowplowanalytics.snowplow","name":"anon_ip","parameters":{"anonOctets":1}}})",
      "data.enabled");
  expect_error("{not json", "not valid JSON");
  expect_error(testing::config_json("com.snowplowanalytics.snowplow.enrichments",
                                    "weather_enrichment_config", "1-0-0", "{}"),
               "not supported");
  expect_error(
      testing::config_json("com.snowplowanalytics.snowplow", "ip_lookups", "2-0-0",
                           R"({"geo":{"uri":"file://)" +
                               (test::shared_dir() / "data/maxmind/bad-data").string() +
                               R"(","database":"libmaxminddb-corrupt-search-tree.mmdb"}})"),
      "data.parameters.geo.database");
}

TEST(Registry, DisabledSkippedDuplicatesRefusedWrapperAccepted) {
  LoadOptions o = offline_options();
  auto dir = test::temp_dir("enrichments");
  std::string disabled =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/weather_enrichment_config/jsonschema/1-0-0","data":{"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"weather_enrichment_config","enabled":false,"parameters":{"apiKey":"x"}}})";
  std::string anon = testing::config_json("com.snowplowanalytics.snowplow", "anon_ip", "1-0-1",
                                          R"({"anonOctets":2})");
  write(dir / "a.json", disabled);
  write(dir / "b.json", anon);
  write(dir / "README.txt", "not a config");
  auto r = load_enrichments(dir, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(names(*r), std::vector<std::string>{"anon_ip"});
  write(dir / "c.json", anon);
  auto dup = load_enrichments(dir, o);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("more than once"), std::string::npos);

  auto wdir = test::temp_dir("wrapped");
  write(wdir / "all.json",
        R"({"schema":"iglu:com.snowplowanalytics.snowplow/enrichments/jsonschema/1-0-0","data":[)" +
            anon + "," + disabled + "]}");
  auto w = load_enrichments(wdir, o);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(names(*w), std::vector<std::string>{"anon_ip"});
  EXPECT_FALSE(load_enrichments(dir / "missing", o).ok());
}

}  // namespace
}  // namespace furrow::enrich::enrichments
