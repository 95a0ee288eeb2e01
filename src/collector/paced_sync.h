// Buffered durability for a sink backend: the queue's writer hands records to the OS at every
// flush (so a killed process loses nothing acknowledged that reached the writer), but the
// expensive fdatasync runs at most once per `interval`. In buffered mode an answer never waits
// for a sync, and on a busy disk a single fdatasync can take hundreds of milliseconds; paying it
// on every flush stalls the writer while the queue fills up and the collector answers 503.
// fsync durability must not use this (there every flush is a commit the answers wait for).
#pragma once

#include <chrono>
#include <memory>

#include "sinks/raw_sink.h"

namespace furrow::collector {

class PacedSyncBackend : public sinks::SinkBackend {
 public:
  using Clock = std::chrono::steady_clock;
  PacedSyncBackend(std::unique_ptr<sinks::SinkBackend> inner, std::chrono::milliseconds interval);

  Status write(const std::vector<std::string_view>& records) override;
  // Syncs when `interval` has passed since the last real sync, else returns at once.
  Status sync() override;
  Status maintain(Clock::time_point now) override;
  Status close() override;  // the inner close makes everything durable

  uint64_t real_syncs() const { return real_syncs_; }

 private:
  std::unique_ptr<sinks::SinkBackend> inner_;
  std::chrono::milliseconds interval_;
  Clock::time_point last_sync_;
  bool dirty_ = false;
  uint64_t real_syncs_ = 0;
};

}  // namespace furrow::collector
