#include "sources/line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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
  if (opt_.read_block == 0) opt_.read_block = 1;
}

LineReader::~LineReader() {
  if (owned_) ::close(fd_);
}

void LineReader::add(enrich::RecordBatch& batch, std::size_t begin, std::size_t end, bool cut) {
  batch.begins.push_back(begin);
  batch.ends.push_back(end);
  batch.lines.push_back(++line_);
  batch.oversized.push_back(cut);
}

void LineReader::finish_line(enrich::RecordBatch& batch, std::size_t begin, std::size_t end) {
  if (end - begin > opt_.max_record_bytes) {
    add(batch, begin, begin + opt_.max_record_bytes, true);
    return;
  }
  if (end > begin && batch.data.data()[end - 1] == '\r') --end;
  add(batch, begin, end, false);
}

// The batch ends at the first record boundary past batch_records or batch_bytes, and the bytes
// read beyond it are copied to the next batch: so ask for about what the batch still needs (by
// the average line so far), at least kMinRead (fewer calls) and at most read_block.
std::size_t LineReader::read_size(const enrich::RecordBatch& batch, std::size_t begin) const {
  const std::size_t avg = line_ != 0 ? static_cast<std::size_t>(consumed_ / line_) + 1 : 4096;
  const std::size_t records_left =
      batch.size() < opt_.batch_records ? opt_.batch_records - batch.size() : 1;
  const std::size_t bytes_left = begin < opt_.batch_bytes ? opt_.batch_bytes - begin : 0;
  const std::size_t want_end = begin + std::min(records_left * avg, bytes_left + avg);
  std::size_t n = want_end > batch.data.size() ? want_end - batch.data.size() : 0;
  n = std::max(n, kMinRead);
  return std::min(n, opt_.read_block);
}

bool LineReader::read_more(enrich::RecordText& text, std::size_t n, std::size_t& got) {
  // Reads into the room already there when there is a fair amount of it (no growth for the last,
  // empty read of a file whose size the reservation was fitted to).
  const std::size_t room = text.capacity() - text.size();
  if (room >= std::min(n, kMinRead)) n = std::min(n, room);
  char* dst = text.spare(n);
  ssize_t r;
  do {
    r = ::read(fd_, dst, n);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return false;
  got = static_cast<std::size_t>(r);
  text.commit(got);
  return true;
}

Status LineReader::fill(enrich::RecordBatch& batch, bool& eof) {
  eof = false;
  enrich::RecordText& text = batch.data;
  // A batch's text ends at the first record boundary past batch_bytes, so one allocation of
  // batch_bytes plus room for a long line (kept, as batches are reused) saves growing it from
  // empty. Longer records still grow it. Bounded by the input's size when that is known, so a
  // small file does not take a whole batch.
  std::size_t want = opt_.batch_bytes + kLineRoom;
  if (size_ != 0) {
    const uint64_t left = size_ > consumed_ ? size_ - consumed_ : 0;
    if (left + kMinRead < want) want = static_cast<std::size_t>(left) + kMinRead;
  }
  text.reserve(text.size() + want);
  const auto read_failed = [&] {
    return Error{name_ + ": read failed after line " + std::to_string(line_) + ": " +
                 std::strerror(errno)};
  };
  // text[begin, size) is the start of the next line; no '\n' in text[begin, scan).
  std::size_t begin = text.size();
  text.append(carry_);
  carry_.clear();
  std::size_t scan = begin;
  // A batch only ends between records, so no record is ever split across two batches.
  while (batch.size() < opt_.batch_records && begin < opt_.batch_bytes) {
    const char* base = text.data();
    const auto* nl =
        scan < text.size()
            ? static_cast<const char*>(std::memchr(base + scan, '\n', text.size() - scan))
            : nullptr;
    if (nl != nullptr) {
      const auto at = static_cast<std::size_t>(nl - base);
      finish_line(batch, begin, at);
      consumed_ += at + 1 - begin;
      begin = scan = at + 1;
      continue;
    }
    scan = text.size();
    if (scan - begin > opt_.max_record_bytes) {
      // The line is longer than a record may be: keep its first max_record_bytes and read the
      // rest of it into the room past them, dropping it, up to its '\n' or the end of the input.
      const std::size_t keep = begin + opt_.max_record_bytes;
      uint64_t dropped = scan - keep;
      text.truncate(keep);
      for (;;) {
        std::size_t got = 0;
        if (!read_more(text, opt_.read_block, got)) return read_failed();
        if (got == 0) {
          input_done_ = true;
          break;
        }
        char* chunk = text.data() + keep;
        const auto* end = static_cast<const char*>(std::memchr(chunk, '\n', got));
        if (end == nullptr) {
          dropped += got;
          text.truncate(keep);
          continue;
        }
        // The next line starts right after the kept part.
        const auto rest = static_cast<std::size_t>(chunk + got - (end + 1));
        std::memmove(chunk, end + 1, rest);
        text.truncate(keep + rest);
        dropped += static_cast<std::size_t>(end + 1 - chunk);
        break;
      }
      add(batch, begin, keep, true);
      consumed_ += opt_.max_record_bytes + dropped;
      begin = scan = keep;
      continue;
    }
    if (input_done_) {
      if (begin < text.size()) {  // the last line, without '\n'
        finish_line(batch, begin, text.size());
        consumed_ += text.size() - begin;
        begin = scan = text.size();
      }
      break;
    }
    std::size_t got = 0;
    if (!read_more(text, read_size(batch, begin), got)) return read_failed();
    if (got == 0) input_done_ = true;
  }
  carry_.assign(text.data() + begin, text.size() - begin);
  text.truncate(begin);
  eof = input_done_ && carry_.empty();
  batch.input_offset = consumed_;
  return Status::Ok();
}

}  // namespace furrow::sources
