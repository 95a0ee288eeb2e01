#include "sources/line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace furrow::sources {

Result<std::unique_ptr<LineReader>> LineReader::open(const std::string& path, Options options) {
  int fd = 0;
  bool owned = false;
  std::string name = path;
  if (path == "-") {
    name = "<stdin>";
  } else {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error{path + ": cannot open: " + std::strerror(errno)};
    owned = true;
  }
  struct stat st {};
  uint64_t size = 0;
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      if (owned) ::close(fd);
      return Error{path + ": is a directory"};
    }
    if (S_ISREG(st.st_mode)) size = static_cast<uint64_t>(st.st_size);
  }
  if (size != 0) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<LineReader>(new LineReader(fd, owned, std::move(name), size, options));
}

LineReader::LineReader(int fd, bool owned, std::string name, uint64_t size, Options options)
    : fd_(fd), owned_(owned), name_(std::move(name)), size_(size), opt_(options) {
  buf_.resize(opt_.read_block);
}

LineReader::~LineReader() {
  if (owned_) ::close(fd_);
}

void LineReader::finish_record(enrich::RecordBatch& batch) {
  if (!cut_ && record_len_ > 0 && batch.data.back() == '\r') {
    batch.data.pop_back();
  }
  ++line_;
  batch.ends.push_back(batch.data.size());
  batch.lines.push_back(line_);
  batch.oversized.push_back(cut_);
  in_record_ = false;
  record_len_ = 0;
  cut_ = false;
}

Status LineReader::fill(enrich::RecordBatch& batch, bool& eof) {
  eof = false;
  // A batch's text ends at the first record boundary past batch_bytes, so one allocation of
  // batch_bytes plus room for a long line (kept, as batches are reused) saves the doublings from
  // an empty string and their copies (~8 per batch of the ring). Longer records still grow it.
  // Bounded by the input's size when that is known, so a small file does not take a whole batch.
  std::size_t want = opt_.batch_bytes + kLineRoom;
  if (size_ != 0 && size_ - consumed_ < want) want = static_cast<std::size_t>(size_ - consumed_);
  if (batch.data.capacity() < want) batch.data.reserve(want);
  // A batch only ends between records: a record being assembled is finished first (its size is
  // bounded by max_record_bytes), so no record is ever split across two batches.
  while (in_record_ ||
         (batch.size() < opt_.batch_records && batch.data.size() < opt_.batch_bytes)) {
    if (pos_ == end_) {
      if (input_done_) break;
      ssize_t n;
      do {
        n = ::read(fd_, buf_.data(), buf_.size());
      } while (n < 0 && errno == EINTR);
      if (n < 0)
        return Error{name_ + ": read failed after line " + std::to_string(line_) + ": " +
                     std::strerror(errno)};
      if (n == 0) {
        input_done_ = true;
        if (in_record_) finish_record(batch);  // last line without '\n'
        break;
      }
      pos_ = 0;
      end_ = static_cast<std::size_t>(n);
    }
    const char* start = buf_.data() + pos_;
    const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
    const std::size_t seg = nl != nullptr ? static_cast<std::size_t>(nl - start) : end_ - pos_;
    in_record_ = true;
    if (!cut_) {
      std::size_t take = seg;
      if (record_len_ + take > opt_.max_record_bytes) {
        take = opt_.max_record_bytes - record_len_;
        cut_ = true;
      }
      batch.data.append(start, take);
      record_len_ += take;
    }
    pos_ += seg;
    consumed_ += seg;
    if (nl != nullptr) {
      ++pos_;
      ++consumed_;
      finish_record(batch);
    }
  }
  eof = input_done_ && pos_ == end_ && !in_record_;
  batch.input_offset = consumed_;
  return Status::Ok();
}

}  // namespace furrow::sources
