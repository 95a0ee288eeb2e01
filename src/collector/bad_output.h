// Where the collector writes its bad rows (size_violation): stderr, or a JSON-lines file
// appended to (a directory gets `collector-bad-<pid>.jsonl`). Thread-safe; each row is written
// with one write(2) and, when `sync` is set, fdatasync'd before write() returns.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"

namespace furrow::collector {

class BadOutput {
 public:
  // `spec`: empty for stderr, else a file or directory path.
  static Result<std::unique_ptr<BadOutput>> open(const std::string& spec, bool sync);
  ~BadOutput();
  Status write(std::string_view row);
  const std::string& description() const { return description_; }

 private:
  BadOutput() = default;
  std::mutex mu_;
  int fd_ = 2;
  bool owned_ = false;
  bool sync_ = false;
  std::string description_;
  std::string line_;
};

}  // namespace furrow::collector
