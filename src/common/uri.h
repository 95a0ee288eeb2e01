// URL helpers with the semantics Snowplow enrich gets from the JVM (spec 1.1, 4.3): form decoding
// as Apache URLEncodedUtils does it, and URI parsing as java.net.URI (RFC 2396 plus its
// documented deviations), with enrich's "spaces to %20, then a lenient re-encoding" fallback.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace furrow {

// Decodes one application/x-www-form-urlencoded component: '+' is a space, %XX a byte; a '%' not
// followed by two hex digits is kept literally. Bytes that are not valid UTF-8 become U+FFFD, as
// Java's UTF-8 decoder does. Appends to `out`.
void form_decode(std::string_view in, std::string& out);

// Replaces invalid UTF-8 sequences with U+FFFD (one per maximal invalid subpart). Returns true
// when `in` was already valid (then `out` is left untouched, so callers can keep a view of `in`).
bool utf8_sanitize(std::string_view in, std::string& out);

using QueryPairs = std::vector<std::pair<std::string, std::optional<std::string>>>;

// Splits a raw query string (without '?') into decoded name/value pairs in order, as
// URLEncodedUtils.parse: separators '&' and ';', names and values trimmed of blanks, empty names
// skipped, a pair without '=' has no value. Appends to `out`.
void parse_query(std::string_view query, QueryPairs& out);

// What parse_query would give for the last pair named `name` (after decoding; `name` non-empty
// ASCII), without building the other pairs: true when there is one, with its value
// (nullopt for a pair without '='); `value` is untouched when there is none.
bool find_last_query_value(std::string_view query, std::string_view name,
                           std::optional<std::string>& value);

// The parts of a parsed URI, as views into UriParser::normalized(). An absent part is nullopt
// (java.net.URI returns null); port is -1 when not given.
struct UriParts {
  std::optional<std::string_view> scheme;
  std::optional<std::string_view> host;
  int port = -1;
  std::optional<std::string_view> path;
  std::optional<std::string_view> query;
  std::optional<std::string_view> fragment;
};

// Parses URIs; reusable (keeps its buffer). Not thread-safe: one per thread.
class UriParser {
 public:
  // Parses `input` after replacing every space with %20. When java.net.URI would reject the
  // result, retries once with characters that are illegal in their component percent-encoded
  // (UTF-8) and malformed '%' escapes encoded as %25, keeping '+'. Returns false when both fail,
  // with `error` saying why (the message names the offending character and index).
  bool parse(std::string_view input, UriParts& parts, std::string& error);
  // The string the parts point into: the URI's toString() (space-fixed or re-encoded form).
  const std::string& normalized() const { return text_; }

 private:
  std::string text_;
  std::string scratch_;
};

// Snowplow's default port rule (spec 4.3): the explicit port, else 443 if the scheme is exactly
// "https", else 80.
int effective_port(const UriParts& parts);

namespace detail {
// UriParser::parse with every component scanned byte by byte (no block scans): the reference the
// parser is tested against. `normalized` gets what UriParser::normalized() would hold; the parts
// point into it.
bool parse_uri_bytewise(std::string_view input, UriParts& parts, std::string& normalized,
                        std::string& error);
}  // namespace detail

}  // namespace furrow
