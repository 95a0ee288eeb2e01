#include "enrich/enrichments/referer_parser/referer_parser.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "enrich/enrichments/test_helpers.h"
#include "support/test_support.h"

namespace furrow::enrich::enrichments {
namespace {

using event::Field;

std::shared_ptr<const Enrichment> make_from_shared() {
  std::string params = R"({"internalDomains":["www.internaldomain.com"],"uri":"file://)" +
                       (test::shared_dir() / "data/referer-parser").string() +
                       R"(","database":"referers.yml"})";
  auto e =
      make_referer_parser(testing::config_of(testing::config_json(
                              "com.snowplowanalytics.snowplow", "referer_parser", "2-0-1", params)),
                          {});
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? *e : nullptr;
}

struct Outcome {
  std::string medium, source, term;
};

Outcome run(const Enrichment& e, const std::string& referrer) {
  testing::TestEvent t;
  t.ev[Field::page_referrer] = referrer;
  t.ev[Field::page_urlhost] = "www.snowplowanalytics.com";
  e.apply(t.ctx);
  EXPECT_TRUE(t.ctx.failures().empty());
  return {t.ev[Field::refr_medium], t.ev[Field::refr_source], t.ev[Field::refr_term]};
}

// Acceptance 2: every case of referer-parser's referer-tests.json.
TEST(RefererParser, OfficialRefererTests) {
  auto e = make_from_shared();
  ASSERT_NE(e, nullptr);
  rapidjson::Document doc;
  std::string text = test::read_file(test::shared_dir() / "data/referer-parser/referer-tests.json");
  doc.Parse(text.c_str());
  ASSERT_TRUE(doc.IsArray());
  int total = 0, ok = 0;
  for (const auto& c : doc.GetArray()) {
    std::string uri = c["uri"].GetString();
    auto str = [&](const char* k) {
      return c.HasMember(k) && c[k].IsString() ? std::string(c[k].GetString()) : std::string();
    };
    Outcome o = run(*e, uri);
    ++total;
    bool match = o.medium == str("medium") && o.source == str("source") && o.term == str("term");
    ok += match;
    EXPECT_TRUE(match) << uri << " → " << o.medium << "/" << o.source << "/" << o.term;
  }
  std::printf("referer-tests.json: %d of %d cases match\n", ok, total);
  EXPECT_GT(total, 100);
}

// TV-17 (RefererParserEnrichmentSpec cases beyond the JSON file): internal, unknown, chatbot.
TEST(RefererParser, Tv17InternalUnknownChatbot) {
  auto e = make_from_shared();
  ASSERT_NE(e, nullptr);
  auto o = run(*e, "https://www.snowplowanalytics.com/account/profile");
  EXPECT_EQ(o.medium, "internal");
  EXPECT_EQ(o.source, "");
  o = run(*e, "https://www.internaldomain.com/path");
  EXPECT_EQ(o.medium, "internal");
  o = run(*e, "http://www.spyfu.com/domain.aspx?d=3897225171967988459");
  EXPECT_EQ(o.medium, "unknown");
  EXPECT_EQ(o.source, "");
  o = run(*e, "https://www.chatgpt.com");
  EXPECT_EQ(o.medium, "chatbot");
  EXPECT_EQ(o.source, "ChatGPT");
  o = run(*e,
          "http://www.google.com/search?q=gateway+oracle+cards+denise+linn&hl=en&client=safari");
  EXPECT_EQ(o.medium, "search");
  EXPECT_EQ(o.source, "Google");
  EXPECT_EQ(o.term, "gateway oracle cards denise linn");
  o = run(*e, "ftp://www.google.com/search?q=x");  // not classifiable: nothing set
  EXPECT_EQ(o.medium, "");
}

// Events in a row (the enrichment reuses per-thread buffers and hands the event its strings):
// no field carries over from the previous event; a search parameter without '=' gives an
// empty term.
TEST(RefererParser, NothingCarriesOverBetweenEvents) {
  auto e = make_from_shared();
  ASSERT_NE(e, nullptr);
  for (int round = 0; round < 3; ++round) {
    auto o = run(*e, "http://www.google.com/search?q=first+term&hl=en");
    EXPECT_EQ(o.term, "first term");
    o = run(*e, "http://www.google.com/search?hl=en&q");
    EXPECT_EQ(o.medium, "search");
    EXPECT_EQ(o.source, "Google");
    EXPECT_EQ(o.term, "");
    o = run(*e, "http://www.google.com/search?hl=en");
    EXPECT_EQ(o.term, "");
    o = run(*e, "https://www.chatgpt.com");
    EXPECT_EQ(o.medium, "chatbot");
    EXPECT_EQ(o.term, "");
    o = run(*e, "ftp://www.google.com/search?q=x");
    EXPECT_EQ(o.medium, "");
    EXPECT_EQ(o.source, "");
  }
}

TEST(RefererParser, InlineJsonReferrersAndPathCandidates) {
  auto e = make_referer_parser(
      testing::config_of(testing::config_json(
          "com.snowplowanalytics.snowplow", "referer_parser", "2-0-1",
          R"({"internalDomains":[],"referrers":{"search":{"Acme":{"domains":["acme.example/find"],"parameters":["k"]}},"social":{"AcmeSocial":{"domains":["acme.example"]}}}})")),
      {});
  ASSERT_TRUE(e.ok()) << e.error().message;
  auto o = run(**e, "https://www.acme.example/find/deep/page?x=1&k=tab%09term");
  EXPECT_EQ(o.medium, "search");  // "/" + first segment candidate, then host stripping
  EXPECT_EQ(o.term, "tab    term");
  o = run(**e, "https://m.acme.example/other");
  EXPECT_EQ(o.medium, "social");
  EXPECT_EQ(o.source, "AcmeSocial");
}

TEST(RefererParser, ConfigErrors) {
  auto missing = make_referer_parser(
      testing::config_of(testing::config_json(
          "com.snowplowanalytics.snowplow", "referer_parser", "2-0-1",
          R"({"internalDomains":[],"uri":"file:///nonexistent","database":"x.yml"})")),
      {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);
  auto bad_medium = RefererDatabase::from_text(R"({"weird":{"X":{"domains":["x.com"]}}})", "db");
  ASSERT_FALSE(bad_medium.ok());
  EXPECT_NE(bad_medium.error().message.find("unknown medium"), std::string::npos);
  auto bad_yaml = RefererDatabase::from_text("search: [unclosed", "db.yml");
  EXPECT_FALSE(bad_yaml.ok());
}

// lookup_memoized gives lookup()'s source for every (host, path): hosts and paths of the
// official tests and variants of them, repeated, more pairs than the memo has slots, two
// databases used alternately, and a database that changes after lookups (add_json).
TEST(RefererParser, MemoizedLookupGivesTheLookupsSource) {
  auto shared = RefererDatabase::from_file(test::shared_dir() / "data/referer-parser/referers.yml");
  ASSERT_TRUE(shared.ok()) << shared.error().message;
  auto small = RefererDatabase::from_text(
      R"({"search":{"Acme":{"domains":["acme.example/find","google.com"],"parameters":["k"]}}})",
      "inline");
  ASSERT_TRUE(small.ok()) << small.error().message;
  std::vector<std::pair<std::string, std::string>> pairs;
  const char* hosts[] = {
      "www.google.com",   "google.com",       "m.facebook.com", "t.co",      "acme.example",
      "www.acme.example", "search.yahoo.com", "www.bing.com",   "x.example", ""};
  const char* paths[] = {"", "/", "/search", "/find/deep", "/find", "/maps/place", "/a/b/c"};
  for (const char* h : hosts) {
    for (const char* p : paths) pairs.emplace_back(h, p);
  }
  for (int i = 0; i < 400; ++i) {
    pairs.emplace_back("h" + std::to_string(i) + ".google.com", "/search");
  }
  int found = 0;
  for (int round = 0; round < 3; ++round) {
    for (const auto& [h, p] : pairs) {
      for (const RefererDatabase* db : {shared->get(), small->get()}) {
        const RefererSource* want = db->lookup(h, p);
        EXPECT_EQ(db->lookup_memoized(h, p), want) << h << p;
        if (want != nullptr) ++found;
      }
    }
    if (round == 0) {
      // "x.example" is now a source of the small database: remembered "nothing" must go.
      rapidjson::Document doc;
      doc.Parse(R"({"social":{"X":{"domains":["x.example"]}}})");
      ASSERT_TRUE((*small)->add_json(doc, "inline").ok());
      ASSERT_NE((*small)->lookup_memoized("x.example", ""), nullptr);
    }
  }
  EXPECT_GT(found, 1000);
}

}  // namespace
}  // namespace furrow::enrich::enrichments
