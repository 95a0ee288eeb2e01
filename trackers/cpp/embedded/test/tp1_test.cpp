// The embedded core on the host: exact query strings, the base64 JSON it streams, every
// too-small buffer, and argument checks.
#include "furrow/tracker/embedded/tp1.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "test_helpers.h"

namespace emb = furrow::tracker::embedded;
using furrow::tracker::test::base64_decode;
using furrow::tracker::test::is_uuid_v4;
using furrow::tracker::test::parse_query;

namespace {

// Bytes 0, 1, 2, ... so event ids are predictable.
void counting_random(void* context, uint8_t* out, size_t n) {
  auto* next = static_cast<uint8_t*>(context);
  for (size_t i = 0; i < n; ++i) out[i] = (*next)++;
}

struct Fixture {
  uint8_t next = 0;
  emb::Config config;
  Fixture() {
    config.app_id = "farm";
    config.random = counting_random;
    config.random_context = &next;
  }
};

}  // namespace

TEST(EmbeddedTp1, StructuredEventExactQuery) {
  Fixture f;
  emb::StructuredEvent se;
  se.category = "pump";
  se.action = "start";
  se.label = "valve 3 & 4 = ✓";
  se.value = "-12.5";
  char out[512];
  size_t length = 99;
  ASSERT_EQ(emb::build_structured(f.config, se, 1700000000123ULL, out, sizeof out, &length),
            emb::Status::kOk);
  EXPECT_EQ(std::string(out),
            "e=se&eid=00010203-0405-4607-8809-0a0b0c0d0e0f&dtm=1700000000123"
            "&tv=furrow-embedded-0.1.0&p=iot&aid=farm"
            "&se_ca=pump&se_ac=start&se_la=valve%203%20%26%204%20%3D%20%E2%9C%93&se_va=-12.5");
  EXPECT_EQ(length, std::strlen(out));
}

TEST(EmbeddedTp1, SensorEventCarriesTheEnvelopeAsBase64Url) {
  Fixture f;
  f.config.tracker_namespace = "ns";
  f.config.platform = "pc";
  const emb::Field fields[] = {
      emb::string_field("id", "north \"A\"\\\n"),
      emb::fixed_field("celsius", 2150, 2),
      emb::fixed_field("delta", -5, 2),
      emb::fixed_field("whole", 7, 0),
      emb::int_field("min", INT64_MIN),
      emb::bool_field("ok", true),
      emb::bool_field("door", false),
  };
  char out[1024];
  size_t length = 0;
  ASSERT_EQ(emb::build_self_describing(f.config, "iglu:com.example/reading/jsonschema/1-0-0",
                                       fields, 7, 42, out, sizeof out, &length),
            emb::Status::kOk);
  auto q = parse_query(out);
  EXPECT_EQ(q["e"], "ue");
  EXPECT_EQ(q["p"], "pc");
  EXPECT_EQ(q["tna"], "ns");
  EXPECT_EQ(q["dtm"], "42");
  EXPECT_TRUE(is_uuid_v4(q["eid"])) << q["eid"];
  const std::string px = q["ue_px"];
  EXPECT_EQ(px.find_first_of("+/="), std::string::npos) << "url-safe alphabet, no padding";
  EXPECT_EQ(base64_decode(px),
            R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",)"
            R"("data":{"schema":"iglu:com.example/reading/jsonschema/1-0-0","data":{)"
            R"("id":"north \"A\"\\\u000a","celsius":21.50,"delta":-0.05,"whole":7,)"
            R"("min":-9223372036854775808,"ok":true,"door":false}}})");
  // The decoded text is valid JSON.
  auto doc = furrow::tracker::test::parse_json(base64_decode(px));
  EXPECT_FALSE(doc.HasParseError());
}

TEST(EmbeddedTp1, EveryTooSmallBufferIsReportedAndLeftEmpty) {
  Fixture f;
  const emb::Field fields[] = {emb::int_field("rpm", 1200), emb::string_field("unit", "x")};
  char full[512];
  size_t needed = 0;
  ASSERT_EQ(emb::build_self_describing(f.config, "iglu:a.b/c/jsonschema/1-0-0", fields, 2, 1, full,
                                       sizeof full, &needed),
            emb::Status::kOk);
  for (size_t cap = 0; cap <= needed; ++cap) {
    char buf[512];
    std::memset(buf, 'X', sizeof buf);
    size_t length = 77;
    f.next = 0;
    auto st = emb::build_self_describing(f.config, "iglu:a.b/c/jsonschema/1-0-0", fields, 2, 1, buf,
                                         cap, &length);
    ASSERT_EQ(st, emb::Status::kBufferTooSmall) << cap;
    EXPECT_EQ(length, 0u);
    if (cap > 0) {
      EXPECT_EQ(buf[0], '\0');
    }
    EXPECT_EQ(buf[cap], 'X') << "wrote past capacity " << cap;
  }
  char exact[512];
  f.next = 0;
  size_t length = 0;
  EXPECT_EQ(emb::build_self_describing(f.config, "iglu:a.b/c/jsonschema/1-0-0", fields, 2, 1, exact,
                                       needed + 1, &length),
            emb::Status::kOk);
  EXPECT_EQ(length, needed);
}

TEST(EmbeddedTp1, InvalidArguments) {
  Fixture f;
  char out[512];
  size_t length = 5;
  emb::StructuredEvent se;
  se.category = "c";
  EXPECT_EQ(emb::build_structured(f.config, se, 1, out, sizeof out, &length),
            emb::Status::kInvalidArgument);  // no action
  EXPECT_EQ(length, 0u);
  se.action = "a";
  se.value = "12,5";
  EXPECT_EQ(emb::build_structured(f.config, se, 1, out, sizeof out, &length),
            emb::Status::kInvalidArgument);
  se.value = "1e3";
  EXPECT_EQ(emb::build_structured(f.config, se, 1, out, sizeof out, &length),
            emb::Status::kInvalidArgument);
  se.value = nullptr;
  emb::Config no_random = f.config;
  no_random.random = nullptr;
  EXPECT_EQ(emb::build_structured(no_random, se, 1, out, sizeof out, &length),
            emb::Status::kInvalidArgument);
  EXPECT_EQ(emb::build_structured(f.config, se, 1, out, sizeof out, &length), emb::Status::kOk);

  const emb::Field ok[] = {emb::int_field("a", 1)};
  EXPECT_EQ(emb::build_self_describing(f.config, "com.example/x/jsonschema/1-0-0", ok, 1, 1, out,
                                       sizeof out, &length),
            emb::Status::kInvalidArgument);
  EXPECT_EQ(emb::build_self_describing(f.config, nullptr, ok, 1, 1, out, sizeof out, &length),
            emb::Status::kInvalidArgument);
  const emb::Field unnamed[] = {emb::int_field(nullptr, 1)};
  EXPECT_EQ(emb::build_self_describing(f.config, "iglu:a/b/c/1-0-0", unnamed, 1, 1, out, sizeof out,
                                       &length),
            emb::Status::kInvalidArgument);
  const emb::Field no_text[] = {emb::string_field("s", nullptr)};
  EXPECT_EQ(emb::build_self_describing(f.config, "iglu:a/b/c/1-0-0", no_text, 1, 1, out, sizeof out,
                                       &length),
            emb::Status::kInvalidArgument);
  const emb::Field too_precise[] = {emb::fixed_field("f", 1, 19)};
  EXPECT_EQ(emb::build_self_describing(f.config, "iglu:a/b/c/1-0-0", too_precise, 1, 1, out,
                                       sizeof out, &length),
            emb::Status::kInvalidArgument);
  // No fields is a valid (empty) data object.
  EXPECT_EQ(emb::build_self_describing(f.config, "iglu:a/b/c/1-0-0", nullptr, 0, 1, out, sizeof out,
                                       &length),
            emb::Status::kOk);
  EXPECT_NE(base64_decode(parse_query(out)["ue_px"]).find(R"("data":{}}})"), std::string::npos);
}

TEST(EmbeddedTp1, Base64UrlVectors) {
  // RFC 4648 test vectors, URL-safe alphabet, padding stripped.
  const char* cases[][2] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (auto& c : cases) {
    char out[16];
    size_t n = emb::base64url_encode(reinterpret_cast<const uint8_t*>(c[0]), std::strlen(c[0]), out,
                                     sizeof out);
    EXPECT_EQ(std::string(out, n), c[1]);
  }
  const uint8_t high[] = {0xFB, 0xFF, 0xBF};
  char out[8];
  EXPECT_EQ(std::string(out, emb::base64url_encode(high, 3, out, sizeof out)), "-_-_");
  EXPECT_EQ(emb::base64url_encode(high, 3, out, 4), 0u) << "needs 5 bytes with the NUL";
}

TEST(EmbeddedTp1, UuidV4Bits) {
  uint8_t ones[16];
  std::memset(ones, 0xFF, sizeof ones);
  char out[37];
  emb::format_uuid_v4(ones, out);
  EXPECT_STREQ(out, "ffffffff-ffff-4fff-bfff-ffffffffffff");
  uint8_t zeros[16] = {};
  emb::format_uuid_v4(zeros, out);
  EXPECT_STREQ(out, "00000000-0000-4000-8000-000000000000");
}
