#include "enrich/enrichments/user_agent_utils_config/user_agent_utils_config.h"

#include <gtest/gtest.h>

#include "enrich/enrichments/test_helpers.h"
#include "support/test_support.h"

namespace furrow::enrich::enrichments {
namespace {

using event::Field;

std::shared_ptr<const Enrichment> make() {
  LoadOptions o;
  o.default_ua_regexes = test::shared_dir() / "data/uap-core/regexes.yaml";
  auto e = make_user_agent_utils(
      testing::config_of(testing::config_json("com.snowplowanalytics.snowplow",
                                              "user_agent_utils_config", "1-0-0", "{}")),
      o, [](const std::filesystem::path& p) -> Result<std::shared_ptr<const UserAgentParser>> {
        auto rules = UserAgentRules::from_file(p);
        if (!rules.ok()) return rules.error();
        return std::shared_ptr<const UserAgentParser>(std::make_shared<UserAgentParser>(*rules, 0));
      });
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? *e : nullptr;
}

struct Expect {
  const char* ua;
  const char* br_name;
  const char* br_family;
  const char* br_version;
  const char* br_type;
  const char* br_renderengine;
  const char* os_name;
  const char* os_family;
  const char* os_manufacturer;
  const char* dvce_type;
  const char* dvce_ismobile;
};

// TV-03 and TV-04: the UserAgentUtils values Snowplow produced for these user agents.
TEST(UserAgentUtils, Tv03Tv04Golden) {
  auto e = make();
  ASSERT_NE(e, nullptr);
  const Expect cases[] = {
      {"Mozilla/5.0 (iPhone; CPU iPhone OS 5_1_1 like Mac OS X) AppleWebKit/534.46 (KHTML, like "
       "Gecko) Version/5.1 Mobile/9B206 Safari/7534.48.3",
       "Mobile Safari", "Safari", "5.1", "Browser (mobile)", "WEBKIT", "iOS 5 (iPhone)", "iOS",
       "Apple Inc.", "Mobile", "1"},
      {"Mozilla/5.0 (Windows NT 6.1; WOW64; rv:12.0) Gecko/20100101 Firefox/12.0", "Firefox 12",
       "Firefox", "12.0", "Browser", "GECKO", "Windows 7", "Windows", "Microsoft Corporation",
       "Computer", "0"},
  };
  for (const auto& c : cases) {
    testing::TestEvent t;
    t.ev[Field::useragent] = c.ua;
    e->apply(t.ctx);
    EXPECT_EQ(t.ev[Field::br_name], c.br_name) << c.ua;
    EXPECT_EQ(t.ev[Field::br_family], c.br_family) << c.ua;
    EXPECT_EQ(t.ev[Field::br_version], c.br_version) << c.ua;
    EXPECT_EQ(t.ev[Field::br_type], c.br_type) << c.ua;
    EXPECT_EQ(t.ev[Field::br_renderengine], c.br_renderengine) << c.ua;
    EXPECT_EQ(t.ev[Field::os_name], c.os_name) << c.ua;
    EXPECT_EQ(t.ev[Field::os_family], c.os_family) << c.ua;
    EXPECT_EQ(t.ev[Field::os_manufacturer], c.os_manufacturer) << c.ua;
    EXPECT_EQ(t.ev[Field::dvce_type], c.dvce_type) << c.ua;
    EXPECT_EQ(t.ev[Field::dvce_ismobile], c.dvce_ismobile) << c.ua;
  }
}

TEST(UserAgentUtils, TabletsRobotsAndNoUserAgent) {
  auto e = make();
  ASSERT_NE(e, nullptr);
  testing::TestEvent ipad;
  ipad.ev[Field::useragent] =
      "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/12.1 Mobile/15E148 Safari/604.1";
  e->apply(ipad.ctx);
  EXPECT_EQ(ipad.ev[Field::dvce_type], "Tablet");
  EXPECT_EQ(ipad.ev[Field::dvce_ismobile], "1");
  EXPECT_EQ(ipad.ev[Field::os_name], "iOS 12 (iPad)");
  testing::TestEvent bot;
  bot.ev[Field::useragent] =
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
  e->apply(bot.ctx);
  EXPECT_EQ(bot.ev[Field::br_type], "Robot");
  EXPECT_EQ(bot.ev[Field::dvce_ismobile], "0");
  testing::TestEvent none;
  e->apply(none.ctx);
  EXPECT_EQ(none.ev[Field::br_name], "");
}

}  // namespace
}  // namespace furrow::enrich::enrichments
