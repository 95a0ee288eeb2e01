#include "enrich/deferred_md5.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "enrich/enrichments/cookie_extractor_config/cookie_extractor_config.h"
#include "enrich/enrichments/event_fingerprint_config/event_fingerprint_config.h"
#include "enrich/pipeline.h"
#include "event/tsv.h"

namespace furrow::enrich {
namespace {

using event::Field;

std::string md5_hex(std::string_view s) {
  std::string h(32, '?');
  common::md5_hex(common::md5(s), h.data());
  return h;
}

TEST(DeferredMd5, PlacesResolvesAndDropsEntries) {
  DeferredMd5 d;
  std::string text = "a\t" + std::string(32, '0') + "\tb\n" + "c\t" + std::string(32, '0') + "\n";
  EXPECT_EQ(d.add("first"), 0u);
  d.place(0, text, 2);
  EXPECT_EQ(d.add("second"), 1u);
  d.place(1, text, 39);
  EXPECT_EQ(d.add("never placed"), 2u);  // dropped by resolve_all
  EXPECT_EQ(d.add("resolved now"), 3u);
  char hex[32];
  d.resolve_now(3, hex);
  EXPECT_EQ(std::string(hex, 32), md5_hex("resolved now"));
  EXPECT_EQ(d.size(), 3u);  // the last entry went with it
  d.resolve_all();
  EXPECT_EQ(d.size(), 0u);
  EXPECT_EQ(text, "a\t" + md5_hex("first") + "\tb\n" + "c\t" + md5_hex("second") + "\n");
  // truncate: entries of output taken back are not written.
  std::string other(32, '-');
  d.add("x");
  d.place(0, other, 0);
  d.truncate(0);
  d.resolve_all();
  EXPECT_EQ(other, std::string(32, '-'));
}

TEST(DeferredMd5, ManyEntriesGetTheirOwnDigests) {
  DeferredMd5 d;
  std::string text;
  std::vector<std::string> pre;
  for (int i = 0; i < 50; ++i) {
    pre.push_back(
        std::string(static_cast<std::size_t>(700 + 13 * i), static_cast<char>('a' + i % 26)));
    d.add(pre.back());
    d.place(static_cast<std::size_t>(i), text, text.size());
    text.append(32, '0');
  }
  d.resolve_all();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(text.substr(32 * static_cast<std::size_t>(i), 32),
              md5_hex(pre[static_cast<std::size_t>(i)]));
  }
}

// Fails every event with se_ca=fail, before the fingerprint step (step 11): its bad row comes after
// step 12, so it must carry the fingerprint.
class FailOnCategory final : public Enrichment {
 public:
  std::string_view name() const override { return "fail_on_category"; }
  Step step() const override { return Step::kCrossNavigation; }
  void apply(EventContext& ctx) const override {
    ctx.for_each_parameter([&](std::string_view name, std::string_view value) {
      if (name == "se_ca" && value == "fail") {
        ctx.add_failure("iglu:com.acme/fail/jsonschema/1-0-0", "fail_on_category",
                        R"({"error":"asked to fail"})");
      }
    });
  }
};

// Reads event_fingerprint after step 12 (as a JavaScript enrichment could).
class ReadsFingerprint final : public Enrichment {
 public:
  std::string_view name() const override { return "reads_fingerprint"; }
  Step step() const override { return Step::kJavascript; }
  void apply(EventContext& ctx) const override {
    ctx.add_derived_context(R"({"schema":"iglu:com.acme/fp/jsonschema/1-0-0","data":{"fp":")" +
                            std::string(ctx.event().text(Field::event_fingerprint)) + "\"}}");
  }
};

PipelineConfig config_with(std::vector<std::shared_ptr<const Enrichment>> extra) {
  PipelineConfig c;
  c.fixed_now_ms = 1700000000000;
  c.registry_retry_initial_ms = 1;
  c.registry_retry_max_ms = 2;
  c.enrichments = {
      std::make_shared<enrichments::EventFingerprintEnrichment>(
          std::vector<std::string>{"stm"}, *enrichments::Hasher::by_name("MD5"), "MD5"),
      std::make_shared<enrichments::CookieExtractorEnrichment>(std::vector<std::string>{"sp"})};
  for (auto& e : extra) c.enrichments.push_back(std::move(e));
  return c;
}

event::CollectorPayload post(const std::string& events) {
  event::CollectorPayload cp;
  cp.ip_address = "10.0.0.9";
  cp.timestamp = 1381188930000;
  cp.encoding = "UTF-8";
  cp.collector = "ssc-3.4.0-stdout";
  cp.user_agent = "Agent/1";
  cp.path = "/com.snowplowanalytics.snowplow/tp2";
  cp.content_type = "application/json";
  cp.headers = std::vector<std::string>{"Host: c.example", "Cookie: sp=abc", "application/json"};
  cp.hostname = "c.example";
  cp.network_user_id = "c5f3a09f-75f8-4309-bec5-fea560f78455";
  cp.body = R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",)"
            R"("data":[)" +
            events + "]}";
  return cp;
}

std::string ev(const std::string& fields, int n) {
  return R"({"tv":"t","p":"web","eid":"6a0a1f0e-8b8e-4e0f-9b9a-0f6c2f0b8e)" +
         std::to_string(10 + n) + "\"," + fields + "}";
}

const std::string kPv = R"("e":"pv","url":"https://a.example/x?y=1","page":"P")";
const std::string kFail = R"("e":"se","se_ca":"fail","se_ac":"a")";
const std::string kTooLong = R"("e":"se","se_ca":"c","se_ac":")" + std::string(1200, 'x') + "\"";
const std::string kNoUnstruct = R"("e":"ue")";
const std::string kBadDtm = R"("e":"pv","dtm":"soon")";

struct Outcome {
  std::string text;
  std::vector<std::string> bad;
  std::size_t deferred = 0;  // entries pending before resolve_all
};

Outcome run(const Pipeline& p, const event::CollectorPayload& cp, bool defer) {
  Outcome o;
  Output out;
  DeferredMd5 d;
  out.good_text = &o.text;
  if (defer) out.deferred_md5 = &d;
  p.process_payload(cp, "thrift", out);
  o.deferred = d.size();
  d.resolve_all();
  o.bad = out.bad;
  return o;
}

TEST(DeferredMd5, PipelineOutputIsTheSameWithAndWithoutDeferral) {
  const Pipeline p(config_with({std::make_shared<FailOnCategory>()}));
  const std::vector<std::string> payloads = {
      ev(kPv, 1),
      ev(kPv, 1) + "," + ev(kFail, 2) + "," + ev(kPv, 3),
      ev(kTooLong, 4) + "," + ev(kPv, 5) + "," + ev(kNoUnstruct, 6),
      ev(kBadDtm, 7) + "," + ev(kPv, 8),
      ev(kFail, 9),
  };
  std::size_t deferred = 0, bad = 0;
  for (const auto& events : payloads) {
    const Outcome now = run(p, post(events), false);
    const Outcome later = run(p, post(events), true);
    EXPECT_EQ(now.deferred, 0u);
    EXPECT_EQ(later.text, now.text) << events;
    EXPECT_EQ(later.bad, now.bad) << events;
    deferred += later.deferred;
    bad += later.bad.size();
  }
  EXPECT_EQ(deferred, 5u);  // the good events' fingerprints were deferred
  EXPECT_EQ(bad, 5u);
}

TEST(DeferredMd5, BadRowsAfterTheFingerprintStepCarryTheRealFingerprint) {
  const Pipeline p(config_with({std::make_shared<FailOnCategory>()}));
  // An enrichment failure, a length violation (se_action over 1,000 characters) and a step-17
  // failure (ue without its event), each after good events whose digests stay deferred.
  for (const std::string& fields : {kFail, kTooLong, kNoUnstruct}) {
    const Outcome o = run(p, post(ev(kPv, 1) + "," + ev(fields, 2)), true);
    ASSERT_EQ(o.bad.size(), 1u) << fields;
    EXPECT_EQ(o.deferred, 1u) << fields;  // the good pv's
    const Outcome immediate = run(p, post(ev(fields, 2)), false);
    ASSERT_EQ(immediate.bad.size(), 1u);
    // The fingerprint in the immediate bad row is the MD5 the deferred one must show.
    const std::size_t at = immediate.bad[0].find("\"event_fingerprint\":\"");
    ASSERT_NE(at, std::string::npos) << immediate.bad[0];
    const std::string fp = immediate.bad[0].substr(at + 21, 32);
    EXPECT_NE(fp, std::string(32, '0'));
    EXPECT_NE(o.bad[0].find("\"event_fingerprint\":\"" + fp + "\""), std::string::npos) << o.bad[0];
    EXPECT_EQ(o.bad[0].find(std::string(32, '0')), std::string::npos) << o.bad[0];
  }
}

TEST(DeferredMd5, TheGoodLineCarriesTheFingerprintOfItsPreimage) {
  const Pipeline p(config_with({}));
  const Outcome o = run(p, post(ev(kPv, 1)), true);
  ASSERT_EQ(o.deferred, 1u);
  event::EnrichedEvent e;
  std::string err;
  ASSERT_TRUE(event::read_tsv(std::string_view(o.text).substr(0, o.text.size() - 1), e, err))
      << err;
  std::string preimage =
      "e|pv|eid|6a0a1f0e-8b8e-4e0f-9b9a-0f6c2f0b8e11|p|web|page|P|tv|t|url|https://a.example/"
      "x?y=1|";
  std::replace(preimage.begin(), preimage.end(), '|', '\x1f');
  EXPECT_EQ(e[Field::event_fingerprint], md5_hex(preimage));
}

TEST(DeferredMd5, OffWhenALaterEnrichmentCouldReadTheColumn) {
  const auto fp = std::make_shared<enrichments::EventFingerprintEnrichment>(
      std::vector<std::string>{}, *enrichments::Hasher::by_name("MD5"), "MD5");
  const auto cookie =
      std::make_shared<enrichments::CookieExtractorEnrichment>(std::vector<std::string>{"sp"});
  const ReadsFingerprint reads;
  const FailOnCategory before;
  std::vector<const Enrichment*> chain = {&before, fp.get(), cookie.get()};
  EXPECT_TRUE(fingerprint_deferrable(chain));
  chain.push_back(&reads);
  EXPECT_FALSE(fingerprint_deferrable(chain));

  // Through the pipeline: nothing deferred, and the later enrichment sees the real digest.
  const Pipeline p(config_with({std::make_shared<ReadsFingerprint>()}));
  const Outcome o = run(p, post(ev(kPv, 1)), true);
  EXPECT_EQ(o.deferred, 0u);
  EXPECT_EQ(o.text.find(std::string(32, '0')), std::string::npos) << o.text;
  EXPECT_EQ(o.text, run(p, post(ev(kPv, 1)), false).text);
}

TEST(DeferredMd5, OnlyMd5IsDeferred) {
  PipelineConfig c = config_with({});
  c.enrichments[0] = std::make_shared<enrichments::EventFingerprintEnrichment>(
      std::vector<std::string>{}, *enrichments::Hasher::by_name("SHA256"), "SHA256");
  const Pipeline p(std::move(c));
  const Outcome o = run(p, post(ev(kPv, 1)), true);
  EXPECT_EQ(o.deferred, 0u);
  EXPECT_EQ(o.text, run(p, post(ev(kPv, 1)), false).text);
}

}  // namespace
}  // namespace furrow::enrich
