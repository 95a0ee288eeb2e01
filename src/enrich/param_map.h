// The tracker-protocol parameter -> enriched column mapping (spec 1.3), indexed by
// protocol::param_key_id, shared by the pipeline's general path and its direct TSV writer.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "event/enriched_event.h"
#include "protocol/param_keys.h"

namespace furrow::enrich {

// How a parameter's value becomes its column's text.
enum class Conv : uint8_t {
  kString,    // tsv_safe
  kInt,       // convert_int
  kDecimal,   // convert_decimal
  kBool01,    // convert_bool01
  kWxH,       // convert_wxh into `field` (width) and `second` (height)
  kUuid,      // convert_uuid
  kTstamp,    // convert_tstamp
  kEvent,     // convert_event_type
  kPlatform,  // convert_platform
  kIp,        // ip_token, then tsv_safe
  kUePlain,   // self-describing JSON (unstruct_event), plain or base64
  kUeBase64,
  kCoPlain,  // contexts, plain or base64
  kCoBase64,
  kTnuid,  // network_userid, over nuid and the collector's cookie
};

struct Mapping {
  Conv conv;
  event::Field field;
  event::Field second = event::Field::app_id;  // height column for WxH
};

// The mapping by parameter id: used[id] is false for names that map to no column.
struct MappingById {
  std::array<Mapping, protocol::kParamKeyCount> mapping{};
  std::array<bool, protocol::kParamKeyCount> used{};
};

// Built once (thread-safe static); aborts at start-up if a mapped name has no parameter id.
const MappingById& param_table();

// The event_vendor / event_name / event_format / event_version of the built-in event types (views
// of constants).
struct EventSchema {
  std::string_view vendor, name, format, version;
};
// Sets `s` for the `event` column values page_view, page_ping, struct, transaction and
// transaction_item; false for any other (unstruct events take theirs from the event's schema).
bool builtin_event_schema(std::string_view event, EventSchema& s);

// Built-in step 17 for both writers (EnrichedEvent and the direct TSV line): the schema parts of
// `event`, a built-in type's or, for "unstruct", those of `unstruct_schema` (the event's
// self-describing schema; the parts are views of it).
enum class EventSchemaFound {
  kFound,             // `s` is set
  kUnparsed,          // unstruct with a schema that is not an Iglu URI (validation reports it)
  kNoUnstructSchema,  // unstruct without a self-describing event
  kUnknownEvent,      // not an event type
};
EventSchemaFound event_schema_of(std::string_view event, std::string_view unstruct_schema,
                                 EventSchema& s);

}  // namespace furrow::enrich
