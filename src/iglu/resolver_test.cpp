#include "iglu/resolver.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "iglu/testing/file_server.h"
#include "support/test_support.h"

namespace furrow::iglu {
namespace {

namespace fs = std::filesystem;
using Status = ValidationOutcome::Status;

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

std::string schema_text(const std::string& vendor, const std::string& name,
                        const std::string& version, const std::string& body) {
  return R"({"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",)"
         R"("self":{"vendor":")" +
         vendor + R"(","name":")" + name + R"(","format":"jsonschema","version":")" + version +
         R"("},)" + body + "}";
}

// Counts lookups, to observe caching.
class CountingRegistry : public Registry {
 public:
  CountingRegistry(std::string name, std::shared_ptr<const Registry> inner, Kind kind, int priority,
                   std::vector<std::string> prefixes = {})
      : Registry(std::move(name), priority, std::move(prefixes), kind), inner_(std::move(inner)) {}
  LookupResult lookup(const SchemaKey& key) const override {
    ++count;
    return inner_->lookup(key);
  }
  mutable std::atomic<int> count{0};

 private:
  std::shared_ptr<const Registry> inner_;
};

const std::string kPriceSchema = schema_text(
    "com.acme", "item", "1-0-0",
    R"("type":"object","properties":{"price":{"type":"number","minimum":0},"sku":{"type":"string","maxLength":4}},)"
    R"("required":["sku"],"additionalProperties":false)");

std::shared_ptr<InMemoryRegistry> acme_registry(int priority = 0) {
  return std::make_shared<InMemoryRegistry>("acme",
                                            std::map<std::string, std::string, std::less<>>{
                                                {"com.acme/item/jsonschema/1-0-0", kPriceSchema}},
                                            priority);
}

TEST(Resolver, BuiltinSchemasValidateEnvelopes) {
  auto r = builtin_resolver();
  auto ok = parse(R"([{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"a":1}}])");
  EXPECT_EQ(r->validate("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0", ok).status,
            Status::kValid);
  auto empty = parse("[]");
  auto v0 = r->validate("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0", empty);
  EXPECT_EQ(v0.status, Status::kInvalid);
  EXPECT_NE(v0.error_json.find(R"("keyword":"minItems")"), std::string::npos) << v0.error_json;
  EXPECT_EQ(
      r->validate("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1", empty).status,
      Status::kValid);
  auto bad_uri = parse(R"([{"schema":"com.acme/x/jsonschema/1-0-0","data":{}}])");
  auto v1 = r->validate("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1", bad_uri);
  EXPECT_EQ(v1.status, Status::kInvalid);
  EXPECT_NE(v1.error_json.find(R"("path":"$[0].schema","keyword":"pattern")"), std::string::npos)
      << v1.error_json;
}

// The built-in schemas accept what furrow's enrichments emit and reject what they must not.
TEST(Resolver, BuiltinSchemasCoverFurrowsOwnEntities) {
  auto r = builtin_resolver();
  struct Case {
    const char* uri;
    const char* data;
    bool valid;
  };
  const Case cases[] = {
      {"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0",
       R"({"useragentFamily":"Chrome","useragentMajor":"120","useragentMinor":"0","useragentPatch":null,)"
       R"("useragentVersion":"Chrome 120.0","osFamily":"Linux","osMajor":null,"osMinor":null,"osPatch":null,)"
       R"("osPatchMinor":null,"osVersion":"Linux","deviceFamily":"Other"})",
       true},
      {"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0",
       R"({"useragentFamily":"Chrome"})", false},
      {"iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1",
       R"({"number":15169,"organization":"GOOGLE","likelyBot":false})", true},
      {"iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1", R"({"number":-1})", false},
      {"iglu:org.ietf/http_cookie/jsonschema/1-0-0", R"({"name":"sp","value":null})", true},
      {"iglu:org.ietf/http_header/jsonschema/1-0-0", R"({"name":"Accept","value":null})", false},
      {"iglu:com.snowplowanalytics.snowplow/cross_navigation/jsonschema/1-0-0",
       R"({"domain_user_id":"abc","timestamp":"2024-01-01T00:00:00.000Z","session_id":null,"source_platform":"web"})",
       true},
      {"iglu:com.snowplowanalytics.snowplow/cross_navigation/jsonschema/1-0-0",
       R"({"domain_user_id":"abc","timestamp":"yesterday"})", false},
      {"iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0",
       R"({"spiderOrRobot":false,"category":"BROWSER","reason":"PASSED_ALL","primaryImpact":"NONE"})",
       true},
      {"iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0",
       R"({"pii":{"pojo":[{"fieldName":"user_id","originalValue":"a","modifiedValue":"b"}]},)"
       R"("strategy":{"pseudonymize":{"hashFunction":"SHA-256"}}})",
       true},
      {"iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0",
       R"({"pii":{},"strategy":{"pseudonymize":{"hashFunction":"SHA-256"}}})", false},
      {"iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0",
       R"({"uri":"https://example.com/x?y=1"})", true},
      {"iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0",
       R"({"uri":"not a uri"})", false},
      {"iglu:com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0",
       R"({"originalSchema":"iglu:com.acme/x/jsonschema/1-0-0","validatedWith":"1-0-1"})", true},
      {"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
       R"([{"e":"pv","p":"web","tv":"js-3"}])", true},
      {"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
       R"([{"e":"pv","p":"web","tv":"js-3","dtm":1}])", false},
      {"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
       R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":{},"extra":1})", false},
      {"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1",
       R"({"vendor":"com.snowplowanalytics.snowplow","name":"anon_ip","enabled":true,"parameters":{"anonOctets":2}})",
       true},
      {"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1",
       R"({"vendor":"com.snowplowanalytics.snowplow","name":"anon_ip","enabled":true,"parameters":{"anonOctets":5}})",
       false},
      {"iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-1",
       R"({"vendor":"v","name":"pii_enrichment_config","enabled":true,"emitEvent":true,"parameters":{"pii":[)"
       R"({"pojo":{"field":"user_id"}},{"json":{"field":"contexts","schemaCriterion":"iglu:com.acme/x/jsonschema/1-*-*",)"
       R"("jsonPath":"$.email"}}],"strategy":{"pseudonymize":{"hashFunction":"SHA-256","salt":"s"}}}})",
       true},
  };
  for (const auto& c : cases) {
    auto d = parse(c.data);
    auto out = r->validate(c.uri, d);
    EXPECT_EQ(out.status, c.valid ? Status::kValid : Status::kInvalid)
        << c.uri << " " << c.data << " " << out.error_json;
  }
}

TEST(Resolver, ValidationErrorCarriesPathKeywordAndTargets) {
  Resolver r({acme_registry()});
  auto bad = parse(R"({"price":"12","sku":"ABCDE","extra":true})");
  auto out = r.validate("iglu:com.acme/item/jsonschema/1-0-0", bad);
  ASSERT_EQ(out.status, Status::kInvalid);
  auto err = parse(out.error_json);
  EXPECT_STREQ(err["error"].GetString(), "ValidationError");
  const auto& reports = err["dataReports"];
  ASSERT_EQ(reports.Size(), 3u) << out.error_json;
  std::map<std::string, std::string> by_keyword;
  for (const auto& rep : reports.GetArray())
    by_keyword[rep["keyword"].GetString()] = rep["path"].GetString();
  EXPECT_EQ(by_keyword["type"], "$.price");
  EXPECT_EQ(by_keyword["maxLength"], "$.sku");
  EXPECT_EQ(by_keyword["additionalProperties"], "$");
  EXPECT_NE(out.error_json.find(R"("targets":["extra"])"), std::string::npos) << out.error_json;
  EXPECT_NE(out.error_json.find(R"("message":"$.price: string found)"), std::string::npos)
      << out.error_json;
  auto missing = parse(R"({"price":1})");
  auto m = r.validate("iglu:com.acme/item/jsonschema/1-0-0", missing);
  EXPECT_NE(m.error_json.find(R"("keyword":"required","targets":["sku"])"), std::string::npos)
      << m.error_json;
  auto good = parse(R"({"price":1.5,"sku":"AB"})");
  EXPECT_EQ(r.validate("iglu:com.acme/item/jsonschema/1-0-0", good).status, Status::kValid);
}

TEST(Resolver, NotFoundGivesResolutionErrorAndIsCached) {
  auto counting = std::make_shared<CountingRegistry>("Acme Registry", acme_registry(),
                                                     Registry::Kind::kEmbedded, 0);
  ResolverOptions opts;
  opts.fixed_now_ms = 1574258700123;
  Resolver r({builtin_registry(), counting}, opts);
  auto data = parse("{}");
  auto out = r.validate("iglu:com.acme/missing/jsonschema/1-0-0", data);
  ASSERT_EQ(out.status, Status::kNotFound);
  EXPECT_EQ(
      out.error_json,
      R"({"error":"ResolutionError","lookupHistory":[)"
      R"({"repository":"Acme Registry","errors":[{"error":"NotFound"}],"attempts":1,"lastAttempt":"2019-11-20T14:05:00.123Z"},)"
      R"({"repository":"Iglu Client Embedded","errors":[{"error":"NotFound"}],"attempts":1,"lastAttempt":"2019-11-20T14:05:00.123Z"}]})");
  EXPECT_EQ(counting->count, 1);
  EXPECT_EQ(r.validate("iglu:com.acme/missing/jsonschema/1-0-0", data).status, Status::kNotFound);
  EXPECT_EQ(counting->count, 1) << "a miss must be cached";
  auto item = parse(R"({"sku":"A"})");
  EXPECT_EQ(r.validate("iglu:com.acme/item/jsonschema/1-0-0", item).status, Status::kValid);
  EXPECT_EQ(r.validate("iglu:com.acme/item/jsonschema/1-0-0", item).status, Status::kValid);
  EXPECT_EQ(counting->count, 2);
}

TEST(Resolver, CacheTtlAndSizeBoundLookups) {
  auto counting =
      std::make_shared<CountingRegistry>("acme", acme_registry(), Registry::Kind::kEmbedded, 0);
  ResolverOptions opts;
  opts.cache_ttl = std::chrono::seconds(0);
  Resolver expiring({counting}, opts);
  auto item = parse(R"({"sku":"A"})");
  expiring.validate("iglu:com.acme/item/jsonschema/1-0-0", item);
  expiring.validate("iglu:com.acme/item/jsonschema/1-0-0", item);
  EXPECT_EQ(counting->count, 2) << "a TTL of 0 makes every entry stale";

  auto counting2 =
      std::make_shared<CountingRegistry>("acme", acme_registry(), Registry::Kind::kEmbedded, 0);
  ResolverOptions small;
  small.cache_size = 1;
  Resolver lru({counting2}, small);
  lru.validate("iglu:com.acme/item/jsonschema/1-0-0", item);
  lru.validate("iglu:com.acme/other/jsonschema/1-0-0", item);  // evicts item
  lru.validate("iglu:com.acme/item/jsonschema/1-0-0", item);
  EXPECT_EQ(counting2->count, 3);
}

TEST(Resolver, LookupOrderFollowsPrefixesKindAndPriority) {
  std::map<std::string, std::string, std::less<>> none;
  auto http_matched = std::make_shared<HttpRegistry>("http-acme", "http://127.0.0.1:9", "", 5,
                                                     std::vector<std::string>{"com.acme"});
  auto http_low = std::make_shared<HttpRegistry>("http-0", "http://127.0.0.1:9", "", 0);
  auto emb_1 = std::make_shared<DirectoryRegistry>("emb-1", "/nonexistent", 1);
  auto emb_0 = std::make_shared<DirectoryRegistry>("emb-0", "/nonexistent", 0);
  auto mem = std::make_shared<InMemoryRegistry>("mem", none, 9);
  Resolver r({http_low, emb_1, http_matched, emb_0, mem});
  auto order = r.lookup_order(*SchemaKey::parse("iglu:com.acme.shop/x/jsonschema/1-0-0"));
  std::vector<std::string> names;
  for (const auto& reg : order) names.push_back(reg->name());
  EXPECT_EQ(names, (std::vector<std::string>{"http-acme", "mem", "emb-0", "emb-1", "http-0"}));
  auto other = r.lookup_order(*SchemaKey::parse("iglu:org.other/x/jsonschema/1-0-0"));
  EXPECT_EQ(other.front()->name(), "mem");
  EXPECT_EQ(other.back()->name(), "http-acme");
}

TEST(Resolver, SupersededSchemaValidatesWithTheNewerVersion) {
  std::map<std::string, std::string, std::less<>> schemas{
      {"com.acme/ev/jsonschema/1-0-0",
       schema_text(
           "com.acme", "ev", "1-0-0",
           R"("$supersededBy":"1-0-1","type":"object","properties":{"a":{"type":"integer"}},)"
           R"("additionalProperties":false)")},
      {"com.acme/ev/jsonschema/1-0-1",
       schema_text("com.acme", "ev", "1-0-1",
                   R"("type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},)"
                   R"("additionalProperties":false)")}};
  Resolver r({std::make_shared<InMemoryRegistry>("acme", schemas)});
  auto with_b = parse(R"({"a":1,"b":"x"})");
  auto out = r.validate("iglu:com.acme/ev/jsonschema/1-0-0", with_b);
  EXPECT_EQ(out.status, Status::kValid);
  EXPECT_EQ(out.superseded_by, "1-0-1");
  auto bad = parse(R"({"a":"no"})");
  auto out2 = r.validate("iglu:com.acme/ev/jsonschema/1-0-0", bad);
  EXPECT_EQ(out2.status, Status::kInvalid);
  EXPECT_EQ(out2.superseded_by, "1-0-1");
  EXPECT_NE(out2.error_json.find(R"("supersededBy":"1-0-1")"), std::string::npos)
      << out2.error_json;
  auto direct = r.validate("iglu:com.acme/ev/jsonschema/1-0-1", with_b);
  EXPECT_TRUE(direct.superseded_by.empty());
}

TEST(Resolver, InvalidSchemaAndInvalidKeyAreReportedNotThrown) {
  std::map<std::string, std::string, std::less<>> schemas{
      {"com.acme/broken/jsonschema/1-0-0",
       R"({"type":"object","properties":{"a":{"pattern":"(["}}})"},
      {"com.acme/notjson/jsonschema/1-0-0", "{"}};
  Resolver r({std::make_shared<InMemoryRegistry>("acme", schemas)});
  auto data = parse("{}");
  auto a = r.validate("iglu:com.acme/broken/jsonschema/1-0-0", data);
  EXPECT_EQ(a.status, Status::kInvalid);
  EXPECT_NE(a.error_json.find("schemaIssues"), std::string::npos);
  EXPECT_EQ(r.validate("iglu:com.acme/notjson/jsonschema/1-0-0", data).status, Status::kInvalid);
  auto k = r.validate("iglu:com.acme/x/jsonschema/1-0", data);
  EXPECT_EQ(k.status, Status::kInvalid);
  EXPECT_NE(k.error_json.find("Invalid schema key"), std::string::npos);
}

TEST(Resolver, DeepInstancesAreRejected) {
  std::map<std::string, std::string, std::less<>> schemas{
      {"com.acme/any/jsonschema/1-0-0",
       schema_text("com.acme", "any", "1-0-0", R"("type":"array")")}};
  Resolver r({std::make_shared<InMemoryRegistry>("acme", schemas)});
  std::string deep(kMaxJsonDepth + 5, '[');
  deep += std::string(kMaxJsonDepth + 5, ']');
  auto d = parse(deep);
  auto out = r.validate("iglu:com.acme/any/jsonschema/1-0-0", d);
  EXPECT_EQ(out.status, Status::kInvalid);
  EXPECT_NE(out.error_json.find("maxDepth"), std::string::npos);
}

// Acceptance 4 at the validator seam: an unreachable HTTP registry is an infrastructure failure
// (never kInvalid / kNotFound), and validation resumes when the registry returns.
TEST(Resolver, HttpRegistryOutageIsInfrastructureThenRecovers) {
  fs::path root = test::temp_dir("iglu_http_");
  fs::create_directories(root / "schemas/com.acme/item/jsonschema");
  std::ofstream(root / "schemas/com.acme/item/jsonschema/1-0-0") << kPriceSchema;
  testing::FileServer server(root);
  ASSERT_TRUE(server.start());
  int port = server.port();
  server.stop();
  HttpRegistry::Options fast;
  fast.retries = 1;
  fast.backoff_ms = 1;
  auto http =
      std::make_shared<HttpRegistry>("Acme HTTP", "http://127.0.0.1:" + std::to_string(port), "", 0,
                                     std::vector<std::string>{"com.acme"}, fast);
  Resolver r({builtin_registry(), http});
  auto item = parse(R"({"sku":"A"})");
  auto down = r.validate("iglu:com.acme/item/jsonschema/1-0-0", item);
  EXPECT_EQ(down.status, Status::kInfrastructure) << down.error_json;
  EXPECT_NE(down.error_json.find("Acme HTTP"), std::string::npos);
  ASSERT_TRUE(server.start(port));
  EXPECT_EQ(r.validate("iglu:com.acme/item/jsonschema/1-0-0", item).status, Status::kValid);
  auto missing = r.validate("iglu:com.acme/nothere/jsonschema/1-0-0", item);
  EXPECT_EQ(missing.status, Status::kNotFound);
  EXPECT_NE(missing.error_json.find(R"("repository":"Acme HTTP")"), std::string::npos);
  server.stop();
  // Cached: still valid while the registry is down again.
  EXPECT_EQ(r.validate("iglu:com.acme/item/jsonschema/1-0-0", item).status, Status::kValid);
  fs::remove_all(root);
}

TEST(ResolverConfig, AcceptsEverySnowplowVersion) {
  for (const char* v : {"1-0-0", "1-0-1", "1-0-2", "1-0-3"}) {
    std::string ttl = std::string(v) >= "1-0-2" ? R"("cacheTtl":600,)" : "";
    std::string apikey = std::string(v) != "1-0-0" ? R"(,"apikey":null)" : "";
    std::string text =
        std::string(R"({"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/)") +
        v + R"(","data":{"cacheSize":500,)" + ttl +
        R"("repositories":[{"name":"Iglu Central","priority":0,"vendorPrefixes":["com.snowplowanalytics"],)"
        R"("connection":{"http":{"uri":"http://iglucentral.com")" +
        apikey +
        R"(}}},{"name":"local","priority":1,"vendorPrefixes":[],"connection":{"embedded":{"path":"regs"}}}]}})";
    auto cfg = parse_resolver_config_text(text, "/etc/furrow");
    ASSERT_TRUE(cfg) << v << ": " << cfg.error().message;
    EXPECT_EQ(cfg->options.cache_size, 500u);
    ASSERT_EQ(cfg->registries.size(), 3u);
    EXPECT_EQ(cfg->registries[0]->name(), "Iglu Client Embedded");
    EXPECT_EQ(cfg->registries[1]->kind(), Registry::Kind::kHttp);
    EXPECT_EQ(cfg->registries[2]->kind(), Registry::Kind::kEmbedded);
    EXPECT_EQ(cfg->options.cache_ttl.has_value(), std::string(v) >= "1-0-2");
  }
}

TEST(ResolverConfig, RejectsBadConfigsWithAClearMessage) {
  auto wrong_schema = parse_resolver_config_text(
      R"({"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/2-0-0","data":{}})");
  ASSERT_FALSE(wrong_schema);
  EXPECT_NE(wrong_schema.error().message.find("unsupported schema"), std::string::npos);
  auto missing = parse_resolver_config_text(
      R"({"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1","data":{"cacheSize":5}})");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("repositories"), std::string::npos);
  EXPECT_FALSE(parse_resolver_config_text("{"));
  EXPECT_FALSE(load_resolver("/nonexistent/resolver.json"));
}

TEST(ResolverConfig, LoadResolverUsesEmbeddedRegistryRelativeToTheFile) {
  fs::path dir = test::temp_dir("iglu_cfg_");
  fs::create_directories(dir / "reg/schemas/com.acme/item/jsonschema");
  std::ofstream(dir / "reg/schemas/com.acme/item/jsonschema/1-0-0") << kPriceSchema;
  std::ofstream(dir / "resolver.json")
      << R"({"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1","data":{"cacheSize":10,)"
         R"("repositories":[{"name":"local","priority":0,"vendorPrefixes":["com.acme"],"connection":{"embedded":{"path":"reg"}}}]}})";
  auto v = load_resolver((dir / "resolver.json").string());
  ASSERT_TRUE(v) << v.error().message;
  auto good = parse(R"({"sku":"A"})");
  EXPECT_EQ((*v)->validate("iglu:com.acme/item/jsonschema/1-0-0", good).status, Status::kValid);
  auto bad = parse(R"({"sku":7})");
  EXPECT_EQ((*v)->validate("iglu:com.acme/item/jsonschema/1-0-0", bad).status, Status::kInvalid);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace furrow::iglu
