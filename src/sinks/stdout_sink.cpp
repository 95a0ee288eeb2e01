#include "sinks/stdout_sink.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/base64.h"

namespace furrow::sinks {
namespace {

class FdBackend : public SinkBackend {
 public:
  explicit FdBackend(int fd) : fd_(fd) {}

  Status write(const std::vector<std::string_view>& records) override {
    buf_.clear();
    for (auto r : records) {
      buf_ += common::base64_encode(r);
      buf_ += '\n';
    }
    const char* p = buf_.data();
    std::size_t left = buf_.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error{std::string("cannot write to stdout: ") + std::strerror(errno)};
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    return {};
  }

  Status sync() override {
    if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) {
      return Error{std::string("cannot fsync stdout: ") + std::strerror(errno)};
    }
    return {};
  }

  Status maintain(std::chrono::steady_clock::time_point) override { return {}; }
  Status close() override { return sync(); }

 private:
  int fd_;
  std::string buf_;
};

}  // namespace

std::unique_ptr<SinkBackend> make_stdout_backend(int fd) {
  return std::make_unique<FdBackend>(fd);
}

std::unique_ptr<RawSink> make_stdout_sink(QueuedSinkOptions options, int fd) {
  options.max_record_bytes = 1'000'000'000;
  return std::make_unique<QueuedSink>(make_stdout_backend(fd), "stdout", std::move(options));
}

}  // namespace furrow::sinks
