// Fuzzes CloudFront access-log line parsing and the adapter run on its payloads.
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocol/adapter.h"
#include "protocol/log_lines.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace furrow;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  event::CollectorPayload c;
  std::string error;
  switch (protocol::parse_cloudfront_line(in, c, error)) {
    case protocol::LineResult::kInvalid:
      if (error.empty()) __builtin_trap();
      return 0;
    case protocol::LineResult::kSkip:
      return 0;
    case protocol::LineResult::kPayload:
      break;
  }
  if (c.collector != "cloudfront" || !c.path || !c.timestamp) __builtin_trap();
  std::vector<event::RawEvent> out;
  protocol::AdapterError ae;
  if (!protocol::adapt(c, "cloudfront", out, ae) && ae.messages_json.empty()) __builtin_trap();
  return 0;
}
