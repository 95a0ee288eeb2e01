#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "common/base64.h"
#include "event/collector_payload.h"
#include "support/test_support.h"

namespace furrow::event {
namespace {

std::vector<std::string> fixture_records() {
  std::vector<std::string> out;
  for (const auto& line :
       test::read_lines(test::shared_dir() / "data/snowplow-fixtures/collector-payloads.b64")) {
    if (line.empty()) continue;
    std::string bytes;
    EXPECT_TRUE(common::base64_decode(line, bytes));
    out.push_back(std::move(bytes));
  }
  return out;
}

TEST(ThriftCodec, DecodesEverySnowplowFixture) {
  auto records = fixture_records();
  ASSERT_EQ(records.size(), 5u);
  int real_schema = 0;
  for (const auto& r : records) {
    auto c = decode_thrift(r);
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(c->path.has_value());
    EXPECT_TRUE(c->timestamp.has_value());
    if (c->schema == kCollectorPayloadSchema) ++real_schema;
    // Re-encoding reproduces Snowplow's bytes exactly: same field order, same encoding.
    EXPECT_EQ(encode_thrift(*c), r);
  }
  EXPECT_EQ(real_schema, 4);
}

TEST(ThriftCodec, Tv01FieldsExactly) {
  const CollectorPayload* tv01 = nullptr;
  std::vector<CollectorPayload> decoded;
  for (const auto& r : fixture_records()) decoded.push_back(*decode_thrift(r));
  for (const auto& c : decoded) {
    if (c.querystring == "testParam=3&testParam2=4") tv01 = &c;
  }
  ASSERT_NE(tv01, nullptr);
  EXPECT_EQ(tv01->ip_address, "127.0.0.1");
  EXPECT_EQ(tv01->timestamp, 1389833398278);
  EXPECT_EQ(tv01->encoding, "UTF-8");
  EXPECT_EQ(tv01->collector, "ssc-0.0.1-Stdout");
  EXPECT_EQ(tv01->user_agent,
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/31.0.1650.63 Safari/537.36");
  EXPECT_EQ(tv01->path, "/i");
  ASSERT_TRUE(tv01->headers.has_value());
  ASSERT_EQ(tv01->headers->size(), 8u);
  EXPECT_EQ((*tv01->headers)[0], "Cookie: sp=c5f3a09f-75f8-4309-bec5-fea560f78455");
  EXPECT_EQ((*tv01->headers)[1], "Accept-Language: en-US, en");
  EXPECT_EQ(tv01->hostname, "127.0.0.1");
  EXPECT_EQ(tv01->network_user_id, "c5f3a09f-75f8-4309-bec5-fea560f78455");
  EXPECT_EQ(tv01->schema, kCollectorPayloadSchema);
  EXPECT_FALSE(tv01->body.has_value());
  EXPECT_FALSE(tv01->referer_uri.has_value());
}

CollectorPayload full_payload() {
  CollectorPayload c;
  c.ip_address = "10.0.0.1";
  c.timestamp = 1700000000123;
  c.encoding = "UTF-8";
  c.collector = "furrow-0.1.0-stdout";
  c.user_agent = "Mozilla/5.0 \xCE\xA7";
  c.referer_uri = "https://example.com/a?b=c";
  c.path = "/com.snowplowanalytics.snowplow/tp2";
  c.querystring = "aid=x";
  c.body = std::string("{\"a\":\"\0b\"}", 10);
  c.headers = std::vector<std::string>{"Host: example.com", "application/json"};
  c.content_type = "application/json";
  c.hostname = "example.com";
  c.network_user_id = "c5f3a09f-75f8-4309-bec5-fea560f78455";
  return c;
}

TEST(ThriftCodec, RoundTripsEveryField) {
  auto c = full_payload();
  auto bytes = encode_thrift(c);
  // Field 100 comes first and the schema (31337) last, before the stop byte.
  EXPECT_EQ(bytes.substr(0, 3), std::string("\x0b\x00\x64", 3));
  EXPECT_EQ(bytes.back(), '\0');
  EXPECT_NE(bytes.find(std::string(kCollectorPayloadSchema) + '\0'), std::string::npos);
  auto back = decode_thrift(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, c);

  CollectorPayload minimal;
  minimal.path = "/i";
  auto m = decode_thrift(encode_thrift(minimal));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, minimal);
  EXPECT_FALSE(m->headers.has_value());
}

TEST(ThriftCodec, TruncatedInputIsAnErrorAtEveryLength) {
  auto bytes = encode_thrift(full_payload());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_thrift(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(r.ok()) << "prefix of length " << n << " decoded";
    if (!r.ok()) {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
}

TEST(ThriftCodec, HostileLengthsAndGarbageAreErrors) {
  // A string field claiming 2 GiB - 1 bytes.
  std::string huge("\x0b\x00\x64\x7f\xff\xff\xff", 7);
  EXPECT_FALSE(decode_thrift(huge).ok());
  // Negative string length.
  EXPECT_FALSE(decode_thrift(std::string("\x0b\x00\x64\xff\xff\xff\xfe", 7)).ok());
  // Headers list claiming 1e9 elements.
  EXPECT_FALSE(decode_thrift(std::string("\x0f\x01\x5e\x0b\x3b\x9a\xca\x00", 8)).ok());
  // Unknown field type byte.
  EXPECT_FALSE(decode_thrift(std::string("\x7e\x00\x01\x00", 4)).ok());
  EXPECT_FALSE(decode_thrift("").ok());
  EXPECT_FALSE(decode_thrift("not thrift at all").ok());
  // Deeply nested unknown structs stop at libthrift's recursion limit instead of the stack's.
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += std::string("\x0c\x00\x01", 3);
  EXPECT_FALSE(decode_thrift(deep).ok());
}

TEST(ThriftCodec, UnknownFieldsAndWrongTypesAreSkipped) {
  // An unknown i32 field 7, then path written as an i64 (wrong type: skipped), then stop.
  std::string bytes("\x08\x00\x07\x00\x00\x00\x05\x0a\x01\x40\x00\x00\x00\x00\x00\x00\x00\x01\x00",
                    19);
  auto r = decode_thrift(bytes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->path.has_value());
  EXPECT_TRUE(r->schema.empty());
}

// --- The hand-written reader against libthrift's ---

// Big-endian TBinaryProtocol pieces, for building records by hand.
void put_i16(std::string& out, int v) {
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
  out.push_back(static_cast<char>(v & 0xFF));
}
void put_i32(std::string& out, int64_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}
void put_string(std::string& out, std::string_view s) {
  put_i32(out, static_cast<int64_t>(s.size()));
  out.append(s);
}

// A random value of Thrift type `type` (nested containers and structs up to a few levels, every
// type byte libthrift knows, occasionally a type byte it does not).
void random_value(std::mt19937& rng, int type, int depth, std::string& out) {
  static constexpr int kTypes[] = {2, 3, 4, 6, 8, 10, 11, 12, 13, 14, 15};
  auto pick_type = [&] {
    if (rng() % 50 == 0) return static_cast<int>(rng() % 20);  // maybe unknown (1, 5, 7, 9, 16+)
    return kTypes[rng() % std::size(kTypes)];
  };
  const int deeper = depth > 3 ? 11 : -1;  // past depth 3, containers hold strings
  switch (type) {
    case 2:
    case 3:
      out.push_back(static_cast<char>(rng()));
      return;
    case 6:
      put_i16(out, static_cast<int>(rng() & 0xFFFF));
      return;
    case 8:
      put_i32(out, static_cast<int64_t>(rng()));
      return;
    case 4:
    case 10:
      put_i32(out, static_cast<int64_t>(rng()));
      put_i32(out, static_cast<int64_t>(rng()));
      return;
    case 11: {
      std::string s(rng() % 12, 'x');
      for (auto& c : s) c = static_cast<char>(rng());
      put_string(out, s);
      return;
    }
    case 12: {
      const int fields = static_cast<int>(rng() % 4);
      for (int i = 0; i < fields; ++i) {
        const int t = deeper > 0 ? deeper : pick_type();
        out.push_back(static_cast<char>(t));
        put_i16(out, static_cast<int>(rng() % 400));
        random_value(rng, t, depth + 1, out);
      }
      out.push_back('\0');
      return;
    }
    case 13: {
      const int k = deeper > 0 ? deeper : pick_type(), v = deeper > 0 ? deeper : pick_type();
      const int n = static_cast<int>(rng() % 4);
      out.push_back(static_cast<char>(k));
      out.push_back(static_cast<char>(v));
      put_i32(out, n);
      for (int i = 0; i < n; ++i) {
        random_value(rng, k, depth + 1, out);
        random_value(rng, v, depth + 1, out);
      }
      return;
    }
    case 14:
    case 15: {
      const int e = deeper > 0 ? deeper : pick_type();
      const int n = static_cast<int>(rng() % 4);
      out.push_back(static_cast<char>(e));
      put_i32(out, n);
      for (int i = 0; i < n; ++i) random_value(rng, e, depth + 1, out);
      return;
    }
    default:  // an unknown type byte: whatever bytes follow
      out.push_back(static_cast<char>(rng()));
      return;
  }
}

// A record of random fields: known ids with their own type or another, unknown ids, repeats,
// header lists of strings or of other types, then the stop byte (usually) and maybe trailing bytes.
std::string random_record(std::mt19937& rng) {
  static constexpr int kIds[] = {31337, 100, 200, 210, 220, 300, 310, 320,
                                 330,   340, 350, 360, 400, 410, 7,   999};
  static constexpr int kTypes[] = {2, 3, 4, 6, 8, 10, 11, 12, 13, 14, 15};
  std::string out;
  const int fields = static_cast<int>(rng() % 12);
  for (int i = 0; i < fields; ++i) {
    const int id = kIds[rng() % std::size(kIds)];
    int type = id == 200 ? 10 : id == 350 ? 15 : 11;
    if (rng() % 6 == 0) type = kTypes[rng() % std::size(kTypes)];
    out.push_back(static_cast<char>(type));
    put_i16(out, id);
    if (id == 350 && type == 15 && rng() % 4 != 0) {
      const int n = static_cast<int>(rng() % 5);
      out.push_back(11);
      put_i32(out, n);
      for (int h = 0; h < n; ++h) put_string(out, "Header-" + std::to_string(rng() % 100) + ": v");
    } else {
      random_value(rng, type, 1, out);
    }
  }
  if (rng() % 10 != 0) out.push_back('\0');
  if (rng() % 10 == 0) out.append(rng() % 5, 'z');
  return out;
}

// One random edit: a byte changed, inserted or removed, a cut, or a length field made large.
void mutate(std::mt19937& rng, std::string& s) {
  if (s.empty()) {
    s.push_back(static_cast<char>(rng()));
    return;
  }
  const std::size_t at = rng() % s.size();
  switch (rng() % 5) {
    case 0:
      s[at] = static_cast<char>(rng());
      break;
    case 1:
      s.insert(at, 1, static_cast<char>(rng()));
      break;
    case 2:
      s.erase(at, 1);
      break;
    case 3:
      s.resize(at);
      break;
    default:
      s[at] = static_cast<char>(0x7F + static_cast<int>(rng() % 2) * 0x80);  // 0x7f or 0xff
      break;
  }
}

// Fast reader vs libthrift on one record; `reused` is decoded into repeatedly (stale fields of an
// earlier record must not survive). Returns whether libthrift accepted it.
bool expect_same_decoding(std::string_view bytes, CollectorPayload& reused) {
  const Result<CollectorPayload> reference = detail::decode_thrift_libthrift(bytes);
  const bool fast_ok = detail::decode_thrift_fast(bytes, reused);
  EXPECT_EQ(fast_ok, reference.ok())
      << "record of " << bytes.size() << " bytes: " << common::base64_encode(bytes);
  if (reference.ok() && fast_ok) {
    EXPECT_TRUE(reused == *reference) << common::base64_encode(bytes);
  }
  // The public decoder: the same payload, or libthrift's error message.
  CollectorPayload via_public;
  std::string error;
  const bool ok = decode_thrift(bytes, via_public, error);
  EXPECT_EQ(ok, reference.ok());
  if (ok && reference.ok()) {
    EXPECT_TRUE(via_public == *reference);
  } else if (!ok && !reference.ok()) {
    EXPECT_EQ(error, reference.error().message);
  }
  return reference.ok();
}

TEST(ThriftCodec, FastReaderAgreesWithLibthriftOnFixturesAndTheirEdits) {
  std::mt19937 rng(20261128);
  CollectorPayload reused;
  std::vector<std::string> records = fixture_records();
  records.push_back(encode_thrift(full_payload()));
  int accepted = 0, total = 0;
  for (const auto& r : records) {
    ASSERT_TRUE(expect_same_decoding(r, reused));
    for (std::size_t n = 0; n < r.size(); ++n) expect_same_decoding(r.substr(0, n), reused);
    for (int i = 0; i < 1500; ++i) {
      std::string m = r;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) mutate(rng, m);
      accepted += expect_same_decoding(m, reused) ? 1 : 0;
      ++total;
      if (::testing::Test::HasFailure()) return;
    }
  }
  // Both outcomes are well represented (edits inside strings keep records valid).
  EXPECT_GT(accepted, total / 10);
  EXPECT_LT(accepted, total * 9 / 10);
}

TEST(ThriftCodec, FastReaderAgreesWithLibthriftOnRandomFieldsAndNesting) {
  std::mt19937 rng(7);
  CollectorPayload reused;
  int accepted = 0;
  const int total = 20000;
  for (int i = 0; i < total; ++i) {
    std::string r = random_record(rng);
    if (rng() % 3 == 0) mutate(rng, r);
    accepted += expect_same_decoding(r, reused) ? 1 : 0;
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(accepted, total / 5);
  EXPECT_LT(accepted, total * 9 / 10);
  // Nesting at and just past the skip depth limit (64 levels of unknown struct fields).
  for (int levels : {62, 63, 64, 65, 200}) {
    std::string deep;
    for (int l = 0; l < levels; ++l) deep += std::string("\x0c\x00\x01", 3);
    deep.append(static_cast<std::size_t>(levels) + 1, '\0');
    expect_same_decoding(deep, reused);
  }
}

TEST(ThriftCodec, ReusedPayloadForgetsTheFieldsOfTheRecordBefore) {
  CollectorPayload reused;
  std::string error;
  ASSERT_TRUE(decode_thrift(encode_thrift(full_payload()), reused, error)) << error;
  EXPECT_EQ(reused, full_payload());
  CollectorPayload minimal;
  minimal.path = "/i";
  ASSERT_TRUE(decode_thrift(encode_thrift(minimal), reused, error)) << error;
  EXPECT_EQ(reused, minimal);
  EXPECT_FALSE(reused.headers.has_value());
  EXPECT_FALSE(reused.timestamp.has_value());
  EXPECT_FALSE(decode_thrift("not thrift", reused, error));
  EXPECT_EQ(error, detail::decode_thrift_libthrift("not thrift").error().message);
}

}  // namespace
}  // namespace furrow::event
