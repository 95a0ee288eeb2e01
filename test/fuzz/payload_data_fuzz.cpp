// Fuzzes POST bodies: the tp2 payload_data adapter and the Iglu webhook adapter (JSON and form
// bodies), the tp2 fast paths (owned parameters and views) against the general one, plus the
// compact JSON re-serialiser (idempotent on its own output).
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/url_codec.h"
#include "protocol/adapter.h"
#include "protocol/adapters_internal.h"
#include "protocol/json_util.h"

namespace {

void run_adapter(std::string_view path, std::string_view body, const char* content_type,
                 const char* qs) {
  using namespace furrow;
  event::CollectorPayload c;
  c.path = std::string(path);
  c.body = std::string(body);
  c.content_type = content_type;
  if (qs) c.querystring = qs;
  std::vector<event::RawEvent> out;
  protocol::AdapterError error;
  bool ok = protocol::adapt(c, "thrift", out, error);
  if (ok && out.empty()) __builtin_trap();
  if (!ok && (!out.empty() || error.messages_json.empty())) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace furrow::protocol;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  run_adapter("/com.snowplowanalytics.snowplow/tp2", in, "application/json", "aid=q");
  run_adapter("/com.snowplowanalytics.iglu/v1", in, "application/json",
              "schema=iglu%3Acom.acme%2Fe%2Fjsonschema%2F1-0-0");
  run_adapter("/com.snowplowanalytics.iglu/v1", in, "application/json", nullptr);
  run_adapter("/com.snowplowanalytics.iglu/v1", in, "application/x-www-form-urlencoded",
              "schema=iglu%3Acom.acme%2Fe%2Fjsonschema%2F1-0-0");

  // The tp2 fast path never disagrees with the general path when it accepts a body.
  {
    furrow::event::Params query;
    query.set("aid", std::string("q"));
    std::vector<furrow::event::Params> fast, general;
    std::vector<std::string> messages;
    if (detail::scan_payload_data(in, query, fast)) {
      if (!detail::parse_payload_data(in, query, general, messages) || fast != general)
        __builtin_trap();
    } else if (!fast.empty()) {
      __builtin_trap();
    }
  }

  // The view scanner (adapt_views' tp2 POST path) likewise: whatever it accepts, the general path
  // accepts with the same parameters in the same order (it takes valid UTF-8 only).
  if (furrow::common::is_valid_utf8(in)) {
    std::string arena;
    ViewEvents views;
    std::vector<furrow::event::Params> general;
    std::vector<std::string> messages;
    if (detail::scan_payload_views(in, arena, views)) {
      if (!detail::parse_payload_data(in, furrow::event::Params{}, general, messages) ||
          general.size() != views.size())
        __builtin_trap();
      for (std::size_t e = 0; e < views.size(); ++e) {
        const auto event = views.event(e);
        const auto& items = general[e].items();
        if (event.size() != items.size()) __builtin_trap();
        for (std::size_t k = 0; k < items.size(); ++k) {
          if (event[k].name != items[k].name || !items[k].value ||
              event[k].value != *items[k].value)
            __builtin_trap();
        }
      }
    }
  }

  CompactJson once, twice;
  std::string error;
  if (compact_json(in, once, error)) {
    if (!compact_json(once.text, twice, error)) __builtin_trap();
    if (twice.text != once.text || twice.children.size() != once.children.size()) __builtin_trap();
  }
  return 0;
}
