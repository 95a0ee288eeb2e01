// Tracker-protocol parameters of one event and their two wire forms: a JSON object of strings (the
// outbox row and the POST element) and a percent-encoded query string (GET).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace furrow::tracker::detail {

inline constexpr const char* kPayloadDataSchema =
    "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4";
inline constexpr const char* kContextsSchema =
    "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0";
inline constexpr const char* kUnstructEventSchema =
    "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0";

class Payload {
 public:
  // Empty values are skipped: trackers never send "" (enrich turns "" into a parse error for typed
  // fields).
  void add(std::string_view key, std::string value);
  // A JSON text as base64url under `key_base64` or as it is under `key_plain`.
  void add_json(std::string_view json, bool base64, std::string_view key_base64,
                std::string_view key_plain);
  std::string to_json() const;
  const std::vector<std::pair<std::string, std::string>>& params() const { return params_; }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// "k=v&k=v" from a flat JSON object of strings, then `extra` pairs; false when `json` is not such
// an object (a damaged outbox row).
bool query_from_json(std::string_view json,
                     const std::vector<std::pair<std::string, std::string>>& extra,
                     std::string* out);

}  // namespace furrow::tracker::detail
