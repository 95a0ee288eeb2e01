#include "collector/paced_sync.h"

#include <gtest/gtest.h>

#include <thread>

namespace furrow::collector {
namespace {

struct Counts {
  int writes = 0, syncs = 0, maintains = 0, closes = 0;
  bool fail_sync = false;
};

class CountingBackend : public sinks::SinkBackend {
 public:
  explicit CountingBackend(Counts& c) : c_(c) {}
  Status write(const std::vector<std::string_view>&) override {
    ++c_.writes;
    return {};
  }
  Status sync() override {
    ++c_.syncs;
    if (c_.fail_sync) return Error{"disk gone"};
    return {};
  }
  Status maintain(std::chrono::steady_clock::time_point) override {
    ++c_.maintains;
    return {};
  }
  Status close() override {
    ++c_.closes;
    return {};
  }

 private:
  Counts& c_;
};

TEST(PacedSyncBackend, SyncsAtMostOncePerIntervalAndOnlyWhenDirty) {
  Counts c;
  PacedSyncBackend b(std::make_unique<CountingBackend>(c), std::chrono::milliseconds(80));
  std::vector<std::string_view> recs{"a", "b"};
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(b.write(recs).ok());
    ASSERT_TRUE(b.sync().ok());
  }
  EXPECT_EQ(c.writes, 20);  // every record reaches the inner backend (the OS) at once
  EXPECT_EQ(c.syncs, 0);    // but no fdatasync within the first interval
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // A due sync happens from maintain() even without new writes.
  ASSERT_TRUE(b.maintain(std::chrono::steady_clock::now()).ok());
  EXPECT_EQ(c.syncs, 1);
  EXPECT_EQ(c.maintains, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(b.sync().ok());
  EXPECT_EQ(c.syncs, 1);  // nothing written since: nothing to sync
  ASSERT_TRUE(b.write(recs).ok());
  ASSERT_TRUE(b.sync().ok());
  EXPECT_EQ(c.syncs, 2);
  EXPECT_EQ(b.real_syncs(), 2u);
  ASSERT_TRUE(b.close().ok());
  EXPECT_EQ(c.closes, 1);
}

TEST(PacedSyncBackend, SyncErrorsReachTheQueue) {
  Counts c;
  PacedSyncBackend b(std::make_unique<CountingBackend>(c), std::chrono::milliseconds(0));
  std::vector<std::string_view> recs{"a"};
  ASSERT_TRUE(b.write(recs).ok());
  c.fail_sync = true;
  EXPECT_FALSE(b.sync().ok());
  c.fail_sync = false;
  EXPECT_TRUE(b.sync().ok());  // still dirty after the failure: retried
  EXPECT_EQ(c.syncs, 2);
}

}  // namespace
}  // namespace furrow::collector
