// The collector's configuration: parsed and validated once at start-up (YAML, yaml-cpp), then
// read-only and shared by all I/O threads. Defaults follow Snowplow's stream collector 3.x
// (spec section 2) except where reliability.md asks for safer ones (redirects off, an empty
// redirect allow-list denies everything, only UUID-shaped network user ids).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace YAML {
class Node;
}

namespace furrow::collector {

enum class SameSite { kUnset, kNone, kLax, kStrict };

struct CookieConfig {
  bool enabled = true;
  std::string name = "sp";
  int64_t expiration_seconds = 365LL * 24 * 3600;
  std::vector<std::string> domains;  // lower case, no leading dot
  std::string fallback_domain;       // empty: none
  bool secure = true;
  bool http_only = true;
  SameSite same_site = SameSite::kNone;
};

struct DoNotTrackCookieConfig {
  bool enabled = false;
  std::string name;
  std::string value;  // RE2 regular expression, matched against the whole cookie value
};

struct RedirectConfig {
  bool enabled = false;
  std::vector<std::string> allowed_hosts;  // exact host names (lower case); empty denies all
};

struct CrossDomainConfig {
  bool enabled = false;
  std::vector<std::string> domains{"*"};
  bool secure = true;
};

struct Limits {
  std::size_t max_request_line = 20480;
  std::size_t max_header_bytes = 40960;
  std::size_t max_body_bytes = 2'097'152;     // dropPayloadSize: larger bodies get 413
  std::size_t max_payload_bytes = 1'048'576;  // maxPayloadSize: larger payloads → size_violation
  std::size_t max_events_per_post = 500;      // more → size_violation
  int64_t header_timeout_ms = 30'000;         // slow clients → 408
  int64_t body_timeout_ms = 25'000;
  int64_t idle_timeout_ms = 610'000;
  std::size_t max_connections = 1024;
  // How long a request taken by the application router may wait for its answer before the
  // collector answers 504 itself (long polls must answer well before this).
  int64_t app_response_timeout_ms = 120'000;
};

// Cookie bounce (spec 2.3): a GET tracking request with neither a network user id cookie nor a
// `nuid` is answered with a 302 to the same URL plus `<name>=true` (storing nothing) so that the
// cookie set on that answer comes back; the bounced request is stored with the cookie, or with
// `fallback_network_user_id` when the browser refused it (third-party cookies blocked).
struct CookieBounceConfig {
  bool enabled = false;
  std::string name = "n3pc";
  std::string fallback_network_user_id = "00000000-0000-4000-A000-000000000000";
  // A header naming the scheme the client used (e.g. X-Forwarded-Proto behind a TLS proxy);
  // empty or absent: http. Only "http" and "https" are believed.
  std::string forwarded_protocol_header;
};

// GET / when the application router does not take it (spec 2.1 rootResponse).
struct RootResponseConfig {
  bool enabled = false;  // off: 404
  int status = 302;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Location
  std::string body;
};

// A file served on GET/HEAD at exactly `path`, with a strong ETag (304 on If-None-Match).
struct StaticAsset {
  std::string path;  // e.g. "/sp.js"
  std::string content_type;
  std::string body;
  std::string cache_control;  // empty: no Cache-Control
};

enum class SinkKind { kStdout, kRawLog };

struct CollectorConfig {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;
  unsigned threads = 0;  // 0: one I/O thread per core
  std::string admin_host = "127.0.0.1";
  uint16_t admin_port = 0;  // 0: no admin listener

  SinkKind sink = SinkKind::kStdout;
  std::filesystem::path raw_log_dir;
  bool fsync = true;  // durability: fsync (default) | buffered
  // Memory bound of the sink queue. With segment_max_bytes (a sealed segment is compressed in
  // memory) it keeps the whole collector under 64 MB.
  std::size_t max_pending_bytes = 16u << 20;
  std::size_t segment_max_bytes = 16u << 20;
  int64_t segment_max_age_seconds = 300;
  bool compress_segments = true;
  int64_t flush_interval_ms = 10;            // buffered mode: queue-to-disk delay (and memory)
  int64_t buffered_sync_interval_ms = 1000;  // buffered mode: fdatasync at most this often
  std::size_t max_record_bytes = 1'000'000;  // rawlog record limit (stdout: 1e9)
  std::filesystem::path stall_file;          // fault injection for tests (see QueuedSinkOptions)
  int64_t retry_after_seconds = 5;

  // Where size_violation bad rows go: empty = stderr, a path ending in '/' or an existing
  // directory = a file per process in it, otherwise that file (appended).
  std::string bad_output;

  CookieConfig cookie;
  CookieBounceConfig cookie_bounce;
  RootResponseConfig root_response;
  std::vector<StaticAsset> assets;  // set by the program (e.g. /sp.js), not from YAML
  DoNotTrackCookieConfig do_not_track_cookie;
  RedirectConfig redirect;
  CrossDomainConfig cross_domain;
  int64_t cors_max_age_seconds = 3600;
  std::map<std::string, std::string> paths;  // custom two-segment path → canonical path
  std::vector<std::string> trusted_proxies;  // IPs or CIDRs whose X-Forwarded-For is believed
  Limits limits;
};

// Parses the `collector` mapping of a furrow YAML file. Unknown keys and bad values are errors
// naming `where` (the file) and the key path, e.g. "furrow.yaml: collector.cookie.sam_site:
// unknown key".
Result<CollectorConfig> parse_collector_config(const YAML::Node& collector,
                                               const std::string& where);

// Loads a YAML file whose top level has a `collector` mapping (other top-level keys belong to
// other stages and are left to them).
Result<CollectorConfig> load_collector_config(const std::filesystem::path& file);

// Applies `--sink` syntax: "stdout" or "rawlog:DIR".
Status parse_sink_spec(const std::string& spec, CollectorConfig& config);

// Cross-field checks (redirect allow-list shape, limits ordering, regex validity, CIDRs).
Status validate(const CollectorConfig& config);

}  // namespace furrow::collector
