// Overload (reliability.md A5/B1): with the sink stalled (the stall_file fault-injection hook),
// clients get 503 with Retry-After once the configured queue bound is reached, /sink-health turns
// 503, memory stays bounded, and every acknowledged event is delivered once the sink resumes.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

#include "collector_support.h"
#include "event/collector_payload.h"
#include "sources/raw_log_reader.h"

namespace furrow::test::collector {
namespace {

TEST(CollectorOverload, StalledSinkGives503WithinTheBoundAndDeliversAfterwards) {
  fs::path dir = temp_dir("collector-overload");
  fs::path stall = dir / "stall";
  std::ofstream(stall) << "stalled";
  Collector c("  sink: rawlog:" + (dir / "raw").string() +
                  "\n  durability: buffered\n  retry_after_seconds: 3\n" +
                  "  raw_log: {max_pending_bytes: 262144, stall_file: " + stall.string() + "}\n",
              {"--threads", "2"}, dir);
  ASSERT_NE(c.port(), 0);
  long rss_before = c.rss_kb();
  std::set<std::string> acked;
  std::mutex mu;
  std::atomic<int> n503{0}, retry_after_ok{0};
  std::vector<std::thread> clients;
  const std::string pad(1500, 'p');
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      Connection conn(c.port());
      for (int i = 0; i < 400; ++i) {
        std::string eid = "o" + std::to_string(t) + "-" + std::to_string(i);
        if (!conn.send(request("GET", "/i?e=pv&pad=" + pad + "&eid=" + eid))) break;
        auto r = conn.read(5000);
        if (!r) break;
        if (r->status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          acked.insert(eid);
        } else if (r->status == 503) {
          ++n503;
          retry_after_ok += r->header("Retry-After") == "3";
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_GT(n503.load(), 100);
  EXPECT_EQ(retry_after_ok.load(), n503.load());
  EXPECT_GT(acked.size(), 20u);
  EXPECT_LT(acked.size(), 1600u);
  EXPECT_EQ(c.get("GET", "/sink-health").status, 503);
  // 1600 requests of ~1.7 kB were offered; the queue holds at most 256 KiB.
  long growth_kb = c.peak_rss_kb() - rss_before;
  std::printf("overload: %zu acknowledged, %d refused with 503, RSS growth %ld kB\n", acked.size(),
              n503.load(), growth_kb);
  EXPECT_LT(growth_kb, 32 * 1024);
  fs::remove(stall);
  int health = 0;
  for (int i = 0; i < 100 && health != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    health = c.get("GET", "/sink-health").status;
  }
  EXPECT_EQ(health, 200);
  EXPECT_EQ(c.get("GET", "/i?e=pv&eid=after").status, 200);
  EXPECT_EQ(WEXITSTATUS(c.stop(SIGTERM)), 0);
  std::set<std::string> stored;
  auto r = sources::RawLogReader::open(dir / "raw");
  ASSERT_TRUE(r.ok());
  std::string_view rec;
  while ((*r)->next(rec)) {
    auto p = event::decode_thrift(rec);
    ASSERT_TRUE(p.ok());
    auto pos = p->querystring->find("eid=");
    stored.insert(p->querystring->substr(pos + 4));
  }
  for (const auto& eid : acked) EXPECT_TRUE(stored.count(eid)) << eid;
  EXPECT_TRUE(stored.count("after"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace furrow::test::collector
