// The raw log's on-disk format, shared by the writer (sinks/raw_log) and the reader
// (sources/raw_log_reader). Header-only so that neither module links the other.
//
// A segment file is the 8-byte magic "FRWRAW1\n" followed by records, each framed as
//   u32 little-endian payload length | u32 little-endian CRC32C of the payload | payload bytes.
// The payload is one Thrift-serialised CollectorPayload. Segments are named
// `<20-digit sequence>.seg` while open or freshly sealed; a sealed segment may be replaced by
// `<sequence>.seg.zst`, a single zstd frame whose content is exactly the segment's bytes. A crash
// can leave a torn final record in the newest `.seg`; the writer truncates it on start-up and the
// reader treats it as the end of that segment.
#pragma once

#include <boost/crc.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace furrow::sinks::rawlog {

inline constexpr std::string_view kMagic = "FRWRAW1\n";
inline constexpr std::size_t kFrameHeader = 8;
// Records above this are refused by the writer and treated as corruption by the reader.
inline constexpr uint32_t kMaxRecordBytes = 256u * 1024u * 1024u;
inline constexpr std::string_view kSegmentSuffix = ".seg";
inline constexpr std::string_view kCompressedSuffix = ".seg.zst";

// CRC32C (Castagnoli polynomial, reflected, as iSCSI / RFC 3720 define it). Portable version:
// Boost's table-driven CRC, one byte at a time.
inline uint32_t crc32c_portable(std::string_view bytes) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// The SSE4.2 crc32 instruction computes exactly this CRC, 8 bytes per instruction: the writer
// thread checksums every record, and the table version cost ~10k instructions per 800-byte record.
__attribute__((target("sse4.2"))) inline uint32_t crc32c_sse42(std::string_view bytes) {
  uint64_t crc = 0xFFFFFFFFu;
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    crc = __builtin_ia32_crc32di(crc, word);
  }
  auto c = static_cast<uint32_t>(crc);
  for (; n > 0; ++p, --n) c = __builtin_ia32_crc32qi(c, static_cast<unsigned char>(*p));
  return c ^ 0xFFFFFFFFu;
}

inline bool crc32c_has_sse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

inline uint32_t crc32c(std::string_view bytes) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (crc32c_has_sse42()) return crc32c_sse42(bytes);
#endif
  return crc32c_portable(bytes);
}

inline void put_u32(std::string& out, uint32_t v) {
  char b[4] = {static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff),
               static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 24) & 0xff)};
  out.append(b, 4);
}

inline uint32_t get_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | (static_cast<uint32_t>(u[1]) << 8) |
         (static_cast<uint32_t>(u[2]) << 16) | (static_cast<uint32_t>(u[3]) << 24);
}

// Appends one framed record to `out`.
inline void append_frame(std::string& out, std::string_view payload) {
  put_u32(out, static_cast<uint32_t>(payload.size()));
  put_u32(out, crc32c(payload));
  out.append(payload);
}

enum class FrameStatus {
  kRecord,   // `payload` is set, `pos` advanced past the record
  kEnd,      // clean end of data
  kTorn,     // the data ends inside a record (a write cut short by a crash)
  kCorrupt,  // a complete frame whose length is absurd or whose checksum does not match
};

// Reads the frame at `pos` of `data` (which starts after the magic). Never reads out of bounds.
inline FrameStatus next_frame(std::string_view data, std::size_t& pos, std::string_view& payload) {
  if (pos == data.size()) return FrameStatus::kEnd;
  if (data.size() - pos < kFrameHeader) return FrameStatus::kTorn;
  uint32_t len = get_u32(data.data() + pos);
  uint32_t crc = get_u32(data.data() + pos + 4);
  if (len > kMaxRecordBytes) return FrameStatus::kCorrupt;
  if (data.size() - pos - kFrameHeader < len) return FrameStatus::kTorn;
  std::string_view body = data.substr(pos + kFrameHeader, len);
  if (crc32c(body) != crc) return FrameStatus::kCorrupt;
  payload = body;
  pos += kFrameHeader + len;
  return FrameStatus::kRecord;
}

// File name of segment `seq` (without directory).
inline std::string segment_name(uint64_t seq, bool compressed) {
  std::string digits = std::to_string(seq);
  std::string name(20 - (digits.size() < 20 ? digits.size() : 20), '0');
  name += digits;
  name += compressed ? kCompressedSuffix : kSegmentSuffix;
  return name;
}

// Parses a segment file name; false for anything else (temporary files included).
inline bool parse_segment_name(std::string_view name, uint64_t& seq, bool& compressed) {
  if (name.size() < 20) return false;
  uint64_t v = 0;
  for (std::size_t i = 0; i < 20; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  std::string_view rest = name.substr(20);
  if (rest == kSegmentSuffix) {
    compressed = false;
  } else if (rest == kCompressedSuffix) {
    compressed = true;
  } else {
    return false;
  }
  seq = v;
  return true;
}

}  // namespace furrow::sinks::rawlog
