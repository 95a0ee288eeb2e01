#include "enrich/enrichments/event_fingerprint_config/event_fingerprint_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <utility>

#include "enrich/enrichments/test_helpers.h"
#include "protocol/param_keys.h"

namespace furrow::enrich::enrichments {
namespace {

std::shared_ptr<const Enrichment> make(const std::string& params) {
  auto e = make_event_fingerprint(
      testing::config_of(testing::config_json("com.snowplowanalytics.snowplow",
                                              "event_fingerprint_config", "1-0-1", params)),
      {});
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? *e : nullptr;
}

// Spec TV-15: pre-image "e\x1fse\x1fse_ac\x1fbuy\x1f", MD5
// 6829c2021516783f1ef03a9e9736ac77.
TEST(EventFingerprint, Tv15Golden) {
  auto e = make(R"({"excludeParameters":["stm","eid"],"hashAlgorithm":"MD5"})");
  ASSERT_NE(e, nullptr);
  testing::TestEvent t;
  t.raw.parameters.set("stm", "1000000000000");
  t.raw.parameters.set("eid", "123e4567-e89b-12d3-a456-426655440000");
  t.raw.parameters.set("e", "se");
  t.raw.parameters.set("se_ac", "buy");
  const auto& fp = dynamic_cast<const EventFingerprintEnrichment&>(*e);
  EXPECT_EQ(fp.preimage(t.raw.parameters), std::string("e\x1fse\x1fse_ac\x1f"
                                                       "buy\x1f"));
  e->apply(t.ctx);
  EXPECT_EQ(t.ev[event::Field::event_fingerprint], "6829c2021516783f1ef03a9e9736ac77");
}

TEST(EventFingerprint, OrderIndependentValuelessIgnoredAndAlgorithms) {
  auto e = make(R"({"excludeParameters":["eid"],"hashAlgorithm":"SHA256"})");
  ASSERT_NE(e, nullptr);
  testing::TestEvent a, b;
  a.raw.parameters.set("e", "pv");
  a.raw.parameters.set("aid", "x");
  a.raw.parameters.set("eid", "1");
  b.raw.parameters.set("aid", "x");
  b.raw.parameters.set("flag", std::nullopt);
  b.raw.parameters.set("e", "pv");
  b.raw.parameters.set("eid", "2");
  e->apply(a.ctx);
  e->apply(b.ctx);
  EXPECT_EQ(a.ev[event::Field::event_fingerprint].size(), 64u);
  EXPECT_EQ(a.ev[event::Field::event_fingerprint], b.ev[event::Field::event_fingerprint]);
  testing::TestEvent c;
  c.raw.parameters.set("aid", "y");
  c.raw.parameters.set("e", "pv");
  e->apply(c.ctx);
  EXPECT_NE(c.ev[event::Field::event_fingerprint], a.ev[event::Field::event_fingerprint]);
}

TEST(EventFingerprint, RejectsUnknownAlgorithm) {
  auto e =
      make_event_fingerprint(testing::config_of(testing::config_json(
                                 "com.snowplowanalytics.snowplow", "event_fingerprint_config",
                                 "1-0-1", R"({"excludeParameters":[],"hashAlgorithm":"CRC"})")),
                             {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("hashAlgorithm"), std::string::npos);
}

TEST(EventFingerprint, ReusedDigestContextAgreesWithOneShotDigests) {
  // apply() hashes through a per-thread context; the value must be the one-shot
  // digest of the preimage, for every algorithm, event after event, with
  // instances interleaved.
  std::vector<std::shared_ptr<const Enrichment>> all;
  for (const char* algo : {"MD5", "SHA1", "SHA256", "SHA384", "SHA512"}) {
    all.push_back(
        make(std::string(R"({"excludeParameters":["eid"],"hashAlgorithm":")") + algo + R"("})"));
    ASSERT_NE(all.back(), nullptr) << algo;
  }
  const char* algos[] = {"MD5", "SHA1", "SHA256", "SHA384", "SHA512"};
  for (int round = 0; round < 3; ++round) {
    for (std::size_t k = 0; k < all.size(); ++k) {
      testing::TestEvent t;
      t.raw.parameters.set("e", "pv");
      t.raw.parameters.set("url", "https://a.example/" + std::string(200 * round, 'x'));
      t.raw.parameters.set("eid", std::to_string(round));
      t.ev[event::Field::event_fingerprint] = "previous value";
      all[k]->apply(t.ctx);
      const auto& fp = dynamic_cast<const EventFingerprintEnrichment&>(*all[k]);
      EXPECT_EQ(t.ev[event::Field::event_fingerprint],
                Hasher::by_name(algos[k])->hex(fp.preimage(t.raw.parameters)))
          << algos[k] << " round " << round;
    }
  }
}

// The rule stated plainly: keep the parameters whose names are not excluded, sort them by
// name in byte order (stable, for repeated names), concatenate name U+001F value U+001F.
std::string plain_preimage(std::vector<std::pair<std::string, std::string>> params,
                           const std::vector<std::string>& exclude) {
  std::erase_if(params, [&](const auto& p) {
    return std::find(exclude.begin(), exclude.end(), p.first) != exclude.end();
  });
  std::stable_sort(params.begin(), params.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [name, value] : params) out += name + '\x1f' + value + '\x1f';
  return out;
}

std::string json_string_array(const std::vector<std::string>& names) {
  std::string out = "[";
  for (const auto& n : names) {
    if (out.size() > 1) out += ',';
    out += '"' + n + '"';
  }
  return out + "]";
}

// The ranked fast path (known names placed by a precomputed order, unknown ones sorted and
// merged in) against the plain rule, on random parameter sets mixing known names, unknown ones
// (empty, longer than any known name, prefixes and extensions of known names, bytes >= 0x80)
// and random exclude lists, through both ways an enrichment reads parameters.
TEST(EventFingerprint, RankedPreimageAgreesWithPlainSortOnRandomParameterSets) {
  std::vector<std::string> unknown = {"",       "x",     "e_", "url2",   "aaaaaaaaaaa", "\xff",
                                      "tv ",    "Aid",   "zz", "se_",    "ti_c",        "ue_pr_",
                                      "cx\x80", "e\x1f", "_",  "custom", "0",           "tnuidx"};
  std::vector<std::string> names = unknown;
  for (int id = 0; id < protocol::kParamKeyCount; ++id)
    names.emplace_back(protocol::param_key_name(id));
  std::mt19937 rng(20261128);
  const auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const char* algos[] = {"MD5", "SHA1", "SHA256"};
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> exclude;
    for (std::size_t k = pick(6); k > 0; --k) exclude.push_back(names[pick(names.size())]);
    // Names with control or non-ASCII bytes cannot go into the JSON config as they are; keep the
    // exclude list printable (unknown printable names stay in it).
    std::erase_if(exclude, [](const std::string& n) {
      return std::any_of(n.begin(), n.end(), [](char c) { return c < 0x20 || c > 0x7e; });
    });
    const std::string algo = algos[pick(3)];
    auto e = make(R"({"excludeParameters":)" + json_string_array(exclude) +
                  R"(,"hashAlgorithm":")" + algo + R"("})");
    ASSERT_NE(e, nullptr);
    const auto& fp = dynamic_cast<const EventFingerprintEnrichment&>(*e);

    // Distinct names in random order (the contract of both parameter sources).
    std::vector<std::string> shuffled = names;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    shuffled.resize(pick(shuffled.size() + 1));
    std::vector<std::pair<std::string, std::string>> params;
    for (const auto& n : shuffled) {
      std::string value(pick(4) == 0 ? 0 : pick(300), '\0');
      for (char& c : value) c = static_cast<char>(pick(256));
      params.emplace_back(n, std::move(value));
    }
    const std::string want = plain_preimage(params, exclude);
    const std::string want_hash = Hasher::by_name(algo)->hex(want);

    testing::TestEvent raw;
    for (const auto& [n, v] : params) raw.raw.parameters.set(n, v);
    raw.raw.parameters.set("valueless", std::nullopt);
    EXPECT_EQ(fp.preimage(raw.raw.parameters), want) << "round " << round;
    e->apply(raw.ctx);
    EXPECT_EQ(raw.ev[event::Field::event_fingerprint], want_hash) << "round " << round;

    testing::TestEvent views;
    std::vector<protocol::ParamView> pv;
    for (const auto& [n, v] : params) pv.push_back({n, v, protocol::param_key_id(n)});
    const std::vector<std::string> headers;
    views.ctx.set_request(&headers, pv);
    e->apply(views.ctx);
    EXPECT_EQ(views.ev[event::Field::event_fingerprint], want_hash) << "round " << round;
  }
}

// Names are unique by contract; if a source repeats one anyway, every occurrence is hashed, in
// the order a stable sort gives.
TEST(EventFingerprint, RepeatedNamesAreHashedLikeAStableSort) {
  auto e = make(R"({"excludeParameters":["eid"],"hashAlgorithm":"MD5"})");
  ASSERT_NE(e, nullptr);
  const std::vector<std::pair<std::string, std::string>> params = {
      {"url", "b"}, {"e", "pv"},  {"zz", "1"},  {"url", "a"}, {"eid", "x"},
      {"zz", "0"},  {"aid", "s"}, {"eid", "y"}, {"url", "c"}};
  std::vector<protocol::ParamView> pv;
  for (const auto& [n, v] : params) pv.push_back({n, v, protocol::param_key_id(n)});
  testing::TestEvent t;
  const std::vector<std::string> headers;
  t.ctx.set_request(&headers, pv);
  e->apply(t.ctx);
  const std::string want = plain_preimage(params, {"eid"});
  EXPECT_EQ(want,
            "aid\x1fs\x1f"
            "e\x1fpv\x1f"
            "url\x1f"
            "b\x1furl\x1f"
            "a\x1furl\x1f"
            "c\x1fzz\x1f"
            "1\x1fzz\x1f"
            "0\x1f");
  EXPECT_EQ(t.ev[event::Field::event_fingerprint], Hasher::by_name("MD5")->hex(want));
}

}  // namespace
}  // namespace furrow::enrich::enrichments
