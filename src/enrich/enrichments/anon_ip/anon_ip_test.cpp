#include "enrich/enrichments/anon_ip/anon_ip.h"

#include <gtest/gtest.h>

#include "enrich/enrichments/test_helpers.h"

namespace furrow::enrich::enrichments {
namespace {

using testing::config_json;
using testing::config_of;

// Spec TV-12 (Snowplow AnonIpEnrichmentSpec): ip, anonOctets, anonSegments, result.
TEST(AnonIp, Tv12Golden) {
  struct Case {
    const char* ip;
    int octets;
    int segments;
    const char* expected;
  };
  const Case cases[] = {
      {"0.23.0.20", 1, 1, "0.23.0.x"},
      {"168.192.102.4", 2, 2, "168.192.x.x"},
      {"54.242.102.43", 3, 3, "54.x.x.x"},
      {"94.15.213.171", 4, 4, "x.x.x.x"},
      {"777.2", 1, 1, "777.2"},
      {"777.2.23", 4, 4, "x.x.x"},
      {"999.aaa.bbb.c", 3, 3, "999.x.x.x"},
      {"hello;goodbye", 3, 3, "hello;goodbye"},
      {"::1", 3, 3, "0:0:0:0:0:x:x:x"},
      {"", 4, 4, "x"},
      {"4b0c::880c:99a8:4b0:4411", 2, 2, "4b0c:0:0:0:880c:99a8:x:x"},
      {"2605:2700:0:3::4713:93e3", 4, 5, "2605:2700:0:x:x:x:x:x"},
      {"::FFFF:152.16.24.123", 2, 4, "::FFFF:152.16.x.x"},
      {"f334::40cb:152.16.24.142", 4, 2, "f334:0:0:0:0:40cb:x:x"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(anonymize_ip(c.ip, c.octets, c.segments), c.expected)
        << c.ip << " " << c.octets << "/" << c.segments;
  }
}

TEST(AnonIp, AppliesToUserIpAddressFromConfig) {
  auto e = make_anon_ip(config_of(config_json("com.snowplowanalytics.snowplow", "anon_ip", "1-0-1",
                                              R"({"anonOctets":2,"anonSegments":3})")),
                        {});
  ASSERT_TRUE(e.ok()) << e.error().message;
  testing::TestEvent t;
  t.ev[event::Field::user_ipaddress] = "54.242.102.43";
  (*e)->apply(t.ctx);
  EXPECT_EQ(t.ev[event::Field::user_ipaddress], "54.242.x.x");
  testing::TestEvent t6;
  t6.ev[event::Field::user_ipaddress] = "2001:db8::1";
  (*e)->apply(t6.ctx);
  EXPECT_EQ(t6.ev[event::Field::user_ipaddress], "2001:db8:0:0:0:x:x:x");
  testing::TestEvent none;
  (*e)->apply(none.ctx);
  EXPECT_EQ(none.ev[event::Field::user_ipaddress], "");
  EXPECT_TRUE(t.ctx.failures().empty());
}

TEST(AnonIp, ConfigErrorsNameTheKey) {
  auto missing = make_anon_ip(
      config_of(config_json("com.snowplowanalytics.snowplow", "anon_ip", "1-0-1", "{}")), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("test.json: key 'data.parameters.anonOctets'"),
            std::string::npos)
      << missing.error().message;
  auto range = make_anon_ip(config_of(config_json("com.snowplowanalytics.snowplow", "anon_ip",
                                                  "1-0-1", R"({"anonOctets":5})")),
                            {});
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.error().message.find("anonOctets"), std::string::npos);
  auto type = make_anon_ip(config_of(config_json("com.snowplowanalytics.snowplow", "anon_ip",
                                                 "1-0-1", R"({"anonOctets":"2"})")),
                           {});
  EXPECT_FALSE(type.ok());
  auto unknown = make_anon_ip(config_of(config_json("com.snowplowanalytics.snowplow", "anon_ip",
                                                    "1-0-1", R"({"anonOctets":2,"x":1})")),
                              {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("data.parameters.x"), std::string::npos);
}

}  // namespace
}  // namespace furrow::enrich::enrichments
