#include "protocol/uuid_check.h"

namespace furrow::protocol {

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

}  // namespace furrow::protocol
