#include "collector/bad_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

namespace furrow::collector {

Result<std::unique_ptr<BadOutput>> BadOutput::open(const std::string& spec, bool sync) {
  std::unique_ptr<BadOutput> out(new BadOutput());
  out->sync_ = sync;
  if (spec.empty() || spec == "stderr") {
    out->description_ = "stderr";
    return out;
  }
  std::filesystem::path p = spec;
  std::error_code ec;
  if (spec.back() == '/' || std::filesystem::is_directory(p, ec)) {
    std::filesystem::create_directories(p, ec);
    if (ec) return Error{"bad output " + spec + ": " + ec.message()};
    p /= "collector-bad-" + std::to_string(::getpid()) + ".jsonl";
  }
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Error{"bad output " + p.string() + ": " + std::strerror(errno)};
  out->fd_ = fd;
  out->owned_ = true;
  out->description_ = p.string();
  return out;
}

BadOutput::~BadOutput() {
  if (owned_) ::close(fd_);
}

Status BadOutput::write(std::string_view row) {
  std::lock_guard<std::mutex> lock(mu_);
  line_.assign(row);
  line_ += '\n';
  const char* p = line_.data();
  std::size_t left = line_.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{"cannot write bad row to " + description_ + ": " + std::strerror(errno)};
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (sync_ && owned_ && ::fdatasync(fd_) != 0) {
    return Error{"cannot fsync bad output " + description_ + ": " + std::strerror(errno)};
  }
  return {};
}

}  // namespace furrow::collector
