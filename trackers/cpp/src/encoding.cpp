#include "encoding.h"

#include <chrono>

namespace furrow::tracker::detail {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";
}  // namespace

std::string base64url(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t g = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1]))
                                << 8 |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[g >> 18 & 0x3F];
    out += kAlphabet[g >> 12 & 0x3F];
    out += kAlphabet[g >> 6 & 0x3F];
    out += kAlphabet[g & 0x3F];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t g = static_cast<unsigned char>(bytes[i]);
    out += kAlphabet[g >> 2];
    out += kAlphabet[(g << 4) & 0x3F];
  } else if (rest == 2) {
    const std::uint32_t g = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 8 |
                            static_cast<unsigned char>(bytes[i + 1]);
    out += kAlphabet[g >> 10];
    out += kAlphabet[(g >> 4) & 0x3F];
    out += kAlphabet[(g << 2) & 0x3F];
  }
  return out;
}

void percent_encode(std::string_view in, std::string* out) {
  for (char c : in) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' ||
        b == '_' || b == '.' || b == '~') {
      *out += c;
    } else {
      *out += '%';
      *out += kHexUpper[b >> 4];
      *out += kHexUpper[b & 0xF];
    }
  }
}

std::string uuid_v4(const std::array<std::uint8_t, 16>& random) {
  auto b = random;
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHexLower[b[i] >> 4];
    out += kHexLower[b[i] & 0xF];
  }
  return out;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace furrow::tracker::detail
