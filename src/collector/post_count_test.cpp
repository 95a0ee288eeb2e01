#include "collector/post_count.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <random>
#include <string>

namespace furrow::collector {
namespace {

// What the collector computed before: a whole DOM, then doc["data"].Size().
std::optional<std::size_t> dom_count(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("data") || !doc["data"].IsArray()) {
    return std::nullopt;
  }
  return doc["data"].Size();
}

TEST(PostCount, CountsTheTopLevelDataArray) {
  const std::string schema =
      R"("schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4")";
  EXPECT_EQ(count_post_data_events("{" + schema + R"(,"data":[{"e":"pv"},{"e":"se"}]})"), 2u);
  EXPECT_EQ(count_post_data_events(R"({"data":[]})"), 0u);
  // Nested arrays and objects inside events, and a "data" key inside an event, do not count.
  EXPECT_EQ(count_post_data_events(
                R"({"data":[{"e":"ue","data":[1,2,3],"co":{"data":[[1],[2]]}},[4,5],"x",1,null]})"),
            5u);
  // The first top-level "data" wins (as rapidjson's operator[] finds the first member).
  EXPECT_EQ(count_post_data_events(R"({"data":[1,2],"data":[1,2,3]})"), 2u);
  EXPECT_EQ(count_post_data_events(R"({"data":{"a":[1,2]},"x":[1,2,3]})"), std::nullopt);
  EXPECT_EQ(count_post_data_events(R"({"x":[1,2,3]})"), std::nullopt);
  EXPECT_EQ(count_post_data_events(R"([{"data":[1]}])"), std::nullopt);
  EXPECT_EQ(count_post_data_events(R"({"data":[1,2,3]} trailing)"), std::nullopt);
  EXPECT_EQ(count_post_data_events(R"({"data":[1,2,3])"), std::nullopt);
  EXPECT_EQ(count_post_data_events(""), std::nullopt);
  EXPECT_EQ(count_post_data_events(R"({"data":["a\"b\u00e9", {"k":"\\"}]})"), 2u);
}

// The SAX count equals the DOM count on random mutations of a realistic batch (bytes replaced,
// deleted, duplicated), valid and invalid alike.
TEST(PostCount, SameAsTheDocumentOnRandomMutations) {
  std::string base =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[)";
  for (int i = 0; i < 12; ++i) {
    if (i > 0) base += ',';
    base += R"({"e":"pv","eid":"00000000-0000-4000-8000-00000000000)" + std::to_string(i % 10) +
            R"(","p":"web","cx":"eyJ4IjpbMSwyXX0","co":"{\"data\":[{\"a\":[1,2]}]}","n":)" +
            std::to_string(i) + R"(,"f":[true,false,null,1.5e3]})";
  }
  base += "]}";
  ASSERT_EQ(count_post_data_events(base), 12u);
  std::mt19937 rng(7);
  const std::string alphabet = "{}[],:\"\\ datae01";
  int valid = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.erase(at, 1 + rng() % 8);
          break;
        default:
          s.insert(at, s.substr(at, 1 + rng() % 40));
      }
    }
    const auto want = dom_count(s);
    if (want) ++valid;
    ASSERT_EQ(count_post_data_events(s), want) << s;
  }
  EXPECT_GT(valid, 100);  // the mutations keep enough bodies valid to compare counts
}

}  // namespace
}  // namespace furrow::collector
