#include "sinks/raw_log.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "sinks/raw_log_format.h"

namespace furrow::sinks {
namespace {

namespace fs = std::filesystem;

Error sys_error(std::string_view what, const fs::path& path) {
  return Error{std::string(what) + " " + path.string() + ": " + std::strerror(errno)};
}

Status fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return sys_error("cannot fsync directory", dir);
  return {};
}

Status write_all(int fd, const char* data, std::size_t size, const fs::path& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("cannot write", path);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::string> read_whole(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open", path);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return sys_error("cannot read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace

// Streams the segment through zstd in 1 MiB pieces, so compressing a sealed segment holds about
// 2 MiB of buffers plus zstd's context rather than the whole segment and its compressed copy
// (that doubled the collector's peak RSS while a full segment was being sealed). The frame
// carries the content size (pledged), as a one-shot ZSTD_compress frame does.
//
// It yields the CPU after every 128 KiB piece (a fraction of a millisecond of work). The
// compressor runs as SCHED_IDLE, but that only makes a waking request thread preempt it: when
// the scheduler's tick hands the CPU to the compressor while the I/O thread is still runnable,
// nothing preempts it until the next tick (4 ms at HZ=250). Those waits were the collector's
// whole p99 tail above nginx's (bench/results/collector.md); yielding bounds them to one piece.
Status compress_segment(const fs::path& segment, int level) {
  constexpr std::size_t kChunk = 128u << 10;
  int in_fd = ::open(segment.c_str(), O_RDONLY | O_CLOEXEC);
  if (in_fd < 0) return sys_error("cannot open", segment);
  struct stat st_in {};
  if (::fstat(in_fd, &st_in) != 0) {
    Status st = sys_error("cannot stat", segment);
    ::close(in_fd);
    return st;
  }
  fs::path final_path = segment;
  final_path += ".zst";
  fs::path tmp = final_path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    Status st = sys_error("cannot create", tmp);
    ::close(in_fd);
    return st;
  }
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  Status st;
  if (!cctx) st = Error{"cannot compress " + segment.string() + ": out of memory"};
  if (st.ok()) {
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setPledgedSrcSize(cctx.get(), static_cast<unsigned long long>(st_in.st_size));
  }
  std::string in(kChunk, '\0');
  std::string out(ZSTD_CStreamOutSize(), '\0');
  bool done = !st.ok();
  while (!done) {
    ssize_t n = ::read(in_fd, in.data(), in.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      st = sys_error("cannot read", segment);
      break;
    }
    const bool last = n == 0;
    ZSTD_inBuffer input{in.data(), static_cast<std::size_t>(n), 0};
    for (;;) {
      ZSTD_outBuffer output{out.data(), out.size(), 0};
      std::size_t rc =
          ZSTD_compressStream2(cctx.get(), &output, &input, last ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(rc)) {
        st = Error{"cannot compress " + segment.string() + ": " + ZSTD_getErrorName(rc)};
        break;
      }
      st = write_all(fd, out.data(), output.pos, tmp);
      if (!st.ok()) break;
      if (last ? rc == 0 : input.pos == input.size) break;
    }
    if (!st.ok() || last) done = true;
    ::sched_yield();
  }
  ::close(in_fd);
  if (st.ok() && ::fsync(fd) != 0) st = sys_error("cannot fsync", tmp);
  ::close(fd);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) return sys_error("cannot rename", tmp);
  // The compressed copy must be durable before the original goes.
  st = fsync_dir(segment.parent_path());
  if (!st.ok()) return st;
  if (::unlink(segment.c_str()) != 0) return sys_error("cannot remove", segment);
  return fsync_dir(segment.parent_path());
}

struct RawLogBackend::Impl {
  int fd = -1;
  fs::path path;
  uint64_t seq = 0;
  std::size_t size = 0;  // bytes in the current segment, magic included
  std::chrono::steady_clock::time_point opened_at;
  bool failed = false;  // the last write failed: the current segment must be abandoned
  static constexpr std::size_t kWriteChunk = 1u << 20;
  std::string write_buf;  // frames of the batch being written (reused)

  // Background compression of sealed segments.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<fs::path> to_compress;
  bool stop = false;
  std::thread compressor;

  // Deferred syncs (RawLogOptions::defer_syncs), run in order by the `syncer` thread. Each job
  // owns its descriptor (a dup for kData; the sealed segment's own one for kSeal) and closes it.
  enum class SyncKind { kData, kSeal, kDir };
  struct SyncJob {
    SyncKind kind = SyncKind::kData;
    int fd = -1;
    uint64_t seq = 0;  // the segment concerned
    fs::path path;
  };
  std::mutex sync_mu;
  std::condition_variable sync_cv;
  std::deque<SyncJob> sync_jobs;
  // Segment of a kData job still waiting in sync_jobs (0: none). A second request for the same
  // segment adds nothing: the waiting fdatasync, when it runs, covers every write before it.
  uint64_t queued_data_seq = 0;
  bool sync_stop = false;
  std::optional<std::pair<uint64_t, Error>> sync_error;  // first unreported failure, its segment
  std::thread syncer;

  void queue_sync(SyncJob job) {
    {
      std::lock_guard<std::mutex> lock(sync_mu);
      if (job.kind == SyncKind::kData) queued_data_seq = job.seq;
      sync_jobs.push_back(std::move(job));
    }
    sync_cv.notify_one();
  }
};

RawLogBackend::RawLogBackend(RawLogOptions options)
    : impl_(std::make_unique<Impl>()), options_(std::move(options)) {}

RawLogBackend::~RawLogBackend() {
  close();
}

Result<std::unique_ptr<RawLogBackend>> RawLogBackend::open(const RawLogOptions& options) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec)
    return Error{"cannot create raw log directory " + options.dir.string() + ": " + ec.message()};
  std::unique_ptr<RawLogBackend> b(new RawLogBackend(options));
  if (options.defer_syncs) {
    RawLogBackend* self = b.get();
    b->impl_->syncer = std::thread([self] { self->sync_worker(); });
  }
  Status st = b->recover();
  if (!st.ok()) return st.error();
  st = b->open_segment();
  if (!st.ok()) return st.error();
  if (options.compress) {
    Impl* impl = b->impl_.get();
    RawLogBackend* self = b.get();
    impl->compressor = std::thread([self] { self->compress_worker(); });
  }
  return b;
}

Status RawLogBackend::recover() {
  std::vector<std::pair<uint64_t, bool>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    std::string name = entry.path().filename().string();
    uint64_t seq;
    bool compressed;
    if (rawlog::parse_segment_name(name, seq, compressed)) {
      found.emplace_back(seq, compressed);
    } else if (name.size() > 4 && name.ends_with(".tmp")) {
      // An interrupted compression: the original segment is still there.
      fs::remove(entry.path(), ec);
    }
  }
  if (ec)
    return Error{"cannot list raw log directory " + options_.dir.string() + ": " + ec.message()};
  std::sort(found.begin(), found.end());
  recovery_.segments_found = found.size();
  uint64_t max_seq = 0;
  std::vector<uint64_t> plain;
  for (std::size_t i = 0; i < found.size(); ++i) {
    max_seq = std::max(max_seq, found[i].first);
    if (found[i].second) continue;
    bool has_compressed =
        i + 1 < found.size() && found[i + 1].first == found[i].first && found[i + 1].second;
    fs::path p = options_.dir / rawlog::segment_name(found[i].first, false);
    if (has_compressed) {
      // Compression finished (the .zst was renamed into place only once complete).
      fs::remove(p, ec);
      continue;
    }
    plain.push_back(found[i].first);
  }
  // Repair every uncompressed segment: keep the valid prefix, cut a torn or corrupt tail.
  for (uint64_t seq : plain) {
    fs::path p = options_.dir / rawlog::segment_name(seq, false);
    auto data = read_whole(p);
    if (!data.ok()) return data.error();
    std::size_t keep = 0;
    uint64_t records = 0;
    if (data->size() >= rawlog::kMagic.size() &&
        std::string_view(*data).substr(0, rawlog::kMagic.size()) == rawlog::kMagic) {
      std::string_view body = std::string_view(*data).substr(rawlog::kMagic.size());
      std::size_t pos = 0;
      std::string_view payload;
      while (rawlog::next_frame(body, pos, payload) == rawlog::FrameStatus::kRecord) ++records;
      keep = rawlog::kMagic.size() + pos;
    }
    if (keep < data->size()) {
      recovery_.torn_bytes_truncated += data->size() - keep;
      recovery_.records_recovered += records;
      if (keep == 0) {
        fs::remove(p, ec);
        continue;
      }
      if (::truncate(p.c_str(), static_cast<off_t>(keep)) != 0)
        return sys_error("cannot truncate", p);
      int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
      }
    }
    if (options_.compress) impl_->to_compress.push_back(p);
  }
  impl_->seq = found.empty() ? 1 : max_seq + 1;
  return fsync_dir(options_.dir);
}

Status RawLogBackend::open_segment() {
  Impl& m = *impl_;
  m.path = options_.dir / rawlog::segment_name(m.seq, false);
  m.fd = ::open(m.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (m.fd < 0) return sys_error("cannot create segment", m.path);
  // Reserve the segment's blocks up front (the visible size stays as written): each group-commit
  // fdatasync then has no block allocation to journal, which halved its time on ext4 here.
  // Best effort: file systems without fallocate just allocate as they go.
  (void)::fallocate(
      m.fd, FALLOC_FL_KEEP_SIZE, 0,
      static_cast<off_t>(std::min<std::size_t>(options_.segment_max_bytes, 256u << 20)));
  Status st = write_all(m.fd, rawlog::kMagic.data(), rawlog::kMagic.size(), m.path);
  if (options_.defer_syncs) {
    // The segment's first data sync covers the magic; its directory entry is synced before that
    // (jobs run in order).
    if (st.ok()) m.queue_sync({Impl::SyncKind::kDir, -1, m.seq, options_.dir});
  } else {
    if (st.ok() && ::fdatasync(m.fd) != 0) st = sys_error("cannot fsync", m.path);
    if (st.ok()) st = fsync_dir(options_.dir);
  }
  if (!st.ok()) {
    ::close(m.fd);
    m.fd = -1;
    ::unlink(m.path.c_str());
    return st;
  }
  m.size = rawlog::kMagic.size();
  m.opened_at = std::chrono::steady_clock::now();
  m.failed = false;
  return {};
}

Status RawLogBackend::seal_segment() {
  Impl& m = *impl_;
  if (m.fd < 0) return {};
  Status st;
  // Give back the blocks reserved past the end (open_segment's fallocate).
  if (::ftruncate(m.fd, static_cast<off_t>(m.size)) != 0) st = sys_error("cannot truncate", m.path);
  if (st.ok() && options_.defer_syncs) {
    // The helper fsyncs and closes the descriptor, then queues the compression: a sealed segment
    // is only compressed (and its plain file removed) once it is durable.
    m.queue_sync({Impl::SyncKind::kSeal, m.fd, m.seq, m.path});
    m.fd = -1;
    ++m.seq;
    return {};
  }
  if (::fsync(m.fd) != 0) st = sys_error("cannot fsync", m.path);
  ::close(m.fd);
  m.fd = -1;
  fs::path sealed = m.path;
  ++m.seq;
  if (options_.compress && st.ok()) {
    std::lock_guard<std::mutex> lock(m.mu);
    m.to_compress.push_back(sealed);
    m.cv.notify_one();
  }
  return st;
}

Status RawLogBackend::write(const std::vector<std::string_view>& records) {
  Impl& m = *impl_;
  if (m.fd < 0 || m.failed) return Error{"raw log segment unavailable (recovering)"};
  for (auto r : records) {
    if (r.size() > rawlog::kMaxRecordBytes) return Error{"record too large for the raw log"};
  }
  // Frames go out in pieces of about kWriteChunk through one reused buffer: a large batch does
  // not need a buffer of its own size (memory, and page faults on every fresh allocation).
  // Pieces end on record boundaries, so a reader never sees a frame cut by us.
  std::string& buf = m.write_buf;
  buf.clear();
  std::size_t written = 0;
  Status st;
  for (auto r : records) {
    rawlog::append_frame(buf, r);
    if (buf.size() >= Impl::kWriteChunk) {
      st = write_all(m.fd, buf.data(), buf.size(), m.path);
      if (!st.ok()) break;
      written += buf.size();
      buf.clear();
    }
  }
  if (st.ok() && !buf.empty()) {
    st = write_all(m.fd, buf.data(), buf.size(), m.path);
    if (st.ok()) written += buf.size();
  }
  // A single huge record grew the buffer: give that memory back.
  if (buf.capacity() > 2 * Impl::kWriteChunk) std::string().swap(buf);
  if (!st.ok()) {
    // Cut what reached the file so that no partial batch stays, then abandon the segment.
    if (::ftruncate(m.fd, static_cast<off_t>(m.size)) != 0) {
      // The reader stops at a torn tail and recovery truncates it; nothing else to do.
    }
    m.failed = true;
    return st;
  }
  m.size += written;
  return {};
}

Status RawLogBackend::sync() {
  Impl& m = *impl_;
  if (m.fd < 0) return Error{"raw log segment unavailable"};
  if (options_.defer_syncs) {
    bool queued;
    {
      std::lock_guard<std::mutex> lock(m.sync_mu);
      queued = m.queued_data_seq == m.seq;
    }
    if (!queued) {
      const int fd = ::fcntl(m.fd, F_DUPFD_CLOEXEC, 0);
      if (fd < 0) return sys_error("cannot duplicate the descriptor of", m.path);
      m.queue_sync({Impl::SyncKind::kData, fd, m.seq, m.path});
    }
  } else if (::fdatasync(m.fd) != 0) {
    // After a failed fsync the kernel may have dropped the dirty pages: never trust this
    // segment again.
    m.failed = true;
    return sys_error("cannot fsync", m.path);
  }
  if (m.size >= options_.segment_max_bytes) return maintain(std::chrono::steady_clock::now());
  return {};
}

Status RawLogBackend::take_deferred_error() {
  Impl& m = *impl_;
  std::optional<std::pair<uint64_t, Error>> failed;
  {
    std::lock_guard<std::mutex> lock(m.sync_mu);
    failed.swap(m.sync_error);
  }
  if (!failed) return {};
  // After a failed sync the kernel may have dropped the dirty pages: never trust the segment
  // again (an already sealed one is left plain, uncompressed, for the next start-up).
  if (failed->first == m.seq) m.failed = true;
  return std::move(failed->second);
}

Status RawLogBackend::maintain(std::chrono::steady_clock::time_point now) {
  Status deferred = options_.defer_syncs ? take_deferred_error() : Status{};
  Status st = rotate(now);
  return deferred.ok() ? st : deferred;
}

Status RawLogBackend::rotate(std::chrono::steady_clock::time_point now) {
  Impl& m = *impl_;
  if (m.failed || m.fd < 0) {
    if (m.fd >= 0) {
      ::close(m.fd);
      m.fd = -1;
      ++m.seq;
    }
    return open_segment();
  }
  bool full = m.size >= options_.segment_max_bytes;
  bool old = m.size > rawlog::kMagic.size() && now - m.opened_at >= options_.segment_max_age;
  if (!full && !old) return {};
  Status st = seal_segment();
  if (!st.ok()) return st;
  return open_segment();
}

void RawLogBackend::compress_worker() {
  Impl& m = *impl_;
  set_background_thread("furrow-zstd", BackgroundPolicy::kIdle);
  bool closing = false;
  for (;;) {
    fs::path next;
    {
      std::unique_lock<std::mutex> lock(m.mu);
      m.cv.wait(lock, [&] { return m.stop || !m.to_compress.empty(); });
      if (m.to_compress.empty()) return;
      next = m.to_compress.front();
      m.to_compress.pop_front();
      if (m.stop && !closing) {
        // close() waits for the backlog: on a machine busy with other work, SCHED_IDLE could
        // stretch a shutdown by many seconds. The requests are gone by now, so take a full share.
        closing = true;
        lock.unlock();
        set_background_thread("furrow-zstd", BackgroundPolicy::kBatch);
      }
    }
    // A failure leaves the plain segment in place; it stays readable and is retried at the next
    // start-up.
    (void)compress_segment(next, options_.zstd_level);
  }
}

void RawLogBackend::sync_worker() {
  Impl& m = *impl_;
  set_background_thread("furrow-sync", BackgroundPolicy::kBatch);
  for (;;) {
    Impl::SyncJob job;
    {
      std::unique_lock<std::mutex> lock(m.sync_mu);
      m.sync_cv.wait(lock, [&] { return m.sync_stop || !m.sync_jobs.empty(); });
      if (m.sync_jobs.empty()) return;
      job = std::move(m.sync_jobs.front());
      m.sync_jobs.pop_front();
      if (job.kind == Impl::SyncKind::kData && m.queued_data_seq == job.seq) m.queued_data_seq = 0;
    }
    Status st;
    const int fault = options_.deferred_sync_fault ? options_.deferred_sync_fault() : 0;
    if (fault != 0) {
      errno = fault;
      st = sys_error("cannot fsync", job.path);
    } else if (job.kind == Impl::SyncKind::kDir) {
      st = fsync_dir(job.path);
    } else if ((job.kind == Impl::SyncKind::kData ? ::fdatasync(job.fd) : ::fsync(job.fd)) != 0) {
      st = sys_error("cannot fsync", job.path);
    }
    if (job.fd >= 0) ::close(job.fd);
    if (st.ok() && job.kind == Impl::SyncKind::kSeal && options_.compress) {
      std::lock_guard<std::mutex> lock(m.mu);
      m.to_compress.push_back(job.path);
      m.cv.notify_one();
    }
    if (!st.ok()) {
      std::lock_guard<std::mutex> lock(m.sync_mu);
      if (!m.sync_error) m.sync_error.emplace(job.seq, st.error());
    }
  }
}

Status RawLogBackend::close() {
  Impl& m = *impl_;
  Status st;
  if (m.fd >= 0) {
    if (::fsync(m.fd) != 0) st = sys_error("cannot fsync", m.path);
    ::close(m.fd);
    m.fd = -1;
  }
  // Every deferred sync finishes (and queues its compression) before the compressor stops.
  if (m.syncer.joinable()) {
    {
      std::lock_guard<std::mutex> lock(m.sync_mu);
      m.sync_stop = true;
    }
    m.sync_cv.notify_all();
    m.syncer.join();
  }
  if (Status deferred = take_deferred_error(); st.ok() && !deferred.ok()) st = deferred;
  if (m.compressor.joinable()) {
    {
      std::lock_guard<std::mutex> lock(m.mu);
      m.stop = true;
    }
    m.cv.notify_all();
    m.compressor.join();
  }
  return st;
}

Result<std::unique_ptr<RawSink>> make_raw_log_sink(const RawLogOptions& log,
                                                   const QueuedSinkOptions& queue) {
  auto backend = RawLogBackend::open(log);
  if (!backend.ok()) return backend.error();
  std::unique_ptr<RawSink> sink =
      std::make_unique<QueuedSink>(std::move(backend.value()), "rawlog", queue);
  return sink;
}

}  // namespace furrow::sinks
