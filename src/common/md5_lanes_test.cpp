#include "common/md5_lanes.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>
#include <vector>

namespace furrow::common {
namespace {

// The reference: OpenSSL's MD5 through EVP.
Md5Digest openssl_md5(std::string_view m) {
  Md5Digest d{};
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(m.data(), m.size(), d.data(), &len, EVP_md5(), nullptr), 1);
  EXPECT_EQ(len, 16u);
  return d;
}

std::string hex(const Md5Digest& d) {
  std::string s(32, '?');
  md5_hex(d, s.data());
  return s;
}

std::string random_bytes(std::mt19937& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

TEST(Md5Lanes, Rfc1321TestSuite) {
  // Appendix A.5 of RFC 1321.
  EXPECT_EQ(hex(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hex(md5("a")), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(hex(md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hex(md5("message digest")), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(hex(md5("abcdefghijklmnopqrstuvwxyz")), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(
      hex(md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890")),
      "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5Lanes, ScalarMatchesOpenSslForEveryLengthUpTo300) {
  std::mt19937 rng(1);
  for (std::size_t n = 0; n <= 300; ++n) {
    const std::string m = random_bytes(rng, n);
    ASSERT_EQ(md5(m), openssl_md5(m)) << "length " << n;
  }
}

TEST(Md5Lanes, EightLanesMatchOpenSslForEveryLengthUpTo300) {
  if (!md5_lanes_available()) GTEST_SKIP() << "no AVX2";
  std::mt19937 rng(2);
  // Lane j of pass n holds a message of length n + j (mod 301): every length in every lane, and
  // lanes of different lengths (and block counts) in one pass.
  for (std::size_t n = 0; n <= 300; ++n) {
    std::vector<std::string> msgs;
    for (std::size_t j = 0; j < 8; ++j) msgs.push_back(random_bytes(rng, (n + 37 * j) % 301));
    std::vector<std::string_view> views(msgs.begin(), msgs.end());
    std::vector<Md5Digest> out(8);
    ASSERT_TRUE(md5_lanes8(views, out));
    for (std::size_t j = 0; j < 8; ++j) {
      ASSERT_EQ(out[j], openssl_md5(msgs[j])) << "lane " << j << " length " << msgs[j].size();
    }
  }
}

TEST(Md5Lanes, AnyLaneCountWithMixedLengths) {
  if (!md5_lanes_available()) GTEST_SKIP() << "no AVX2";
  std::mt19937 rng(3);
  for (int round = 0; round < 40; ++round) {
    for (std::size_t count = 1; count <= 8; ++count) {
      std::vector<std::string> msgs;
      for (std::size_t j = 0; j < count; ++j) msgs.push_back(random_bytes(rng, rng() % 4001));
      std::vector<std::string_view> views(msgs.begin(), msgs.end());
      std::vector<Md5Digest> out(count);
      ASSERT_TRUE(md5_lanes8(views, out));
      for (std::size_t j = 0; j < count; ++j) {
        ASSERT_EQ(out[j], openssl_md5(msgs[j])) << "count " << count << " lane " << j;
      }
    }
  }
  std::vector<Md5Digest> out(9);
  std::vector<std::string_view> nine(9, "x");
  EXPECT_FALSE(md5_lanes8(nine, out));
  EXPECT_FALSE(md5_lanes8({}, out));
}

TEST(Md5Lanes, ManyMessagesOfRandomLengths) {
  std::mt19937 rng(4);
  for (std::size_t count : {0, 1, 2, 7, 8, 9, 17, 63, 64, 65, 200, 1000}) {
    std::vector<std::string> msgs;
    for (std::size_t j = 0; j < count; ++j) {
      // Mostly preimage-like lengths, some anything up to 4,000 bytes.
      const std::size_t n = rng() % 4 == 0 ? rng() % 4001 : 650 + rng() % 200;
      msgs.push_back(random_bytes(rng, n));
    }
    std::vector<std::string_view> views(msgs.begin(), msgs.end());
    std::vector<Md5Digest> out(count);
    md5_many(views, out);
    for (std::size_t j = 0; j < count; ++j) {
      ASSERT_EQ(out[j], openssl_md5(msgs[j])) << "count " << count << " message " << j;
    }
  }
}

TEST(Md5Lanes, ManyMessagesOfWidelySpreadLengths) {
  // Block counts more than 256 apart (the grouping's other sort).
  std::mt19937 rng(5);
  std::vector<std::string> msgs;
  for (std::size_t j = 0; j < 30; ++j) {
    msgs.push_back(random_bytes(rng, j % 7 == 0 ? 20000 + rng() % 5000 : rng() % 200));
  }
  std::vector<std::string_view> views(msgs.begin(), msgs.end());
  std::vector<Md5Digest> out(msgs.size());
  md5_many(views, out);
  for (std::size_t j = 0; j < msgs.size(); ++j) ASSERT_EQ(out[j], openssl_md5(msgs[j])) << j;
}

TEST(Md5Lanes, HexIsLowerCase) {
  Md5Digest d{};
  for (std::size_t i = 0; i < 16; ++i) d[i] = static_cast<uint8_t>(i * 17);
  EXPECT_EQ(hex(d), "00112233445566778899aabbccddeeff");
}

}  // namespace
}  // namespace furrow::common
