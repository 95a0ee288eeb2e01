// Where `furrow enrich` reads raw payloads from, and how each input format turns a record into
// pipeline outputs.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "enrich/pipeline.h"
#include "enrich/runner.h"

namespace furrow::sources {

enum class InputFormat {
  kThriftBase64,  // one base64 Thrift CollectorPayload per line (Snowplow's stdout sink)
  kCloudfront,    // CloudFront web-distribution access log lines (spec 2.10)
  kTomcat,        // Clojure collector Tomcat access log lines (spec 2.10)
  kThriftBinary,  // records that are Thrift bytes already (the collector's raw log)
};

// Accepts "thrift" (alias "thrift-base64", "base64"), "cloudfront", "tomcat" (alias "clj-tomcat").
bool parse_input_format(std::string_view name, InputFormat& out);
// The bad-row loader name of a format: thrift | cloudfront | clj-tomcat.
std::string_view loader_name(InputFormat f);

// The per-record work of `furrow enrich` for one input format, on top of the Pipeline.
class PayloadProcessor final : public enrich::RecordProcessor {
 public:
  PayloadProcessor(const enrich::Pipeline& pipeline, InputFormat format)
      : pipeline_(pipeline), format_(format) {}
  bool process(std::string_view record, uint64_t line, bool oversized,
               enrich::Output& out) const override;

 private:
  const enrich::Pipeline& pipeline_;
  InputFormat format_;
};

}  // namespace furrow::sources
