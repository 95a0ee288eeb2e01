// Base64 as Snowplow uses it (spec section 1.1): trackers send `ue_px` / `cx` in the URL-safe
// alphabet without padding, the Clojure collector logs bodies base64url-encoded, and the stdout raw
// sink writes standard base64 with padding.
#pragma once

#include <string>
#include <string_view>

namespace furrow::common {

// Lenient decoding in the manner of Apache commons-codec `Base64(urlSafe=true)`: accepts both the
// standard (+/) and URL-safe (-_) alphabets, even mixed; padding is optional; ASCII whitespace
// (space, tab, CR, LF, FF, VT) anywhere is ignored; decoding stops at the first '='. A final group
// of a single character (6 bits, not a whole byte) is discarded, as commons-codec does. Returns
// false (leaving `out` unspecified) when the input holds any other character, or non-whitespace
// data after the padding. Appends nothing on failure beyond what `out` may already have been
// cleared to; `out` is overwritten, not appended to.
bool base64_decode(std::string_view in, std::string& out);

// Standard alphabet with '=' padding (RFC 4648 section 4).
std::string base64_encode(std::string_view in);

// URL-safe alphabet (RFC 4648 section 5) without padding, as the JS tracker sends `cx` / `ue_px`.
std::string base64url_encode(std::string_view in);

}  // namespace furrow::common
