// Encodings the tracker needs: base64url, percent-encoding, UUID v4 text, JSON envelopes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace furrow::tracker::detail {

// Base64 with the URL-safe alphabet and no '=' padding (what Snowplow trackers send).
std::string base64url(std::string_view bytes);
// Everything but RFC 3986 unreserved characters as %XX (upper-case hex); appends to *out.
void percent_encode(std::string_view in, std::string* out);
// Lower-case UUID v4 text from 16 random bytes (version and variant bits set here).
std::string uuid_v4(const std::array<std::uint8_t, 16>& random);
// Milliseconds since the Unix epoch.
std::int64_t now_ms();

}  // namespace furrow::tracker::detail
