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

// On kInvalid, `error` is a one-line human-readable reason (Snowplow's expectation text plus the
// offending value). Checks that adapt() also makes (query-string syntax, path) are left to adapt(),
// which reports them as collector_payload_format_violation with the same messages Snowplow uses.
// Both parsers set encoding UTF-8, timestamp, path, querystring (raw), ip, user agent and referer;
// neither sets headers, hostname or networkUserId (a Tomcat line carries the cookie as &nuid=).

// CloudFront web-distribution access log line (any field era; tab/space separated). Collector name
// "cloudfront". Query string, user agent and referer get CloudFront's %25XX double encoding undone;
// the IP is the first of x-forwarded-for when present, else c-ip. Only GET lines are payloads.
LineResult parse_cloudfront_line(std::string_view line, event::CollectorPayload& out,
                                 std::string& error);

// Clojure collector (Tomcat valve) log line. Collector name "clj-tomcat" as in Snowplow's loader;
// the cv= the valve appends to the query string sets v_collector in enrich. Content type is
// URL-decoded and the body base64url-decoded; a line with a body must be a POST.
LineResult parse_tomcat_line(std::string_view line, event::CollectorPayload& out,
                             std::string& error);

}  // namespace furrow::protocol
