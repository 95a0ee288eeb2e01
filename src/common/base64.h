// Base64 as Snowplow uses it (spec section 1.1): trackers send `ue_px` / `cx` in the URL-safe
// alphabet without padding, the Clojure collector logs bodies base64url-encoded, and the stdout raw
// sink writes standard base64 with padding.
#pragma once

#include <cstddef>
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

// How many bytes base64_decode_to may write for `n` input characters (the output plus the slack
// its vector loop stores past it).
constexpr std::size_t base64_decode_bound(std::size_t n) {
  return n / 4 * 3 + 3 + 8;
}
// base64_decode into a caller's buffer of at least base64_decode_bound(in.size()) bytes, which
// need not be initialised (so a reused buffer costs no clearing); `n` gets the decoded length.
bool base64_decode_to(std::string_view in, char* dst, std::size_t& n);

// Standard alphabet with '=' padding (RFC 4648 section 4).
std::string base64_encode(std::string_view in);

// URL-safe alphabet (RFC 4648 section 5) without padding, as the JS tracker sends `cx` / `ue_px`.
std::string base64url_encode(std::string_view in);

}  // namespace furrow::common
