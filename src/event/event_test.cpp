#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "event/enriched_event.h"
#include "event/raw_event.h"
#include "event/tsv.h"

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

// FieldValues against a plain array of 131 strings: random writes (through operator[], as
// strings and as views), reads in every form, copies and clears. The event must always hold
// exactly the model's values, for_each_marked must visit every non-empty one, and the TSV line
// must be the model joined by tabs (a value left behind by clear(), a write that is not marked or
// a view read wrongly shows up here).
TEST(FieldValues, AgreeWithAPlainArrayOnRandomOperations) {
  std::mt19937 rng(7);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  // Texts the views point into; they outlive the event.
  std::vector<std::string> pool;
  for (std::size_t len = 0; len <= 40; ++len) {
    std::string t;
    for (std::size_t k = 0; k < len; ++k) t.push_back(static_cast<char>('a' + (len + k) % 26));
    pool.push_back(t);
  }
  EnrichedEvent ev;
  std::array<std::string, kFieldCount> model;
  for (int round = 0; round < 3000; ++round) {
    const std::size_t i = pick(kFieldCount);
    switch (pick(8)) {
      case 0:
      case 1: {
        std::string v = pool[pick(pool.size())];
        if (pick(4) == 0) v += std::string(pick(30), 'x');
        ev.values[i] = v;
        model[i] = v;
        break;
      }
      case 2:
      case 3: {
        const std::string& t = pool[pick(pool.size())];
        const std::size_t from = pick(t.size() + 1);
        ev.values.set_view(i, std::string_view(t).substr(from));
        model[i] = t.substr(from);
        break;
      }
      case 4:  // appending to whatever form the value has
        ev.values[i] += "+";
        model[i] += "+";
        break;
      case 5: {  // const reads (a view becomes a string)
        const EnrichedEvent& c = ev;
        ASSERT_EQ(c.values[i], model[i]) << i;
        ASSERT_EQ(c.text(static_cast<Field>(i)), model[i]) << i;
        break;
      }
      case 6:
        if (pick(10) == 0) {
          ev.clear();
          model = {};
        } else if (pick(2) == 0) {
          EnrichedEvent copy = ev;  // copies share views, keep strings
          ev = copy;
        }
        break;
      case 7:
        ev.values[i].clear();
        model[i].clear();
        break;
    }
    std::size_t visited = 0;
    ev.values.for_each_marked([&](std::size_t k, std::string_view v) {
      EXPECT_EQ(v, model[k]) << k;
      ++visited;
    });
    std::size_t non_empty = 0;
    for (std::size_t k = 0; k < kFieldCount; ++k) {
      ASSERT_EQ(ev.values.text(k), model[k]) << "round " << round << " column " << k;
      if (!model[k].empty()) {
        ++non_empty;
        ASSERT_TRUE(ev.values.marked(k)) << k;
      }
    }
    EXPECT_GE(visited, non_empty);
    // for_each_longer_than visits exactly the values longer than their limit, in order (limits
    // of 0-40 bytes and one unlimited column per round).
    std::array<std::size_t, kFieldCount> limits{};
    for (auto& l : limits) l = pick(41);
    limits[pick(kFieldCount)] = SIZE_MAX;
    std::vector<std::size_t> longer, want_longer;
    ev.values.for_each_longer_than(limits.data(), [&](std::size_t k) { longer.push_back(k); });
    for (std::size_t k = 0; k < kFieldCount; ++k) {
      if (model[k].size() > limits[k]) want_longer.push_back(k);
    }
    ASSERT_EQ(longer, want_longer) << "round " << round;
    if (round % 16 == 0) {
      std::string want = "x";
      for (std::size_t k = 0; k < kFieldCount; ++k) {
        if (k != 0) want += '\t';
        want += model[k];
      }
      std::string got = "x";
      write_tsv(ev, got);
      ASSERT_EQ(got, want) << "round " << round;
    }
  }
}

TEST(FieldValues, StringAccessTurnsAViewIntoAnEqualString) {
  const std::string text = "https://example.com/path";
  EnrichedEvent ev;
  ev.set_view(Field::page_url, text);
  EXPECT_TRUE(ev.values.is_view(static_cast<std::size_t>(Field::page_url)));
  EXPECT_TRUE(ev.has(Field::page_url));
  const EnrichedEvent& c = ev;
  EXPECT_EQ(c[Field::page_url], text);
  EXPECT_FALSE(ev.values.is_view(static_cast<std::size_t>(Field::page_url)));
  ev.set_view(Field::page_title, text);
  ev[Field::page_title] += "!";
  EXPECT_EQ(ev.text(Field::page_title), text + "!");
  ev.clear();
  EXPECT_FALSE(ev.has(Field::page_url));
  EXPECT_FALSE(ev.values.marked(static_cast<std::size_t>(Field::page_title)));
  EXPECT_EQ(c[Field::page_title], "");
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
