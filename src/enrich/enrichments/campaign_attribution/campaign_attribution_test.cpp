#include "enrich/enrichments/campaign_attribution/campaign_attribution.h"

#include <gtest/gtest.h>

#include "enrich/enrichments/test_helpers.h"
#include "enrich/enrichments/util.h"

namespace furrow::enrich::enrichments {
namespace {

using event::Field;

std::shared_ptr<const Enrichment> make(const std::string& params) {
  auto e = make_campaign_attribution(
      testing::config_of(testing::config_json("com.snowplowanalytics.snowplow",
                                              "campaign_attribution", "1-0-1", params)),
      {});
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? *e : nullptr;
}

// TV-07: utm_* parameters of the page URL; '+' decodes to a space.
TEST(CampaignAttribution, Tv07Golden) {
  auto e = make(
      R"({"mapping":"static","fields":{"mktMedium":["utm_medium","medium"],"mktSource":["utm_source","source"],"mktTerm":["utm_term","legacy_term"],"mktContent":["utm_content"],"mktCampaign":["utm_campaign","cid","legacy_campaign"]}})");
  ASSERT_NE(e, nullptr);
  testing::TestEvent t;
  t.ev[Field::page_urlquery] =
      "utm_source=google&utm_medium=cpc&utm_term=buy+tarot&utm_campaign=spring_sale";
  e->apply(t.ctx);
  EXPECT_EQ(t.ev[Field::mkt_medium], "cpc");
  EXPECT_EQ(t.ev[Field::mkt_source], "google");
  EXPECT_EQ(t.ev[Field::mkt_term], "buy tarot");
  EXPECT_EQ(t.ev[Field::mkt_campaign], "spring_sale");
  EXPECT_EQ(t.ev[Field::mkt_content], "");
  EXPECT_EQ(t.ev[Field::mkt_clickid], "");
}

// TV-08: gclid → mkt_clickid with network Google (default config, pipeline-decoded query).
TEST(CampaignAttribution, Tv08ClickId) {
  auto e = make(R"({"mapping":"static","fields":{}})");
  ASSERT_NE(e, nullptr);
  testing::TestEvent t;
  t.ctx.mutable_page_query() =
      parse_query("a=1&gclid=CI6thtbxhboCFTMctAod0FcAdQ&_sp=4da6ee6d6d69aa18.1381188927100");
  e->apply(t.ctx);
  EXPECT_EQ(t.ev[Field::mkt_clickid], "CI6thtbxhboCFTMctAod0FcAdQ");
  EXPECT_EQ(t.ev[Field::mkt_network], "Google");
}

TEST(CampaignAttribution, PriorityLastDuplicateAndCustomClickIds) {
  auto e = make(
      R"({"mapping":"static","fields":{"mktSource":["src","utm_source"],"mktClickId":{"ttclid":"TikTok","gclid":"Google Ads"}}})");
  ASSERT_NE(e, nullptr);
  testing::TestEvent t;
  t.ctx.mutable_page_query() = parse_query("utm_source=a&src=b&src=c&ttclid=T1&utm_medium=m");
  e->apply(t.ctx);
  EXPECT_EQ(t.ev[Field::mkt_source], "c");  // first configured name present; last duplicate
  EXPECT_EQ(t.ev[Field::mkt_medium], "m");  // default list
  EXPECT_EQ(t.ev[Field::mkt_clickid], "T1");
  EXPECT_EQ(t.ev[Field::mkt_network], "TikTok");
  testing::TestEvent g;
  g.ctx.mutable_page_query() = parse_query("ttclid=T1&gclid=G1");
  e->apply(g.ctx);
  EXPECT_EQ(g.ev[Field::mkt_clickid], "G1");  // built-in gclid first, network renamed
  EXPECT_EQ(g.ev[Field::mkt_network], "Google Ads");
  testing::TestEvent none;
  e->apply(none.ctx);
  EXPECT_EQ(none.ev[Field::mkt_source], "");
}

TEST(CampaignAttribution, BadConfig) {
  auto e = make_campaign_attribution(testing::config_of(testing::config_json(
                                         "com.snowplowanalytics.snowplow", "campaign_attribution",
                                         "1-0-1", R"({"fields":{"mktSource":"utm_source"}})")),
                                     {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("data.parameters.fields.mktSource"), std::string::npos);
}

}  // namespace
}  // namespace furrow::enrich::enrichments
