// Adapters: from one CollectorPayload to the RawEvents it carries (spec sections 1.1, 2.5, 2.7).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "event/collector_payload.h"
#include "event/raw_event.h"
#include "protocol/param_keys.h"

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

// The events of one payload as parameter views (see adapt_views), back to back.
struct ViewEvents {
  std::vector<ParamView> params;
  std::vector<uint32_t> begins;  // event i's parameters start at params[begins[i]]
  // True when a parameter with a value was left out because its name is unknown (GET only): the
  // views then hold less than every valued parameter, which event_fingerprint_config needs.
  bool dropped_unknown = false;
  // A GET's decoded names and values (the views of text that needed decoding point into it). Kept
  // apart from the POST arena so that neither has to be zero-filled again when GETs and POSTs
  // alternate; its capacity is over 15 bytes once used (heap storage), so moving or swapping a
  // ViewEvents keeps the views valid.
  std::string query_text;

  std::size_t size() const { return begins.size(); }
  std::span<const ParamView> event(std::size_t i) const {
    const std::size_t end = i + 1 < begins.size() ? begins[i + 1] : params.size();
    return std::span<const ParamView>(params).subspan(begins[i], end - begins[i]);
  }
  void clear() {
    params.clear();
    begins.clear();
    dropped_unknown = false;
  }
};

// The request context adapt() puts into every RawEvent, where it is computed, not copied.
struct ViewContext {
  std::optional<std::string> ip_address;  // after the forwarding-header rules (spec 2.4)
  std::optional<std::string> user_id;     // the canonical network user id
};

// A fast path of adapt() for the requests nearly every tracker sends: a tp2 POST to
// com.snowplowanalytics.snowplow/tp2 with a payload_data body (no query string, string values
// only, no repeated key), or a tp1/tp2 GET (no repeated known name). Instead of RawEvents it
// produces parameter views into payload.body or payload.querystring, or for decoded text into
// `arena` (POST) or out.query_text (GET) (all must outlive the views). Only parameters the enrich
// field mapping can use are listed: GET parameters whose name is unknown or that have no value are
// left out (every POST parameter is known and has a value); out.dropped_unknown tells whether an
// unknown name with a value was. For any other payload it returns false having decided nothing, and
// adapt() must handle it. When it returns true, adapt() would succeed with, per event, the same
// known valued parameters in the same order and the same ip_address and user_id (the other RawEvent
// fields are the payload's own). Thread-safe; never throws.
bool adapt_views(const event::CollectorPayload& payload, std::string& arena, ViewEvents& out,
                 ViewContext& ctx);

}  // namespace furrow::protocol
