#include "protocol/uuid_check.h"

#include <array>
#include <cstdint>

namespace furrow::protocol {
namespace {

// The lower-case form of each hex digit; 0 for every other byte.
constexpr std::array<char, 256> make_lower_hex() {
  std::array<char, 256> t{};
  for (char c = '0'; c <= '9'; ++c) t[static_cast<uint8_t>(c)] = c;
  for (char c = 'a'; c <= 'f'; ++c) t[static_cast<uint8_t>(c)] = c;
  for (char c = 'A'; c <= 'F'; ++c) t[static_cast<uint8_t>(c)] = static_cast<char>(c - 'A' + 'a');
  return t;
}
constexpr std::array<char, 256> kLowerHex = make_lower_hex();

}  // namespace

std::optional<std::string> canonical_uuid(std::string_view s) {
  if (s.size() > 36) return std::nullopt;
  constexpr std::size_t kWidth[5] = {8, 4, 4, 4, 12};
  std::string out;
  out.reserve(36);
  std::size_t pos = 0;
  for (int g = 0; g < 5; ++g) {
    std::size_t end = g < 4 ? s.find('-', pos) : s.size();
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view group = s.substr(pos, end - pos);
    if (group.empty() || group.size() > kWidth[g]) return std::nullopt;
    if (g > 0) out.push_back('-');
    out.append(kWidth[g] - group.size(), '0');
    for (char c : group) {
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
      out.push_back(c);
    }
    pos = end + 1;
  }
  return out;
}

bool canonical_uuid(std::string_view s, std::string& out) {
  // 8-4-4-4-12 hex digits: the groups have their full widths, so the canonical form is the text
  // lower-cased. Anything else (short groups, other bytes) goes the general way.
  if (s.size() == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-') {
    out.resize(36);
    bool hex = true;
    for (std::size_t i = 0; i < 36; ++i) {
      const char c = s[i];
      const char lower = kLowerHex[static_cast<uint8_t>(c)];
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      hex &= dash || lower != 0;
      out[i] = dash ? '-' : lower;
    }
    if (hex) return true;
  }
  std::optional<std::string> general = canonical_uuid(s);
  if (!general) return false;
  out = std::move(*general);
  return true;
}

}  // namespace furrow::protocol
