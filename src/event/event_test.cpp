#include <gtest/gtest.h>

#include "event/enriched_event.h"
#include "event/raw_event.h"

namespace furrow::event {
namespace {

TEST(EnrichedEvent, HasSnowplowsColumnOrder) {
  EXPECT_EQ(field_infos().size(), 131u);
  EXPECT_EQ(field_name(Field::app_id), "app_id");
  EXPECT_EQ(static_cast<int>(Field::contexts), 52);
  EXPECT_EQ(static_cast<int>(Field::derived_contexts), 122);
  EXPECT_EQ(field_name(Field::true_tstamp), "true_tstamp");
  EXPECT_EQ(field_info(Field::page_url).max_length, 10000u);
  EXPECT_EQ(field_info(Field::geo_latitude).kind, FieldKind::kFloat);
  Field f{};
  ASSERT_TRUE(field_by_name("event_fingerprint", f));
  EXPECT_EQ(f, Field::event_fingerprint);
  EXPECT_FALSE(field_by_name("no_such_column", f));
}

TEST(Params, LastOccurrenceWinsInPlace) {
  Params p;
  p.set("e", "pv");
  p.set("aid", "a");
  p.set("e", "se");
  p.set("flag", std::nullopt);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p.items()[0].name, "e");
  EXPECT_EQ(*p.get("e"), "se");
  EXPECT_EQ(p.get("flag"), nullptr);
  EXPECT_TRUE(p.contains("flag"));
  p.erase("aid");
  EXPECT_FALSE(p.contains("aid"));
}

}  // namespace
}  // namespace furrow::event
