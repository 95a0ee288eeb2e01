// Fuzzes Clojure-collector (Tomcat) log line parsing and the adapter run on its payloads.
#include "log_line_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A Tomcat line with a body always names its content type.
  furrow::fuzz::fuzz_log_line(data, size, furrow::protocol::parse_tomcat_line, "clj-tomcat",
                              [](const furrow::event::CollectorPayload& c) {
                                if (c.body && !c.content_type) __builtin_trap();
                              });
  return 0;
}
