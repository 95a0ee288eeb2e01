// CollectorPayload: what the collector records for one HTTP request (spec sections 2.4 and 2.9).
// Field ids are those Snowplow's collectors and enrich really use, not the differing copy stored
// in Iglu Central.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace furrow::event {

inline constexpr std::string_view kCollectorPayloadSchema =
    "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0";

struct CollectorPayload {
  std::string schema{kCollectorPayloadSchema};  // 31337
  std::optional<std::string> ip_address;        // 100
  std::optional<int64_t> timestamp;             // 200, ms since epoch
  std::optional<std::string> encoding;          // 210
  std::optional<std::string> collector;         // 220
  std::optional<std::string> user_agent;        // 300
  std::optional<std::string> referer_uri;       // 310
  std::optional<std::string> path;              // 320
  std::optional<std::string> querystring;       // 330, raw, without '?'
  std::optional<std::string> body;              // 340
  std::optional<std::vector<std::string>>
      headers;                              // 350, "Name: value"; last may be a bare content type
  std::optional<std::string> content_type;  // 360, lower-cased
  std::optional<std::string> hostname;      // 400
  std::optional<std::string> network_user_id;  // 410

  bool operator==(const CollectorPayload&) const = default;
};

// Thrift field ids (TBinaryProtocol).
namespace thrift_id {
inline constexpr int16_t kSchema = 31337;
inline constexpr int16_t kIpAddress = 100;
inline constexpr int16_t kTimestamp = 200;
inline constexpr int16_t kEncoding = 210;
inline constexpr int16_t kCollector = 220;
inline constexpr int16_t kUserAgent = 300;
inline constexpr int16_t kRefererUri = 310;
inline constexpr int16_t kPath = 320;
inline constexpr int16_t kQuerystring = 330;
inline constexpr int16_t kBody = 340;
inline constexpr int16_t kHeaders = 350;
inline constexpr int16_t kContentType = 360;
inline constexpr int16_t kHostname = 400;
inline constexpr int16_t kNetworkUserId = 410;
}  // namespace thrift_id

// Serialises with Thrift's binary protocol, fields in id order (schema last), as Java Thrift does.
std::string encode_thrift(const CollectorPayload& payload);

// Decodes Thrift binary bytes. Never throws; malformed, truncated or oversized input (strings and
// lists above the limits) yields an Error whose message says what was wrong. Does not check the
// schema URI or required fields: that is enrich's job (collector_payload_format_violation).
Result<CollectorPayload> decode_thrift(std::string_view bytes);

// decode_thrift into `out`, reusing the storage of its strings and header list, so that a caller
// decoding record after record into one CollectorPayload stops allocating once they are large
// enough. Returns true with `out` equal to what decode_thrift(bytes) gives, or false with
// decode_thrift's error message in `error` (and `out` unspecified).
bool decode_thrift(std::string_view bytes, CollectorPayload& out, std::string& error);

namespace detail {
// The decoder with Apache Thrift's TBinaryProtocol reader: the reference the hand-written reader
// behind decode_thrift is tested against, and what words its error messages.
Result<CollectorPayload> decode_thrift_libthrift(std::string_view bytes);
// The hand-written reader alone: true with `out` equal to decode_thrift_libthrift's payload, or
// false (`out` unspecified) for a record that decoder rejects. decode_thrift runs it first and
// the libthrift decoder only when it returns false.
bool decode_thrift_fast(std::string_view bytes, CollectorPayload& out);
}  // namespace detail

}  // namespace furrow::event
