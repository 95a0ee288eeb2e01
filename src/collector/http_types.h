// The collector's view of one HTTP exchange, independent of the HTTP library, so that routing,
// cookies, CORS, redirects and payload building are testable and fuzzable without sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace furrow::collector {

using Header = std::pair<std::string_view, std::string_view>;  // name as received, value

struct HttpRequest {
  std::string_view method;  // upper case as received ("GET", "POST", ...)
  std::string_view target;  // raw request target: path plus optional '?query'
  std::span<const Header> headers;
  std::string_view body;
  std::string_view peer_ip;  // TCP peer address, empty if unknown
};

// Route classes, for metrics (labels in route_name()).
enum class Route : uint8_t {
  kPixel,         // GET/HEAD /i, /ice.png
  kGetTracking,   // GET/HEAD /{vendor}/{version}
  kPostTracking,  // POST /{vendor}/{version}
  kRedirect,      // /r/...
  kOptions,
  kHealth,
  kSinkHealth,
  kRobots,
  kCrossDomain,
  kNotFound,
  kRejected,  // refused before routing (too large, timed out, malformed)
  kAsset,     // a configured static asset (CollectorConfig::assets)
  kRoot,      // GET / (CollectorConfig::root_response)
  kApp,       // taken by the application router (Server::set_app_router)
  kCount,
};
std::string_view route_name(Route r);

struct HttpResponse {
  int status = 200;
  std::string_view content_type;  // empty: no Content-Type
  std::string body;
  bool no_cache = false;     // Cache-Control: no-cache, no-store, must-revalidate
  std::string set_cookie;    // full Set-Cookie value, empty: none
  std::string allow_origin;  // Access-Control-Allow-Origin, empty: none
  bool allow_credentials = false;
  bool preflight = false;  // adds Allow-Headers / Allow-Methods / Max-Age
  int64_t cors_max_age = 0;
  std::string location;            // 302 target, validated (no CR/LF/NUL, printable ASCII only)
  int64_t retry_after = 0;         // seconds, 0: none
  bool close = false;              // close the connection after this response
  std::string_view cache_control;  // Cache-Control value (assets), empty: none
  std::string_view etag;           // ETag value including quotes, empty: none
  // More headers, validated at configuration time (root response); they live in the config.
  std::span<const std::pair<std::string, std::string>> extra_headers;

  void clear() {
    status = 200;
    content_type = {};
    body.clear();
    no_cache = false;
    set_cookie.clear();
    allow_origin.clear();
    allow_credentials = false;
    preflight = false;
    cors_max_age = 0;
    location.clear();
    retry_after = 0;
    close = false;
    cache_control = {};
    etag = {};
    extra_headers = {};
  }
};

// What handling a request produced: the response, the sink records to store before answering
// (the response is sent only once they are stored; a refusal turns it into a 503), and
// size_violation bad rows to write to the bad output.
struct Outcome {
  Route route = Route::kNotFound;
  HttpResponse response;
  std::vector<std::string> records;
  std::vector<std::string> bad_rows;
  bool wants_sink_health = false;  // /sink-health: the server fills status and body

  void clear() {
    route = Route::kNotFound;
    response.clear();
    records.clear();
    bad_rows.clear();
    wants_sink_health = false;
  }
};

// A response produced by the application router (see AppRouter). The server adds
// Content-Length, Connection and (for HEAD) drops the body; 204 and 304 never carry a body.
struct AppResponse {
  int status = 200;
  std::string content_type;  // empty: no Content-Type
  std::string body;
  // Extra headers (CSP, Cache-Control, Set-Cookie, ...). Names or values containing CR, LF or
  // NUL are dropped, so a header can never split the response.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Delivers the application's answer to one request. Call it exactly once, from any thread,
// possibly long after the router returned (e.g. a long poll). When the client has disconnected
// meanwhile, or the server has stopped, it is a harmless no-op; calls after the first are ignored.
using AppRespond = std::function<void(AppResponse&&)>;

// Asked first for every complete request (every method and path, including the collector's own
// routes: the application must decline what it does not serve). Returns true to take the request,
// then `respond` must be called once; false lets the collector route it as usual. The request's
// string_views are valid only during the call: copy what you keep. Runs on an I/O thread, so it
// must not block; slow work goes elsewhere and answers through `respond`.
using AppRouter = std::function<bool(const HttpRequest& req, AppRespond respond)>;

}  // namespace furrow::collector
