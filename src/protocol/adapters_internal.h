// Shared between adapt() and the individual adapters; not part of the protocol module's interface.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "event/collector_payload.h"
#include "event/raw_event.h"
#include "protocol/adapter.h"

namespace furrow::protocol::detail {

// What an adapter sees: the payload, its decoded query string (last occurrence wins) and the
// vendor/version from the path. An adapter may move `query` into its single event (tp1, tp2 GET).
struct Request {
  const event::CollectorPayload& payload;
  event::Params& query;
  std::string_view vendor;
  std::string_view version;
};

// On success an adapter appends one parameter map per event to `events`; on failure it appends
// one or more compact JSON messages to `messages` and returns false.
using AdapterFn = bool (*)(const Request&, std::vector<event::Params>& events,
                           std::vector<std::string>& messages);

bool tp1_adapter(const Request&, std::vector<event::Params>&, std::vector<std::string>&);
bool tp2_adapter(const Request&, std::vector<event::Params>&, std::vector<std::string>&);
bool redirect_adapter(const Request&, std::vector<event::Params>&, std::vector<std::string>&);
bool iglu_adapter(const Request&, std::vector<event::Params>&, std::vector<std::string>&);

// A tp2 POST body (valid UTF-8) to one parameter map per event, `query` merged into each. Two
// implementations of the same function: scan_payload_data is the fast path for the usual shape
// and returns false, appending nothing, for anything it does not handle; parse_payload_data is
// the general path (RapidJSON SAX and the payload_data schema rules) that also words the
// failure messages. Whenever the fast path succeeds the general one gives the same events.
bool scan_payload_data(std::string_view body, const event::Params& query,
                       std::vector<event::Params>& events);
// The fast path as views (see protocol::adapt_views): no query string to merge, and it also fails
// on a key that is repeated within an event. `arena` (grown to body.size() + 16 if smaller, never
// cleared) holds decoded strings; views into it stay valid until it is next resized.
bool scan_payload_views(std::string_view body, std::string& arena, protocol::ViewEvents& out);
// One of the content types tp2 POST accepts.
bool is_allowed_content_type(std::string_view ct);
bool parse_payload_data(std::string_view body, const event::Params& query,
                        std::vector<event::Params>& events, std::vector<std::string>& messages);

inline constexpr std::string_view kUnstructEventSchema =
    "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0";
inline constexpr std::string_view kContextsSchema =
    "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1";

// {"schema":<unstruct_event>,"data":{"schema":<schema>,"data":<data_json>}}
std::string unstruct_event_json(std::string_view schema, std::string_view data_json);

}  // namespace furrow::protocol::detail
