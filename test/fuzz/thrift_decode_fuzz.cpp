// Fuzzes the Thrift CollectorPayload decoder (hostile lengths, types, nesting) and what enrich does
// next with a decoded payload. Invariants: the hand-written reader accepts exactly what libthrift's
// reader accepts, with the same payload (also when decoding into a payload reused from the input
// before); whatever decodes re-encodes to bytes that decode to the same payload.
#include <cstddef>
#include <cstdint>
#include <string>

#include "event/collector_payload.h"
#include "protocol/adapter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace furrow;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Fields left over from the previous input must not survive into this one.
  static event::CollectorPayload reused;
  const auto reference = event::detail::decode_thrift_libthrift(in);
  const bool fast_ok = event::detail::decode_thrift_fast(in, reused);
  if (fast_ok != reference.ok()) __builtin_trap();
  if (fast_ok && !(reused == *reference)) __builtin_trap();
  auto decoded = event::decode_thrift(in);
  if (decoded.ok() != reference.ok()) __builtin_trap();
  if (!decoded.ok()) {
    if (decoded.error().message != reference.error().message) __builtin_trap();
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
