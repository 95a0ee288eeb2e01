// Request → response + CollectorPayload records: routing (spec 2.1), the network user id cookie
// (2.3), CORS, redirects (2.5), custom paths (2.6), what is recorded (2.4) and size policing with
// POST splitting (2.8). Pure and thread-safe after construction: no sockets, no clocks of its
// own (the caller passes the time), no I/O.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collector/config.h"
#include "collector/http_types.h"
#include "collector/ip.h"
#include "event/collector_payload.h"

namespace re2 {
class RE2;
}

namespace furrow::collector {

// The 43-byte transparent GIF (stream collector 3.x bytes, spec 2.2).
std::string_view pixel_gif();

// "furrow-<version>-<sink kind>", e.g. furrow-0.1.0-rawlog.
std::string collector_name(std::string_view sink_kind);

class Handler {
 public:
  // `sink_kind`: the raw sink's name; `max_record_bytes`: its per-record limit (2.8 maxBytes).
  Handler(CollectorConfig config, std::string sink_kind, std::size_t max_record_bytes);
  ~Handler();

  // Fills `out` (cleared first) for `req` received at `now_ms`.
  void handle(const HttpRequest& req, int64_t now_ms, Outcome& out) const;

  // Builds the CollectorPayload a tracking request records (exposed for tests and the fuzzer).
  // `nuid` is the resolved network user id; `anonymous` applies SP-Anonymous rules.
  event::CollectorPayload build_payload(const HttpRequest& req, std::string_view path,
                                        std::string_view query, int64_t now_ms,
                                        std::string_view nuid, bool anonymous) const;

  // The Thrift bytes of build_payload(...) written straight into `out` (replaced), without the
  // intermediate CollectorPayload: byte-identical to event::encode_thrift(build_payload(...)).
  // False (and `out` unspecified) only for strings libthrift would refuse (over 2 GiB).
  bool encode_payload(const HttpRequest& req, std::string_view path, std::string_view query,
                      int64_t now_ms, std::string_view nuid, bool anonymous,
                      std::string& out) const;

  // A size_violation bad row for a request refused before its body was read (413).
  std::string oversized_request_bad_row(std::string_view method, std::string_view target,
                                        std::size_t actual_bytes, int64_t now_ms) const;

  const CollectorConfig& config() const { return config_; }

 private:
  void track(const HttpRequest& req, std::string_view path, std::string_view query, int64_t now_ms,
             Outcome& out, bool is_redirect) const;
  void store(const event::CollectorPayload& payload, bool is_post, int64_t now_ms,
             Outcome& out) const;
  // Cookie bounce: fills a 302 to the same URL plus the bounce parameter; false when no safe
  // Location can be built (then the request is tracked as usual).
  bool bounce(const HttpRequest& req, std::string_view query, int64_t now_ms,
              HttpResponse& resp) const;
  void cors(const HttpRequest& req, HttpResponse& resp) const;
  // The Set-Cookie value for the network user id `value` (an expiring one when `expire`), into
  // `out` (replaced).
  void set_cookie_value(std::string_view value, int64_t now_ms, const HttpRequest& req, bool expire,
                        std::string& out) const;

  CollectorConfig config_;
  std::string collector_;
  std::size_t max_record_bytes_;
  TrustedProxies proxies_;
  std::unique_ptr<re2::RE2> dnt_value_;
  std::vector<std::string> asset_etags_;  // parallel to config_.assets
  std::string robots_;
  std::string cross_domain_xml_;
};

}  // namespace furrow::collector
