#include "collector/post_count.h"

#include <rapidjson/reader.h>

#include <cstring>

namespace furrow::collector {
namespace {

// Depth = containers open. The root object is depth 1; its first "data" member's array, when
// it is one, is depth 2 while open, and each value that starts directly in it is one event.
struct DataCounter : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, DataCounter> {
  int depth = 0;
  bool root_object = false;
  bool seen_data = false;     // the first top-level "data" key was read
  bool next_is_data = false;  // the value that starts next is that key's value
  bool data_array = false;    // ... and it is an array
  bool in_data = false;       // inside that array (it is the open container at depth 2)
  std::size_t count = 0;

  void value_starts(bool is_array) {
    if (in_data && depth == 2) ++count;
    if (next_is_data) {
      next_is_data = false;
      data_array = is_array;
    }
  }
  bool Default() {
    value_starts(false);
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (depth == 1 && !seen_data && n == 4 && std::memcmp(s, "data", 4) == 0) {
      seen_data = true;
      next_is_data = true;
    }
    return true;
  }
  bool StartObject() {
    value_starts(false);
    if (depth == 0) root_object = true;
    ++depth;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth;
    return true;
  }
  bool StartArray() {
    const bool opens_data = next_is_data && depth == 1;
    value_starts(true);
    ++depth;
    if (opens_data) in_data = true;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    if (in_data && depth == 2) in_data = false;
    --depth;
    return true;
  }
};

}  // namespace

std::optional<std::size_t> count_post_data_events(std::string_view body) {
  // One reader per thread: its stack (decoded strings, nesting) is kept between calls.
  thread_local rapidjson::Reader reader;
  DataCounter counter;
  rapidjson::MemoryStream ms(body.data(), body.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
  reader.Parse(in, counter);
  if (reader.HasParseError() || !counter.root_object || !counter.data_array) return std::nullopt;
  return counter.count;
}

bool may_exceed_post_events(std::string_view body, std::size_t limit) {
  std::size_t commas = 0;
  const char* p = body.data();
  const char* end = p + body.size();
  while (p != end) {
    p = static_cast<const char*>(std::memchr(p, ',', static_cast<std::size_t>(end - p)));
    if (p == nullptr) return false;
    if (++commas >= limit) return true;
    ++p;
  }
  return false;
}

}  // namespace furrow::collector
