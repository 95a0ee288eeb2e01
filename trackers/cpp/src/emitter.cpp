#include "furrow/tracker/emitter.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "backoff.h"
#include "encoding.h"
#include "http_client.h"
#include "outbox.h"
#include "payload.h"

namespace furrow::tracker {

using detail::Outbox;

class Emitter::Impl {
 public:
  Impl(EmitterConfig config, std::unique_ptr<Outbox> outbox)
      : config_(std::move(config)), outbox_(std::move(outbox)), jitter_(std::random_device{}()) {
    // Strip one trailing '/' so paths join cleanly.
    if (!config_.collector_url.empty() && config_.collector_url.back() == '/')
      config_.collector_url.pop_back();
    if (config_.batch_size == 0) config_.batch_size = 1;
    thread_ = std::thread([this] { run(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  bool add(const std::string& event_json) {
    std::lock_guard lock(mutex_);
    std::string error;
    if (outbox_->size() >= config_.max_outbox_events) {
      ++stats_.refused;
      stats_.last_error = "outbox full";
      return false;
    }
    if (!outbox_->add(event_json, &error)) {
      ++stats_.refused;
      stats_.last_error = error;
      return false;
    }
    wake_.notify_all();
    return true;
  }

  bool flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    retry_now_ = true;
    wake_.notify_all();
    return drained_.wait_for(lock, timeout, [this] { return outbox_->size() == 0; });
  }

  std::size_t pending() const {
    std::lock_guard lock(mutex_);
    return outbox_->size();
  }

  EmitterStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  // One request's worth of rows: the ids it carries and the URL/body to send.
  struct Request {
    std::vector<std::int64_t> ids;      // sent, removed on 2xx
    std::vector<std::int64_t> damaged;  // unreadable rows, removed without sending
    std::string url;
    std::string body;  // empty for GET
  };

  // Builds the next request from the oldest rows. Called with mutex_ held.
  bool next_request(Request* req) {
    std::vector<Outbox::Row> rows;
    std::string error;
    const std::size_t limit = config_.method == Method::kGet ? 1 : config_.batch_size;
    if (!outbox_->peek(limit, &rows, &error)) {
      stats_.last_error = error;
      return false;
    }
    const std::string stm = std::to_string(detail::now_ms());
    if (config_.method == Method::kGet) {
      for (auto& row : rows) {
        std::string query;
        if (!detail::query_from_json(row.payload, {{"stm", stm}}, &query)) {
          req->damaged.push_back(row.id);
          continue;
        }
        req->ids.push_back(row.id);
        req->url = config_.collector_url + config_.get_path + "?" + query;
      }
      return true;
    }
    // POST: payload_data 1-0-4 with stm added to each element; stop before max_batch_bytes
    // (one oversized event still goes alone).
    std::string body = std::string("{\"schema\":\"") + detail::kPayloadDataSchema + "\",\"data\":[";
    for (auto& row : rows) {
      rapidjson::Document doc;
      doc.Parse<rapidjson::kParseIterativeFlag>(row.payload.data(), row.payload.size());
      // A row must be a flat object of strings: anything else would fail payload_data validation
      // at the collector's enrich and take the whole batch into one bad row.
      bool flat = !doc.HasParseError() && doc.IsObject();
      if (flat) {
        // Index loop: rapidjson's member iterators trip clang's C++20 reversed-operator check.
        for (rapidjson::SizeType i = 0; i < doc.MemberCount(); ++i) {
          flat = flat && (doc.MemberBegin() + i)->value.IsString();
        }
      }
      if (!flat) {
        req->damaged.push_back(row.id);
        continue;
      }
      doc.RemoveMember("stm");
      doc.AddMember("stm", rapidjson::Value(stm.c_str(), doc.GetAllocator()), doc.GetAllocator());
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      doc.Accept(w);
      const std::size_t add = buf.GetSize() + (req->ids.empty() ? 0 : 1);
      if (!req->ids.empty() && body.size() + add + 2 > config_.max_batch_bytes) break;
      if (!req->ids.empty()) body += ',';
      body.append(buf.GetString(), buf.GetSize());
      req->ids.push_back(row.id);
    }
    body += "]}";
    req->body = std::move(body);
    req->url = config_.collector_url + config_.post_path;
    return true;
  }

  std::chrono::milliseconds backoff(int attempt) {
    return detail::backoff_delay(attempt, config_.retry_base, config_.retry_cap, jitter_);
  }

  void run() {
    detail::HttpClient http(config_.request_timeout, config_.connect_timeout);
    int attempt = 0;
    std::unique_lock lock(mutex_);
    while (!stop_) {
      if (outbox_->size() == 0) {
        drained_.notify_all();
        wake_.wait(lock, [this] { return stop_ || outbox_->size() > 0; });
        continue;
      }
      Request req;
      const bool built = next_request(&req);
      std::string error;
      if (!req.damaged.empty() && !outbox_->remove(req.damaged, &error)) stats_.last_error = error;
      if (!built || req.ids.empty()) {
        if (!built) {  // storage error: back off like a failed request
          wake_.wait_for(lock, backoff(++attempt), [this] { return stop_; });
        }
        continue;
      }
      lock.unlock();
      const detail::HttpResult result =
          req.body.empty() ? http.get(req.url) : http.post_json(req.url, req.body);
      lock.lock();
      ++stats_.requests;
      stats_.last_status = result.status;
      if (result.status >= 200 && result.status < 300) {
        attempt = 0;
        if (outbox_->remove(req.ids, &error)) {
          stats_.sent += req.ids.size();
        } else {
          stats_.last_error = error;
        }
        continue;
      }
      ++stats_.failed_requests;
      stats_.last_error = result.error.empty()
                              ? "collector answered " + std::to_string(result.status)
                              : result.error;
      retry_now_ = false;
      // An overloaded collector's Retry-After (503/429) lengthens the wait, within retry_cap.
      auto delay = backoff(++attempt);
      if (result.retry_after_s > 0) {
        delay = std::max(delay, std::min<std::chrono::milliseconds>(
                                    std::chrono::seconds(result.retry_after_s), config_.retry_cap));
      }
      wake_.wait_for(lock, delay, [this] { return stop_ || retry_now_; });
      retry_now_ = false;
    }
  }

  EmitterConfig config_;
  mutable std::mutex mutex_;         // everything below
  std::condition_variable wake_;     // the sender: new events, flush, stop
  std::condition_variable drained_;  // flush(): the outbox became empty
  std::unique_ptr<Outbox> outbox_;
  EmitterStats stats_;
  bool stop_ = false;
  bool retry_now_ = false;
  std::mt19937_64 jitter_;
  std::thread thread_;
};

std::unique_ptr<Emitter> Emitter::create(EmitterConfig config, std::string* error) {
  std::string e;
  const std::string& url = config.collector_url;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    if (error) *error = "collector URL must start with http:// or https://: '" + url + "'";
    return nullptr;
  }
  auto outbox = Outbox::open(config.outbox_path, &e);
  if (!outbox) {
    if (error) *error = e;
    return nullptr;
  }
  return std::unique_ptr<Emitter>(
      new Emitter(std::make_unique<Impl>(std::move(config), std::move(outbox))));
}

Emitter::Emitter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Emitter::~Emitter() = default;
bool Emitter::add(const std::string& event_json) {
  return impl_->add(event_json);
}
bool Emitter::flush(std::chrono::milliseconds timeout) {
  return impl_->flush(timeout);
}
std::size_t Emitter::pending() const {
  return impl_->pending();
}
EmitterStats Emitter::stats() const {
  return impl_->stats();
}

}  // namespace furrow::tracker
