#include "iglu/json_schema.h"

#include <gtest/gtest.h>

namespace furrow::iglu {
namespace {

rapidjson::Document parse(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

TEST(CompiledSchema, RejectsSelfReferenceThatNeverConsumesData) {
  for (
      const char* s : {
          R"({"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},"$ref":"#/definitions/a"})",
          R"({"$ref":"#"})",
          R"({"definitions":{"a":{"allOf":[{"$ref":"#/definitions/a"}]}},"properties":{"x":{"$ref":"#/definitions/a"}}})",
          R"({"id":"http://x.example/s","not":{"$ref":"http://x.example/s"}})",
          // A relative document name is ignored by valijson: these point at the root itself or at
          // each other in this document (found by the iglu_validate fuzz target).
          R"({"$ref":"definitions/a"})",
          R"({"definitions":{"a":{"$ref":"x#/definitions/b"},"b":{"$ref":"#/definitions/a"}},"$ref":"y#/definitions/a"})",
      }) {
    auto c = CompiledSchema::compile_text(s);
    ASSERT_FALSE(c) << s;
    EXPECT_NE(c.error().message.find("circular $ref"), std::string::npos) << c.error().message;
  }
}

// Two members of one schema object with the same name: valijson reads one of them, and the fast
// checker declines the schema so that is_valid and validate agree (found by the iglu_validate
// fuzz target).
TEST(CompiledSchema, DuplicateKeywordsGiveOneVerdict) {
  for (
      const char* s : {
          R"({"type":"object","properties":{"sku":{"type":"string","pattern":"^[A-Z]+$ng","pattern":"^[A-Z]+$"}}})",
          R"({"type":"object","properties":{"sku":{"type":"string","pattern":"^[A-Z]+$","pattern":"^[A-Z]+$ng"}}})",
          R"({"type":"object","properties":{"sku":{"maxLength":1},"sku":{"maxLength":4}}})",
          R"({"type":"object","properties":{"sku":{"maxLength":4},"sku":{"maxLength":1}}})",
      }) {
    auto c = CompiledSchema::compile_text(s);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_FALSE((*c)->has_fast_path()) << s;
    for (const char* d : {R"({"sku":"AB"})", R"({"sku":"ABCDE"})", R"({"sku":"A"})"}) {
      const auto doc = parse(d);
      EXPECT_EQ((*c)->is_valid(doc), (*c)->validate(doc).empty()) << s << " on " << d;
    }
  }
}

TEST(CompiledSchema, AcceptsRecursionThroughTheData) {
  auto c = CompiledSchema::compile_text(
      R"({"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#"}}},)"
      R"("additionalProperties":false})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE((*c)->is_valid(parse(R"({"value":1,"children":[{"value":2,"children":[]}]})")));
  auto bad = parse(R"({"value":1,"children":[{"value":"x"}]})");
  EXPECT_FALSE((*c)->is_valid(bad));
  auto reports = (*c)->validate(bad);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].path, "$.children[0].value");
  EXPECT_EQ(reports[0].keyword, "type");
}

TEST(CompiledSchema, PatternUsesSearchSemanticsAndFallsBackForLookahead) {
  auto c = CompiledSchema::compile_text(
      R"({"properties":{"a":{"pattern":"b+"},"p":{"pattern":"^(?=.*\\d)[a-z0-9]+$"}}})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE((*c)->is_valid(parse(R"({"a":"abbbc","p":"abc1"})")));
  EXPECT_FALSE((*c)->is_valid(parse(R"({"a":"ac"})")));
  EXPECT_FALSE((*c)->is_valid(parse(R"({"p":"abc"})")));
  EXPECT_TRUE((*c)->is_valid(parse(R"({"a":5})"))) << "pattern ignores non-strings";
}

TEST(CompiledSchema, FormatAppliesToStringsOnly) {
  auto c = CompiledSchema::compile_text(R"({"type":["string","null"],"format":"date-time"})");
  ASSERT_TRUE(c);
  EXPECT_TRUE((*c)->is_valid(parse("null")));
  EXPECT_TRUE((*c)->is_valid(parse(R"("2020-01-01T00:00:00Z")")));
  auto r = (*c)->validate(parse(R"("2020-13-01T00:00:00Z")"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].keyword, "format");
}

TEST(CompiledSchema, RemoteRefsNeedAFetcher) {
  auto c = CompiledSchema::compile_text(R"({"$ref":"http://example.com/other.json"})");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("http://example.com/other.json"), std::string::npos);
  auto served = CompiledSchema::compile_text(
      R"({"$ref":"http://example.com/other.json#/definitions/n"})",
      [](const std::string& uri) -> Result<std::string> {
        EXPECT_EQ(uri, "http://example.com/other.json");
        return std::string(R"({"definitions":{"n":{"type":"number"}}})");
      });
  ASSERT_TRUE(served) << served.error().message;
  EXPECT_TRUE((*served)->is_valid(parse("1.5")));
  EXPECT_FALSE((*served)->is_valid(parse(R"("x")")));
}

}  // namespace
}  // namespace furrow::iglu
