// Whole enrichment pipeline on one core, no optional enrichments: Thrift bytes in, enriched TSV
// out (decode, adapter, field mapping, contexts parse/re-serialise, URL splitting, derived
// timestamp, length checks, TSV write). Figures go to bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <string>

#include "common/base64.h"
#include "enrich/pipeline.h"
#include "event/collector_payload.h"

namespace {

using furrow::enrich::Output;
using furrow::enrich::Pipeline;
using furrow::enrich::PipelineConfig;

// One event as the JS tracker (v3) sends it in a tp2 POST, with a web_page context.
std::string tracker_event(int i) {
  const std::string cx = furrow::common::base64url_encode(
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"a86c42e5-b831-45c8-b706-e214c26b4b3d"}}]})");
  return R"({"e":"pv","url":"https://shop.example.com/products/42?utm_source=news&utm_medium=email","page":"Product 42 - Shop","refr":"https://www.google.com/search?q=shop","tv":"js-3.17.0","tna":"sp1","aid":"shop","p":"web","tz":"Europe/London","lang":"en-GB","cs":"UTF-8","f_pdf":"1","f_qt":"0","f_realp":"0","f_wma":"0","f_dir":"0","f_fla":"0","f_java":"0","f_gears":"0","f_ag":"0","res":"1920x1080","cd":"24","cookie":"1","eid":"8c3d2a5e-4b1f-4e8a-9f0b-)" +
         std::to_string(100000000000 + i) +
         R"(","dtm":"1700000000123","stm":"1700000000456","vp":"1280x720","ds":"1280x3000","vid":"3","sid":"1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b","duid":"0b5a7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b","cx":")" +
         cx + R"("})";
}

std::string tp2_post(int events) {
  furrow::event::CollectorPayload cp;
  cp.ip_address = "203.0.113.7";
  cp.timestamp = 1700000001000;
  cp.encoding = "UTF-8";
  cp.collector = "ssc-3.4.0-kafka";
  cp.user_agent =
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36";
  cp.referer_uri = "https://shop.example.com/products/42";
  cp.path = "/com.snowplowanalytics.snowplow/tp2";
  std::string body =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[)";
  for (int i = 0; i < events; ++i) {
    if (i) body += ',';
    body += tracker_event(i);
  }
  body += "]}";
  cp.body = body;
  cp.headers = std::vector<std::string>{"Host: c.example.com",
                                        "User-Agent: " + *cp.user_agent,
                                        "Accept: */*",
                                        "Origin: https://shop.example.com",
                                        "Cookie: sp=0b5a7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                                        "application/json; charset=utf-8"};
  cp.content_type = "application/json; charset=utf-8";
  cp.hostname = "c.example.com";
  cp.network_user_id = "0b5a7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
  return furrow::event::encode_thrift(cp);
}

std::string tp2_get() {
  furrow::event::CollectorPayload cp;
  cp.ip_address = "203.0.113.7";
  cp.timestamp = 1700000001000;
  cp.encoding = "UTF-8";
  cp.collector = "ssc-3.4.0-kafka";
  cp.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
  cp.path = "/i";
  cp.querystring =
      "e=pv&url=https%3A%2F%2Fshop.example.com%2Fp%2F42%3Futm_source%3Dnews&page=Product%2042&tv="
      "js-3.17.0"
      "&tna=sp1&aid=shop&p=web&tz=Europe%2FLondon&lang=en-GB&cs=UTF-8&res=1920x1080&cd=24&cookie=1"
      "&eid=8c3d2a5e-4b1f-4e8a-9f0b-123456789012&dtm=1700000000123&stm=1700000000456&vp=1280x720&"
      "ds=1280x3000"
      "&vid=3&sid=1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b&duid=0b5a7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
  cp.headers = std::vector<std::string>{"Host: c.example.com", "Accept: */*"};
  cp.hostname = "c.example.com";
  cp.network_user_id = "0b5a7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
  return furrow::event::encode_thrift(cp);
}

void run(benchmark::State& state, const std::string& record, int events_per_record) {
  PipelineConfig config;
  config.fixed_now_ms = 1700000002000;
  const Pipeline pipeline(config);
  Output out;
  std::size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    pipeline.process_thrift(record, out);
    if (out.good.size() != static_cast<std::size_t>(events_per_record)) {
      state.SkipWithError(out.bad.empty() ? "no output" : out.bad.front().c_str());
      break;
    }
    bytes += out.good.front().size();
    benchmark::DoNotOptimize(out.good.data());
  }
  state.SetItemsProcessed(state.iterations() * events_per_record);
  state.counters["tsv_bytes_per_event"] =
      state.iterations() ? static_cast<double>(bytes) / static_cast<double>(state.iterations()) : 0;
}

void BM_Pipeline_Tp2PostOneEvent(benchmark::State& state) {
  run(state, tp2_post(1), 1);
}
void BM_Pipeline_Tp2PostBatch10(benchmark::State& state) {
  run(state, tp2_post(10), 10);
}
void BM_Pipeline_Tp1Get(benchmark::State& state) {
  run(state, tp2_get(), 1);
}

BENCHMARK(BM_Pipeline_Tp2PostOneEvent);
BENCHMARK(BM_Pipeline_Tp2PostBatch10);
BENCHMARK(BM_Pipeline_Tp1Get);

}  // namespace
