#include "run/tailer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "sinks/raw_log_format.h"

namespace furrow::run {

namespace fs = std::filesystem;
namespace rawlog = furrow::sinks::rawlog;

namespace {
constexpr std::size_t kReadChunk = 1u << 20;

// Plain segments of `dir`, or compressed ones too when `any`, calling f(seq, path, compressed).
template <class F>
void for_each_segment(const fs::path& dir, F&& f) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    uint64_t seq = 0;
    bool compressed = false;
    if (rawlog::parse_segment_name(entry.path().filename().string(), seq, compressed)) {
      f(seq, entry.path(), compressed);
    }
  }
}
}  // namespace

RawLogTailer::RawLogTailer(fs::path dir, LogPosition from) : dir_(std::move(dir)), pos_(from) {
  buf_.reserve(kReadChunk);
}

RawLogTailer::~RawLogTailer() {
  close_segment();
}

void RawLogTailer::close_segment() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
  buf_pos_ = 0;
  buf_start_ = 0;
}

bool RawLogTailer::find_next_segment(uint64_t after, uint64_t& seq) const {
  bool found = false;
  for_each_segment(dir_, [&](uint64_t s, const fs::path&, bool compressed) {
    if (compressed || s <= after) return;
    if (!found || s < seq) seq = s;
    found = true;
  });
  return found;
}

bool RawLogTailer::open_segment(uint64_t seq) {
  const fs::path path = dir_ / rawlog::segment_name(seq, false);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return false;
  if (seq != pos_.segment) pos_ = LogPosition{seq, 0};
  buf_.clear();
  buf_pos_ = 0;
  buf_start_ = pos_.offset;
  magic_checked_ = pos_.offset != 0;
  return true;
}

bool RawLogTailer::fill() {
  if (buf_pos_ > 0) {
    buf_.erase(0, buf_pos_);
    buf_start_ += buf_pos_;
    buf_pos_ = 0;
  }
  // Read at least what the frame at the front needs, so a large record completes.
  std::size_t want = kReadChunk;
  if (magic_checked_ && buf_.size() >= rawlog::kFrameHeader) {
    const uint64_t need = rawlog::kFrameHeader + rawlog::get_u32(buf_.data());
    if (need > buf_.size() && need - buf_.size() > want && need <= rawlog::kMaxRecordBytes + 8) {
      want = static_cast<std::size_t>(need - buf_.size());
    }
  }
  const std::size_t old = buf_.size();
  buf_.resize(old + want);
  ssize_t n;
  do {
    n = ::pread(fd_, buf_.data() + old, want, static_cast<off_t>(buf_start_ + old));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    buf_.resize(old);
    if (n < 0) errors_.push_back("raw log: read failed: " + std::string(std::strerror(errno)));
    return false;
  }
  buf_.resize(old + static_cast<std::size_t>(n));
  return true;
}

RawLogTailer::Next RawLogTailer::next(std::string_view& record) {
  for (;;) {
    if (fd_ < 0) {
      uint64_t seq = pos_.segment;
      bool have = false;
      if (seq != 0 && fs::exists(dir_ / rawlog::segment_name(seq, false))) {
        have = true;
      } else {
        // The recorded segment is gone (or none yet): the oldest one after it.
        have = find_next_segment(seq == 0 ? 0 : seq, seq);
        if (have && seq != pos_.segment) pos_ = LogPosition{seq, 0};
      }
      if (!have) return Next::kWait;
      if (seq == skip_segment_) {
        if (!find_next_segment(seq, seq)) return Next::kWait;
        pos_ = LogPosition{seq, 0};
      }
      if (!open_segment(seq)) return Next::kWait;  // removed meanwhile: look again next time
    }
    if (!magic_checked_) {
      if (buf_.size() - buf_pos_ < rawlog::kMagic.size() && !fill()) {
        // Not even the magic yet: wait, unless a newer segment shows this one is abandoned.
        uint64_t succ = 0;
        if (!find_next_segment(pos_.segment, succ)) return Next::kWait;
        if (fill()) continue;
        errors_.push_back("raw log: segment " + std::to_string(pos_.segment) +
                          " has no header; skipped");
        close_segment();
        pos_ = LogPosition{succ, 0};
        return Next::kProblem;
      }
      if (buf_.size() - buf_pos_ < rawlog::kMagic.size()) continue;
      if (std::string_view(buf_).substr(buf_pos_, rawlog::kMagic.size()) != rawlog::kMagic) {
        errors_.push_back("raw log: segment " + std::to_string(pos_.segment) +
                          " is not a raw log segment; skipped");
        uint64_t succ = 0;
        close_segment();
        if (!find_next_segment(pos_.segment, succ)) {
          // Nothing after it: wait for the next segment (the file is kept for inspection).
          skip_segment_ = pos_.segment;
          pos_.offset = 0;
          return Next::kProblem;
        }
        pos_ = LogPosition{succ, 0};
        return Next::kProblem;
      }
      buf_pos_ += rawlog::kMagic.size();
      pos_.offset = rawlog::kMagic.size();
      magic_checked_ = true;
    }
    std::string_view avail = std::string_view(buf_).substr(buf_pos_);
    std::size_t p = 0;
    std::string_view payload;
    const rawlog::FrameStatus st = rawlog::next_frame(avail, p, payload);
    if (st == rawlog::FrameStatus::kRecord) {
      buf_pos_ += p;
      pos_.offset += p;
      consumed_ += p;
      record = payload;
      return Next::kRecord;
    }
    if (st != rawlog::FrameStatus::kCorrupt && fill()) continue;
    // End of what is written so far. The segment is finished only when a newer one exists, and
    // then only once a read after seeing the newer one finds nothing more.
    uint64_t succ = 0;
    if (!find_next_segment(pos_.segment, succ)) {
      if (st == rawlog::FrameStatus::kCorrupt) {
        // Wait for the writer to move on; the log has a damaged record we cannot pass yet.
        return Next::kWait;
      }
      return Next::kWait;
    }
    if (st != rawlog::FrameStatus::kCorrupt && fill()) continue;
    if (st == rawlog::FrameStatus::kCorrupt || buf_.size() > buf_pos_) {
      errors_.push_back("raw log: segment " + std::to_string(pos_.segment) + ": " +
                        (st == rawlog::FrameStatus::kCorrupt ? "corrupt" : "torn") +
                        " record at byte " + std::to_string(pos_.offset) +
                        "; rest of segment skipped");
      close_segment();
      pos_ = LogPosition{succ, 0};
      return Next::kProblem;
    }
    close_segment();
    pos_ = LogPosition{succ, 0};
  }
}

uint64_t RawLogTailer::backlog_bytes(const fs::path& dir, LogPosition from) {
  uint64_t total = 0;
  for_each_segment(dir, [&](uint64_t seq, const fs::path& path, bool compressed) {
    if (compressed || seq < from.segment) return;
    std::error_code ec;
    const uint64_t size = fs::file_size(path, ec);
    if (ec) return;
    if (seq == from.segment) {
      total += size > from.offset ? size - from.offset : 0;
    } else {
      total += size > rawlog::kMagic.size() ? size - rawlog::kMagic.size() : 0;
    }
  });
  return total;
}

void RawLogTailer::remove_segments_before(const fs::path& dir, uint64_t segment) {
  std::vector<fs::path> doomed;
  for_each_segment(dir, [&](uint64_t seq, const fs::path& path, bool) {
    if (seq < segment) doomed.push_back(path);
  });
  std::error_code ec;
  for (const auto& p : doomed) fs::remove(p, ec);
}

}  // namespace furrow::run
