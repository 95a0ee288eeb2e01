#include "common/base64.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace furrow::common {
namespace {

std::string dec(std::string_view in) {
  std::string out;
  EXPECT_TRUE(base64_decode(in, out)) << in;
  return out;
}

bool fails(std::string_view in) {
  std::string out;
  return !base64_decode(in, out);
}

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64, DecodesBothAlphabetsWithOrWithoutPadding) {
  EXPECT_EQ(dec("Zm9vYmFy"), "foobar");
  EXPECT_EQ(dec("Zm9vYg=="), "foob");
  EXPECT_EQ(dec("Zm9vYg"), "foob");
  EXPECT_EQ(dec("Zm9vYmE"), "fooba");
  EXPECT_EQ(dec("+/8="), "\xfb\xff");
  EXPECT_EQ(dec("-_8"), "\xfb\xff");
  EXPECT_EQ(dec("-/8+"), std::string("\xfb\xff>"));
  EXPECT_EQ(dec(""), "");
}

TEST(Base64, IgnoresWhitespaceAndDanglingSextet) {
  EXPECT_EQ(dec(" Zm9v\r\nYmFy\t"), "foobar");
  EXPECT_EQ(dec("Zm9vY"), "foo");  // 'Y' alone carries 6 bits: dropped like commons-codec
  EXPECT_EQ(dec("Zm9vYg==\n"), "foob");
}

TEST(Base64, RejectsCharactersOutsideBothAlphabets) {
  EXPECT_TRUE(fails("Zm9v!"));
  EXPECT_TRUE(fails("Zm9v\x80"));
  EXPECT_TRUE(fails("Zm9v%3D"));
  EXPECT_TRUE(fails("Zg==Zg"));  // data after padding
}

TEST(Base64, TrackerContextRoundTrips) {
  // TV-05's cx value decodes to the contexts JSON the tracker sent.
  std::string cx =
      "eyJkYXRhIjpbeyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy91cmlfcmVkaXJlY3Qv"
      "anNvbnNjaGVtYS8x"
      "LTAtMCIsImRhdGEiOnsidXJpIjoiaHR0cDovL3Nub3dwbG93YW5hbHl0aWNzLmNvbS8ifX1dLCJzY2hlbWEiOiJpZ2x1"
      "OmNvbS5zbm93cGxv"
      "d2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29uc2NoZW1hLzEtMC0wIn0=";
  std::string json = dec(cx);
  EXPECT_EQ(json.substr(0, 10), "{\"data\":[{");
  EXPECT_EQ(base64_encode(json), cx);
  EXPECT_EQ(dec(base64url_encode(json)), json);
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(dec(base64_encode(all)), all);
  EXPECT_EQ(dec(base64url_encode(all)), all);
}

// A straightforward one-character-at-a-time decoder with the documented rules (both alphabets,
// whitespace skipped, '=' ends the data, a dangling sextet dropped), to check the grouped fast
// loop against on inputs that switch between the fast and the general path at every offset.
bool reference_decode(std::string_view in, std::string& out) {
  static const std::string kStd =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.clear();
  uint32_t acc = 0;
  int n = 0;
  bool padded = false;
  for (char c : in) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') continue;
    if (c == '=') {
      padded = true;
      continue;
    }
    int v = c == '-' ? 62 : c == '_' ? 63 : static_cast<int>(kStd.find(c));
    if (v < 0 || v > 63 || padded) {
      out.clear();
      return false;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (++n == 4) {
      out.push_back(static_cast<char>((acc >> 16) & 0xFF));
      out.push_back(static_cast<char>((acc >> 8) & 0xFF));
      out.push_back(static_cast<char>(acc & 0xFF));
      acc = 0;
      n = 0;
    }
  }
  if (n == 2) out.push_back(static_cast<char>((acc >> 4) & 0xFF));
  if (n == 3) {
    out.push_back(static_cast<char>((acc >> 10) & 0xFF));
    out.push_back(static_cast<char>((acc >> 2) & 0xFF));
  }
  return true;
}

TEST(Base64, FastGroupsAgreeWithCharacterByCharacterDecoding) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
  const std::string odd = " \t\r\n=!%\x80";
  std::mt19937 rng(7);
  int failures_seen = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string in;
    const int len = static_cast<int>(rng() % 40);
    for (int i = 0; i < len; ++i) {
      in.push_back(rng() % 12 == 0 ? odd[rng() % odd.size()] : alphabet[rng() % alphabet.size()]);
    }
    std::string fast, slow;
    const bool ok_fast = base64_decode(in, fast);
    const bool ok_slow = reference_decode(in, slow);
    ASSERT_EQ(ok_fast, ok_slow) << in;
    if (ok_fast) {
      ASSERT_EQ(fast, slow) << in;
    } else {
      ++failures_seen;
      EXPECT_TRUE(fast.empty());
    }
  }
  EXPECT_GT(failures_seen, 100);  // the generator does reach the error paths
}

TEST(Base64, LongInputsAgreeWithCharacterByCharacterDecoding) {
  // Lengths past the 32-character vector blocks, with any byte value (rarely) at any offset,
  // so blocks are taken whole, declined at every position, and finished by the scalar loops.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
  std::mt19937 rng(11);
  int failures_seen = 0, long_ok = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string in;
    const int len = 60 + static_cast<int>(rng() % 300);
    const int odd_every = 1 + static_cast<int>(rng() % 400);
    for (int i = 0; i < len; ++i) {
      in.push_back(static_cast<int>(rng() % static_cast<unsigned>(odd_every)) == 0
                       ? static_cast<char>(rng() % 256)
                       : alphabet[rng() % alphabet.size()]);
    }
    std::string fast, slow;
    const bool ok_fast = base64_decode(in, fast);
    const bool ok_slow = reference_decode(in, slow);
    ASSERT_EQ(ok_fast, ok_slow) << in;
    if (ok_fast) {
      ASSERT_EQ(fast, slow) << in;
      long_ok += len > 200;
    } else {
      ++failures_seen;
    }
  }
  EXPECT_GT(failures_seen, 100);
  EXPECT_GT(long_ok, 100);
  // Every alphabet character in every position of a block.
  for (std::size_t shift = 0; shift < 64; ++shift) {
    std::string in;
    for (std::size_t i = 0; i < 128; ++i) in.push_back(alphabet[(i + shift) % 64]);
    std::string fast, slow;
    ASSERT_TRUE(base64_decode(in, fast));
    ASSERT_TRUE(reference_decode(in, slow));
    ASSERT_EQ(fast, slow) << in;
  }
}

// Every byte value at every position of the first vector block: the nibble tables must accept
// exactly the two alphabets and map each character to its sextet.
TEST(Base64, EveryByteAtEveryBlockPositionAgreesWithCharacterByCharacterDecoding) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
  std::string base;
  for (std::size_t i = 0; i < 96; ++i) base.push_back(alphabet[(i * 7) % 64]);
  int accepted = 0;
  for (int byte = 0; byte < 256; ++byte) {
    for (std::size_t at = 0; at < 32; ++at) {
      std::string in = base;
      in[at] = static_cast<char>(byte);
      std::string fast, slow;
      const bool ok = base64_decode(in, fast);
      ASSERT_EQ(ok, reference_decode(in, slow)) << byte << " at " << at;
      if (ok) {
        ASSERT_EQ(fast, slow) << byte << " at " << at;
        ++accepted;
      }
    }
  }
  EXPECT_EQ(accepted, (66 + 6) * 32);  // 66 characters (both alphabets) and 6 blanks (skipped)
}

}  // namespace
}  // namespace furrow::common
