// Client IP resolution: the TCP peer, or, when the peer is a configured trusted proxy, the
// right-most X-Forwarded-For hop that is not itself a trusted proxy (reliability.md D4: a
// client-supplied left-most value is never believed).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace furrow::collector {

// An IPv4 (stored as v4-mapped IPv6) or IPv6 network.
struct Cidr {
  std::array<uint8_t, 16> addr{};
  int prefix_bits = 128;
};

// Parses "1.2.3.4", "10.0.0.0/8", "::1", "fd00::/8".
Result<Cidr> parse_cidr(std::string_view text);
// Parses an IP literal (v4 or v6, optional surrounding [] for v6); false if it is none.
bool parse_ip(std::string_view text, std::array<uint8_t, 16>& out);
bool cidr_contains(const Cidr& net, const std::array<uint8_t, 16>& ip);

class TrustedProxies {
 public:
  TrustedProxies() = default;
  explicit TrustedProxies(const std::vector<std::string>& cidrs);
  bool empty() const { return nets_.empty(); }
  bool contains(std::string_view ip) const;

  // The client address for a request from `peer` carrying the X-Forwarded-For values `xff`
  // (all such headers, in order). Returns `peer` unless the peer is trusted.
  std::string_view resolve(std::string_view peer, const std::vector<std::string_view>& xff) const;

 private:
  std::vector<Cidr> nets_;
};

}  // namespace furrow::collector
