#include "run/micro.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>

#include "event/enriched_event.h"
#include "event/tsv.h"

namespace furrow::run {
namespace {

using event::Field;

std::string make_event(int n, std::string_view type, std::string_view ue_schema = {},
                       std::vector<std::string> contexts = {}) {
  event::EnrichedEvent e;
  e[Field::app_id] = "shop";
  e[Field::platform] = "web";
  e[Field::collector_tstamp] = "2024-03-01 10:00:00.123";
  e[Field::event] = std::string(type);
  e[Field::event_id] = "00000000-0000-4000-8000-" +
                       std::string(12 - std::to_string(n).size(), '0') + std::to_string(n);
  e[Field::v_collector] = "c";
  e[Field::v_etl] = "e";
  e[Field::br_cookies] = "1";
  e[Field::dvce_screenwidth] = "1280";
  e[Field::page_title] = "<script>alert(1)</script>";
  if (!ue_schema.empty()) {
    e[Field::unstruct_event] =
        "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\","
        "\"data\":{\"schema\":\"" +
        std::string(ue_schema) + "\",\"data\":{\"n\":" + std::to_string(n) + "}}}";
  }
  if (!contexts.empty()) {
    std::string co =
        "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":[";
    for (std::size_t i = 0; i < contexts.size(); ++i) {
      if (i) co += ',';
      co += "{\"schema\":\"" + contexts[i] + "\",\"data\":{}}";
    }
    co += "]}";
    e[Field::contexts] = co;
  }
  std::string line;
  event::write_tsv(e, line);
  return line;
}

rapidjson::Document parse(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  EXPECT_FALSE(d.HasParseError()) << s;
  return d;
}

const char kWebPage[] = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0";
const char kLink[] = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1";

class MicroStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lines_ = {make_event(1, "page_view", {}, {kWebPage}), make_event(2, "struct"),
              make_event(3, "unstruct", kLink, {kWebPage}), make_event(4, "page_ping", {}, {})};
    std::vector<std::string_view> g(lines_.begin(), lines_.end());
    store_.add(
        g,
        {R"({"schema":"iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-0","data":{"processor":{"artifact":"x","version":"1"},"failure":{"timestamp":"t","messages":[{"error":"bad"}]},"payload":{"raw":{"vendor":"com.snowplowanalytics.snowplow","version":"tp2","parameters":[]}}}})"});
  }
  std::vector<std::string> lines_;
  MicroStore store_;
};

TEST_F(MicroStoreTest, AllCountsGoodAndBad) {
  EXPECT_EQ(store_.all_json(), R"({"total":5,"good":4,"bad":1})");
}

TEST_F(MicroStoreTest, GoodIsNewestFirstWithTypedColumns) {
  auto d = parse(store_.good_json({}));
  ASSERT_TRUE(d.IsArray());
  ASSERT_EQ(d.Size(), 4u);
  EXPECT_STREQ(d[0]["eventType"].GetString(), "page_ping");
  EXPECT_STREQ(d[3]["eventType"].GetString(), "page_view");
  const auto& ev = d[3]["event"];
  EXPECT_STREQ(ev["event_id"].GetString(), "00000000-0000-4000-8000-000000000001");
  EXPECT_TRUE(ev["br_cookies"].IsBool());
  EXPECT_EQ(ev["dvce_screenwidth"].GetInt(), 1280);
  EXPECT_STREQ(ev["collector_tstamp"].GetString(), "2024-03-01T10:00:00.123Z");
  EXPECT_TRUE(ev["user_id"].IsNull());
  // Hostile strings stay data (escaped by the JSON writer, intact after parsing).
  EXPECT_STREQ(ev["page_title"].GetString(), "<script>alert(1)</script>");
  EXPECT_TRUE(ev["contexts"].IsObject());
  ASSERT_EQ(d[3]["contexts"].Size(), 1u);
  EXPECT_STREQ(d[3]["contexts"][0].GetString(), kWebPage);
  EXPECT_TRUE(d[3]["schema"].IsNull());
  EXPECT_STREQ(d[1]["schema"].GetString(), kLink);
  EXPECT_EQ(d.Size(), 4u);
}

TEST_F(MicroStoreTest, GoodFiltersBySchemaTypeContextsAndLimit) {
  auto count = [&](std::string_view body) {
    auto f = parse_good_filter(body);
    EXPECT_TRUE(f.ok()) << body;
    return parse(store_.good_json(*f)).Size();
  };
  EXPECT_EQ(count(R"({"event_type":"page_view"})"), 1u);
  EXPECT_EQ(count(R"({"event_type":"transaction"})"), 0u);
  EXPECT_EQ(count(std::string(R"({"schema":")") + kLink + "\"}"), 1u);
  // The iglu: prefix is optional on either side.
  EXPECT_EQ(count(R"({"schema":"com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"})"),
            1u);
  EXPECT_EQ(count(std::string(R"({"contexts":[")") + kWebPage + "\"]}"), 2u);
  EXPECT_EQ(count(std::string(R"({"contexts":[")") + kWebPage + "\",\"" + kLink + "\"]}"), 0u);
  EXPECT_EQ(count(std::string(R"({"event_type":"unstruct","contexts":[")") + kWebPage + "\"]}"),
            1u);
  EXPECT_EQ(count(R"({"limit":2})"), 2u);
  EXPECT_EQ(count(""), 4u);
  EXPECT_FALSE(parse_good_filter("[1]").ok());
  EXPECT_FALSE(parse_good_filter(R"({"limit":"x"})").ok());
  EXPECT_FALSE(parse_good_filter(R"({"contexts":"x"})").ok());
  EXPECT_FALSE(parse_good_filter("{").ok());
}

TEST_F(MicroStoreTest, BadListsErrorsAndFiltersByVendor) {
  auto d = parse(store_.bad_json({}));
  ASSERT_EQ(d.Size(), 1u);
  ASSERT_EQ(d[0]["errors"].Size(), 1u);
  EXPECT_STREQ(d[0]["errors"][0].GetString(), R"({"error":"bad"})");
  EXPECT_TRUE(d[0]["badRow"].IsObject());
  auto f = parse_bad_filter(R"({"vendor":"com.acme"})");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(parse(store_.bad_json(*f)).Size(), 0u);
  f = parse_bad_filter(R"({"vendor":"com.snowplowanalytics.snowplow","version":"tp2"})");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(parse(store_.bad_json(*f)).Size(), 1u);
}

TEST_F(MicroStoreTest, ResetClearsEverything) {
  store_.reset();
  EXPECT_EQ(store_.all_json(), R"({"total":0,"good":0,"bad":0})");
  EXPECT_EQ(store_.good_json({}), "[]");
}

TEST(MicroStore, KeepsItsMemoryBoundButCountsEverything) {
  MicroLimits lim;
  lim.max_events = 10;
  lim.max_bytes = 1 << 20;
  MicroStore s(lim);
  std::vector<std::string> lines;
  for (int i = 0; i < 25; ++i) lines.push_back(make_event(i, "page_view"));
  std::vector<std::string_view> views(lines.begin(), lines.end());
  s.add(views, {});
  EXPECT_EQ(s.counts().good, 25u);
  auto d = parse(s.good_json({}));
  ASSERT_EQ(d.Size(), 10u);
  EXPECT_STREQ(d[0]["event"]["event_id"].GetString(), "00000000-0000-4000-8000-000000000024");
  MicroLimits tiny;
  tiny.max_bytes = lines[0].size() * 3;
  MicroStore t(tiny);
  t.add(views, {});
  EXPECT_EQ(parse(t.good_json({})).Size(), 3u);
}

TEST(MicroStore, WaitAnswersWhenEnoughEventsArriveOrAtTheDeadline) {
  MicroStore s;
  using Clock = std::chrono::steady_clock;
  int calls = 0;
  bool sat = false;
  uint64_t seen = 0;
  auto done = [&](bool ok, uint64_t good) {
    ++calls;
    sat = ok;
    seen = good;
  };
  ASSERT_TRUE(s.wait(3, Clock::now() + std::chrono::hours(1), done));
  std::string a = make_event(1, "page_view"), b = make_event(2, "page_view");
  s.add({a, b}, {});
  EXPECT_EQ(calls, 0);
  s.add({a}, {});
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(sat);
  EXPECT_EQ(seen, 3u);
  // Already satisfied: answered at once.
  ASSERT_TRUE(s.wait(2, Clock::now() + std::chrono::hours(1), done));
  EXPECT_EQ(calls, 2);
  // After a reset the count starts again; the deadline answers unsatisfied.
  s.reset();
  const auto deadline = Clock::now() + std::chrono::milliseconds(50);
  ASSERT_TRUE(s.wait(1, deadline, done));
  s.expire(deadline - std::chrono::milliseconds(1));
  EXPECT_EQ(calls, 2);
  s.expire(deadline);
  EXPECT_EQ(calls, 3);
  EXPECT_FALSE(sat);
  EXPECT_EQ(seen, 0u);
}

TEST(MicroStore, BoundsWaitersAndAnswersThemOnClose) {
  MicroLimits lim;
  lim.max_waiters = 2;
  MicroStore s(lim);
  std::atomic<int> unsatisfied{0};
  auto done = [&](bool ok, uint64_t) {
    if (!ok) ++unsatisfied;
  };
  const auto far = std::chrono::steady_clock::now() + std::chrono::hours(1);
  EXPECT_TRUE(s.wait(5, far, done));
  EXPECT_TRUE(s.wait(5, far, done));
  EXPECT_FALSE(s.wait(5, far, done));
  s.close();
  EXPECT_EQ(unsatisfied.load(), 2);
  EXPECT_FALSE(s.wait(5, far, done));
}

TEST(GoodEventJson, RejectsWhatIsNotAnEnrichedEvent) {
  std::string out;
  EXPECT_FALSE(good_event_json("not\tan\tevent", out));
  EXPECT_TRUE(good_event_json(make_event(7, "page_view"), out));
  EXPECT_NE(out.find("\"eventType\":\"page_view\""), std::string::npos);
}

}  // namespace
}  // namespace furrow::run
