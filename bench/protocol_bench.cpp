// Protocol-layer micro benchmarks: Thrift decode and adapt() of typical tracker payloads, and the
// pieces they are made of. Target (issue 2): decode + adapt of a ~600-byte tp1/tp2 GET in about
// 1 us, so that the protocol layer is a small share of enrich's 300,000 events/s per core.
#include <benchmark/benchmark.h>

#include <string>

#include "common/base64.h"
#include "common/url_codec.h"
#include "event/collector_payload.h"
#include "protocol/adapter.h"
#include "protocol/log_lines.h"

namespace {

using namespace furrow;

// A JS-tracker page view as a tp2 GET (query string ~600 bytes with the cx context).
const std::string kQuery =
    "e=pv&url=https%3A%2F%2Fwww.example.com%2Fproducts%2Fshoes%3Fcolour%3Dred%26size%3D42&page=Red%"
    "20shoes%20%7C%20"
    "Example%20Shop&refr=https%3A%2F%2Fwww.google.com%2F&tv=js-3.5.0&tna=sp1&aid=shop&p=web&tz="
    "Europe%2FLondon&lang=en-"
    "GB&cs=UTF-8&f_pdf=1&f_qt=0&f_realp=0&f_wma=0&f_dir=0&f_fla=0&f_java=0&f_gears=0&f_ag=0&res="
    "2560x1440&cd=24&cookie="
    "1&eid=4f8e2b1c-2f7c-4a8e-9f3e-0d7b1f2a3c4d&dtm=1700000000123&vp=1280x720&ds=1280x3000&vid=3&"
    "sid=9a1b2c3d-4e5f-4a6b-"
    "8c7d-0e1f2a3b4c5d&duid=1f8e2b1c-2f7c-4a8e-9f3e-0d7b1f2a3c4e&cx="
    "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5z"
    "bm93cGxvdy9jb250ZXh0cy9qc29uc2NoZW1hLzEtMC0wIiwiZGF0YSI6W3sic2NoZW1hIjoiaWdsdTpjb20uc25vd3Bsb3"
    "dhbmFseXRpY3Muc25vd3"
    "Bsb3cvd2ViX3BhZ2UvanNvbnNjaGVtYS8xLTAtMCIsImRhdGEiOnsiaWQiOiJhYmMifX1dfQ&stm=1700000000200";

event::CollectorPayload get_payload(std::string path) {
  event::CollectorPayload c;
  c.ip_address = "203.0.113.9";
  c.timestamp = 1700000000300;
  c.encoding = "UTF-8";
  c.collector = "furrow-0.1.0-rawlog";
  c.user_agent =
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/119.0.0.0 "
      "Safari/537.36";
  c.referer_uri = "https://www.example.com/products";
  c.path = std::move(path);
  c.querystring = kQuery;
  c.headers = std::vector<std::string>{"Host: c.example.com", "Accept: image/webp,*/*",
                                       "Accept-Language: en-GB",
                                       "Cookie: sp=c5f3a09f-75f8-4309-bec5-fea560f78455"};
  c.hostname = "c.example.com";
  c.network_user_id = "c5f3a09f-75f8-4309-bec5-fea560f78455";
  return c;
}

std::string post_body(int events) {
  std::string body =
      "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/"
      "1-0-4\",\"data\":[";
  for (int i = 0; i < events; ++i) {
    if (i) body += ',';
    body +=
        "{\"e\":\"pv\",\"url\":\"https://www.example.com/products/"
        "shoes?colour=red\",\"page\":\"Red shoes\",\"tv\":"
        "\"js-3.5.0\",\"tna\":\"sp1\",\"aid\":\"shop\",\"p\":\"web\",\"tz\":\"Europe/"
        "London\",\"lang\":\"en-GB\","
        "\"res\":\"2560x1440\",\"cd\":\"24\",\"cookie\":\"1\",\"eid\":\"4f8e2b1c-2f7c-4a8e-9f3e-"
        "0d7b1f2a3c4d\",\"dtm\":"
        "\"1700000000123\",\"vp\":\"1280x720\",\"ds\":\"1280x3000\",\"vid\":\"3\",\"stm\":"
        "\"1700000000200\"}";
  }
  return body + "]}";
}

void BM_DecodeThriftGet(benchmark::State& state) {
  const std::string bytes =
      event::encode_thrift(get_payload("/com.snowplowanalytics.snowplow/tp2"));
  for (auto _ : state) {
    auto c = event::decode_thrift(bytes);
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_DecodeThriftGet);

void BM_AdaptTp2Get(benchmark::State& state) {
  const auto c = get_payload("/com.snowplowanalytics.snowplow/tp2");
  std::vector<event::RawEvent> out;
  protocol::AdapterError error;
  for (auto _ : state) {
    out.clear();
    bool ok = protocol::adapt(c, "thrift", out, error);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_AdaptTp2Get);

// The figure the target is about: Thrift bytes of a tp2 GET to one RawEvent.
void BM_DecodeAndAdaptTp2Get(benchmark::State& state) {
  const std::string bytes =
      event::encode_thrift(get_payload("/com.snowplowanalytics.snowplow/tp2"));
  std::vector<event::RawEvent> out;
  protocol::AdapterError error;
  for (auto _ : state) {
    out.clear();
    auto c = event::decode_thrift(bytes);
    bool ok = protocol::adapt(*c, "thrift", out, error);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_DecodeAndAdaptTp2Get);

void BM_DecodeAndAdaptTp1Get(benchmark::State& state) {
  const std::string bytes = event::encode_thrift(get_payload("/i"));
  std::vector<event::RawEvent> out;
  protocol::AdapterError error;
  for (auto _ : state) {
    out.clear();
    auto c = event::decode_thrift(bytes);
    bool ok = protocol::adapt(*c, "thrift", out, error);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DecodeAndAdaptTp1Get);

// A tp2 POST batch of N events: per-event cost is items/s.
void BM_DecodeAndAdaptTp2Post(benchmark::State& state) {
  auto c = get_payload("/com.snowplowanalytics.snowplow/tp2");
  c.querystring.reset();
  c.body = post_body(static_cast<int>(state.range(0)));
  c.content_type = "application/json; charset=utf-8";
  const std::string bytes = event::encode_thrift(c);
  std::vector<event::RawEvent> out;
  protocol::AdapterError error;
  for (auto _ : state) {
    out.clear();
    auto d = event::decode_thrift(bytes);
    bool ok = protocol::adapt(*d, "thrift", out, error);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * state.range(0)));
}
BENCHMARK(BM_DecodeAndAdaptTp2Post)->Arg(1)->Arg(10)->Arg(100);

void BM_QueryCheckAndDecode(benchmark::State& state) {
  for (auto _ : state) {
    bool valid = common::is_valid_uri_query(kQuery);
    common::QueryPairs pairs;
    common::parse_query_string(kQuery, pairs);
    benchmark::DoNotOptimize(valid);
    benchmark::DoNotOptimize(pairs);
  }
}
BENCHMARK(BM_QueryCheckAndDecode);

void BM_Base64DecodeLine(benchmark::State& state) {
  const std::string line = common::base64_encode(event::encode_thrift(get_payload("/i")));
  std::string out;
  for (auto _ : state) {
    bool ok = common::base64_decode(line, out);
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_Base64DecodeLine);

void BM_CloudFrontLine(benchmark::State& state) {
  const std::string line =
      "2014-07-01\t12:00:00\tSFO4\t480\t10.0.0.1\tGET\tx.cloudfront.net\t/i\t200\thttps://"
      "www.example.com/\t"
      "Mozilla/5.0%20(Macintosh)\t" +
      kQuery +
      "\t-\tHit\tabc==\tx.cloudfront.net\thttps\t200\t0.001\t203.0.113.7\tTLSv1.2\tECDHE\tHit";
  event::CollectorPayload c;
  std::string error;
  for (auto _ : state) {
    auto r = protocol::parse_cloudfront_line(line, c, error);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CloudFrontLine);

}  // namespace
