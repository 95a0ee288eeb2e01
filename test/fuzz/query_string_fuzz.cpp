// Fuzzes the query-string path of a GET: java.net.URI syntax check, URLEncodedUtils-style splitting
// and decoding, and the tp2 GET adapter. Invariants: decoded text is valid UTF-8, encode/decode
// round-trips valid UTF-8, adapt never throws and either appends events or explains why not.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/url_codec.h"
#include "protocol/adapter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace furrow;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string why;
  bool valid = common::is_valid_uri_query(in, &why);
  if (!valid && why.empty()) __builtin_trap();

  common::QueryPairs pairs;
  common::parse_query_string(common::query_part(in), pairs);
  std::string sink;
  for (const auto& [name, value] : pairs) {
    if (name.empty()) __builtin_trap();
    sink.clear();
    if (!common::utf8_repair_append(name, sink)) __builtin_trap();
    if (value) {
      sink.clear();
      if (!common::utf8_repair_append(*value, sink)) __builtin_trap();
    }
  }
  std::string repaired;
  if (common::utf8_repair_append(in, repaired)) {
    if (common::url_decode(common::url_encode(in)) != in) __builtin_trap();
  }

  event::CollectorPayload c;
  c.path = "/com.snowplowanalytics.snowplow/tp2";
  c.querystring = std::string(in);
  std::vector<event::RawEvent> out;
  protocol::AdapterError error;
  bool ok = protocol::adapt(c, "thrift", out, error);
  if (ok != (out.size() == 1)) __builtin_trap();
  if (!ok && error.messages_json.empty()) __builtin_trap();
  if (!ok && valid && !pairs.empty()) __builtin_trap();  // a parsable non-empty query is an event
  return 0;
}
