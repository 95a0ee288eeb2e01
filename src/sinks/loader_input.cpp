#include "sinks/loader_input.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

namespace furrow::sinks {
namespace {
constexpr std::size_t kBlock = 1 << 20;
}

LoaderInput::LoaderInput(int fd, bool owned, std::string name, uint64_t size)
    : fd_(fd), owned_(owned), name_(std::move(name)), size_(size), raw_(kBlock), buf_(2 * kBlock) {}

LoaderInput::~LoaderInput() {
  if (owned_) ::close(fd_);
  ZSTD_freeDStream(zstd_);
}

Result<std::unique_ptr<LoaderInput>> LoaderInput::open(const std::string& path) {
  if (path == "-") return std::unique_ptr<LoaderInput>(new LoaderInput(0, false, "stdin", 0));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": " + std::strerror(errno)};
  struct stat st {};
  uint64_t size = 0;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) size = static_cast<uint64_t>(st.st_size);
  return std::unique_ptr<LoaderInput>(new LoaderInput(fd, true, path, size));
}

bool LoaderInput::read_raw(Status& error) {
  if (raw_eof_) return false;
  for (;;) {
    const ssize_t n = ::read(fd_, raw_.data(), raw_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = Error{name_ + ": " + std::strerror(errno)};
      return false;
    }
    raw_pos_ = 0;
    raw_end_ = static_cast<std::size_t>(n);
    raw_read_ += static_cast<uint64_t>(n);
    if (n == 0) raw_eof_ = true;
    return n > 0;
  }
}

bool LoaderInput::fill(Status& error) {
  // Make room: drop consumed bytes, grow up to kMaxLine + a block.
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buf_.size()) {
    if (buf_.size() >= kMaxLine + kBlock) {
      error = Error{name_ + ": line " + std::to_string(lines_ + 1) + " is longer than " +
                    std::to_string(kMaxLine) + " bytes"};
      return false;
    }
    buf_.resize(buf_.size() * 2);
  }
  if (!started_) {
    started_ = true;
    if (!read_raw(error)) return false;
    static constexpr unsigned char kMagic[4] = {0x28, 0xB5, 0x2F, 0xFD};
    if (raw_end_ >= 4 && std::memcmp(raw_.data(), kMagic, 4) == 0) {
      zstd_ = ZSTD_createDStream();
      ZSTD_initDStream(zstd_);
    }
  }
  for (;;) {
    if (zstd_ == nullptr) {
      if (raw_pos_ == raw_end_ && !read_raw(error)) return false;
      const std::size_t n = std::min(raw_end_ - raw_pos_, buf_.size() - end_);
      std::memcpy(buf_.data() + end_, raw_.data() + raw_pos_, n);
      raw_pos_ += n;
      end_ += n;
      return true;
    }
    // zstd may still hold output from input it already took when it last filled the buffer.
    if (raw_pos_ == raw_end_ && !zstd_out_full_ && !read_raw(error)) {
      if (error.ok() && zstd_rc_ != 0) error = Error{name_ + ": truncated zstd stream"};
      return false;
    }
    ZSTD_inBuffer in{raw_.data(), raw_end_, raw_pos_};
    ZSTD_outBuffer out{buf_.data(), buf_.size(), end_};
    const std::size_t rc = ZSTD_decompressStream(zstd_, &out, &in);
    if (ZSTD_isError(rc)) {
      error = Error{name_ + ": zstd: " + ZSTD_getErrorName(rc)};
      return false;
    }
    zstd_rc_ = rc;
    zstd_out_full_ = out.pos == out.size;
    raw_pos_ = in.pos;
    const bool produced = out.pos > end_;
    end_ = out.pos;
    if (produced) return true;
  }
}

bool LoaderInput::next(std::string_view& line, Status& error) {
  std::size_t scan = pos_;
  for (;;) {
    const void* nl = std::memchr(buf_.data() + scan, '\n', end_ - scan);
    if (nl != nullptr) {
      const auto at = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.data());
      line = std::string_view(buf_.data() + pos_, at - pos_);
      pos_ = at + 1;
      ++lines_;
      return true;
    }
    const std::size_t scanned = end_ - pos_;
    if (!fill(error)) {
      if (!error.ok()) return false;
      if (end_ > pos_) {  // last line without '\n'
        line = std::string_view(buf_.data() + pos_, end_ - pos_);
        pos_ = end_;
        ++lines_;
        return true;
      }
      return false;
    }
    scan = pos_ + scanned;  // fill() moved the pending bytes to the front
  }
}

Result<std::string> file_digest(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": " + std::strerror(errno)};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> block(kBlock);
  for (;;) {
    const ssize_t n = ::read(fd, block.data(), block.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e{path + ": " + std::strerror(errno)};
      EVP_MD_CTX_free(ctx);
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx, block.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len && i < 32; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

}  // namespace furrow::sinks
