// Iglu validation cost with warm caches (bench/RESULTS.md). Schemas come from
// $FURROW_SHARED/iglu-central (default ../shared). Run: build/release/iglu_bench
#include <benchmark/benchmark.h>
#include <rapidjson/document.h>
#include <rapidjson/schema.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "iglu/json_schema.h"
#include "iglu/registry.h"
#include "iglu/resolver.h"

namespace {

using furrow::iglu::ValidationOutcome;

std::string shared_dir() {
  const char* v = std::getenv("FURROW_SHARED");
  return v != nullptr ? v : "../shared";
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A browser page view's contexts as the JavaScript tracker sends them: web_page + client_session.
const char* kContexts =
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[)"
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"8985dde4-3f5b-46a6-a11d-10683f22df1a"}},)"
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2","data":{"userId":"a3b695c5-7029-4eef-9a11-efc40919518f",)"
    R"("sessionId":"d64e57b9-1e2e-41d5-968e-a10475ae8bef","eventIndex":7,"sessionIndex":1,"previousSessionId":null,)"
    R"("storageMechanism":"COOKIE_1","firstEventId":"44f107ec-6590-4115-a9ba-55f9fa608399","firstEventTimestamp":"2026-11-28T05:30:07.530Z"}}]})";

const char* kBrowserContext =
    R"({"viewport":"1280x720","documentSize":"2620x4041","resolution":"1280x720","colorDepth":24,"devicePixelRatio":1,)"
    R"("cookiesEnabled":true,"online":true,"browserLanguage":"en-GB","documentLanguage":"en","webdriver":true,)"
    R"("deviceMemory":16,"hardwareConcurrency":2,"tabId":"8f647e30-1a8f-48e8-8951-255592050742"})";

std::shared_ptr<furrow::iglu::Resolver> make_resolver() {
  auto central = std::make_shared<furrow::iglu::DirectoryRegistry>("Iglu Central",
                                                                   shared_dir() + "/iglu-central");
  return std::make_shared<furrow::iglu::Resolver>(
      std::vector<std::shared_ptr<const furrow::iglu::Registry>>{furrow::iglu::builtin_registry(),
                                                                 central});
}

// What enrich does per event for `co`: the envelope, then each entity against its own schema.
void BM_EventWithTwoContexts(benchmark::State& state) {
  auto resolver = make_resolver();
  rapidjson::Document doc;
  doc.Parse(kContexts);
  const auto& data = doc["data"];
  for (auto _ : state) {
    bool ok = resolver->validate(doc["schema"].GetString(), data).status ==
              ValidationOutcome::Status::kValid;
    for (const auto& e : data.GetArray()) {
      ok &= resolver->validate(e["schema"].GetString(), e["data"]).status ==
            ValidationOutcome::Status::kValid;
    }
    if (!ok) state.SkipWithError("an entity did not validate");
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_EventWithTwoContexts);

// The library comparison: one browser_context 2-0-0 entity, valijson (as used by furrow) ...
void BM_Entity_Valijson(benchmark::State& state) {
  auto resolver = make_resolver();
  rapidjson::Document doc;
  doc.Parse(kBrowserContext);
  for (auto _ : state) {
    auto out = resolver->validate(
        "iglu:com.snowplowanalytics.snowplow/browser_context/jsonschema/2-0-0", doc);
    if (out.status != ValidationOutcome::Status::kValid)
      state.SkipWithError(out.error_json.c_str());
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Entity_Valijson);

// ... and RapidJSON's own draft-4 validator on the same schema and document.
void BM_Entity_RapidJsonSchema(benchmark::State& state) {
  rapidjson::Document sd;
  std::string text =
      read(shared_dir() +
           "/iglu-central/schemas/com.snowplowanalytics.snowplow/browser_context/jsonschema/2-0-0");
  sd.Parse(text.data(), text.size());
  rapidjson::SchemaDocument schema(sd);
  rapidjson::Document doc;
  doc.Parse(kBrowserContext);
  for (auto _ : state) {
    rapidjson::SchemaValidator v(schema);
    bool ok = doc.Accept(v);
    if (!ok) state.SkipWithError("rapidjson rejected the entity");
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_Entity_RapidJsonSchema);

// Cold path: an invalid entity, with full error reports built.
void BM_InvalidEntityReport(benchmark::State& state) {
  auto resolver = make_resolver();
  rapidjson::Document doc;
  doc.Parse(
      R"({"viewport":1280,"documentSize":"2620x4041","resolution":"1280x720","colorDepth":"24"})");
  for (auto _ : state) {
    auto out = resolver->validate(
        "iglu:com.snowplowanalytics.snowplow/browser_context/jsonschema/2-0-0", doc);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_InvalidEntityReport);

// The pieces of BM_EventWithTwoContexts: one compiled schema's fast check, no resolver.
void BM_Piece(benchmark::State& state, const char* path, const char* json) {
  auto c = furrow::iglu::CompiledSchema::compile_text(
      read(shared_dir() + "/iglu-central/schemas/" + path));
  if (!c) {
    state.SkipWithError(c.error().message.c_str());
    return;
  }
  rapidjson::Document doc;
  doc.Parse(json);
  for (auto _ : state) {
    bool ok = (*c)->is_valid(doc);
    if (!ok) state.SkipWithError("invalid");
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK_CAPTURE(
    BM_Piece, contexts_envelope, "com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
    R"([{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{}},)"
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2","data":{}}])");
BENCHMARK_CAPTURE(BM_Piece, web_page, "com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
                  R"({"id":"8985dde4-3f5b-46a6-a11d-10683f22df1a"})");
BENCHMARK_CAPTURE(
    BM_Piece, client_session, "com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
    R"({"userId":"a3b695c5-7029-4eef-9a11-efc40919518f","sessionId":"d64e57b9-1e2e-41d5-968e-a10475ae8bef",)"
    R"("eventIndex":7,"sessionIndex":1,"previousSessionId":null,"storageMechanism":"COOKIE_1",)"
    R"("firstEventId":"44f107ec-6590-4115-a9ba-55f9fa608399","firstEventTimestamp":"2026-11-28T05:30:07.530Z"})");

}  // namespace
