#include "protocol/ip_address.h"

#include "common/strings.h"

namespace furrow::protocol {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ipv6_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || c == '.' || c == ':';
}

std::string_view dotted_quad(std::string_view s) {
  std::size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    std::size_t digits = i - start;
    if (digits == 0) return {};
    if (part < 3) {
      // Followed by '.', with at most three digits (backtracking cannot help a longer run).
      if (digits > 3 || i >= s.size() || s[i] != '.') return {};
      ++i;
    } else if (digits > 3) {
      i = start + 3;  // the greedy last part stops at three digits; the rest is ".*"
    }
  }
  return s.substr(0, i);
}

}  // namespace

std::string_view leading_ip(std::string_view value) {
  if (!value.empty() && value.front() == '"') value.remove_prefix(1);
  if (!value.empty() && value.front() == '[') value.remove_prefix(1);
  std::string_view v4 = dotted_quad(value);
  if (!v4.empty()) return v4;
  std::size_t i = 0;
  while (i < value.size() && is_ipv6_char(value[i])) ++i;
  return value.substr(0, i);
}

std::optional<std::string> extract_ip_address(const std::vector<std::string>& headers,
                                              const std::optional<std::string>& fallback) {
  constexpr std::string_view kXff = "x-forwarded-for: ";
  constexpr std::string_view kForwarded = "forwarded: for=";
  std::optional<std::string> forwarded;
  for (const auto& header : headers) {
    if (starts_with_icase(header, kXff)) {
      std::string rest = to_lower(std::string_view(header).substr(kXff.size()));
      std::string_view ip = leading_ip(rest);
      if (!ip.empty()) return std::string(ip);
    } else if (starts_with_icase(header, kForwarded)) {
      std::string rest = to_lower(std::string_view(header).substr(kForwarded.size()));
      std::string_view ip = leading_ip(rest);
      if (!ip.empty()) {
        forwarded = std::string(ip);
        continue;
      }
    }
    forwarded.reset();
  }
  if (forwarded) return forwarded;
  return fallback;
}

std::string extract_ip_address(std::string_view x_forwarded_for, std::string_view fallback) {
  std::string_view ip = leading_ip(x_forwarded_for);
  return std::string(ip.empty() ? fallback : ip);
}

}  // namespace furrow::protocol
