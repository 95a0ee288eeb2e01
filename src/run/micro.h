// The tracking-test API, compatible with Snowplow Micro's REST API (/micro/all, /micro/good,
// /micro/bad, /micro/reset) plus furrow's /micro/wait. Events enter the store only after their
// SQLite commit, so what /micro/good shows is also queryable in the database.
//
// Memory is bounded: the store keeps at most `max_events` good events and as many bad rows, and
// at most `max_bytes` of each; the oldest are dropped first (the counters in /micro/all still
// count every event since the last reset). Stored as the enriched TSV line / bad-row JSON; the
// Micro JSON shape is built only when queried.
//
// Thread-safe. Wait callbacks run on the thread that satisfies or expires them (the loader or the
// timer), outside the store's lock, and must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace furrow::run {

struct MicroLimits {
  std::size_t max_events = 50'000;
  std::size_t max_bytes = 16u << 20;
  std::size_t max_waiters = 1024;
};

// POST /micro/good body (all optional): {"schema": "iglu:...", "event_type": "page_view",
// "contexts": ["iglu:..."], "limit": 10}. A context filter matches when every listed schema is
// among the event's contexts ("iglu:" prefix optional).
struct GoodFilter {
  std::optional<std::string> schema;
  std::optional<std::string> event_type;
  std::vector<std::string> contexts;
  std::optional<std::size_t> limit;
};
// POST /micro/bad body: {"vendor": "...", "version": "...", "limit": 10}.
struct BadFilter {
  std::optional<std::string> vendor;
  std::optional<std::string> version;
  std::optional<std::size_t> limit;
};
// Empty body: no filter. A body that is not a JSON object or has mistyped keys: an error
// naming the key.
Result<GoodFilter> parse_good_filter(std::string_view body);
Result<BadFilter> parse_bad_filter(std::string_view body);

// The Micro JSON of one good event: {"rawEvent":null,"event":{...131 columns...},"eventType":..,
// "schema":..,"contexts":[..]} (the raw parameters are not kept, so rawEvent is null). Column
// values typed as the analytics SDKs do: numbers, booleans, ISO timestamps, JSON columns as
// objects. False when `tsv` is not an enriched event.
bool good_event_json(std::string_view tsv, std::string& out);

class MicroStore {
 public:
  explicit MicroStore(MicroLimits limits = {}) : limits_(limits) {}

  // Adds events that were just committed; satisfies waiters.
  void add(const std::vector<std::string_view>& good, const std::vector<std::string_view>& bad);
  // The same, taking the lines over (no copy); the vectors are left empty with their capacity.
  void add_moved(std::vector<std::string>&& good, std::vector<std::string>&& bad);
  void reset();

  struct Counts {
    uint64_t good = 0;  // since the last reset
    uint64_t bad = 0;
  };
  Counts counts() const;

  // JSON arrays, newest first.
  std::string good_json(const GoodFilter& filter) const;
  std::string bad_json(const BadFilter& filter) const;
  // {"total":N,"good":G,"bad":B}
  std::string all_json() const;

  // Calls `done(true, good_count)` as soon as `count` good events have arrived since the last
  // reset (at once if they have), or `done(false, good_count)` at `deadline` (see expire()).
  // Refuses (false, calling nothing) when max_waiters are already waiting.
  using WaitDone = std::function<void(bool satisfied, uint64_t good)>;
  bool wait(uint64_t count, std::chrono::steady_clock::time_point deadline, WaitDone done);
  // Times out the waiters whose deadline is at or before `now`.
  void expire(std::chrono::steady_clock::time_point now);
  // Answers every waiter (unsatisfied) and refuses new ones: for shutdown.
  void close();

 private:
  struct Waiter {
    uint64_t count;
    std::chrono::steady_clock::time_point deadline;
    WaitDone done;
  };
  void trim(std::deque<std::string>& q, std::size_t& bytes);

  MicroLimits limits_;
  mutable std::mutex mu_;
  std::deque<std::string> good_;  // oldest first
  std::deque<std::string> bad_;
  std::size_t good_bytes_ = 0;
  std::size_t bad_bytes_ = 0;
  uint64_t good_count_ = 0;
  uint64_t bad_count_ = 0;
  std::vector<Waiter> waiters_;
  bool closed_ = false;
};

}  // namespace furrow::run
