#include "common/base64.h"

#include <array>
#include <cstdint>

namespace furrow::common {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Sextet value for each byte; kSkip for whitespace, kPad for '=', kBad otherwise.
constexpr uint8_t kBad = 0xFF;
constexpr uint8_t kSkip = 0xFE;
constexpr uint8_t kPad = 0xFD;

constexpr std::array<uint8_t, 256> make_table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kBad;
  for (uint8_t i = 0; i < 64; ++i) {
    t[static_cast<uint8_t>(kStd[i])] = i;
    t[static_cast<uint8_t>(kUrl[i])] = i;
  }
  for (char c : {' ', '\t', '\r', '\n', '\f', '\v'}) t[static_cast<uint8_t>(c)] = kSkip;
  t[static_cast<uint8_t>('=')] = kPad;
  return t;
}

constexpr std::array<uint8_t, 256> kTable = make_table();

// For the fast loop: the sextet already shifted to its place in a 24-bit group, one table per
// position, and bit 31 set for every byte that is not an alphabet character.
constexpr uint32_t kNotSextet = 0x80000000u;
constexpr std::array<uint32_t, 256> make_shifted(int shift) {
  std::array<uint32_t, 256> t{};
  for (std::size_t c = 0; c < 256; ++c) {
    t[c] = kTable[c] < 64 ? uint32_t{kTable[c]} << shift : kNotSextet;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kShift18 = make_shifted(18);
constexpr std::array<uint32_t, 256> kShift12 = make_shifted(12);
constexpr std::array<uint32_t, 256> kShift6 = make_shifted(6);
constexpr std::array<uint32_t, 256> kShift0 = make_shifted(0);

std::string encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  std::size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{p[i]} << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

}  // namespace

bool base64_decode(std::string_view in, std::string& out) {
  // Writes through a raw pointer into a buffer sized for the worst case, then trims: no per-byte
  // capacity checks on this hot path (one base64 line per raw payload).
  out.resize(in.size() / 4 * 3 + 3);
  char* dst = out.data();
  uint32_t acc = 0;
  int n = 0;
  std::size_t i = 0;
  // Fast loop: whole groups of four alphabet characters (the common case: no whitespace, no
  // padding yet). It stops at the first group holding anything else, with n == 0 and acc == 0,
  // so the general loop below continues from exactly the state it would have reached itself.
  const auto* src = reinterpret_cast<const uint8_t*>(in.data());
  for (; i + 4 <= in.size(); i += 4) {
    const uint32_t v =
        kShift18[src[i]] | kShift12[src[i + 1]] | kShift6[src[i + 2]] | kShift0[src[i + 3]];
    if ((v & kNotSextet) != 0) break;  // not four alphabet characters
    dst[0] = static_cast<char>(v >> 16);
    dst[1] = static_cast<char>((v >> 8) & 0xFF);
    dst[2] = static_cast<char>(v & 0xFF);
    dst += 3;
  }
  for (; i < in.size(); ++i) {
    uint8_t v = kTable[static_cast<uint8_t>(in[i])];
    if (v < 64) {
      acc = (acc << 6) | v;
      if (++n == 4) {
        *dst++ = static_cast<char>((acc >> 16) & 0xFF);
        *dst++ = static_cast<char>((acc >> 8) & 0xFF);
        *dst++ = static_cast<char>(acc & 0xFF);
        acc = 0;
        n = 0;
      }
    } else if (v == kSkip) {
      continue;
    } else if (v == kPad) {
      break;
    } else {
      out.clear();
      return false;
    }
  }
  // After padding only more '=' and whitespace may follow.
  for (; i < in.size(); ++i) {
    uint8_t v = kTable[static_cast<uint8_t>(in[i])];
    if (v != kPad && v != kSkip) {
      out.clear();
      return false;
    }
  }
  if (n == 2) {
    *dst++ = static_cast<char>((acc >> 4) & 0xFF);
  } else if (n == 3) {
    *dst++ = static_cast<char>((acc >> 10) & 0xFF);
    *dst++ = static_cast<char>((acc >> 2) & 0xFF);
  }
  // n == 1: six dangling bits make no byte; commons-codec drops them too.
  out.resize(static_cast<std::size_t>(dst - out.data()));
  return true;
}

std::string base64_encode(std::string_view in) {
  return encode(in, kStd, true);
}

std::string base64url_encode(std::string_view in) {
  return encode(in, kUrl, false);
}

}  // namespace furrow::common
