// Outbound HTTP GET for Iglu registries and remote $refs (libcurl). Blocking, thread-safe: each
// call uses its own easy handle.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace furrow::iglu {

struct HttpResponse {
  long status = 0;  // HTTP status; the call itself succeeded
  std::string body;
};

struct HttpOptions {
  long connect_timeout_ms = 2000;
  long timeout_ms = 5000;
  std::size_t max_body_bytes = 4 << 20;  // larger bodies are an error (a schema is small)
  std::vector<std::string> headers;      // "name: value"
};

// A transport-level failure (DNS, refused, timeout, too large) is an Error; any HTTP status is a
// response.
Result<HttpResponse> http_get(const std::string& url, const HttpOptions& options = {});

}  // namespace furrow::iglu
