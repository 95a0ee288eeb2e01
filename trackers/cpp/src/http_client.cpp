#include "http_client.h"

#include <curl/curl.h>

#include <mutex>

namespace furrow::tracker::detail {

namespace {
std::size_t discard(char*, std::size_t size, std::size_t n, void*) {
  return size * n;
}
}  // namespace

void global_http_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::HttpClient(std::chrono::milliseconds request_timeout,
                       std::chrono::milliseconds connect_timeout) {
  global_http_init();
  CURL* c = curl_easy_init();
  curl_ = c;
  if (c == nullptr) return;
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request_timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &discard);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "furrow-cpp-tracker/0.1.0");
  curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/json; charset=utf-8");
  h = curl_slist_append(h, "Expect:");  // no 100-continue round trip for larger batches
  headers_ = h;
}

HttpClient::~HttpClient() {
  curl_slist_free_all(static_cast<curl_slist*>(headers_));
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResult HttpClient::perform() {
  CURL* c = static_cast<CURL*>(curl_);
  HttpResult r;
  char message[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, message);
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  if (rc != CURLE_OK) {
    r.error = message[0] != '\0' ? message : curl_easy_strerror(rc);
    return r;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  r.status = static_cast<int>(status);
  curl_off_t retry_after = 0;
  if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
    r.retry_after_s = static_cast<long>(retry_after);
  return r;
}

HttpResult HttpClient::get(const std::string& url) {
  if (curl_ == nullptr) return HttpResult{0, "curl_easy_init failed"};
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  return perform();
}

HttpResult HttpClient::post_json(const std::string& url, const std::string& body) {
  if (curl_ == nullptr) return HttpResult{0, "curl_easy_init failed"};
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  return perform();
}

}  // namespace furrow::tracker::detail
