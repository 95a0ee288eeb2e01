// The client IP enrich derives for a payload (Snowplow's IpAddressExtractor, spec section 2.4).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace furrow::protocol {

// From the stored header lines: the first "X-Forwarded-For: <ip>..." line (case-insensitive, value
// optionally quoted/bracketed) wins at once with the first address in it; else the address of a
// "Forwarded: for=<ip>" line, but only if no non-matching header follows it (Snowplow's quirk);
// else `fallback` (the Thrift ipAddress). Header text is lower-cased first, so IPv6 comes out
// lower-case.
std::optional<std::string> extract_ip_address(const std::vector<std::string>& headers,
                                              const std::optional<std::string>& fallback);

// For CloudFront's x-forwarded-for field: its leading IP if there is one, else `fallback` (c-ip).
std::string extract_ip_address(std::string_view x_forwarded_for, std::string_view fallback);

// The leading IP of `value` in the regex sense Snowplow uses: optional '"' and '[', then either a
// dotted quad (1-3 digits per part) or a run of [0-9a-f.:]. Empty when neither matches.
std::string_view leading_ip(std::string_view value);

}  // namespace furrow::protocol
