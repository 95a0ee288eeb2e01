// The click-redirect allow-list (spec 2.5, reliability.md S1/S3/D1). Deny by default: a target is
// allowed only when it is an absolute http(s) URL in plain printable ASCII whose host equals one
// of the configured host names exactly (case-insensitively), with no user info, no
// percent-encoding, backslashes, whitespace or control characters in it, no trailing dot and no
// IP-literal or IDN host unless listed verbatim. Anything else is refused; an empty list refuses
// everything.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace furrow::collector {

// Percent-decodes a query-string value ('+' is a space). Invalid escapes are kept literally.
std::string url_decode(std::string_view in);

// Finds parameter `name` in a raw query string. Returns the number of occurrences and sets `raw`
// to the raw (still encoded) value of the first one.
int find_query_param(std::string_view query, std::string_view name, std::string_view& raw);

// Checks a decoded redirect target. On success returns true; otherwise `reason` says why.
bool redirect_target_allowed(std::string_view target, const std::vector<std::string>& allowed_hosts,
                             std::string& reason);

}  // namespace furrow::collector
