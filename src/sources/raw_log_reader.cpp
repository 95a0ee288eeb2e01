#include "sources/raw_log_reader.h"

#include <zstd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "sinks/raw_log_format.h"

namespace furrow::sources {
namespace {
namespace fs = std::filesystem;
namespace rawlog = furrow::sinks::rawlog;

// Upper bound on a decompressed segment, against zstd bombs.
constexpr unsigned long long kMaxSegmentBytes = 4ull << 30;

bool read_file(const fs::path& p, std::string& out, std::string& err) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    err = p.string() + ": cannot open";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = std::move(ss).str();
  return true;
}

bool decompress(const fs::path& p, std::string& data, std::string& err) {
  std::string compressed;
  if (!read_file(p, compressed, err)) return false;
  data.clear();
  ZSTD_DStream* ds = ZSTD_createDStream();
  ZSTD_initDStream(ds);
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  std::string chunk(ZSTD_DStreamOutSize(), '\0');
  std::size_t ret = 1;
  for (;;) {
    ZSTD_outBuffer out{chunk.data(), chunk.size(), 0};
    ret = ZSTD_decompressStream(ds, &out, &in);
    if (ZSTD_isError(ret)) {
      err = p.string() + ": " + ZSTD_getErrorName(ret);
      ZSTD_freeDStream(ds);
      return false;
    }
    data.append(chunk.data(), out.pos);
    if (data.size() > kMaxSegmentBytes) {
      err = p.string() + ": decompressed segment too large";
      ZSTD_freeDStream(ds);
      return false;
    }
    if (in.pos == in.size && (ret == 0 || out.pos < out.size)) break;
  }
  ZSTD_freeDStream(ds);
  if (ret != 0) {
    err = p.string() + ": truncated zstd frame";
    return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<RawLogReader>> RawLogReader::open(const fs::path& path) {
  std::error_code ec;
  std::unique_ptr<RawLogReader> r(new RawLogReader());
  if (fs::is_directory(path, ec)) {
    // Sequence order; where both forms of a segment exist the compressed one is complete.
    std::map<uint64_t, fs::path> by_seq;
    for (const auto& e : fs::directory_iterator(path, ec)) {
      uint64_t seq;
      bool compressed;
      if (!rawlog::parse_segment_name(e.path().filename().string(), seq, compressed)) continue;
      auto it = by_seq.find(seq);
      if (it == by_seq.end() || compressed) by_seq[seq] = e.path();
    }
    if (ec) return Error{"cannot list " + path.string() + ": " + ec.message()};
    for (auto& [seq, p] : by_seq) r->files_.push_back(p);
    return r;
  }
  if (!fs::exists(path, ec)) return Error{path.string() + ": no such file or directory"};
  uint64_t seq;
  bool compressed;
  if (!rawlog::parse_segment_name(path.filename().string(), seq, compressed)) {
    return Error{path.string() + ": not a raw log segment (expected <20 digits>.seg or .seg.zst)"};
  }
  r->files_.push_back(path);
  return r;
}

bool RawLogReader::load_next_segment() {
  while (file_index_ < files_.size()) {
    const fs::path& p = files_[file_index_++];
    std::string err;
    bool ok = p.string().ends_with(rawlog::kCompressedSuffix) ? decompress(p, data_, err)
                                                              : read_file(p, data_, err);
    if (!ok && !p.string().ends_with(rawlog::kCompressedSuffix)) {
      // A live log compresses sealed segments in the background: the plain file may have been
      // replaced by its .zst since the directory was listed.
      fs::path z = p;
      z += ".zst";
      std::string zerr;
      ok = decompress(z, data_, zerr);
    }
    if (!ok) {
      errors_.push_back(err);
      continue;
    }
    if (data_.size() < rawlog::kMagic.size()) {
      // A segment created but not yet fully initialised: nothing in it.
      if (!data_.empty() && std::string_view(rawlog::kMagic).substr(0, data_.size()) != data_) {
        errors_.push_back(p.string() + ": not a raw log segment (bad magic)");
      }
      continue;
    }
    if (std::string_view(data_).substr(0, rawlog::kMagic.size()) != rawlog::kMagic) {
      errors_.push_back(p.string() + ": not a raw log segment (bad magic)");
      continue;
    }
    body_ = std::string_view(data_).substr(rawlog::kMagic.size());
    pos_ = 0;
    current_ = p.string();
    return true;
  }
  return false;
}

bool RawLogReader::next(std::string_view& record) {
  for (;;) {
    if (!loaded_) {
      if (!load_next_segment()) return false;
      loaded_ = true;
    }
    std::size_t at = pos_;
    switch (rawlog::next_frame(body_, pos_, record)) {
      case rawlog::FrameStatus::kRecord:
        ++records_;
        return true;
      case rawlog::FrameStatus::kEnd:
        break;
      case rawlog::FrameStatus::kTorn:
        ++torn_;
        break;
      case rawlog::FrameStatus::kCorrupt:
        errors_.push_back(current_ + ": corrupt record at byte " +
                          std::to_string(at + rawlog::kMagic.size()));
        break;
    }
    loaded_ = false;
  }
}

}  // namespace furrow::sources
