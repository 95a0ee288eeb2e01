// Fuzzes CloudFront access-log line parsing and the adapter run on its payloads.
#include "log_line_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  furrow::fuzz::fuzz_log_line(data, size, furrow::protocol::parse_cloudfront_line, "cloudfront");
  return 0;
}
