#include "collector/ip.h"

#include <arpa/inet.h>

#include <cstring>

#include "common/strings.h"

namespace furrow::collector {

bool parse_ip(std::string_view text, std::array<uint8_t, 16>& out) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > 45) return false;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  in_addr v4;
  if (::inet_pton(AF_INET, buf, &v4) == 1) {
    out.fill(0);
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return true;
  }
  in6_addr v6;
  if (::inet_pton(AF_INET6, buf, &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return true;
  }
  return false;
}

Result<Cidr> parse_cidr(std::string_view text) {
  Cidr c;
  auto slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  if (!parse_ip(addr, c.addr)) return Error{"not an IP address: " + std::string(text)};
  bool v4 = addr.find(':') == std::string_view::npos;
  int max_bits = v4 ? 32 : 128;
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    std::string_view b = text.substr(slash + 1);
    if (b.empty() || b.size() > 3) return Error{"bad prefix length: " + std::string(text)};
    bits = 0;
    for (char ch : b) {
      if (ch < '0' || ch > '9') return Error{"bad prefix length: " + std::string(text)};
      bits = bits * 10 + (ch - '0');
    }
    if (bits > max_bits) return Error{"bad prefix length: " + std::string(text)};
  }
  c.prefix_bits = v4 ? bits + 96 : bits;
  return c;
}

bool cidr_contains(const Cidr& net, const std::array<uint8_t, 16>& ip) {
  int bits = net.prefix_bits;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((net.addr[static_cast<std::size_t>(i)] & mask) != (ip[static_cast<std::size_t>(i)] & mask))
      return false;
  }
  return true;
}

TrustedProxies::TrustedProxies(const std::vector<std::string>& cidrs) {
  for (const auto& c : cidrs) {
    auto r = parse_cidr(c);
    if (r.ok()) nets_.push_back(*r);
  }
}

bool TrustedProxies::contains(std::string_view ip) const {
  std::array<uint8_t, 16> a;
  if (!parse_ip(ip, a)) return false;
  for (const auto& n : nets_) {
    if (cidr_contains(n, a)) return true;
  }
  return false;
}

std::string_view TrustedProxies::resolve(std::string_view peer,
                                         const std::vector<std::string_view>& xff) const {
  if (nets_.empty() || xff.empty() || !contains(peer)) return peer;
  // Hops from right (nearest) to left; the first untrusted valid address is the client.
  std::string_view last_valid = peer;
  for (auto h = xff.rbegin(); h != xff.rend(); ++h) {
    std::string_view v = *h;
    while (!v.empty()) {
      auto comma = v.rfind(',');
      std::string_view hop = trim(comma == std::string_view::npos ? v : v.substr(comma + 1));
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(0, comma);
      std::array<uint8_t, 16> a;
      if (!parse_ip(hop, a)) return last_valid;  // garbage: stop believing the chain here
      if (!contains(hop)) return hop;
      last_valid = hop;
    }
  }
  return last_valid;
}

}  // namespace furrow::collector
