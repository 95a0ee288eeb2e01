#include "sources/input.h"

#include <string>
#include <string_view>
#include <vector>

#include "common/base64.h"
#include "event/collector_payload.h"
#include "protocol/log_lines.h"

namespace furrow::sources {

bool parse_input_format(std::string_view name, InputFormat& out) {
  if (name == "thrift" || name == "thrift-base64" || name == "base64") {
    out = InputFormat::kThriftBase64;
  } else if (name == "cloudfront") {
    out = InputFormat::kCloudfront;
  } else if (name == "tomcat" || name == "clj-tomcat") {
    out = InputFormat::kTomcat;
  } else {
    return false;
  }
  return true;
}

std::string_view loader_name(InputFormat f) {
  switch (f) {
    case InputFormat::kCloudfront:
      return "cloudfront";
    case InputFormat::kTomcat:
      return "clj-tomcat";
    case InputFormat::kThriftBase64:
    case InputFormat::kThriftBinary:
      break;
  }
  return "thrift";
}

// ---- PayloadProcessor ----

namespace {
std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Pipeline::process_thrift, with the record decoded into a CollectorPayload kept per thread: its
// strings keep their storage from record to record, so decoding allocates nothing once they are
// large enough. A record that does not decode goes to process_thrift, which words its bad row.
void process_thrift_record(const enrich::Pipeline& pipeline, std::string_view bytes,
                           enrich::Output& out) {
  thread_local event::CollectorPayload payload;
  thread_local bool in_use = false;
  std::string error;
  if (in_use || !event::decode_thrift(bytes, payload, error)) {
    // (in_use: re-entered while the payload is being processed, e.g. from an enrichment.)
    pipeline.process_thrift(bytes, out);
    return;
  }
  struct InUse {
    bool& flag;
    explicit InUse(bool& f) : flag(f) { flag = true; }
    ~InUse() { flag = false; }
  } guard(in_use);
  pipeline.process_payload(payload, "thrift", out, bytes);
}
}  // namespace

bool PayloadProcessor::process(std::string_view record, uint64_t line, bool oversized,
                               enrich::Output& out) const {
  const std::string_view loader = loader_name(format_);
  if (oversized) {
    // Keep the bad row itself bounded: the first KiB is enough to recognise the record.
    pipeline_.reject_raw(loader, record.substr(0, 1024),
                         "line " + std::to_string(line) + " is longer than the input limit of " +
                             std::to_string(record.size()) + " bytes; it was cut",
                         out);
    return true;
  }
  if (format_ == InputFormat::kThriftBinary) {
    process_thrift_record(pipeline_, record, out);
    return true;
  }
  if (format_ == InputFormat::kThriftBase64) {
    const std::string_view text = trim_ws(record);
    if (text.empty()) return false;  // blank line: not a payload
    // A buffer that only grows, so decoding into it costs no clearing (std::string::resize
    // would zero the bytes each time).
    thread_local std::vector<char> bytes;
    const std::size_t bound = common::base64_decode_bound(text.size());
    if (bytes.size() < bound) bytes.resize(bound);
    std::size_t n = 0;
    if (!common::base64_decode_to(text, bytes.data(), n)) {
      pipeline_.reject_raw(loader, text, "line " + std::to_string(line) + " is not valid base64",
                           out);
      return true;
    }
    process_thrift_record(pipeline_, std::string_view(bytes.data(), n), out);
    return true;
  }
  event::CollectorPayload payload;
  std::string error;
  const auto r = format_ == InputFormat::kCloudfront
                     ? protocol::parse_cloudfront_line(record, payload, error)
                     : protocol::parse_tomcat_line(record, payload, error);
  switch (r) {
    case protocol::LineResult::kSkip:
      return false;
    case protocol::LineResult::kInvalid:
      pipeline_.reject_raw(loader, record, "line " + std::to_string(line) + ": " + error, out);
      return true;
    case protocol::LineResult::kPayload:
      break;
  }
  pipeline_.process_payload(payload, loader, out);
  return true;
}

}  // namespace furrow::sources
