// Adapters: from one CollectorPayload to the RawEvents it carries (spec sections 1.1, 2.5, 2.7).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "event/collector_payload.h"
#include "event/raw_event.h"

namespace furrow::protocol {

// Why a payload produced no events. The enrich pipeline turns it into a bad row:
//  kCollectorPayloadFormat -> collector_payload_format_violation (e.g. unparsable query string,
//                             unroutable path, networkUserId not a UUID, wrong schema URI)
//  kTrackerProtocol        -> tracker_protocol_violations (vendors com.snowplowanalytics.snowplow
//                             and r with version tp2, as Snowplow's AdapterRegistry decides; tp1
//                             failures are adapter_failures)
//  kAdapter                -> adapter_failures (every other vendor)
struct AdapterError {
  enum class Kind { kCollectorPayloadFormat, kTrackerProtocol, kAdapter };
  Kind kind = Kind::kAdapter;
  std::string vendor;
  std::string version;
  // Each entry is one compact JSON object in Snowplow's bad-row message shapes, e.g.
  // {"field":"contentType","value":"text/plain","expectation":"..."}. For kCollectorPayloadFormat
  // each entry is one `message` object ({"payloadField":..,"value":..,"expectation":..} or
  // {"error":..}); Snowplow emits one bad row per violation, in this order (querystring, path,
  // networkUserId, schema). vendor/version are empty when the path could not be parsed.
  std::vector<std::string> messages_json;
};

// Routes by the payload's path and runs the adapter. On success appends one RawEvent per tracked
// event to `out` (in order) and returns true; otherwise fills `error` and returns false, leaving
// `out` as it was. `loader_name` goes into each RawEvent (thrift | cloudfront | clj-tomcat).
// Thread-safe; never throws.
bool adapt(const event::CollectorPayload& payload, std::string_view loader_name,
           std::vector<event::RawEvent>& out, AdapterError& error);

}  // namespace furrow::protocol
