// Fuzzes the Thrift CollectorPayload decoder (hostile lengths, types, nesting) and what enrich does
// next with a decoded payload. Invariant: whatever decodes re-encodes to bytes that decode to the
// same payload.
#include <cstddef>
#include <cstdint>
#include <string>

#include "event/collector_payload.h"
#include "protocol/adapter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace furrow;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto decoded = event::decode_thrift(in);
  if (!decoded.ok()) {
    if (decoded.error().message.empty()) __builtin_trap();
    return 0;
  }
  auto again = event::decode_thrift(event::encode_thrift(*decoded));
  if (!again.ok() || !(*again == *decoded)) __builtin_trap();
  std::vector<event::RawEvent> out;
  protocol::AdapterError error;
  if (!protocol::adapt(*decoded, "thrift", out, error) && error.messages_json.empty())
    __builtin_trap();
  return 0;
}
