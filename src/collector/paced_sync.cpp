#include "collector/paced_sync.h"

namespace furrow::collector {

PacedSyncBackend::PacedSyncBackend(std::unique_ptr<sinks::SinkBackend> inner,
                                   std::chrono::milliseconds interval)
    : inner_(std::move(inner)), interval_(interval), last_sync_(Clock::now()) {}

Status PacedSyncBackend::write(const std::vector<std::string_view>& records) {
  Status st = inner_->write(records);
  if (st.ok()) dirty_ = true;
  return st;
}

Status PacedSyncBackend::sync() {
  auto now = Clock::now();
  if (!dirty_ || now - last_sync_ < interval_) return {};
  Status st = inner_->sync();
  last_sync_ = now;
  if (st.ok()) dirty_ = false;
  ++real_syncs_;
  return st;
}

Status PacedSyncBackend::maintain(Clock::time_point now) {
  // A pending sync is due even when no new records arrive.
  if (dirty_ && now - last_sync_ >= interval_) {
    Status st = sync();
    if (!st.ok()) return st;
  }
  return inner_->maintain(now);
}

Status PacedSyncBackend::close() {
  return inner_->close();
}

}  // namespace furrow::collector
