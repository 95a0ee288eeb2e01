// The events a Tracker sends. Each is a plain aggregate, best built with designated initialisers:
//   tracker.track(PageView{.url = "https://example.com/", .title = "Home"});
// Every event may carry context entities and a true timestamp (ttm, ms since the Unix epoch: when
// the event really happened, if the app knows better than the device clock at tracking time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "furrow/tracker/self_describing_json.h"
#include "furrow/tracker/subject.h"

namespace furrow::tracker {

struct EventCommon {
  std::vector<SelfDescribingJson> contexts;
  std::optional<std::int64_t> true_timestamp_ms;  // ttm
  std::optional<Subject> subject;  // replaces the tracker's subject for this event only
};

// e=pv. `url` is required.
struct PageView {
  std::string url;       // url
  std::string title;     // page
  std::string referrer;  // refr
  EventCommon common;
};

// e=ue with iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0. `name` is required;
// an empty `id` gets a fresh UUID v4. Ids must be UUIDs (the schema's format).
struct ScreenView {
  std::string name;
  std::string id;
  std::string type;
  std::string previous_name;
  std::string previous_id;
  std::string previous_type;
  std::string transition_type;
  EventCommon common;
};

// e=se. `category` and `action` are required.
struct Structured {
  std::string category;         // se_ca
  std::string action;           // se_ac
  std::string label;            // se_la
  std::string property;         // se_pr
  std::optional<double> value;  // se_va (must be finite)
  EventCommon common;
};

// e=ue with the caller's event.
struct SelfDescribing {
  SelfDescribingJson event;
  EventCommon common;
};

// e=ue with iglu:com.snowplowanalytics.snowplow/timing/jsonschema/1-0-0. `category`,
// `variable` are required; `timing_ms` is the measured duration in milliseconds.
struct Timing {
  std::string category;
  std::string variable;
  std::int64_t timing_ms = 0;
  std::string label;
  EventCommon common;
};

inline constexpr const char* kScreenViewSchema =
    "iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0";
inline constexpr const char* kTimingSchema =
    "iglu:com.snowplowanalytics.snowplow/timing/jsonschema/1-0-0";

}  // namespace furrow::tracker
