// The Emitter stores tracked events in an outbox and sends them to a collector from one
// background thread.
//
// Delivery contract: an event is written to the outbox (a SQLite database when outbox_path is
// set) before add() returns, and removed only after the collector answered 2xx to the request
// that carried it. Failed requests (network error or any other status) are retried forever with
// exponential back-off (base, doubling, capped, with jitter); a Retry-After header (seconds) on
// the answer lengthens the wait up to the cap. So events survive the collector
// being down and the process restarting (at least once; exactly once unless the process dies
// between the collector's answer and the outbox delete). One outbox file belongs to one Emitter
// at a time (a second one fails to open it).
//
// Thread safety: every public member may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace furrow::tracker {

enum class Method { kPost, kGet };

struct EmitterConfig {
  // Collector base URL without a path, e.g. "http://127.0.0.1:8080" or "https://c.example.com".
  std::string collector_url;
  // kPost: batches as payload_data 1-0-4 to post_path. kGet: one event per request to get_path.
  Method method = Method::kPost;
  std::string post_path = "/com.snowplowanalytics.snowplow/tp2";
  std::string get_path = "/i";
  // SQLite file for the outbox; empty = in memory (events are lost when the process ends).
  std::string outbox_path;
  std::size_t batch_size = 10;             // events per POST, at most
  std::size_t max_batch_bytes = 40000;     // POST body bytes, at most (a larger event goes alone)
  std::size_t max_outbox_events = 100000;  // add() refuses events beyond this
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds retry_base{500};   // first back-off
  std::chrono::milliseconds retry_cap{60000};  // back-off never exceeds this
};

struct EmitterStats {
  std::uint64_t sent = 0;             // events acknowledged with 2xx and removed from the outbox
  std::uint64_t requests = 0;         // HTTP requests made
  std::uint64_t failed_requests = 0;  // requests without a 2xx answer
  std::uint64_t refused = 0;          // add() calls refused (outbox full or storage error)
  int last_status = 0;                // last HTTP status (0: no answer)
  std::string last_error;             // last transport or storage error
};

class Emitter {
 public:
  // Opens (or creates) the outbox and starts the sending thread, which immediately sends any
  // events left by a previous process. Returns nullptr and sets *error on a bad URL or an outbox
  // that cannot be opened.
  static std::unique_ptr<Emitter> create(EmitterConfig config, std::string* error);

  // Stops the thread after the request in flight (bounded by request_timeout). Unsent events stay
  // in the outbox for the next Emitter on the same file.
  ~Emitter();
  Emitter(const Emitter&) = delete;
  Emitter& operator=(const Emitter&) = delete;

  // Stores one event: a JSON object of tracker-protocol parameters, all values strings (stm is
  // added at send time). False (and stats().refused + 1) when the outbox is full or unwritable.
  bool add(const std::string& event_json);

  // Waits until the outbox is empty or `timeout` passes; true when empty. Cuts a back-off wait
  // short once, so a flush retries immediately.
  bool flush(std::chrono::milliseconds timeout);

  std::size_t pending() const;
  EmitterStats stats() const;

  class Impl;

 private:
  explicit Emitter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace furrow::tracker
