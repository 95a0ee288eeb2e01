#include "protocol/log_lines.h"

#include <gtest/gtest.h>

#include <string>

#include "protocol/adapter.h"

namespace furrow::protocol {
namespace {

using event::CollectorPayload;

std::string join(std::initializer_list<std::string_view> fields, char sep = '\t') {
  std::string out;
  for (auto f : fields) {
    if (!out.empty()) out.push_back(sep);
    out.append(f);
  }
  return out;
}

constexpr std::string_view kIphoneUa =
    "Mozilla/5.0%20(iPhone;%20CPU%20iPhone%20OS%205_1_1%20like%20Mac%20OS%20X)%20AppleWebKit/"
    "534.46%20(KHTML,%20like%"
    "20Gecko)%20Version/5.1%20Mobile/9B206%20Safari/7534.48.3";

TEST(CloudFront, Tv03OriginalEraLine) {
  std::string line = join(
      {"2012-05-24", "00:06:42", "LHR5", "3402", "128.232.0.0", "GET",
       "d3gs014xn8p70.cloudfront.net", "/ice.png", "200",
       "http://www.psychicbazaar.com/crystals/335-howlite-tumble-stone.html?view=print%23detail%",
       kIphoneUa,
       "e=pv&page=Psychic%2520Bazaar%2509Shop&tz=Europe%252FLondon&refr=http%253A%252F%252Fwww."
       "google.com"
       "%252Fsearch%253Fq%253Dgateway%252Boracle&cv=clj-0.5.0-tom-0.0.4"});
  CollectorPayload c;
  std::string error;
  ASSERT_EQ(parse_cloudfront_line(line, c, error), LineResult::kPayload) << error;
  EXPECT_EQ(c.collector, "cloudfront");
  EXPECT_EQ(c.timestamp, 1337818002000);
  EXPECT_EQ(c.path, "/ice.png");
  EXPECT_EQ(c.ip_address, "128.232.0.0");
  EXPECT_EQ(c.user_agent, kIphoneUa);  // stays percent-encoded
  EXPECT_EQ(
      c.referer_uri,
      "http://www.psychicbazaar.com/crystals/335-howlite-tumble-stone.html?view=print%23detail");
  EXPECT_EQ(c.querystring,
            "e=pv&page=Psychic%20Bazaar%09Shop&tz=Europe%2FLondon&refr=http%3A%2F%2Fwww.google.com%"
            "2Fsearch%3Fq%3D"
            "gateway%2Boracle&cv=clj-0.5.0-tom-0.0.4");
  EXPECT_FALSE(c.headers.has_value());
  EXPECT_FALSE(c.network_user_id.has_value());

  std::vector<event::RawEvent> events;
  AdapterError ae;
  ASSERT_TRUE(adapt(c, "cloudfront", events, ae));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].version, "tp1");
  EXPECT_EQ(events[0].loader_name, "cloudfront");
  EXPECT_EQ(*events[0].parameters.get("page"), "Psychic Bazaar\tShop");
  EXPECT_EQ(*events[0].parameters.get("refr"), "http://www.google.com/search?q=gateway+oracle");
  EXPECT_EQ(*events[0].parameters.get("cv"), "clj-0.5.0-tom-0.0.4");
}

TEST(CloudFront, LaterErasAndForwardedFor) {
  // 01 Jul 2014 era: 23 fields plus two unknown trailing ones, x-forwarded-for is field 20.
  std::string line = join({"2014-07-01",
                           "12:00:00.5",
                           "SFO4",
                           "480",
                           "10.0.0.1",
                           "get",
                           "x.cloudfront.net",
                           "/i",
                           "200",
                           "-",
                           "curl/7.1",
                           "e=pv&tv=no-js-0.1.0",
                           "-",
                           "Hit",
                           "abc==",
                           "x.cloudfront.net",
                           "https",
                           "200",
                           "0.001",
                           "203.0.113.7,%2010.0.0.2",
                           "TLSv1.2",
                           "ECDHE",
                           "Hit",
                           "extra1",
                           "extra2"});
  CollectorPayload c;
  std::string error;
  ASSERT_EQ(parse_cloudfront_line(line, c, error), LineResult::kPayload) << error;
  EXPECT_EQ(c.timestamp, 1404216000500);
  EXPECT_EQ(c.ip_address, "203.0.113.7");
  EXPECT_FALSE(c.referer_uri.has_value());
  EXPECT_EQ(c.user_agent, "curl/7.1");

  // 12 Sep 2012 (15 fields), 21 Oct 2013 (18), 29 Apr 2014 (19): all accepted; c-ip used.
  std::string base = join(
      {"2013-01-01", "00:00:00", "X", "1", "1.2.3.4", "GET", "h", "/i", "200", "-", "ua", "e=pv"});
  for (std::string extra :
       {"\t-\tHit\tid", "\t-\tHit\tid\th\thttp\t1", "\t-\tHit\tid\th\thttp\t1\t0.1"}) {
    ASSERT_EQ(parse_cloudfront_line(base + extra, c, error), LineResult::kPayload) << extra;
    EXPECT_EQ(c.ip_address, "1.2.3.4");
  }
  // 13, 20 fields match no era.
  EXPECT_EQ(parse_cloudfront_line(base + "\tx", c, error), LineResult::kInvalid);
  EXPECT_EQ(error, "does not match header or data row formats");
  EXPECT_EQ(parse_cloudfront_line(base + "\t-\tHit\tid\th\thttp\t1\t0.1\tx", c, error),
            LineResult::kInvalid);
  EXPECT_EQ(parse_cloudfront_line(base + "\r\n", c, error), LineResult::kPayload);
}

TEST(CloudFront, HeadersSkippedAndBadLinesExplained) {
  CollectorPayload c;
  std::string error;
  EXPECT_EQ(parse_cloudfront_line("#Version: 1.0", c, error), LineResult::kSkip);
  EXPECT_EQ(parse_cloudfront_line("#Fields: date time x-edge-location", c, error),
            LineResult::kSkip);
  EXPECT_EQ(parse_cloudfront_line("", c, error), LineResult::kSkip);
  EXPECT_EQ(parse_cloudfront_line("   \t", c, error), LineResult::kSkip);
  std::string post = join(
      {"2013-01-01", "00:00:00", "X", "1", "1.2.3.4", "POST", "h", "/i", "200", "-", "ua", "e=pv"});
  EXPECT_EQ(parse_cloudfront_line(post, c, error), LineResult::kInvalid);
  EXPECT_EQ(error, "operation must be GET (verb: POST)");
  std::string bad_date = join(
      {"2013-02-30", "00:00:00", "X", "1", "1.2.3.4", "GET", "h", "/i", "200", "-", "ua", "e=pv"});
  EXPECT_EQ(parse_cloudfront_line(bad_date, c, error), LineResult::kInvalid);
  EXPECT_NE(error.find("could not convert timestamp"), std::string::npos);
  EXPECT_EQ(parse_cloudfront_line("garbage", c, error), LineResult::kInvalid);
}

TEST(Tomcat, Tv09GetLineWithValveParameters) {
  std::string line =
      join({"2013-10-07", "19:47:54", "-", "37", "255.255.255.255", "GET", "255.255.255.255", "/i",
            "200", "https://www.google.co.uk/", "Mozilla%2F5.0+%28Windows+NT+6.1%29",
            "tnuid=a3923850-5a06-11e4-8ed6-0800200c9a66&e=pv&refr=https%3A%2F%2Fwww.google.co.uk%"
            "2Furl%3Fsa"
            "%3Dt&cv=clj-1.1.0-tom-0.2.0&nuid=b2923850-5a06-11e4-8ed6-0800200c9a66",
            "-", "-", "-", "-", "-"});
  CollectorPayload c;
  std::string error;
  ASSERT_EQ(parse_tomcat_line(line, c, error), LineResult::kPayload) << error;
  EXPECT_EQ(c.collector, "clj-tomcat");
  EXPECT_EQ(c.timestamp, 1381175274000);
  EXPECT_EQ(c.ip_address, "255.255.255.255");
  EXPECT_EQ(c.referer_uri, "https://www.google.co.uk/");
  EXPECT_EQ(c.user_agent, "Mozilla%2F5.0+%28Windows+NT+6.1%29");
  EXPECT_FALSE(c.body.has_value());
  EXPECT_FALSE(c.content_type.has_value());
  std::vector<event::RawEvent> events;
  AdapterError ae;
  ASSERT_TRUE(adapt(c, "clj-tomcat", events, ae));
  EXPECT_EQ(*events[0].parameters.get("tnuid"), "a3923850-5a06-11e4-8ed6-0800200c9a66");
  EXPECT_EQ(*events[0].parameters.get("nuid"), "b2923850-5a06-11e4-8ed6-0800200c9a66");
  EXPECT_EQ(*events[0].parameters.get("cv"), "clj-1.1.0-tom-0.2.0");
  EXPECT_EQ(*events[0].parameters.get("refr"), "https://www.google.co.uk/url?sa=t");

  // Pre-0.7 lines end after the query string.
  std::string old_line = join(
      {"2013-10-07", "19:47:54", "-", "37", "1.1.1.1", "GET", "h", "/i", "200", "-", "-", "e=pv"});
  ASSERT_EQ(parse_tomcat_line(old_line, c, error), LineResult::kPayload);
  EXPECT_FALSE(c.user_agent.has_value());
}

TEST(Tomcat, PostLineWithContentTypeAndBase64UrlBody) {
  std::string line = join({"2014-11-20", "10:00:00", "-", "2", "10.0.0.9", "POST", "c.example.com",
                           "/com.snowplowanalytics.snowplow/tp2", "200", "-", "Java%2F1.8",
                           "cv=clj-1.1.0-tom-0.2.0&nuid=b2923850-5a06-11e4-8ed6-0800200c9a66", "-",
                           "-", "-", "application%2Fjson%3B+charset%3Dutf-8",
                           "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9wYXlsb2F"
                           "kX2RhdGEvanNvbnNjaGVtYS8xLTAtNCIsImRhdGEi"
                           "Olt7ImUiOiJwdiIsInAiOiJ3ZWIiLCJ0diI6ImpzLTMuNS4wIn1dfQ"});
  CollectorPayload c;
  std::string error;
  ASSERT_EQ(parse_tomcat_line(line, c, error), LineResult::kPayload) << error;
  EXPECT_EQ(c.content_type, "application/json; charset=utf-8");
  ASSERT_TRUE(c.body.has_value());
  EXPECT_EQ(c.body->substr(0, 10), "{\"schema\":");
  std::vector<event::RawEvent> events;
  AdapterError ae;
  ASSERT_TRUE(adapt(c, "clj-tomcat", events, ae)) << ae.messages_json[0];
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(*events[0].parameters.get("e"), "pv");
  EXPECT_EQ(*events[0].parameters.get("cv"),
            "clj-1.1.0-tom-0.2.0");  // query merged into the POSTed event

  // A body on a GET line is rejected; a content type without body is not.
  std::string get_with_body = line;
  get_with_body.replace(get_with_body.find("POST"), 4, "GET");
  EXPECT_EQ(parse_tomcat_line(get_with_body, c, error), LineResult::kInvalid);
  EXPECT_NE(error.find("operation must be POST"), std::string::npos);
  std::string ct_only = join({"2014-11-20", "10:00:00", "-", "2", "10.0.0.9", "GET", "h", "/i",
                              "200", "-", "-", "e=pv", "text%2Fplain", "-"});
  ASSERT_EQ(parse_tomcat_line(ct_only, c, error), LineResult::kPayload);
  EXPECT_EQ(c.content_type, "text/plain");
  EXPECT_FALSE(c.body.has_value());
}

TEST(Tomcat, MalformedLines) {
  CollectorPayload c;
  std::string error;
  EXPECT_EQ(parse_tomcat_line("", c, error), LineResult::kSkip);
  EXPECT_EQ(parse_tomcat_line("a\tb\tc", c, error), LineResult::kInvalid);
  EXPECT_EQ(error, "does not match the raw event format");
  // The third field must be '-'.
  EXPECT_EQ(parse_tomcat_line(join({"2014-11-20", "10:00:00", "X", "2", "1.1.1.1", "GET", "h", "/i",
                                    "200", "-", "-", "e=pv"}),
                              c, error),
            LineResult::kInvalid);
  // Bad percent escape in the content type, bad base64 body.
  std::string base = join(
      {"2014-11-20", "10:00:00", "-", "2", "1.1.1.1", "POST", "h", "/i", "200", "-", "-", "e=pv"});
  EXPECT_EQ(parse_tomcat_line(base + "\tapplication%2\tabc", c, error), LineResult::kInvalid);
  EXPECT_EQ(parse_tomcat_line(base + "\ttext%2Fplain\t!!!", c, error), LineResult::kInvalid);
  EXPECT_EQ(parse_tomcat_line(join({"2014-11-20", "25:00:00", "-", "2", "1.1.1.1", "GET", "h", "/i",
                                    "200", "-", "-", "e=pv"}),
                              c, error),
            LineResult::kInvalid);
}

}  // namespace
}  // namespace furrow::protocol
