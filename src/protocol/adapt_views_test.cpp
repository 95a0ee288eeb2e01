// adapt_views (the parameter-view fast path) against adapt(): it may decline any payload, but
// whenever it accepts one, adapt() must accept it too with the same parameters in the same order
// and the same ip_address and user_id. Also the parameter-name table behind both.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "protocol/adapter.h"
#include "protocol/param_keys.h"

namespace furrow::protocol {
namespace {

using event::CollectorPayload;

CollectorPayload post(std::string body) {
  CollectorPayload c;
  c.ip_address = "10.1.2.3";
  c.timestamp = 1700000000123;
  c.encoding = "UTF-8";
  c.collector = "ssc-3.4.0-stdout";
  c.user_agent = "Mozilla/5.0";
  c.path = "/com.snowplowanalytics.snowplow/tp2";
  c.body = std::move(body);
  c.content_type = "application/json; charset=utf-8";
  c.headers = std::vector<std::string>{"Host: collector.example.com",
                                       "X-Forwarded-For: 203.0.113.7, 10.0.0.1"};
  c.network_user_id = "C5F3A09F-75F8-4309-BEC5-FEA560F78455";
  return c;
}

std::string body(const std::string& events, int addition = 4) {
  return "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-" +
         std::to_string(addition) + "\",\"data\":[" + events + "]}";
}

// Runs both; returns whether the view path accepted. Checks the contract when it did.
bool check(const CollectorPayload& c) {
  std::string arena;
  ViewEvents views;
  ViewContext ctx;
  const bool fast = adapt_views(c, arena, views, ctx);
  std::vector<event::RawEvent> raws;
  AdapterError error;
  const bool general = adapt(c, "thrift", raws, error);
  if (!fast) return false;
  const std::string where = c.body ? *c.body : c.querystring.value_or("(nothing)");
  EXPECT_TRUE(general) << where;
  if (!general) return true;
  EXPECT_EQ(views.size(), raws.size()) << where;
  for (std::size_t i = 0; i < raws.size() && i < views.size(); ++i) {
    // The views list the known, valued parameters (all of them, for a POST).
    std::vector<const event::Param*> items;
    for (const auto& p : raws[i].parameters.items()) {
      if (p.value && param_key_id(p.name) >= 0) items.push_back(&p);
    }
    const auto v = views.event(i);
    EXPECT_EQ(v.size(), items.size()) << where;
    for (std::size_t k = 0; k < items.size() && k < v.size(); ++k) {
      EXPECT_EQ(v[k].name, items[k]->name) << where;
      EXPECT_EQ(v[k].value, *items[k]->value) << where;
      EXPECT_EQ(v[k].id, param_key_id(items[k]->name)) << where;
    }
    EXPECT_EQ(ctx.ip_address, raws[i].ip_address) << where;
    EXPECT_EQ(ctx.user_id, raws[i].user_id) << where;
  }
  return true;
}

TEST(ParamKeys, EveryNameRoundTripsAndOthersAreUnknown) {
  for (int id = 0; id < kParamKeyCount; ++id) {
    const std::string_view name = param_key_name(id);
    EXPECT_EQ(param_key_id(name), id) << name;
    // A prefix, an extension, a NUL-padded twin and a case change are other names.
    EXPECT_EQ(param_key_id(std::string(name) + "x"), -1) << name;
    EXPECT_EQ(param_key_id(std::string(name) + std::string(1, '\0')), -1) << name;
  }
  EXPECT_EQ(param_key_id(""), -1);
  EXPECT_EQ(param_key_id("E"), -1);
  EXPECT_EQ(param_key_id("schema"), -1);
  EXPECT_EQ(param_key_id("f_realpx"), -1);
  EXPECT_EQ(param_key_since(param_key_id("e")), 0);
  EXPECT_EQ(param_key_since(param_key_id("ua")), 1);
  EXPECT_EQ(param_key_since(param_key_id("tnuid")), 2);
  EXPECT_EQ(param_key_since(param_key_id("sid")), 3);
  EXPECT_EQ(param_key_since(param_key_id("ttm")), 4);
  EXPECT_EQ(param_key_since(param_key_id("ev_ca")), -1);
  EXPECT_EQ(param_key_since(param_key_id("cv")), -1);
}

// Every one-character change (replace, drop, insert, swap) of every known name, with bytes from
// the names' own alphabet and NUL: the lookup finds a name exactly when it is a known one.
TEST(ParamKeys, EditsOfKnownNamesAreFoundOnlyWhenKnown) {
  std::map<std::string, int> known;
  for (int id = 0; id < kParamKeyCount; ++id) known[std::string(param_key_name(id))] = id;
  const std::string alphabet = std::string("abcdefghijklmnopqrstuvwxyz_01XE") + '\0';
  auto expect = [&](const std::string& s) {
    const auto it = known.find(s);
    ASSERT_EQ(param_key_id(s), it == known.end() ? -1 : it->second) << s;
  };
  for (const auto& [name, id] : known) {
    for (std::size_t at = 0; at <= name.size(); ++at) {
      for (char c : alphabet) {
        std::string inserted = name;
        inserted.insert(at, 1, c);
        expect(inserted);
        if (at < name.size()) {
          std::string replaced = name;
          replaced[at] = c;
          expect(replaced);
        }
      }
      if (at < name.size()) expect(std::string(name).erase(at, 1));
      if (at + 1 < name.size()) {
        std::string swapped = name;
        std::swap(swapped[at], swapped[at + 1]);
        expect(swapped);
      }
    }
  }
}

TEST(AdaptViews, AcceptsTheUsualPostWithTheSameParameters) {
  const auto c = post(body(
      R"({"e":"pv","p":"web","tv":"js-3.0","url":"https://a.example/x?y=1","page":"T \"q\" \u00e9"},)"
      R"({"e":"se","p":"web","tv":"js-3.0","se_ca":"c","ua":"UA","ttm":"1"})"));
  ASSERT_TRUE(check(c));
  std::string arena;
  ViewEvents views;
  ViewContext ctx;
  ASSERT_TRUE(adapt_views(c, arena, views, ctx));
  ASSERT_EQ(views.size(), 2u);
  EXPECT_EQ(views.event(0)[4].value, "T \"q\" \xC3\xA9");  // escapes decoded into the arena
  EXPECT_EQ(ctx.ip_address, "203.0.113.7");                // forwarding header applied
  EXPECT_EQ(ctx.user_id, "c5f3a09f-75f8-4309-bec5-fea560f78455");
}

TEST(AdaptViews, DeclinesWhatItDoesNotHandle) {
  const std::string ok = body(R"({"e":"pv","p":"web","tv":"t"})");
  std::string arena;
  ViewEvents views;
  ViewContext ctx;
  auto declines = [&](const CollectorPayload& c) {
    EXPECT_FALSE(adapt_views(c, arena, views, ctx)) << (c.body ? *c.body : "");
    check(c);
  };
  ASSERT_TRUE(adapt_views(post(ok), arena, views, ctx));
  auto c = post(ok);
  c.querystring = "aid=x";  // query merging is the general path's
  declines(c);
  c = post(ok);
  c.querystring = "";
  declines(c);
  c = post(ok);
  c.body.reset();  // a GET with a content type
  c.querystring = "e=pv&p=web&tv=t";
  declines(c);
  c = post(ok);
  c.path = "/com.snowplowanalytics.snowplow/tp1";
  declines(c);
  c = post(ok);
  c.path = "/r/tp2";
  declines(c);
  c = post(ok);
  c.content_type = "text/plain";
  declines(c);
  c = post(ok);
  c.content_type.reset();
  declines(c);
  c = post(ok);
  c.network_user_id = "not-a-uuid";
  declines(c);
  c = post(ok);
  c.schema = "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/2-0-0";
  declines(c);
  declines(post(body(R"({"e":"pv","p":"web","tv":"t","e":"se"})")));              // repeated key
  declines(post(body(R"({"e":"pv","p":"web","tv":"t","zz":"1"})")));              // unknown key
  declines(post(body(R"({"e":"pv","p":"web","tv":"t","ttm":"1"})", 3)));          // key too new
  declines(post(body(R"({"e":"pv","p":"web","tv":"t","ev_ca":"1"})")));           // tp1-only name
  declines(post(body(R"({"e":"pv","p":"web"})")));                                // no tv
  declines(post(body(R"({"e":"pv","p":"web","tv":1})")));                         // not a string
  declines(post(body(R"({"e":"pv","p":"web","tv":"\ud83d\ude00"})")));            // surrogates
  declines(post(body("")));                                                       // no events
  declines(post(std::string("{\"schema\":\"x\",\"data\":[{\"e\":\"\xff\"}]}")));  // bad UTF-8
}

CollectorPayload get(std::string qs, std::string path = "/com.snowplowanalytics.snowplow/tp2") {
  CollectorPayload c = post("");
  c.body.reset();
  c.content_type.reset();
  c.path = std::move(path);
  c.querystring = std::move(qs);
  return c;
}

TEST(AdaptViews, GetQueryStringsAsViews) {
  const std::string qs =
      "e=pv&url=https%3A%2F%2Fa.example%2Fx%3Fy%3D1&page=Caf%C3%A9+%22x%22&zz=unknown&zz=again"
      "&nuid&tv=js-3.0&p=web&%61id=decoded-name&ev_ca=c&res=1x2&cx=eyJhIjoxfQ&bad=1";
  for (const std::string path : {"/com.snowplowanalytics.snowplow/tp2", "/i"}) {
    const auto c = get(qs, path);
    ASSERT_TRUE(check(c)) << path;
    std::string arena;
    ViewEvents views;
    ViewContext ctx;
    ASSERT_TRUE(adapt_views(c, arena, views, ctx));
    ASSERT_EQ(views.size(), 1u);
    const auto v = views.event(0);
    ASSERT_EQ(v.size(), 9u);  // zz (unknown), nuid (no value) and bad (unknown) left out
    EXPECT_EQ(v[1].value, "https://a.example/x?y=1");
    EXPECT_EQ(v[2].value, "Caf\xC3\xA9 \"x\"");
    EXPECT_EQ(v[5].name, "aid");
    EXPECT_EQ(ctx.ip_address, "203.0.113.7");
  }
  std::string arena;
  ViewEvents views;
  ViewContext ctx;
  for (const std::string bad : {"e=pv&e=se", "nuid&e=pv&nuid=x", "", "&&", "a=%zz%"}) {
    EXPECT_FALSE(adapt_views(get(bad), arena, views, ctx)) << bad;
    check(get(bad));
  }
  // Unknown names only: adapt() makes an event of them; the views have it, empty.
  ASSERT_TRUE(check(get("zz=1&yy")));
  EXPECT_FALSE(adapt_views(get("e=pv", "/com.snowplowanalytics.snowplow/tp3"), arena, views, ctx));
  EXPECT_FALSE(adapt_views(get("e=pv", "/com.acme/tp2"), arena, views, ctx));
}

TEST(AdaptViews, RandomQueryStringsNeverDisagree) {
  const std::string seed =
      "e=pv&url=https%3A%2F%2Fa.example%2F&page=A+b%20c&tv=t&p=web&aid=x&se_ca=c&ev_ca=d&uid=u";
  const std::string alphabet = "=&;%+ 2Fepa0x\t\xc3\xa9#?";
  std::mt19937 rng(99);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string q = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !q.empty(); ++e) {
      const std::size_t at = rng() % q.size();
      const char ch = alphabet[rng() % alphabet.size()];
      if (rng() % 2 == 0) {
        q[at] = ch;
      } else {
        q.insert(q.begin() + static_cast<std::ptrdiff_t>(at), ch);
      }
    }
    if (check(get(q))) ++accepted;
  }
  EXPECT_GT(accepted, 100);
}

// GET names and values are split and checked for text to decode 16 bytes at a time: a separator,
// '=', an escape, '+', a non-ASCII or other byte at every offset of long and short values and
// names must give adapt()'s parameters.
TEST(AdaptViews, GetSpecialBytesAtEveryOffset) {
  const std::string base =
      "e=pv&url=https://shop.example.com/products/tarot-cards/deluxe-edition-2026&tv=js-4.6.8"
      "&refr=https%3A%2F%2Fshop.example.com%2Fsearch%3Fq%3Dmoon%2Bcalendar&p=web&aid=shop"
      "&cx=eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29u"
      "&unknownname=value-of-an-unknown-name-longer-than-sixteen&page=Tea";
  const std::vector<std::string> pieces = {
      "&",  ";",  "=",   "%41", "%61",      "+", "\xC3\xA9", "#",
      "&&", "==", "%2B", "%C3", "\xE2\x82", "x", "&e=se"};
  int accepted = 0, total = 0;
  for (const auto& piece : pieces) {
    for (std::size_t at = 0; at <= base.size(); ++at) {
      std::string q = base;
      q.insert(at, piece);
      accepted += check(get(q)) ? 1 : 0;
      ++total;
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(accepted, total / 2);
}

// The scanner remembers the last accepted envelope schema URI per thread: bodies naming other
// versions, near misses and the same text again, in every order, must be accepted exactly when
// the payload_data version exists and allows every key (both paths use the scanner, so the
// expected outcome is stated here, not taken from adapt()).
TEST(AdaptViews, EnvelopeSchemasInAnyOrderAreCheckedByVersion) {
  const std::string prefix = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/";
  // Each schema with the payload_data addition it names, or -1 when it is not one that exists.
  const std::vector<std::pair<std::string, int>> schemas = {
      {prefix + "1-0-4", 4},
      {prefix + "1-0-0", 0},
      {prefix + "1-0-3", 3},
      {prefix + "1-0-1", 1},
      {prefix + "1-0-5", -1},
      {prefix + "1-1-0", -1},
      {prefix + "2-0-0", -1},
      {prefix + "1-0-4 ", -1},
      {prefix + "1-0-", -1},
      {"iglu:com.snowplowanalytics.snowplow/payload_datb/jsonschema/1-0-4", -1},
      {"iglu:com.snowplowanalytics.snowplov/payload_data/jsonschema/1-0-4", -1},
      {"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschemb/1-0-4", -1},
  };
  // Each event with the first addition that allows all its keys ("ua" 1-0-1, "stm" 1-0-3,
  // "ttm" 1-0-4).
  const std::vector<std::pair<std::string, int>> events = {
      {R"({"e":"pv","tv":"t","p":"web"})", 0},
      {R"({"e":"pv","tv":"t","p":"web","ua":"x"})", 1},
      {R"({"e":"pv","tv":"t","p":"web","stm":"1"})", 3},
      {R"({"e":"pv","tv":"t","p":"web","ttm":"2"})", 4}};
  std::mt19937 rng(5);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    const auto& [schema, addition] = schemas[rng() % schemas.size()];
    const auto& [event, needs] = events[rng() % events.size()];
    const bool expected = addition >= 0 && needs <= addition;
    const auto c = post("{\"schema\":\"" + schema + "\",\"data\":[" + event + "]}");
    // Twice: the second scan may take the schema from the memo.
    for (int round = 0; round < 2; ++round) {
      std::string arena;
      ViewEvents views;
      ViewContext ctx;
      EXPECT_EQ(adapt_views(c, arena, views, ctx), expected) << schema << " " << event;
      std::vector<event::RawEvent> raws;
      AdapterError error;
      EXPECT_EQ(adapt(c, "thrift", raws, error), expected) << schema << " " << event;
      accepted += expected ? 1 : 0;
    }
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(accepted, 1000);
}

TEST(AdaptViews, SpecialBytesAtEveryPlaceOfEveryBlock) {
  // The scanner skips plain string bytes 16 and 8 at a time: a quote, backslash or control byte
  // at any offset of a value, with the value starting at any offset of a block, must end the
  // skip exactly there. Raw control bytes are invalid JSON (declined); everything else is
  // accepted with the value adapt() gives.
  const std::string specials[] = {"\\\"", "\\\\", "\\n",  "\\u00e9",  "\x01",
                                  "\x1f", " ",    "\x7f", "\xc3\xa9", "~"};
  int accepted = 0;
  for (std::size_t shift = 0; shift < 16; ++shift) {
    for (std::size_t len = 0; len <= 40; ++len) {
      for (const std::string& special : specials) {
        for (std::size_t at = 0; at <= len; at += (len > 20 ? 3 : 1)) {
          std::string value(len, 'v');
          value.insert(at, special);
          const std::string b = body(R"({"e":"pv","p":"web","tv":"t","aid":")" +
                                     std::string(shift, 'a') + R"(","page":")" + value + "\"}");
          const bool raw_control = static_cast<unsigned char>(special[0]) < 0x20;
          EXPECT_EQ(check(post(b)), !raw_control) << b;
          accepted += raw_control ? 0 : 1;
        }
      }
    }
  }
  EXPECT_GT(accepted, 10000);
}

TEST(AdaptViews, KnownKeysAndTheirEditsAgreeWithAdapt) {
  // Keys are matched by their packed bytes in the POST scanner: every known name and edits of
  // it (escapes, controls, NUL, non-ASCII, longer and shorter, other case), first and last in an
  // event, are accepted exactly when they are payload_data keys other than e, p and tv (which
  // the event already has), with the parameters adapt() gives.
  int accepted = 0;
  for (int id = 0; id < kParamKeyCount; ++id) {
    const std::string name(param_key_name(id));
    std::vector<std::string> variants = {name,
                                         name + "x",
                                         name + "_",
                                         name.substr(1),
                                         name.substr(0, name.size() - 1),
                                         name + "\xc3\xa9",
                                         "\\u0041" + name,
                                         std::string(8 - name.size(), '_') + name};
    for (std::size_t at = 0; at <= name.size(); ++at) {
      for (const std::string& ins : {std::string("\\\""), std::string("\\\\"), std::string(1, '\0'),
                                     std::string("\x01"), std::string("\t"), std::string("\x7f")}) {
        variants.push_back(name.substr(0, at) + ins + name.substr(at));
      }
    }
    std::string upper = name;
    upper[0] = static_cast<char>(upper[0] - 'a' + 'A');
    variants.push_back(upper);
    for (const std::string& v : variants) {
      const int vid = param_key_id(v);
      const bool want = vid >= 0 && param_key_since(vid) >= 0 && v != "e" && v != "p" && v != "tv";
      const std::string last = body(R"({"e":"pv","p":"web","tv":"t",")" + v + R"(":""})");
      const std::string first = body("{\"" + v + R"(":"x","e":"pv","p":"web","tv":"t"})");
      EXPECT_EQ(check(post(last)), want) << last;
      EXPECT_EQ(check(post(first)), want) << first;
      accepted += want ? 2 : 0;
    }
  }
  EXPECT_GT(accepted, 140);
}

TEST(AdaptViews, RandomMutationsNeverDisagree) {
  // Bodies near the accepted shape: every accepted mutation must agree with adapt().
  const std::string seed =
      body(R"({"e":"pv","p":"web","tv":"js-3.0","aid":"a","url":"https://a.example/x?y=1#f",)"
           R"("page":"A \"b\" \\ \/ \n \u0041\u00e9\u20ac","cx":"eyJhIjoxfQ","sid":"s"},)"
           R"({"e":"ue","p":"mob","tv":"t","ue_pr":"{\"x\":1}","co":"[]","stm":"2"})");
  const std::string alphabet = "{}[]\":,\\ ueptvax0123u\xc3\xa9/nrbf";
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string b = seed;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !b.empty(); ++e) {
      const std::size_t at = rng() % b.size();
      const char ch = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          b[at] = ch;
          break;
        case 1:
          b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), ch);
          break;
        default:
          b.erase(at, 1);
          break;
      }
    }
    if (check(post(b))) ++accepted;
  }
  // Enough mutations stay valid (in string contents) for the comparison to mean something.
  EXPECT_GT(accepted, 100);
}

TEST(AdaptViews, KeySetRulesHoldForEveryEventOfABatch) {
  // The scanner checks tv, p and e per event and the keys of all events against the envelope's
  // version at the end, as bit sets: bodies of 1-4 events, each with a random subset of tv / p /
  // e and of keys from several versions (and tp1-only ones), under every payload_data version,
  // are accepted exactly when every event has tv, p and e and every key's version is allowed.
  const std::vector<std::string> extras = {"aid", "url", "ua", "tnuid", "stm",
                                           "sid", "ttm", "cv", "ev_ca"};
  std::mt19937 rng(99);
  int accepted = 0, declined = 0;
  for (int i = 0; i < 4000; ++i) {
    const int addition = static_cast<int>(rng() % 5);
    const int count = 1 + static_cast<int>(rng() % 4);
    bool expected = true;
    std::string events;
    for (int e = 0; e < count; ++e) {
      std::vector<std::string> keys;
      // Usually complete, so that batches with every event valid are frequent.
      const unsigned required = rng() % 4 == 0 ? rng() % 8 : 7;
      if ((required & 1) != 0) keys.push_back("tv");
      if ((required & 2) != 0) keys.push_back("p");
      if ((required & 4) != 0) keys.push_back("e");
      expected = expected && required == 7;
      for (const std::string& x : extras) {
        if (rng() % 6 != 0) continue;
        keys.push_back(x);
        const int since = param_key_since(param_key_id(x));
        expected = expected && since >= 0 && since <= addition;
      }
      std::shuffle(keys.begin(), keys.end(), rng);
      std::string event = "{";
      for (const std::string& k : keys) event += (event.size() > 1 ? ",\"" : "\"") + k + "\":\"v\"";
      events += (e > 0 ? "," : "") + event + "}";
    }
    const auto c = post(body(events, addition));
    std::string arena;
    ViewEvents views;
    ViewContext ctx;
    EXPECT_EQ(adapt_views(c, arena, views, ctx), expected) << addition << " " << events;
    std::vector<event::RawEvent> raws;
    AdapterError error;
    EXPECT_EQ(adapt(c, "thrift", raws, error), expected) << addition << " " << events;
    if (expected) check(c);
    (expected ? accepted : declined) += 1;
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(accepted, 500);
  EXPECT_GT(declined, 500);
}

TEST(AdaptViews, MembersOfEveryLengthFollowedByOthersAgreeWithAdapt) {
  // The scanner reads a member in the usual shape ("key":"value", the value's end found by a
  // 16-byte block with at least 16 bytes of body left) in its own loop and any other member by
  // the general code: values of 0-70 bytes with a special byte or whitespace around the
  // separators at every offset, in the first member of an event that more members follow, must
  // give adapt()'s parameters (and raw controls must be declined).
  const std::string specials[] = {"",     "\\\"", "\\\\", "\\n",      "\\u00e9", "\x01",
                                  "\x7f", "~",    " ",    "\xc3\xa9", "\"\""};
  const std::string separators[] = {"\":\"", "\" :\"", "\": \"", "\":\t\""};
  int accepted = 0;
  for (std::size_t len = 0; len <= 70; ++len) {
    for (const std::string& special : specials) {
      for (std::size_t at = 0; at <= len; at += (len > 24 ? 5 : 1)) {
        for (const std::string& sep : separators) {
          std::string value(len, 'v');
          for (std::size_t k = 0; k < len; ++k) value[k] = static_cast<char>('a' + (k % 26));
          value.insert(at, special == "\"\"" ? "\\\"\\\"" : special);
          const std::string b =
              body("{\"aid" + sep + value + R"(","e":"pv","p":"web","tv":"t","page":"tail"},)" +
                   R"({"e":"pv","p":"web","tv":"t"})");
          const bool raw_control =
              !special.empty() && static_cast<unsigned char>(special[0]) < 0x20;
          EXPECT_EQ(check(post(b)), !raw_control) << b;
          accepted += raw_control ? 0 : 1;
          if (::testing::Test::HasFailure()) return;
        }
      }
    }
  }
  EXPECT_GT(accepted, 5000);
}

}  // namespace
}  // namespace furrow::protocol
