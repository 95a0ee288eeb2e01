#include "run/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>

namespace furrow::run {

namespace fs = std::filesystem;

namespace {
constexpr std::string_view kPrefix = "furrow-checkpoint 1 ";

bool parse_u64(std::string_view& s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || p == s.data()) return false;
  s.remove_prefix(static_cast<std::size_t>(p - s.data()));
  return true;
}

Status sys_error(const char* what, const fs::path& p) {
  return Error{std::string(what) + " " + p.string() + ": " + std::strerror(errno)};
}
}  // namespace

Result<LogPosition> read_checkpoint(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return LogPosition{};
    return sys_error("cannot open checkpoint", file).error();
  }
  char buf[128];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0) return sys_error("cannot read checkpoint", file).error();
  std::string_view s(buf, static_cast<std::size_t>(n));
  LogPosition pos;
  if (!s.starts_with(kPrefix)) return Error{file.string() + ": not a furrow checkpoint"};
  s.remove_prefix(kPrefix.size());
  if (!parse_u64(s, pos.segment) || s.empty() || s.front() != ' ') {
    return Error{file.string() + ": malformed checkpoint"};
  }
  s.remove_prefix(1);
  if (!parse_u64(s, pos.offset) || s != "\n") {
    return Error{file.string() + ": malformed checkpoint"};
  }
  return pos;
}

Status write_checkpoint(const fs::path& file, LogPosition pos) {
  const fs::path tmp = fs::path(file).concat(".tmp");
  std::string text(kPrefix);
  text += std::to_string(pos.segment);
  text += ' ';
  text += std::to_string(pos.offset);
  text += '\n';
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return sys_error("cannot create", tmp);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    errno = err;
    return sys_error("cannot write", tmp);
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) return sys_error("cannot rename to", file);
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace furrow::run
