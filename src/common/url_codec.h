// Query-string handling with the semantics Snowplow enrich gets from the JVM (spec section 1.1):
// Apache URLEncodedUtils for splitting and decoding, java.net.URI for the syntax check that decides
// whether a GET payload is parsable at all.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace furrow::common {

// Decodes one application/x-www-form-urlencoded component and appends it to `out`: '+' is a space,
// %XX is a byte (either hex case), a '%' not followed by two hex digits is kept literally, and the
// resulting bytes are read as UTF-8 with every invalid sequence replaced by U+FFFD (as Java's
// decoder does), so the output is always valid UTF-8.
void url_decode_append(std::string_view in, std::string& out);
std::string url_decode(std::string_view in);

// True when `in` is valid UTF-8 by the same rules as utf8_repair_append (which would then copy it
// unchanged); checks eight ASCII bytes at a time.
bool is_valid_utf8(std::string_view in);

// Appends `in` to `out`, replacing invalid UTF-8 sequences with U+FFFD (one per maximal invalid
// subpart). Returns true when `in` was valid.
bool utf8_repair_append(std::string_view in, std::string& out);

// True when "http://localhost/?" + query parses as a java.net.URI, i.e. every character of the
// query (and of a fragment after '#') is reserved, unreserved, a well-formed %XX escape or a
// non-ASCII character other than a control or space character. On failure `why` (if given) gets a
// description naming the offending character and its index, in the style of URISyntaxException.
bool is_valid_uri_query(std::string_view query, std::string* why = nullptr);
namespace detail {
// is_valid_uri_query one byte at a time (it skips runs of plain characters and escapes 32 bytes at
// a time with AVX2): the statement of the rule its block scan is tested against.
bool is_valid_uri_query_bytewise(std::string_view query, std::string* why = nullptr);
}  // namespace detail

// The part of a raw query string that URLEncodedUtils parses: everything before the first '#'
// (java.net.URI treats the rest as the fragment).
inline std::string_view query_part(std::string_view query) {
  auto hash = query.find('#');
  return hash == std::string_view::npos ? query : query.substr(0, hash);
}

// Splits a raw query string into still-encoded pairs the way URLEncodedUtils.parse does: pairs are
// separated by '&' or ';'; a pair without '=' has no value (nullopt), "key=" has the empty value;
// pairs with an empty name are skipped. Names and values are passed raw (undecoded) and may contain
// blanks only if the query failed is_valid_uri_query. `visit(name, value)` is called in order.
template <class Visit>
void for_each_raw_pair(std::string_view query, Visit&& visit) {
  std::size_t i = 0;
  const std::size_t n = query.size();
  while (i < n) {
    std::size_t start = i;
    while (i < n && query[i] != '=' && query[i] != '&' && query[i] != ';') ++i;
    std::string_view name = query.substr(start, i - start);
    std::optional<std::string_view> value;
    if (i < n && query[i] == '=') {
      std::size_t vstart = ++i;
      while (i < n && query[i] != '&' && query[i] != ';') ++i;
      value = query.substr(vstart, i - vstart);
    }
    if (i < n) ++i;  // the separator
    if (!name.empty()) visit(name, value);
  }
}

// Trims blanks (space, tab, CR, LF) from both ends and collapses inner runs of blanks to one space,
// as Apache's TokenParser does with each name and value. Returns `in` itself when nothing changes.
std::string_view normalize_blanks(std::string_view in, std::string& scratch);

using QueryPairs = std::vector<std::pair<std::string, std::optional<std::string>>>;

// Decoded pairs of `query` (the whole string; call query_part first for URI semantics), in order,
// duplicates kept. Appends to `out`.
void parse_query_string(std::string_view query, QueryPairs& out);

// Percent-encodes everything except unreserved characters (A-Z a-z 0-9 - _ . ~), as
// encodeURIComponent-style trackers do; used to build test payloads and redirects.
std::string url_encode(std::string_view in);

}  // namespace furrow::common
