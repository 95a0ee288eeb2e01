#include "enrich/enrichment.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
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

}  // namespace
}  // namespace furrow::enrich
