#include "enrich/enrichments/pii_enrichment_config/pii_enrichment_config.h"

#include <gtest/gtest.h>

#include "enrich/enrichments/test_helpers.h"

namespace furrow::enrich::enrichments {
namespace {

using event::Field;

// Expected digests were computed independently (Python hashlib) as hex(hash(value + salt)).
constexpr const char* kAlice = "ce463bda1f16f7677143cb3f780c961ffd9d5c1546de788e0047e17e4d6adc45";
constexpr const char* kAB = "c12ab1e37c9249bc2c0681ee6de8ec1f77693b69781e423a0da98406a65038e6";
constexpr const char* kCD = "4b5d51bbb7a2bc94915bd7e8540771ef24835e1906c62ac4a06aa5dced3ecacb";
constexpr const char* kXYZ = "1a4d9da62893b87b01d85c456a69c35c23ca0178e2578f7e93ff055be0adb56c";

std::string pii_config(bool emit, const std::string& extra_data = "") {
  return R"({"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-1","data":{"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"pii_enrichment_config",)" +
         extra_data + R"("emitEvent":)" + (emit ? "true" : "false") +
         R"(,"enabled":true,"parameters":{"pii":[{"pojo":{"field":"user_id"}},{"pojo":{"field":"user_fingerprint"}},{"json":{"field":"contexts","schemaCriterion":"iglu:com.acme/user/jsonschema/1-*-*","jsonPath":"$.emails[*]"}},{"json":{"field":"unstruct_event","schemaCriterion":"iglu:com.acme/signup/jsonschema/1-0-*","jsonPath":"$['email']"}},{"json":{"field":"derived_contexts","schemaCriterion":"iglu:com.acme/derived/jsonschema/*-*-*","jsonPath":"$.email"}}],"strategy":{"pseudonymize":{"hashFunction":"SHA-256","salt":"pepper"}}}}})";
}

std::shared_ptr<const Enrichment> make(const std::string& json) {
  auto e = make_pii_enrichment(testing::config_of(json), {});
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? *e : nullptr;
}

TEST(Pii, PseudonymisesFieldsAndJsonPaths) {
  auto e = make(pii_config(false));
  ASSERT_NE(e, nullptr);
  testing::TestEvent t;
  t.ev[Field::user_id] = "alice";
  t.ev[Field::contexts] =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.acme/user/jsonschema/1-0-2","data":{"emails":["a@b.com","c@d.com"],"n":1}},{"schema":"iglu:com.acme/user/jsonschema/2-0-0","data":{"emails":["a@b.com"]}}]})";
  t.ev[Field::unstruct_event] =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/signup/jsonschema/1-0-0","data":{"email":"x@y.z","age":3}}})";
  t.ctx.add_derived_context(
      R"({"schema":"iglu:com.acme/derived/jsonschema/1-0-0","data":{"email":"alice"}})");
  e->apply(t.ctx);
  EXPECT_EQ(t.ev[Field::user_id], kAlice);
  EXPECT_EQ(t.ev[Field::user_fingerprint], "");  // null stays null
  EXPECT_EQ(
      t.ev[Field::contexts],
      std::string(
          R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.acme/user/jsonschema/1-0-2","data":{"emails":[")") +
          kAB + R"(",")" + kCD +
          R"("],"n":1}},{"schema":"iglu:com.acme/user/jsonschema/2-0-0","data":{"emails":["a@b.com"]}}]})");
  EXPECT_EQ(
      t.ev[Field::unstruct_event],
      std::string(
          R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/signup/jsonschema/1-0-0","data":{"email":")") +
          kXYZ + R"(","age":3}}})");
  ASSERT_EQ(t.ctx.pending_contexts().size(), 1u);
  EXPECT_EQ(t.ctx.pending_contexts()[0],
            std::string(R"({"schema":"iglu:com.acme/derived/jsonschema/1-0-0","data":{"email":")") +
                kAlice + R"("}})");
}

TEST(Pii, EmitEventAddsTransformationRecord) {
  auto e = make(pii_config(true));
  ASSERT_NE(e, nullptr);
  testing::TestEvent t;
  t.ev[Field::user_id] = "alice";
  t.ev[Field::unstruct_event] =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/signup/jsonschema/1-0-0","data":{"email":"x@y.z"}}})";
  e->apply(t.ctx);
  ASSERT_EQ(t.ctx.pending_contexts().size(), 1u);
  EXPECT_EQ(
      t.ctx.pending_contexts()[0],
      std::string(
          R"({"schema":"iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0","data":{"pii":{"pojo":[{"fieldName":"user_id","originalValue":"alice","modifiedValue":")") +
          kAlice +
          R"("}],"json":[{"fieldName":"unstruct_event","originalValue":"x@y.z","modifiedValue":")" +
          kXYZ +
          R"(","jsonPath":"$['email']","schema":"iglu:com.acme/signup/jsonschema/1-0-0"}]},"strategy":{"pseudonymize":{"hashFunction":"SHA-256"}}}})");
}

TEST(Pii, AnonymousOnly) {
  auto e = make(pii_config(false, R"("anonymousOnly":true,)"));
  ASSERT_NE(e, nullptr);
  testing::TestEvent t;
  t.ev[Field::user_id] = "alice";
  e->apply(t.ctx);
  EXPECT_EQ(t.ev[Field::user_id], "alice");
  testing::TestEvent a;
  a.ev[Field::user_id] = "alice";
  a.ctx.set_anonymous(true);
  e->apply(a.ctx);
  EXPECT_EQ(a.ev[Field::user_id], kAlice);
}

TEST(Pii, ConfigErrors) {
  std::string base = pii_config(false);
  auto bad_field = make_pii_enrichment(
      testing::config_of(std::string(base).replace(base.find("user_fingerprint"), 16, "page_url")),
      {});
  ASSERT_FALSE(bad_field.ok());
  EXPECT_NE(bad_field.error().message.find("data.parameters.pii[1].pojo.field"), std::string::npos)
      << bad_field.error().message;
  auto bad_hash = make_pii_enrichment(
      testing::config_of(std::string(base).replace(base.find("SHA-256"), 7, "CRC32")), {});
  ASSERT_FALSE(bad_hash.ok());
  EXPECT_NE(bad_hash.error().message.find("hashFunction"), std::string::npos);
  EXPECT_FALSE(parse_json_path("$..email").ok());
  EXPECT_FALSE(parse_json_path("email").ok());
  auto ok = parse_json_path("$.a[2]['b'].*");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 4u);
  // Snowplow's sample config uses a union after a dot.
  auto uni = parse_json_path("$.data.['email', 'ip_opt']");
  ASSERT_TRUE(uni.ok()) << uni.error().message;
  ASSERT_EQ(uni->size(), 2u);
  EXPECT_EQ((*uni)[1].keys, (std::vector<std::string>{"email", "ip_opt"}));
}

TEST(Pii, SchemaCriterion) {
  auto c = SchemaCriterion::parse("iglu:com.acme/user/jsonschema/1-*-*");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->matches("iglu:com.acme/user/jsonschema/1-0-2"));
  EXPECT_FALSE(c->matches("iglu:com.acme/user/jsonschema/2-0-0"));
  EXPECT_FALSE(c->matches("iglu:com.acme/users/jsonschema/1-0-0"));
  EXPECT_FALSE(SchemaCriterion::parse("iglu:com.acme/user/jsonschema").ok());
}

}  // namespace
}  // namespace furrow::enrich::enrichments
