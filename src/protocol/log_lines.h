// The log formats of Snowplow's original collectors (spec section 2.10): CloudFront access-log
// lines and Clojure-collector Tomcat access-log lines, each turned into a CollectorPayload.
#pragma once

#include <string_view>

#include "event/collector_payload.h"

namespace furrow::protocol {

enum class LineResult {
  kPayload,  // `out` holds the payload
  kSkip,     // a header or comment line (#Version:, #Fields:) or blank line: not a payload
  kInvalid,  // malformed: `error` says why (becomes collector_payload_format_violation)
};

// CloudFront web-distribution access log line. Collector name "cloudfront".
LineResult parse_cloudfront_line(std::string_view line, event::CollectorPayload& out,
                                 std::string& error);

// Clojure collector (Tomcat valve) log line. Collector name from the cv= the valve appends.
LineResult parse_tomcat_line(std::string_view line, event::CollectorPayload& out,
                             std::string& error);

}  // namespace furrow::protocol
