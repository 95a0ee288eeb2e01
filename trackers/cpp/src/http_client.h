// A blocking libcurl client for the emitter's one sending thread (not shared between threads).
#pragma once

#include <chrono>
#include <string>

namespace furrow::tracker::detail {

struct HttpResult {
  int status = 0;          // HTTP status; 0 when no answer arrived
  std::string error;       // transport error when status is 0
  long retry_after_s = 0;  // the answer's Retry-After in seconds (0: none)
};

class HttpClient {
 public:
  HttpClient(std::chrono::milliseconds request_timeout, std::chrono::milliseconds connect_timeout);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult get(const std::string& url);
  HttpResult post_json(const std::string& url, const std::string& body);

 private:
  HttpResult perform();
  void* curl_ = nullptr;     // CURL*
  void* headers_ = nullptr;  // curl_slist*
};

// curl_global_init once per process (thread-safe).
void global_http_init();

}  // namespace furrow::tracker::detail
