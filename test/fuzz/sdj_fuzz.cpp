// Fuzzes the contexts / unstruct_event columns: the DOM path must never crash, and the copying
// fast path, whenever it accepts an input, must give exactly the DOM path's column.
#include <cstddef>
#include <cstdint>
#include <string>

#include "enrich/sdj.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace furrow::enrich;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr int kDepth = 50;
  {
    SdjResult dom;
    process_contexts(in, ValidationSettings{}, kDepth, dom, /*allow_fast=*/false);
    std::string column;
    if (fast_contexts_column(in, kDepth, column) && (column != dom.column || !dom.messages.empty()))
      __builtin_trap();
  }
  {
    SdjResult dom;
    process_unstruct(in, ValidationSettings{}, kDepth, dom, /*allow_fast=*/false);
    std::string column, schema;
    if (fast_unstruct_column(in, kDepth, column, schema) &&
        (column != dom.column || schema != dom.event_schema || !dom.messages.empty()))
      __builtin_trap();
  }
  return 0;
}
