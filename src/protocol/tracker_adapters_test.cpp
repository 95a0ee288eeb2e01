#include <gtest/gtest.h>

#include <string>

#include "common/base64.h"
#include "protocol/adapter.h"

namespace furrow::protocol {
namespace {

using event::CollectorPayload;
using event::RawEvent;

constexpr std::string_view kPd = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/";

CollectorPayload post(std::string body,
                      std::optional<std::string> ct = std::string("application/json"),
                      std::optional<std::string> qs = std::nullopt,
                      std::string path = "/com.snowplowanalytics.snowplow/tp2") {
  CollectorPayload c;
  c.timestamp = 1700000000000;
  c.encoding = "UTF-8";
  c.collector = "ssc-3.4.0-stdout";
  c.path = std::move(path);
  c.body = std::move(body);
  c.content_type = std::move(ct);
  c.querystring = std::move(qs);
  c.ip_address = "10.0.0.1";
  return c;
}

std::string envelope(std::string_view version, std::string_view data) {
  return "{\"schema\":\"" + std::string(kPd) + std::string(version) +
         "\",\"data\":" + std::string(data) + "}";
}

struct Outcome {
  bool ok = false;
  std::vector<RawEvent> events;
  AdapterError error;
};

Outcome run(const CollectorPayload& c) {
  Outcome o;
  o.ok = adapt(c, "thrift", o.events, o.error);
  return o;
}

std::string param(const RawEvent& e, std::string_view name) {
  const std::string* v = e.parameters.get(name);
  return v ? *v : std::string("<absent>");
}

TEST(Tp2Post, BatchBecomesOneEventPerElementWithQueryOverride) {
  auto o = run(post(envelope("1-0-4",
                             "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"js-3.5.0\",\"aid\":\"a\","
                             "\"url\":\"http://x/\\u00e9\"},"
                             "{\"e\":\"pp\",\"p\":\"web\",\"tv\":\"js-3.5.0\",\"ttm\":\"1\"}]"),
                    "application/json; charset=utf-8", "aid=override&nuid=n"));
  ASSERT_TRUE(o.ok) << (o.error.messages_json.empty() ? "" : o.error.messages_json[0]);
  ASSERT_EQ(o.events.size(), 2u);
  EXPECT_EQ(param(o.events[0], "e"), "pv");
  EXPECT_EQ(param(o.events[0], "aid"), "override");  // TV-22: the query string wins
  EXPECT_EQ(param(o.events[0], "url"), "http://x/\xC3\xA9");
  EXPECT_EQ(param(o.events[1], "aid"), "override");
  EXPECT_EQ(param(o.events[1], "nuid"), "n");
  EXPECT_EQ(param(o.events[1], "ttm"), "1");
  EXPECT_EQ(o.events[0].parameters.items()[0].name, "e");
  EXPECT_EQ(o.events[0].content_type, "application/json; charset=utf-8");
  EXPECT_EQ(o.events[1].version, "tp2");
}

TEST(Tp2Post, Tv22IntegerValueIsAValidationError) {
  auto o = run(post(envelope(
      "1-0-4", "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"js-3.5.0\",\"dtm\":1665398554084}]")));
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.kind, AdapterError::Kind::kTrackerProtocol);
  EXPECT_EQ(o.error.vendor, "com.snowplowanalytics.snowplow");
  EXPECT_EQ(o.error.version, "tp2");
  ASSERT_EQ(o.error.messages_json.size(), 1u);
  EXPECT_EQ(o.error.messages_json[0],
            "{\"schemaKey\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/"
            "1-0-4\",\"error\":{\"error\":"
            "\"ValidationError\",\"dataReports\":[{\"message\":\"$[0].dtm: integer found, string "
            "expected\",\"path\":"
            "\"$[0].dtm\",\"keyword\":\"type\",\"targets\":[\"integer\",\"string\"]}]}}");
}

TEST(Tp2Post, Tv22ClosedKeySetPerVersion) {
  auto cv =
      run(post(envelope("1-0-4", "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"x\",\"cv\":\"foo\"}]")));
  ASSERT_FALSE(cv.ok);
  EXPECT_NE(
      cv.error.messages_json[0].find("\"keyword\":\"additionalProperties\",\"targets\":[\"cv\"]"),
      std::string::npos)
      << cv.error.messages_json[0];
  // ttm arrived in 1-0-4, stm/sid in 1-0-3, tnuid in 1-0-2, ua in 1-0-1.
  const std::string ev = "{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"x\",";
  EXPECT_TRUE(run(post(envelope("1-0-4", "[" + ev + "\"ttm\":\"1\"}]"))).ok);
  EXPECT_FALSE(run(post(envelope("1-0-3", "[" + ev + "\"ttm\":\"1\"}]"))).ok);
  EXPECT_TRUE(run(post(envelope("1-0-3", "[" + ev + "\"stm\":\"1\",\"sid\":\"s\"}]"))).ok);
  EXPECT_FALSE(run(post(envelope("1-0-2", "[" + ev + "\"stm\":\"1\"}]"))).ok);
  EXPECT_TRUE(run(post(envelope("1-0-2", "[" + ev + "\"tnuid\":\"t\"}]"))).ok);
  EXPECT_FALSE(run(post(envelope("1-0-1", "[" + ev + "\"tnuid\":\"t\"}]"))).ok);
  EXPECT_TRUE(run(post(envelope("1-0-1", "[" + ev + "\"ua\":\"u\"}]"))).ok);
  EXPECT_FALSE(run(post(envelope("1-0-0", "[" + ev + "\"ua\":\"u\"}]"))).ok);
  EXPECT_TRUE(run(post(envelope("1-0-0", "[" + ev + "\"ue_px\":\"eA\"}]"))).ok);
}

TEST(Tp2Post, Tv22MinItemsRequiredAndShapes) {
  auto empty = run(post(envelope("1-0-4", "[]")));
  ASSERT_FALSE(empty.ok);
  EXPECT_NE(empty.error.messages_json[0].find("{\"message\":\"$: there must be a minimum of 1 "
                                              "items in the array\",\"path\":\"$\",\"keyword\":"
                                              "\"minItems\",\"targets\":[\"1\"]}"),
            std::string::npos);
  auto missing = run(post(envelope("1-0-4", "[{\"e\":\"pv\"}]")));
  ASSERT_FALSE(missing.ok);
  EXPECT_NE(missing.error.messages_json[0].find("$[0].tv: is missing but it is required"),
            std::string::npos);
  EXPECT_NE(missing.error.messages_json[0].find("$[0].p: is missing but it is required"),
            std::string::npos);
  auto null_value = run(post(envelope("1-0-4", "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":null}]")));
  ASSERT_FALSE(null_value.ok);
  EXPECT_NE(null_value.error.messages_json[0].find("$[0].tv: null found, string expected"),
            std::string::npos);
  auto not_array = run(post(envelope("1-0-4", "{\"e\":\"pv\"}")));
  ASSERT_FALSE(not_array.ok);
  EXPECT_NE(not_array.error.messages_json[0].find("$: object found, array expected"),
            std::string::npos);
  auto not_object = run(post(envelope("1-0-4", "[\"pv\"]")));
  ASSERT_FALSE(not_object.ok);
  EXPECT_NE(not_object.error.messages_json[0].find("$[0]: string found, object expected"),
            std::string::npos);
}

TEST(Tp2Post, ContentTypeAndBodyChecks) {
  const std::string body = envelope("1-0-4", "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"x\"}]");
  auto text = run(post(body, std::string("text/plain")));
  ASSERT_FALSE(text.ok);
  EXPECT_EQ(
      text.error.messages_json,
      std::vector<std::string>{
          "{\"field\":\"contentType\",\"value\":\"text/plain\",\"expectation\":\"expected one "
          "of application/json, application/json; charset=utf-8, application/json; "
          "charset=UTF-8\"}"});
  EXPECT_TRUE(run(post(body, std::string("application/json; charset=UTF-8"))).ok);
  EXPECT_FALSE(run(post(body, std::string("Application/JSON"))).ok);  // exact comparison

  auto no_ct = run(post(body, std::nullopt));
  ASSERT_FALSE(no_ct.ok);
  EXPECT_NE(no_ct.error.messages_json[0].find("\"field\":\"contentType\",\"value\":null"),
            std::string::npos);

  auto nothing = post(body);
  nothing.body.reset();
  nothing.content_type.reset();
  auto o = run(nothing);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.messages_json,
            (std::vector<std::string>{"{\"field\":\"body\",\"value\":null,\"expectation\":\"empty "
                                      "body: not a valid tracker protocol event\"}",
                                      "{\"field\":\"querystring\",\"value\":null,\"expectation\":"
                                      "\"empty querystring: not a valid tracker "
                                      "protocol event\"}"}));

  auto ct_only = post(body);
  ct_only.body.reset();
  ct_only.querystring = "e=pv";
  o = run(ct_only);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.messages_json[0],
            "{\"field\":\"body\",\"value\":null,\"expectation\":\"empty body: not a valid track "
            "protocol event\"}");
}

TEST(Tp2Post, NotJsonNotIgluAndCriterion) {
  auto o = run(post("{\"schema\":"));
  ASSERT_FALSE(o.ok);
  EXPECT_NE(o.error.messages_json[0].find(
                "{\"field\":\"body\",\"value\":\"{\\\"schema\\\":\",\"error\":\"invalid json:"),
            std::string::npos)
      << o.error.messages_json[0];

  o = run(post("{\"data\":[], \"x\": 1.50}"));
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.messages_json[0],
            "{\"json\":{\"data\":[],\"x\":1.50},\"error\":\"INVALID_DATA_PAYLOAD\"}");

  o = run(post("{\"schema\":\"iglu:com.acme/x/jsonschema/1-0\",\"data\":[]}"));
  ASSERT_FALSE(o.ok);
  EXPECT_NE(o.error.messages_json[0].find("\"error\":\"INVALID_SCHEMAVER\""), std::string::npos);
  o = run(post("{\"schema\":\"com.acme/x/jsonschema/1-0-0\",\"data\":[]}"));
  ASSERT_FALSE(o.ok);
  EXPECT_NE(o.error.messages_json[0].find("\"error\":\"INVALID_IGLUURI\""), std::string::npos);

  o = run(post("{\"schema\":\"iglu:com.acme/payload/jsonschema/1-0-0\",\"data\":[]}"));
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(
      o.error.messages_json[0],
      "{\"schemaKey\":\"iglu:com.acme/payload/jsonschema/1-0-0\",\"schemaCriterion\":\"iglu:com."
      "snowplowanalytics.snowplow/payload_data/jsonschema/1-0-*\"}");

  o = run(post(envelope("1-0-9", "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"x\"}]")));
  ASSERT_FALSE(o.ok);
  EXPECT_NE(o.error.messages_json[0].find("\"error\":{\"error\":\"ResolutionError\""),
            std::string::npos);
}

TEST(Tp2Post, DepthLimitAndInvalidUtf8) {
  std::string deep = envelope("1-0-4", "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"x\"}]");
  std::string nested(200, '[');
  auto o = run(post("{\"schema\":\"x\",\"data\":" + nested + "}"));
  ASSERT_FALSE(o.ok);
  EXPECT_NE(o.error.messages_json[0].find("maximum allowed JSON depth"), std::string::npos);
  // Invalid UTF-8 in a value is read as U+FFFD, like Java reading the body as a String.
  o = run(post(envelope("1-0-4", "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"a\xff\"}]")));
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(param(o.events[0], "tv"), "a\xEF\xBF\xBD");
}

TEST(Redirect, Tv14WithoutEventBecomesUnstruct) {
  CollectorPayload c =
      post("", std::nullopt, "u=https%3A%2F%2Fgithub.com%2Fsnowplow%2Fsnowplow&cx=dGVzdHRlc3R0ZXN0",
           "/r/tp2");
  c.body.reset();
  auto o = run(c);
  ASSERT_TRUE(o.ok);
  const RawEvent& e = o.events[0];
  EXPECT_EQ(e.vendor, "r");
  EXPECT_EQ(e.version, "tp2");
  EXPECT_EQ(param(e, "e"), "ue");
  EXPECT_EQ(param(e, "tv"), "r-tp2");
  EXPECT_EQ(param(e, "p"), "web");
  EXPECT_EQ(param(e, "cx"), "dGVzdHRlc3R0ZXN0");
  EXPECT_FALSE(e.parameters.contains("u"));
  EXPECT_EQ(param(e, "ue_pr"),
            "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/"
            "1-0-0\",\"data\":{\"schema\":"
            "\"iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/"
            "1-0-0\",\"data\":{\"uri\":\"https://"
            "github.com/snowplow/snowplow\"}}}");
  EXPECT_EQ(e.parameters.size(), 5u);
}

TEST(Redirect, Tv14WithEventAddsContext) {
  CollectorPayload c = post(
      "", std::nullopt, "u=https%3A%2F%2Fgithub.com%2Fsnowplow%2Fsnowplow&e=se&aid=ads", "/r/tp2");
  c.body.reset();
  auto o = run(c);
  ASSERT_TRUE(o.ok);
  const RawEvent& e = o.events[0];
  EXPECT_EQ(param(e, "e"), "se");
  EXPECT_EQ(param(e, "aid"), "ads");
  EXPECT_EQ(param(e, "tv"), "r-tp2");
  EXPECT_EQ(param(e, "p"), "web");
  EXPECT_EQ(param(e, "co"),
            "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/"
            "1-0-1\",\"data\":[{\"schema\":\"iglu:"
            "com.snowplowanalytics.snowplow/uri_redirect/jsonschema/"
            "1-0-0\",\"data\":{\"uri\":\"https://github.com/"
            "snowplow/snowplow\"}}]}");
}

TEST(Redirect, PrependsToExistingCoAndCx) {
  const std::string existing =
      "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/"
      "1-0-0\",\"data\":[{\"schema\":\"iglu:com."
      "acme/c/jsonschema/1-0-0\",\"data\":{\"n\":1.0}}]}";
  const std::string entity =
      "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/"
      "1-0-0\",\"data\":{\"uri\":\"http://"
      "a/\"}}";
  const std::string merged =
      "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":[" +
      entity + ",{\"schema\":\"iglu:com.acme/c/jsonschema/1-0-0\",\"data\":{\"n\":1.0}}]}";
  CollectorPayload c =
      post("", std::nullopt,
           "u=http%3A%2F%2Fa%2F&e=pv&co=" +
               std::string(
                   "%7B%22schema%22%3A%22iglu%3Acom.snowplowanalytics.snowplow%2Fcontexts%"
                   "2Fjsonschema%2F1-0-0%22%2C%22data%22%3A%5B%7B%22schema%22%3A%22iglu%3Acom.acme%"
                   "2Fc%2Fjsonschema%2F1-0-0%22%2C%22data%22%3A%7B%22n%22%3A1.0%7D%7D%5D%7D"),
           "/r/tp2");
  c.body.reset();
  auto o = run(c);
  ASSERT_TRUE(o.ok) << o.error.messages_json[0];
  EXPECT_EQ(param(o.events[0], "co"), merged);

  c.querystring = "u=http%3A%2F%2Fa%2F&e=pv&cx=" + common::base64url_encode(existing);
  o = run(c);
  ASSERT_TRUE(o.ok);
  std::string decoded;
  ASSERT_TRUE(common::base64_decode(param(o.events[0], "cx"), decoded));
  EXPECT_EQ(decoded, merged);
  EXPECT_EQ(param(o.events[0], "cx").find('='), std::string::npos);  // URL-safe, unpadded

  c.querystring = "u=http%3A%2F%2Fa%2F&e=pv&co=notjson";
  o = run(c);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.kind, AdapterError::Kind::kTrackerProtocol);
  EXPECT_NE(o.error.messages_json[0].find(
                "{\"field\":\"co|cx\",\"value\":\"notjson\",\"error\":\"invalid json"),
            std::string::npos);
}

TEST(Redirect, MissingU) {
  CollectorPayload c = post("", std::nullopt, "e=pv&x", "/r/tp2");
  c.body.reset();
  auto o = run(c);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.kind, AdapterError::Kind::kTrackerProtocol);
  EXPECT_EQ(o.error.vendor, "r");
  EXPECT_EQ(o.error.messages_json[0],
            "{\"field\":\"querystring\",\"value\":\"e=pv&x=null\",\"expectation\":\"missing `u` "
            "parameter: not a valid "
            "URI redirect\"}");
  c.querystring.reset();
  o = run(c);
  ASSERT_FALSE(o.ok);
  EXPECT_NE(o.error.messages_json[0].find("empty querystring: not a valid URI redirect"),
            std::string::npos);
}

TEST(IgluWebhook, GetWithSchemaBecomesUnstructEvent) {
  CollectorPayload c = post(
      "", std::nullopt,
      "schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F1-0-1&name=spring&aid=app1&p=mob&url=u&n",
      "/com.snowplowanalytics.iglu/v1");
  c.body.reset();
  auto o = run(c);
  ASSERT_TRUE(o.ok) << o.error.messages_json[0];
  const RawEvent& e = o.events[0];
  EXPECT_EQ(param(e, "e"), "ue");
  EXPECT_EQ(param(e, "tv"), "com.snowplowanalytics.iglu-v1");
  EXPECT_EQ(param(e, "p"), "mob");
  EXPECT_EQ(param(e, "aid"), "app1");
  EXPECT_EQ(param(e, "url"), "u");
  EXPECT_EQ(param(e, "ue_pr"),
            "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/"
            "1-0-0\",\"data\":{\"schema\":"
            "\"iglu:com.acme/campaign/jsonschema/"
            "1-0-1\",\"data\":{\"name\":\"spring\",\"url\":\"u\",\"n\":null}}}");
  EXPECT_FALSE(e.parameters.contains("schema"));
  EXPECT_FALSE(e.parameters.contains("name"));
}

TEST(IgluWebhook, PostBodies) {
  const std::string path = "/com.snowplowanalytics.iglu/v1";
  const std::string qs = "schema=iglu%3Acom.acme%2Fe%2Fjsonschema%2F1-0-0";
  auto o = run(post("[{\"a\":1},{\"b\":[true]}]", std::string("application/json"), qs, path));
  ASSERT_TRUE(o.ok);
  ASSERT_EQ(o.events.size(), 2u);
  EXPECT_NE(param(o.events[1], "ue_pr").find("\"data\":{\"b\":[true]}}}"), std::string::npos);
  EXPECT_EQ(param(o.events[0], "p"), "app");

  o = run(post("a=1&b=x+y", std::string("application/x-www-form-urlencoded"), qs, path));
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(param(o.events[0], "p"), "srv");
  EXPECT_NE(param(o.events[0], "ue_pr").find("\"data\":{\"a\":\"1\",\"b\":\"x y\"}}}"),
            std::string::npos);

  o = run(post("{\"schema\":\"iglu:com.acme/e/jsonschema/1-0-0\",\"data\":{\"k\":\"v\"}}",
               std::string("application/json"), std::nullopt, path));
  ASSERT_TRUE(o.ok) << o.error.messages_json[0];
  EXPECT_EQ(param(o.events[0], "ue_pr"),
            "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/"
            "1-0-0\",\"data\":{\"schema\":"
            "\"iglu:com.acme/e/jsonschema/1-0-0\",\"data\":{\"k\":\"v\"}}}");

  o = run(post("[]", std::string("application/json"), qs, path));
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.kind, AdapterError::Kind::kAdapter);
  EXPECT_NE(o.error.messages_json[0].find("empty array of events"), std::string::npos);
  o = run(post("{}", std::string("application/json"), qs, path));
  ASSERT_FALSE(o.ok);
  EXPECT_NE(o.error.messages_json[0].find("has no key-value pairs"), std::string::npos);
  o = run(post("x", std::string("text/plain"), qs, path));
  ASSERT_FALSE(o.ok);
  EXPECT_NE(o.error.messages_json[0].find("\"field\":\"contentType\",\"value\":\"text/plain\""),
            std::string::npos);
  o = run(post("{\"data\":{}}", std::string("application/json"), std::nullopt, path));
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.messages_json[0],
            "{\"json\":{\"data\":{}},\"error\":\"INVALID_DATA_PAYLOAD\"}");
  CollectorPayload bad_schema = post("", std::nullopt, "schema=nope", path);
  bad_schema.body.reset();
  o = run(bad_schema);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.messages_json[0],
            "{\"field\":\"schema\",\"value\":\"nope\",\"expectation\":\"INVALID_IGLUURI\"}");
  CollectorPayload nothing = post("", std::nullopt, std::nullopt, path);
  nothing.body.reset();
  o = run(nothing);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.messages_json.size(), 2u);
}

}  // namespace
}  // namespace furrow::protocol
