// The allocation-free checker must give valijson's verdict wherever it is used: on every case of
// the draft-4 suite whose schema it takes, on hand-written edge cases, and on every Iglu Central
// schema against instances derived from the schema itself.
#include "iglu/fast_schema.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "iglu/json_schema.h"
#include "support/test_support.h"

namespace furrow::iglu {
namespace {

namespace fs = std::filesystem;

rapidjson::Document parse(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

TEST(FastSchema, AgreesWithValijsonOnTheDraft4Suite) {
  fs::path dir = test::shared_dir() / "data/json-schema-test-suite/tests/draft4";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  for (const char* f : {"date-time", "email", "hostname", "ipv4", "ipv6", "uri"}) {
    files.push_back(dir / "optional/format" / (std::string(f) + ".json"));
  }
  int fast_cases = 0;
  int fast_correct = 0;
  for (const auto& file : files) {
    auto doc = parse(test::read_file(file));
    for (const auto& group : doc.GetArray()) {
      auto compiled = CompiledSchema::compile(group["schema"]);
      if (!compiled || !(*compiled)->has_fast_path()) continue;
      for (const auto& t : group["tests"].GetArray()) {
        ++fast_cases;
        const bool fast = (*compiled)->is_valid(t["data"]);
        const bool general = (*compiled)->is_valid_general(t["data"]);
        const bool expected = t["valid"].GetBool();
        fast_correct += fast == expected;
        EXPECT_EQ(fast, general) << file.filename() << " / " << group["description"].GetString()
                                 << " / " << t["description"].GetString();
      }
    }
  }
  std::printf("fast path: %d of %d suite cases it handles are correct\n", fast_correct, fast_cases);
  EXPECT_GT(fast_cases, 300);  // the subset covers most of the suite
  EXPECT_EQ(fast_correct, fast_cases);
}

TEST(FastSchema, SubsetAndFallback) {
  struct Case {
    const char* schema;
    bool fast;
  };
  for (
      const Case& c : std::initializer_list<Case>{
          {R"({"type":"object","properties":{"a":{"type":"string","maxLength":3}},"required":["a"],"additionalProperties":false})",
           true},
          {R"({"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#","self":{"vendor":"v"},"description":"d","type":["string","null"],"enum":["a",null]})",
           true},
          {R"({"properties":{"a":{"$ref":"#"}}})", false},
          {R"({"anyOf":[{"type":"string"}]})", false},
          {R"({"patternProperties":{"^x":{}}})", false},
          {R"({"multipleOf":0.01})", false},
          {R"({"items":[{"type":"string"}]})", false},
          {R"({"enum":[{"a":1}]})", false},
          {R"x({"pattern":"^(?=a)"})x", false},  // lookahead: not RE2 syntax
          {R"({"uniqueItems":true})", false},
      }) {
    auto compiled = CompiledSchema::compile_text(c.schema);
    ASSERT_TRUE(compiled) << c.schema << ": " << compiled.error().message;
    EXPECT_EQ((*compiled)->has_fast_path(), c.fast) << c.schema;
  }
}

TEST(FastSchema, EdgeCasesMatchValijson) {
  struct Case {
    const char* schema;
    const char* data;
    bool valid;
  };
  for (const Case& c : std::initializer_list<Case>{
           // Code points, not bytes, and valijson stops counting at a NUL.
           {R"({"maxLength":2})", R"("é€")", true},
           {R"({"maxLength":2})", R"("abc")", false},
           {R"({"minLength":2})", R"("a\u0000bc")", false},
           // integer: no fraction in the number's representation.
           {R"({"type":"integer"})", "1", true},
           {R"({"type":"integer"})", "1.5", false},
           {R"({"type":"integer"})", "18446744073709551615", true},
           {R"({"type":"number"})", "1", true},
           {R"({"type":["integer","null"]})", "null", true},
           {R"({"type":["integer","null"]})", R"("1")", false},
           // enum compares numbers by value, other types strictly.
           {R"({"enum":[1,"a",null,true]})", "1.0", true},
           {R"({"enum":[1,"a",null,true]})", R"("1")", false},
           {R"({"enum":[1,"a",null,true]})", "false", false},
           // Bounds.
           {R"({"minimum":0,"exclusiveMinimum":true})", "0", false},
           {R"({"maximum":10})", "10", true},
           {R"({"maximum":10,"exclusiveMaximum":true})", "10", false},
           // Objects.
           {R"({"additionalProperties":false})", "{}", true},
           {R"({"additionalProperties":false})", R"({"a":1})", false},
           {R"({"properties":{"a":{}},"additionalProperties":{"type":"string"}})",
            R"({"a":1,"b":"x"})", true},
           {R"({"properties":{"a":{}},"additionalProperties":{"type":"string"}})",
            R"({"a":1,"b":2})", false},
           {R"({"required":["a","b"]})", R"({"a":1})", false},
           {R"({"required":["a"],"minProperties":2})", R"({"a":1})", false},
           {R"({"required":["a"],"maxProperties":1})", R"({"a":1,"b":2})", false},
           {R"({"required":["a"]})", "[1]", true},  // object keywords ignore other types
           // Arrays.
           {R"({"items":{"type":"integer"},"maxItems":2})", "[1,2]", true},
           {R"({"items":{"type":"integer"},"maxItems":2})", "[1,2,3]", false},
           {R"({"items":{"type":"integer"}})", R"([1,"2"])", false},
           {R"({"minItems":1})", "[]", false},
           // Strings: pattern is a search, format only for strings.
           {R"({"pattern":"b+"})", R"("abbc")", true},
           {R"({"pattern":"^b"})", R"("abbc")", false},
           {R"({"format":"date-time"})", R"("2026-11-28T05:30:07.530Z")", true},
           {R"({"format":"date-time"})", R"("yesterday")", false},
           {R"({"format":"date-time"})", "null", true},
           {R"({"format":"unknown-format"})", R"("x")", true},
       }) {
    auto compiled = CompiledSchema::compile_text(c.schema);
    ASSERT_TRUE(compiled) << c.schema;
    ASSERT_TRUE((*compiled)->has_fast_path()) << c.schema;
    auto data = parse(c.data);
    EXPECT_EQ((*compiled)->is_valid(data), c.valid) << c.schema << " " << c.data;
    EXPECT_EQ((*compiled)->is_valid_general(data), c.valid) << c.schema << " " << c.data;
    EXPECT_EQ((*compiled)->validate(data).empty(), c.valid) << c.schema << " " << c.data;
  }
}

// Instances made from a schema: its examples of every property type, valid and broken.
void add_instances(const rapidjson::Value& schema, rapidjson::Document::AllocatorType& a,
                   std::vector<rapidjson::Value>& out) {
  out.emplace_back(rapidjson::kObjectType);  // {}
  rapidjson::Value all(rapidjson::kObjectType);
  rapidjson::Value wrong(rapidjson::kObjectType);
  if (schema.HasMember("properties") && schema["properties"].IsObject()) {
    for (const auto& p : schema["properties"].GetObject()) {
      rapidjson::Value name(p.name, a);
      rapidjson::Value name2(p.name, a);
      rapidjson::Value sample;
      const auto& ps = p.value;
      if (ps.HasMember("enum") && ps["enum"].IsArray() && !ps["enum"].Empty()) {
        sample.CopyFrom(ps["enum"][0], a);
      } else {
        sample.SetString("x");
      }
      all.AddMember(name, sample, a);
      wrong.AddMember(name2, rapidjson::Value(12345), a);
    }
  }
  out.push_back(std::move(all));
  out.push_back(std::move(wrong));
  out.emplace_back("a string", a);
  out.emplace_back(rapidjson::kArrayType);
}

TEST(FastSchema, AgreesWithValijsonOnIgluCentral) {
  fs::path root = test::shared_dir() / "iglu-central/schemas";
  ASSERT_TRUE(fs::is_directory(root)) << root;
  int schemas = 0;
  int fast = 0;
  int instances = 0;
  rapidjson::Document scratch;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    auto text = test::read_file(e.path());
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) continue;
    auto compiled = CompiledSchema::compile(doc);
    if (!compiled) continue;
    ++schemas;
    if (!(*compiled)->has_fast_path()) continue;
    ++fast;
    std::vector<rapidjson::Value> values;
    add_instances(doc, scratch.GetAllocator(), values);
    for (const auto& v : values) {
      ++instances;
      EXPECT_EQ((*compiled)->is_valid(v), (*compiled)->is_valid_general(v)) << e.path();
    }
  }
  std::printf("fast path: %d of %d Iglu Central schemas, %d instances compared\n", fast, schemas,
              instances);
  EXPECT_GT(schemas, 100);
  EXPECT_GT(fast * 2, schemas);  // most Iglu schemas stay within the subset
}

}  // namespace
}  // namespace furrow::iglu
