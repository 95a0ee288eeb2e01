// The tp2 POST fast path (scan_payload_data) against the general path (parse_payload_data): the
// fast path may decline a body, but whenever it accepts one the events must be identical.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "protocol/adapter.h"
#include "protocol/adapters_internal.h"
#include "protocol/param_keys.h"

namespace furrow::protocol::detail {
namespace {

using event::Params;

constexpr const char* kSchema4 =
    "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4";

std::string body(const std::string& events, const char* schema = kSchema4) {
  return std::string("{\"schema\":\"") + schema + "\",\"data\":[" + events + "]}";
}

struct Both {
  bool fast = false, general = false;
  std::vector<Params> fast_events, general_events;
  std::vector<std::string> messages;
};

Both run(std::string_view b, const Params& query = {}) {
  Both r;
  r.fast = scan_payload_data(b, query, r.fast_events);
  r.general = parse_payload_data(b, query, r.general_events, r.messages);
  if (!r.fast) {
    EXPECT_TRUE(r.fast_events.empty()) << b;
  }
  if (r.fast) {
    EXPECT_TRUE(r.general) << b;
    EXPECT_EQ(r.fast_events, r.general_events) << b;
  }
  return r;
}

TEST(PayloadScan, AcceptsTheUsualShapeWithTheSameEvents) {
  Params query;
  query.set("aid", std::string("from-query"));
  query.set("nuid", std::nullopt);
  const std::string b =
      body(R"({"e":"pv","p":"web","tv":"js-3.0","aid":"site","url":"https://a.example/x?y=1"},)"
           R"({"e":"se","p":"web","tv":"js-3.0","se_ca":"c","se_ac":"a","e":"ue"})");
  Both r = run(b, query);
  ASSERT_TRUE(r.fast);
  ASSERT_EQ(r.fast_events.size(), 2u);
  EXPECT_EQ(*r.fast_events[0].get("aid"), "from-query");  // the query wins
  EXPECT_EQ(*r.fast_events[1].get("e"), "ue");            // last duplicate wins, first position
  EXPECT_EQ(r.fast_events[1].items().front().name, "e");
  EXPECT_TRUE(r.fast_events[0].contains("nuid"));
}

TEST(PayloadScan, DecodesEscapesAsRapidJsonDoes) {
  const std::string b = body(
      R"({"e":"pv","p":"web","tv":"t","page":"a\"b\\c\/d\n\t\u00e9\u20ac\u0041 \b\f\r","refr":""})");
  Both r = run(b);
  ASSERT_TRUE(r.fast);
  EXPECT_EQ(*r.fast_events[0].get("page"),
            "a\"b\\c/d\n\t\xC3\xA9\xE2\x82\xAC"
            "A \b\f\r");
  EXPECT_EQ(*r.fast_events[0].get("refr"), "");
}

TEST(PayloadScan, WhitespaceEverywhere) {
  const std::string b = std::string(" \n{ \"schema\" :\t\"") + kSchema4 +
                        "\" , \"data\" : [ { \"e\" : \"pv\" ,\"p\":\"web\", \"tv\":\"t\" } ] }\r\n";
  EXPECT_TRUE(run(b).fast);
  // data before schema
  EXPECT_TRUE(
      run(std::string(R"({"data":[{"e":"pv","p":"web","tv":"t"}],"schema":")") + kSchema4 + "\"}")
          .fast);
}

TEST(PayloadScan, DeclinesWhatItDoesNotHandle) {
  const std::string ok = R"({"e":"pv","p":"web","tv":"t"})";
  const std::vector<std::string> declined = {
      body(R"({"e":"pv","p":"web","tv":"t","vid":1})"),  // number value
      body(R"({"e":"pv","p":"web","tv":"t","x":"1"})"),  // unknown key
      body(R"({"e":"pv","p":"web"})"),                   // tv missing
      body(R"({"e":"pv","p":"web","tv":"t","ttm":"1"})",
           "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-3"),  // ttm is 1-0-4
      body(R"({"e":"pv","p":"web","tv":"t","\u0065":"x"})"),                      // escape in a key
      body(R"({"e":"pv","p":"web","tv":"t","page":"\ud83d\ude00"})"),             // surrogate pair
      body(ok, "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-5"),
      body(ok, "iglu:com.acme/payload_data/jsonschema/1-0-0"),
      body(""),                // minItems
      body(ok) + "x",          // trailing garbage
      body(ok).substr(0, 40),  // truncated
      std::string(R"({"schema":")") + kSchema4 + R"(","data":[)" + ok + R"(],"extra":1})",
      std::string(R"({"schema":")") + kSchema4 + R"(","schema":")" + kSchema4 + R"(","data":[)" +
          ok + "]}",
      body("[]"),
      body(R"({"e":"pv","p":"web","tv":"t","page":"a)" + std::string(1, '\x01') + "\"}"),
      "[]",
      "",
  };
  for (const auto& b : declined) EXPECT_FALSE(run(b).fast) << b;
}

TEST(PayloadScan, EscapedValuesOfEveryShapeDecodeAsRapidJsonDoes) {
  // After a value's first escape the scanner copies plain bytes into the arena 16 at a time up to
  // the next special byte: values of 0-150 bytes mixing plain text, every escape kind and
  // non-ASCII, two per event (the second written after the first in the arena), must be
  // accepted with the values RapidJSON gives, by both sinks (owned Params and views).
  const std::vector<std::string> pieces = {"a",
                                           "bcdefgh",
                                           "0123456789abcdefghij",
                                           "\\\"",
                                           "\\\\",
                                           "\\/",
                                           "\\n",
                                           "\\t",
                                           "\\b",
                                           "\\f",
                                           "\\r",
                                           "\\u0041",
                                           "\\u00e9",
                                           "\\u20AC",
                                           "\xc3\xa9",
                                           "\xe2\x82\xac",
                                           "{\\\"k\\\":1}"};
  std::mt19937 rng(77);
  std::string arena;
  protocol::ViewEvents views;
  for (int i = 0; i < 3000; ++i) {
    std::string values[2];
    for (std::string& v : values) {
      const std::size_t target = rng() % 150;
      while (v.size() < target) v += pieces[rng() % pieces.size()];
    }
    const std::string b = body(R"({"e":"ue","p":"web","tv":"t","ue_pr":")" + values[0] +
                               R"(","co":")" + values[1] + R"(","aid":"x"})");
    const Both r = run(b);
    ASSERT_TRUE(r.fast) << b;
    ASSERT_TRUE(scan_payload_views(b, arena, views)) << b;
    ASSERT_EQ(views.size(), 1u);
    const auto event = views.event(0);
    const auto& items = r.general_events.at(0).items();
    ASSERT_EQ(event.size(), items.size()) << b;
    for (std::size_t k = 0; k < items.size(); ++k) {
      EXPECT_EQ(event[k].name, items[k].name) << b;
      EXPECT_EQ(event[k].value, items[k].value.value_or("(none)")) << b;
    }
    if (::testing::Test::HasFailure()) return;
  }
}

// The view sink keeps the keys seen in an event as a 128-bit set of ids: every allowed key once
// (with tv, p, e) is accepted, the same key twice is declined whatever its id, and two keys whose
// ids differ by 64 (the same bit of the two words) are two different keys.
TEST(PayloadScan, ViewsDeclineEveryRepeatedKeyAndKeepIdsOfBothWordsApart) {
  std::string arena;
  protocol::ViewEvents views;
  const auto event_with = [](const std::vector<int>& ids) {
    std::string e = R"({"e":"pv","p":"web","tv":"t")";
    for (const int id : ids) e += ",\"" + std::string(param_key_name(id)) + "\":\"v\"";
    return body(e + "}");
  };
  const auto allowed = [](int id) {
    const std::string_view n = param_key_name(id);
    return param_key_since(id) >= 0 && n != "e" && n != "p" && n != "tv";
  };
  int high = 0;
  for (int id = 0; id < kParamKeyCount; ++id) {
    if (!allowed(id)) continue;
    high += id >= 64 ? 1 : 0;
    EXPECT_TRUE(scan_payload_views(event_with({id}), arena, views)) << param_key_name(id);
    EXPECT_EQ(views.params.size(), 4u);
    EXPECT_FALSE(scan_payload_views(event_with({id, id}), arena, views)) << param_key_name(id);
    if (id + 64 < kParamKeyCount && allowed(id + 64)) {
      EXPECT_TRUE(scan_payload_views(event_with({id, id + 64}), arena, views))
          << param_key_name(id) << " " << param_key_name(id + 64);
      EXPECT_TRUE(scan_payload_views(event_with({id + 64, id}), arena, views))
          << param_key_name(id) << " " << param_key_name(id + 64);
    }
  }
  EXPECT_GT(high, 5);
}

}  // namespace
}  // namespace furrow::protocol::detail
