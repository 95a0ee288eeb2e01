// The no-validator fast paths for the contexts and unstruct_event columns against the DOM path:
// the fast path may decline an input, but whenever it accepts one its output must be the DOM
// path's output, byte for byte, with no message.
#include "enrich/sdj.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace furrow::enrich {
namespace {

constexpr int kDepth = 50;

struct Compared {
  bool fast = false;
  SdjResult dom;
  std::string column, event_schema;
};

Compared contexts(std::string_view json) {
  Compared c;
  c.fast = fast_contexts_column(json, kDepth, c.column);
  process_contexts(json, ValidationSettings{}, kDepth, c.dom, /*allow_fast=*/false);
  if (c.fast) {
    EXPECT_EQ(c.column, c.dom.column) << json;
    EXPECT_TRUE(c.dom.messages.empty()) << json;
  }
  return c;
}

Compared unstruct(std::string_view json) {
  Compared c;
  c.fast = fast_unstruct_column(json, kDepth, c.column, c.event_schema);
  process_unstruct(json, ValidationSettings{}, kDepth, c.dom, /*allow_fast=*/false);
  if (c.fast) {
    EXPECT_EQ(c.column, c.dom.column) << json;
    EXPECT_EQ(c.event_schema, c.dom.event_schema) << json;
    EXPECT_TRUE(c.dom.messages.empty()) << json;
  }
  return c;
}

std::string co(
    const std::string& entities,
    const char* schema = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0") {
  return std::string("{\"schema\":\"") + schema + "\",\"data\":[" + entities + "]}";
}

const std::string kWebPage =
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"a-b"}})";

TEST(SdjFastPath, TrackerContextsAreCopiedCompactly) {
  const auto c = contexts(co(kWebPage + "," + kWebPage));
  ASSERT_TRUE(c.fast);
  EXPECT_EQ(c.column,
            "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\","
            "\"data\":[" +
                kWebPage + "," + kWebPage + "]}");
  // Whitespace, extra members (dropped), every kind of value and UTF-8 text.
  const auto d = contexts(
      " { \"data\" : [ { \"data\" : { \"a\" : [ 1 , -2 , 0 , 12.99 , true , false , null ,"
      " { } , [ ] , \"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\" ] } , \"x\" : 1 , \"schema\" : "
      "\"iglu:com.acme/e/jsonschema/1-0-0\" } ] , \"schema\" : "
      "\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\" , \"other\":{\"k\":[]} "
      "}\n");
  EXPECT_TRUE(d.fast);
  // No entity: a null column either way.
  const auto e = contexts(co(""));
  EXPECT_TRUE(e.fast);
  EXPECT_TRUE(e.column.empty());
}

TEST(SdjFastPath, UnstructEventKeepsTheInnerSchema) {
  const auto u =
      unstruct(R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",)"
               R"("data":{"schema":"iglu:com.acme/add_to_cart/jsonschema/1-0-0",)"
               R"("data":{"sku":"x","quantity":2,"unitPrice":41.99,"currency":"GBP"}}})");
  ASSERT_TRUE(u.fast);
  EXPECT_EQ(u.event_schema, "iglu:com.acme/add_to_cart/jsonschema/1-0-0");
}

TEST(SdjFastPath, NumbersRapidJsonWouldRewriteAreDeclined) {
  // RapidJSON reads these as doubles (or -0 as 0) and writes them differently.
  for (const char* n : {"1.50", "1e2", "1E+2", "-0", "0.1e1", "12345678901234567890", "1.0e0",
                        "100000000000000000000000.0"}) {
    const auto c = contexts(
        co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":)") + n + "}"));
    EXPECT_FALSE(c.fast) << n;
  }
  // ... while these come back unchanged and are copied.
  for (const char* n : {"1.5", "0.001", "-3", "123456789012345678", "1.0", "49.99"}) {
    const auto c = contexts(
        co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":)") + n + "}"));
    EXPECT_TRUE(c.fast) << n;
  }
}

TEST(SdjFastPath, DeclinesEverythingThatNeedsTheDomPath) {
  const std::vector<std::string> inputs = {
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":"a\"b"})"),  // escape
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":"\u00e9"})"),
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0"})"),         // no data
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0","data":1})"),  // bad SchemaVer
      co(R"({"schema":1,"data":1})"),
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":1,"data":2})"),  // duplicate
      co("1"),                                                                   // not an object
      co(kWebPage, "iglu:com.acme/contexts/jsonschema/1-0-0"),                   // criterion
      co(kWebPage) + "x",
      co(kWebPage).substr(0, 30),
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":{}})",
      co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":")") + "\xC3\x28" +
         "\"}"),  // invalid UTF-8
      co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":")") + "\xED\xA0\x80" +
         "\"}"),  // encoded surrogate
      co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":")") + "\x01" + "\"}"),
      co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":)") +
         std::string(60, '[') + std::string(60, ']') + "}"),  // too deep
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":01})"),
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":tru})"),
      "",
  };
  for (const auto& in : inputs) {
    EXPECT_FALSE(contexts(in).fast) << in;
    EXPECT_FALSE(unstruct(in).fast) << in;
  }
}

TEST(SdjFastPath, NestingAtTheLimitIsLeftToTheDomPath) {
  for (int depth = 40; depth <= 52; ++depth) {
    const std::string data = std::string(static_cast<std::size_t>(depth), '[') +
                             std::string(static_cast<std::size_t>(depth), ']');
    contexts(co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":)") + data +
                "}"));  // the helper checks agreement whenever the fast path accepts
  }
}

}  // namespace
}  // namespace furrow::enrich
