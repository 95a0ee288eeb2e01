#include "enrich/enrichments/iab_spiders_and_robots_enrichment/iab_spiders_and_robots_enrichment.h"

#include <gtest/gtest.h>

#include <fstream>

#include "enrich/enrichments/test_helpers.h"
#include "support/test_support.h"

namespace furrow::enrich::enrichments {
namespace {

using event::Field;

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

std::shared_ptr<const Enrichment> make(const std::string& extra = "") {
  auto dir = test::temp_dir("iab");
  write(dir / "ip_exclude_current_cidr.txt", "# datacenter ranges\n192.0.2.0/24\n2001:db8::/32\n");
  write(dir / "exclude_current.txt", "examplecrawler|1|0\nheadlesschrome\n");
  write(dir / "include_current.txt", "mozilla\ncurl\n");
  std::string uri = "file://" + dir.string();
  std::string params = R"({"ipFile":{"database":"ip_exclude_current_cidr.txt","uri":")" + uri +
                       R"("},"excludeUseragentFile":{"database":"exclude_current.txt","uri":")" +
                       uri +
                       R"("},"includeUseragentFile":{"database":"include_current.txt","uri":")" +
                       uri + R"("})" + extra + "}";
  LoadOptions o;
  o.default_ua_regexes = test::shared_dir() / "data/uap-core/regexes.yaml";
  auto e = make_iab_spiders_and_robots(
      testing::config_of(testing::config_json("com.snowplowanalytics.snowplow.enrichments",
                                              "iab_spiders_and_robots_enrichment", "1-0-1",
                                              params)),
      o, [](const std::filesystem::path& p) -> Result<std::shared_ptr<const UserAgentParser>> {
        auto rules = UserAgentRules::from_file(p);
        if (!rules.ok()) return rules.error();
        return std::shared_ptr<const UserAgentParser>(std::make_shared<UserAgentParser>(*rules, 0));
      });
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? *e : nullptr;
}

std::string run(const Enrichment& e, const std::string& ua, const std::string& ip) {
  testing::TestEvent t;
  t.ev[Field::derived_tstamp] = "2024-01-01 00:00:00.000";
  t.ev[Field::useragent] = ua;
  t.ev[Field::user_ipaddress] = ip;
  e.apply(t.ctx);
  return t.ctx.pending_contexts().empty() ? "" : t.ctx.pending_contexts()[0];
}

constexpr const char* kBrowser =
    R"({"schema":"iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0","data":{"spiderOrRobot":false,"category":"BROWSER","reason":"PASSED_ALL","primaryImpact":"NONE"}})";

std::string failed(const char* reason) {
  return std::string(
             R"({"schema":"iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0","data":{"spiderOrRobot":true,"category":"SPIDER_OR_ROBOT","reason":")") +
         reason + R"(","primaryImpact":"UNKNOWN"}})";
}

TEST(IabSpidersAndRobots, Classification) {
  auto e = make(R"(,"excludeUseragents":["MyBot"])");
  ASSERT_NE(e, nullptr);
  const std::string firefox =
      "Mozilla/5.0 (Windows NT 10.0; rv:120.0) Gecko/20100101 Firefox/120.0";
  EXPECT_EQ(run(*e, firefox, "203.0.113.9"), kBrowser);
  EXPECT_EQ(run(*e, firefox, "192.0.2.77"), failed("FAILED_IP_EXCLUDE"));
  EXPECT_EQ(run(*e, firefox, "2001:db8::5"), failed("FAILED_IP_EXCLUDE"));
  EXPECT_EQ(run(*e, "Wget/1.20", "203.0.113.9"), failed("FAILED_UA_INCLUDE"));
  EXPECT_EQ(run(*e, "Mozilla/5.0 ExampleCrawler/1.0", ""), failed("FAILED_UA_EXCLUDE"));
  EXPECT_EQ(run(*e, "Mozilla/5.0 mybot/2", ""), failed("FAILED_UA_EXCLUDE"));
  // A known bot family from the uap-core rules.
  EXPECT_EQ(run(*e, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                "203.0.113.9"),
            failed("FAILED_UA_EXCLUDE"));
}

TEST(IabSpidersAndRobots, PreconditionsAndConfig) {
  auto e = make();
  ASSERT_NE(e, nullptr);
  testing::TestEvent no_tstamp;
  no_tstamp.ev[Field::useragent] = "curl/7";
  e->apply(no_tstamp.ctx);
  EXPECT_TRUE(no_tstamp.ctx.pending_contexts().empty());
  EXPECT_EQ(run(*e, "  ", "not-an-ip"), "");
  EXPECT_EQ(parse_ip_range("10.0.0.0/33"), std::nullopt);
  ASSERT_TRUE(parse_ip_range("10.1.0.0/16").has_value());
  EXPECT_TRUE(parse_ip_range("10.1.0.0/16")->contains(*parse_ip("10.1.200.3")));
  EXPECT_FALSE(parse_ip_range("10.1.0.0/16")->contains(*parse_ip("10.2.0.1")));
  auto missing = make_iab_spiders_and_robots(
      testing::config_of(testing::config_json("com.snowplowanalytics.snowplow.enrichments",
                                              "iab_spiders_and_robots_enrichment", "1-0-1", "{}")),
      {}, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("data.parameters.ipFile"), std::string::npos);
}

}  // namespace
}  // namespace furrow::enrich::enrichments
