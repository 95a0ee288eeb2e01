#include "event/raw_event.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace furrow::event {
namespace {

// Drives Params through the hash-indexed regime (many names) and checks it against std::map.
TEST(ParamsIndex, ManyNamesBehaveLikeAMapInInsertionOrder) {
  Params p;
  std::map<std::string, std::string> expect;
  std::vector<std::string> order;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 300; ++i) {
      std::string name = "k" + std::to_string(i * 7 % 301);
      std::string value = std::to_string(round) + ":" + std::to_string(i);
      if (!expect.count(name)) order.push_back(name);
      expect[name] = value;
      p.set(name, value);
    }
  }
  ASSERT_EQ(p.size(), expect.size());
  for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(p.items()[i].name, order[i]);
  for (const auto& [k, v] : expect) {
    ASSERT_NE(p.get(k), nullptr) << k;
    EXPECT_EQ(*p.get(k), v);
  }
  EXPECT_EQ(p.get("missing"), nullptr);
  EXPECT_FALSE(p.contains("k300x"));

  // Erase every other name; the rest stay findable and ordered.
  for (std::size_t i = 0; i < order.size(); i += 2) p.erase(order[i]);
  for (std::size_t i = 0; i < order.size(); ++i)
    EXPECT_EQ(p.contains(order[i]), i % 2 == 1) << order[i];
  EXPECT_EQ(p.items().front().name, order[1]);
  p.set(order[0], "back");
  EXPECT_EQ(p.items().back().name, order[0]);
  EXPECT_EQ(*p.get(order[0]), "back");

  // Shrinking below the linear threshold and growing again keeps lookups right.
  while (p.size() > 3) p.erase(p.items().front().name);
  EXPECT_EQ(p.size(), 3u);
  for (int i = 0; i < 20; ++i) p.set("n" + std::to_string(i), std::nullopt);
  EXPECT_TRUE(p.contains("n19"));
  EXPECT_EQ(p.get("n19"), nullptr);  // valueless
  EXPECT_EQ(*p.get(order[0]), "back");
}

TEST(ParamsIndex, EqualityIgnoresIndexState) {
  Params a, b;
  for (int i = 0; i < 20; ++i) a.set("x" + std::to_string(i), "v");
  a.set("extra", "e");
  a.erase("extra");
  for (int i = 0; i < 20; ++i) b.set("x" + std::to_string(i), "v");
  EXPECT_EQ(a, b);
  b.set("x3", "w");
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace furrow::event
