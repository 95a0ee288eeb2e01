// Snowplow's self-describing bad rows (spec section 5), one compact JSON document each. Every
// builder returns the whole document `{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/...",
// "data":{"processor":{...},"failure":{...},"payload":...}}`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "event/collector_payload.h"
#include "event/enriched_event.h"
#include "event/raw_event.h"

namespace furrow::event {

// Who produced the bad row: {"artifact": ..., "version": ...}.
struct Processor {
  std::string artifact;
  std::string version;
};

// Messages are compact JSON objects in the shapes the spec lists for each bad-row type.

// collector_payload_format_violation 1-0-0. `loader`: thrift | cloudfront | clj-tomcat | ndjson |
// tsv. `message_json`: {"payloadField":..,"value":..,"expectation":..} or {"error":".."}.
// `payload`: base64 of the raw record (thrift) or the raw line.
std::string collector_payload_format_violation(const Processor& p, int64_t now_ms,
                                               std::string_view loader,
                                               std::string_view message_json,
                                               std::string_view payload);

// adapter_failures 1-0-0 / tracker_protocol_violations 1-0-1, payload = CollectorPayload JSON.
std::string adapter_failures(const Processor& p, int64_t now_ms, std::string_view vendor,
                             std::string_view version,
                             const std::vector<std::string>& messages_json,
                             const CollectorPayload& payload);
std::string tracker_protocol_violations(const Processor& p, int64_t now_ms, std::string_view vendor,
                                        std::string_view version,
                                        const std::vector<std::string>& messages_json,
                                        const CollectorPayload& payload);

// schema_violations 2-0-1 / enrichment_failures 2-0-1, payload = {"enriched": <partially
// enriched event>, "raw": <raw event>}.
std::string schema_violations(const Processor& p, int64_t now_ms,
                              const std::vector<std::string>& messages_json,
                              const EnrichedEvent& enriched, const RawEvent& raw);
std::string enrichment_failures(const Processor& p, int64_t now_ms,
                                const std::vector<std::string>& messages_json,
                                const EnrichedEvent& enriched, const RawEvent& raw);

// size_violation 1-0-0; `payload` is truncated to max_bytes / 10 characters by this function.
std::string size_violation(const Processor& p, int64_t now_ms, std::size_t max_bytes,
                           std::size_t actual_bytes, std::string_view expectation,
                           std::string_view payload);

// The CollectorPayload JSON used as adapter/tracker-protocol payload (spec section 5).
std::string collector_payload_json(const CollectorPayload& payload);

// The raw event JSON (the `raw` half of schema_violations / enrichment_failures payloads).
std::string raw_event_json(const RawEvent& raw);

// The partially enriched event object: all 131 columns by name, null when empty; ints, bool01
// and floats as JSON numbers, everything else (decimals, timestamps, JSON columns) as strings.
std::string enriched_event_json(const EnrichedEvent& event);

// Appends `s` to `out` as a JSON string literal (quotes included, escapes as compact JSON writers
// do; invalid UTF-8 becomes U+FFFD). For building message_json arguments.
void append_json_string(std::string_view s, std::string& out);

}  // namespace furrow::event
