// The body shared by the access-log line fuzz targets: parse one line with `parse`; an invalid
// line must say why; a parsed payload must carry the collector name, path and timestamp, and the
// adapter must either produce events or say why not. Anything else traps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/adapter.h"
#include "protocol/log_lines.h"

namespace furrow::fuzz {

using LineParser = protocol::LineResult (*)(std::string_view, event::CollectorPayload&,
                                            std::string&);

// `extra_check`, when given, runs on every parsed payload before the adapter.
inline void fuzz_log_line(const uint8_t* data, size_t size, LineParser parse,
                          std::string_view collector,
                          void (*extra_check)(const event::CollectorPayload&) = nullptr) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  event::CollectorPayload c;
  std::string error;
  switch (parse(in, c, error)) {
    case protocol::LineResult::kInvalid:
      if (error.empty()) __builtin_trap();
      return;
    case protocol::LineResult::kSkip:
      return;
    case protocol::LineResult::kPayload:
      break;
  }
  if (c.collector != collector || !c.path || !c.timestamp) __builtin_trap();
  if (extra_check != nullptr) extra_check(c);
  std::vector<event::RawEvent> out;
  protocol::AdapterError ae;
  if (!protocol::adapt(c, collector, out, ae) && ae.messages_json.empty()) __builtin_trap();
}

}  // namespace furrow::fuzz
