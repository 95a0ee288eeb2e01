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
    // The comma bound never hides a body counted above a limit.
    for (std::size_t limit = 1; want && limit < *want; ++limit) {
      ASSERT_TRUE(may_exceed_post_events(s, limit)) << limit << " " << s;
    }
  }
  EXPECT_GT(valid, 100);  // the mutations keep enough bodies valid to compare counts
}

// The comma bound (the collector skips the count when a body cannot exceed the limit) is tight
// for arrays of bare values and rules out ordinary tracker batches.
TEST(PostCount, CommaBoundNeverHidesABodyAboveTheLimit) {
  for (std::size_t n = 1; n <= 40; ++n) {
    std::string body = R"({"data":[)";
    for (std::size_t i = 0; i < n; ++i) body += i == 0 ? "1" : ",1";
    body += "]}";
    ASSERT_EQ(count_post_data_events(body), n);
    for (std::size_t limit = 1; limit <= 45; ++limit) {
      // Above the limit: the bound must say so. At or below: the body has n - 1 commas.
      if (n > limit) {
        EXPECT_TRUE(may_exceed_post_events(body, limit)) << n << " " << limit;
      }
      EXPECT_EQ(may_exceed_post_events(body, limit), n - 1 >= limit) << n << " " << limit;
    }
  }
  EXPECT_FALSE(may_exceed_post_events("", 1));
  EXPECT_TRUE(may_exceed_post_events(",", 1));
  // 25 page views with 15 fields each: under 400 commas, far from the default limit of 500.
  std::string batch = R"({"schema":"iglu:x","data":[)";
  for (int i = 0; i < 25; ++i) {
    if (i > 0) batch += ',';
    batch += "{";
    for (int f = 0; f < 15; ++f) batch += (f ? ",\"k" : "\"k") + std::to_string(f) + "\":\"v\"";
    batch += "}";
  }
  batch += "]}";
  ASSERT_EQ(count_post_data_events(batch), 25u);
  EXPECT_FALSE(may_exceed_post_events(batch, 500));
  EXPECT_TRUE(may_exceed_post_events(batch, 24));
}

}  // namespace
}  // namespace furrow::collector
