#include "enrich/enrichments/event_fingerprint_config/event_fingerprint_config.h"

#include <gtest/gtest.h>

#include "enrich/enrichments/test_helpers.h"

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

}  // namespace
}  // namespace furrow::enrich::enrichments
