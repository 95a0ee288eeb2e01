// Small helpers shared by several enrichments: query-string decoding, hashing, IP parsing.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace furrow::enrich::enrichments {

// Percent-decodes `in` into `out` (UTF-8 bytes); '+' becomes a space when `plus_as_space`.
// Malformed escapes are kept literally (as Snowplow's lenient decoder does).
void url_decode(std::string_view in, std::string& out, bool plus_as_space = true);

// Splits a query string into decoded name/value pairs in URL order (a key without '=' has an
// empty value).
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

// A message digest chosen by its Snowplow name (MD5, SHA1, SHA-1, SHA256, SHA-256, SHA384,
// SHA-384, SHA512, SHA-512, MD2). Thread-safe after construction.
class Hasher {
 public:
  // nullopt when the name is unknown or the algorithm is unavailable in this OpenSSL.
  static std::optional<Hasher> by_name(std::string_view name);
  // Lower-case hex digest of `data`.
  std::string hex(std::string_view data) const;

 private:
  explicit Hasher(const EVP_MD* md) : md_(md) {}
  const EVP_MD* md_;
};

// Parsed IP address. `v6` holds 16 bytes for IPv6 (IPv4 uses the first 4).
struct IpAddress {
  bool is_v6 = false;
  uint8_t bytes[16] = {};
};
// Parses a literal IPv4 / IPv6 address (IPv6 optionally in brackets). nullopt when invalid.
std::optional<IpAddress> parse_ip(std::string_view text);

}  // namespace furrow::enrich::enrichments
