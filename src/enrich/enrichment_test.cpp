#include "enrich/enrichment.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "event/enriched_event.h"
#include "event/raw_event.h"

namespace furrow::enrich {
namespace {

TEST(EventContext, DerivedContextsFromEveryOverloadKeepTheirOrder) {
  event::EnrichedEvent ev;
  event::RawEvent raw;
  EventContext ctx(ev, raw);
  const std::string memo = R"({"schema":"iglu:com.acme/memo/jsonschema/1-0-0","data":{"n":1}})";
  std::string buffer = R"({"schema":"iglu:com.acme/view/jsonschema/1-0-0","data":{}})";
  ctx.add_derived_context(memo);                      // lvalue string: copied
  ctx.add_derived_context(std::string_view(buffer));  // view: copied during the call
  buffer.assign(buffer.size(), 'x');                  // the view's text no longer matters
  ctx.add_derived_context(R"({"schema":"iglu:com.acme/lit/jsonschema/1-0-0","data":{}})");
  ctx.add_derived_context(
      std::string(R"({"schema":"iglu:com.acme/tmp/jsonschema/1-0-0","data":{}})"));
  const std::vector<std::string> want = {
      memo,
      R"({"schema":"iglu:com.acme/view/jsonschema/1-0-0","data":{}})",
      R"({"schema":"iglu:com.acme/lit/jsonschema/1-0-0","data":{}})",
      R"({"schema":"iglu:com.acme/tmp/jsonschema/1-0-0","data":{}})",
  };
  EXPECT_EQ(ctx.pending_contexts(), want);
  EXPECT_EQ(memo, want[0]);  // the memo itself is untouched
}

TEST(EventContext, ViewOfPartOfALargerBufferCopiesOnlyThatPart) {
  event::EnrichedEvent ev;
  event::RawEvent raw;
  EventContext ctx(ev, raw);
  const std::string arena = R"(junk{"schema":"iglu:com.acme/a/jsonschema/1-0-0","data":{}}junk)";
  ctx.add_derived_context(std::string_view(arena).substr(4, arena.size() - 8));
  ASSERT_EQ(ctx.pending_contexts().size(), 1u);
  EXPECT_EQ(ctx.pending_contexts()[0],
            R"({"schema":"iglu:com.acme/a/jsonschema/1-0-0","data":{}})");
}

// for_each_parameter_with_id lists what for_each_parameter lists, each with its
// protocol::param_key_id, from the raw parameters and from the pipeline's views alike.
TEST(EventContext, ParametersWithIdsAreTheParametersWithTheirKeyIds) {
  using Seen = std::vector<std::tuple<std::string, std::string, int>>;
  event::EnrichedEvent ev;
  event::RawEvent raw;
  raw.parameters.set("e", "pv");
  raw.parameters.set("custom", "1");
  raw.parameters.set("flag", std::nullopt);
  raw.parameters.set("url", "https://a.example/");
  EventContext ctx(ev, raw);
  Seen plain, with_id;
  ctx.for_each_parameter([&](std::string_view n, std::string_view v) {
    plain.emplace_back(std::string(n), std::string(v), protocol::param_key_id(n));
  });
  ctx.for_each_parameter_with_id([&](std::string_view n, std::string_view v, int id) {
    with_id.emplace_back(std::string(n), std::string(v), id);
  });
  const Seen want = {{"e", "pv", protocol::param_key_id("e")},
                     {"custom", "1", -1},
                     {"url", "https://a.example/", protocol::param_key_id("url")}};
  EXPECT_EQ(plain, want);
  EXPECT_EQ(with_id, want);
  EXPECT_GE(protocol::param_key_id("url"), 0);

  // Views: the id comes from the view as the producer set it.
  const std::vector<protocol::ParamView> views = {{"tv", "js-3", protocol::param_key_id("tv")},
                                                  {"x_y", "2", -1}};
  const std::vector<std::string> headers;
  ctx.set_request(&headers, views);
  with_id.clear();
  ctx.for_each_parameter_with_id([&](std::string_view n, std::string_view v, int id) {
    with_id.emplace_back(std::string(n), std::string(v), id);
  });
  EXPECT_EQ(with_id, (Seen{{"tv", "js-3", protocol::param_key_id("tv")}, {"x_y", "2", -1}}));
}

}  // namespace
}  // namespace furrow::enrich
