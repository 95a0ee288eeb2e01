// The tracker: turns events into Snowplow Tracker Protocol parameters and hands them to an
// Emitter. Thread-safe: track() may be called from many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "furrow/tracker/emitter.h"
#include "furrow/tracker/events.h"
#include "furrow/tracker/self_describing_json.h"
#include "furrow/tracker/subject.h"

namespace furrow::tracker {

inline constexpr const char* kTrackerVersion = "furrow-cpp-0.1.0";

struct TrackerConfig {
  std::string tracker_namespace;  // tna
  std::string app_id;             // aid
  std::string platform = "srv";   // p: web mob pc srv app tv cnsl iot headset
  bool encode_base64 = true;      // ue_px/cx (base64url) rather than ue_pr/co (plain JSON)
};

// What track() did: the event id it assigned, or why the event was not stored.
struct TrackResult {
  bool ok = false;
  std::string event_id;
  std::string error;
  explicit operator bool() const { return ok; }
};

class Tracker {
 public:
  // `emitter` may be shared by several trackers; without one every track() is refused.
  Tracker(std::shared_ptr<Emitter> emitter, TrackerConfig config, Subject subject = {});

  void set_subject(Subject subject);
  Subject subject() const;

  // Each builds the event (eid: UUID v4, dtm: now, ttm: common.true_timestamp_ms) and stores it
  // in the emitter's outbox. Invalid input (missing required field, invalid self-describing
  // JSON, non-finite value) is refused with a message; nothing is stored then.
  TrackResult track(const PageView& event);
  TrackResult track(const ScreenView& event);
  TrackResult track(const Structured& event);
  TrackResult track(const SelfDescribing& event);
  TrackResult track(const Timing& event);

  bool flush(std::chrono::milliseconds timeout) { return emitter_ && emitter_->flush(timeout); }
  const std::shared_ptr<Emitter>& emitter() const { return emitter_; }

 private:
  class Builder;
  TrackResult finish(Builder& b, const EventCommon& common);
  std::string new_uuid();

  std::shared_ptr<Emitter> emitter_;
  TrackerConfig config_;
  mutable std::mutex mutex_;  // subject_ and rng_
  Subject subject_;
  std::mt19937_64 rng_;
};

}  // namespace furrow::tracker
