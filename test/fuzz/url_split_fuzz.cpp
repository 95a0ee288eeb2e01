// Fuzz target for URL splitting (java.net.URI semantics with the lenient fallback) and query
// parsing. Properties: never crashes; every part is a view into the normalised URI; the normalised
// URI parses again to itself; decoded query names and values are valid UTF-8; the parser (whose
// path, query and authority scans go 16 bytes at a time) agrees with the byte-by-byte reference
// detail::parse_uri_bytewise on the outcome, the error, the normalised text and every part.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/uri.h"

namespace {
void check_inside(const std::optional<std::string_view>& part, const std::string& whole) {
  if (!part) return;
  if (part->data() < whole.data() || part->data() + part->size() > whole.data() + whole.size())
    std::abort();
}
void check_utf8(const std::string& s) {
  std::string fixed;
  if (!furrow::utf8_sanitize(s, fixed)) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  furrow::UriParser parser;
  furrow::UriParts parts;
  std::string error;
  const bool ok = parser.parse(input, parts, error);
  {
    furrow::UriParts ref;
    std::string ref_text, ref_error;
    if (furrow::detail::parse_uri_bytewise(input, ref, ref_text, ref_error) != ok ||
        ref_error != error || (ok && ref_text != parser.normalized()))
      std::abort();
    const auto same = [](const std::optional<std::string_view>& a,
                         const std::optional<std::string_view>& b) {
      return a.has_value() == b.has_value() && (!a || *a == *b);
    };
    if (ok && (!same(parts.scheme, ref.scheme) || !same(parts.host, ref.host) ||
               parts.port != ref.port || !same(parts.path, ref.path) ||
               !same(parts.query, ref.query) || !same(parts.fragment, ref.fragment)))
      std::abort();
  }
  if (ok) {
    const std::string normalized = parser.normalized();
    for (const auto* p : {&parts.scheme, &parts.host, &parts.path, &parts.query, &parts.fragment}) {
      check_inside(*p, parser.normalized());
    }
    const int port = furrow::effective_port(parts);
    if (port < 0) std::abort();
    furrow::UriParser again;
    furrow::UriParts parts2;
    if (!again.parse(normalized, parts2, error) || again.normalized() != normalized) std::abort();
    if (parts.query) {
      furrow::QueryPairs pairs;
      furrow::parse_query(*parts.query, pairs);
      for (const auto& [name, value] : pairs) {
        if (name.empty()) std::abort();
        check_utf8(name);
        if (value) check_utf8(*value);
      }
    }
  } else if (error.empty()) {
    std::abort();
  }
  furrow::QueryPairs raw_pairs;
  furrow::parse_query(input, raw_pairs);
  for (const auto& [name, value] : raw_pairs) {
    check_utf8(name);
    if (value) check_utf8(*value);
  }
  return 0;
}
