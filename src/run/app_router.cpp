#include "run/app_router.h"

#include <charconv>
#include <memory>

#include "common/url_codec.h"
#include "event/bad_row.h"

namespace furrow::run {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kJson = "application/json";

AppReply json_reply(int status, std::string body) {
  AppReply r;
  r.status = status;
  r.content_type = std::string(kJson);
  r.body = std::move(body);
  return r;
}

// The value of query parameter `name` (not decoded: the ones we read are numbers).
std::string_view query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=') {
      return part.substr(name.size() + 1);
    }
  }
  return {};
}

bool parse_u64(std::string_view s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

const char kLoginPage[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>furrow: sign in</title>"
    "<meta name=\"viewport\" content=\"width=device-width\"></head><body>"
    "<main><h1>furrow</h1><form method=\"post\" action=\"/login\">"
    "<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" "
    "autofocus required></label> <button type=\"submit\">Sign in</button></form>%MSG%</main>"
    "</body></html>";

AppReply login_page(int status, std::string_view message) {
  std::string html = kLoginPage;
  const std::string msg = message.empty() ? std::string() : "<p>" + std::string(message) + "</p>";
  html.replace(html.find("%MSG%"), 5, msg);
  AppReply r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(html);
  return r;
}

bool wants_html(const collector::HttpRequest& req) {
  return header_value(req, "Accept").find("text/html") != std::string_view::npos;
}

}  // namespace

AppReply json_error(int status, std::string_view message) {
  std::string body = "{\"error\":";
  event::append_json_string(message, body);
  body += '}';
  return json_reply(status, std::move(body));
}

AppRouter::AppRouter(AppRouterOptions options, Auth& auth, MicroStore& micro, DashboardFn dashboard)
    : options_(std::move(options)), auth_(auth), micro_(micro), dashboard_(std::move(dashboard)) {
  if (options_.dashboard_path.empty() || options_.dashboard_path.front() != '/') {
    options_.dashboard_path.insert(options_.dashboard_path.begin(), '/');
  }
  now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

bool AppRouter::handle(const collector::HttpRequest& req, ReplyFn send) {
  std::string_view target = req.target;
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query =
      q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  // Every app answer gets the security headers, whichever thread sends it.
  ReplyFn reply = [send = std::move(send)](AppReply r) mutable {
    add_security_headers(r.headers);
    send(std::move(r));
  };

  if (path.starts_with("/micro/") && options_.micro_enabled) {
    micro(req, path, query, reply);
    return true;
  }
  if (path == "/login" || path == "/logout" || path == "/auth/session") {
    login_routes(req, path, reply);
    return true;
  }
  const bool is_api = path.starts_with("/api/");
  if (!dashboard_) return false;
  if (is_api) {
    const auto d = auth_.check(req, req.method != "GET" && req.method != "HEAD", now_ms());
    if (d.verdict != Auth::Verdict::kAllow) {
      AppReply r = json_error(d.verdict == Auth::Verdict::kForbidden ? 403 : 401, d.reason);
      if (d.verdict == Auth::Verdict::kUnauthorized) {
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"furrow\"");
      }
      reply(std::move(r));
      return true;
    }
  }
  // The dashboard claims its own paths; only what it claims is checked and answered here.
  AppReply r;
  if (!dashboard_(req, r)) {
    if (!is_api) return false;
    reply(json_error(404, "no such API route"));
    return true;
  }
  if (!is_api) {
    const auto d = auth_.check(req, req.method != "GET" && req.method != "HEAD", now_ms());
    if (d.verdict == Auth::Verdict::kUnauthorized && wants_html(req)) {
      AppReply redirect;
      redirect.status = 303;
      redirect.headers.emplace_back("Location", "/login");
      reply(std::move(redirect));
      return true;
    }
    if (d.verdict != Auth::Verdict::kAllow) {
      reply(json_error(d.verdict == Auth::Verdict::kForbidden ? 403 : 401, d.reason));
      return true;
    }
  }
  reply(std::move(r));
  return true;
}

void AppRouter::micro(const collector::HttpRequest& req, std::string_view path,
                      std::string_view query, ReplyFn& reply) {
  const std::string_view name = path.substr(7);
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool post = req.method == "POST";
  if (!get && !post) {
    AppReply r = json_error(405, "method not allowed");
    r.headers.emplace_back("Allow", "GET, POST");
    reply(std::move(r));
    return;
  }
  const bool resets = name == "reset";
  const auto d = auth_.check(req, post || resets, now_ms());
  if (d.verdict != Auth::Verdict::kAllow) {
    AppReply r = json_error(d.verdict == Auth::Verdict::kForbidden ? 403 : 401, d.reason);
    if (d.verdict == Auth::Verdict::kUnauthorized) {
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"furrow\"");
    }
    reply(std::move(r));
    return;
  }
  if (name == "all") {
    reply(json_reply(200, micro_.all_json()));
  } else if (name == "good") {
    auto f = parse_good_filter(post ? req.body : std::string_view());
    if (!f.ok()) {
      reply(json_error(400, f.error().message));
      return;
    }
    reply(json_reply(200, micro_.good_json(*f)));
  } else if (name == "bad") {
    auto f = parse_bad_filter(post ? req.body : std::string_view());
    if (!f.ok()) {
      reply(json_error(400, f.error().message));
      return;
    }
    reply(json_reply(200, micro_.bad_json(*f)));
  } else if (resets) {
    micro_.reset();
    reply(json_reply(200, micro_.all_json()));
  } else if (name == "wait") {
    uint64_t count = 1;
    uint64_t timeout_ms = static_cast<uint64_t>(options_.default_wait.count());
    const std::string_view c = query_param(query, "count");
    const std::string_view t = query_param(query, "timeout");
    if ((!c.empty() && !parse_u64(c, count)) || (!t.empty() && !parse_u64(t, timeout_ms))) {
      reply(json_error(400, "count and timeout must be non-negative integers"));
      return;
    }
    timeout_ms = std::min<uint64_t>(timeout_ms, static_cast<uint64_t>(options_.max_wait.count()));
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    auto shared = std::make_shared<ReplyFn>(std::move(reply));
    const bool ok = micro_.wait(count, deadline, [shared, count](bool satisfied, uint64_t good) {
      std::string body = "{\"satisfied\":" + std::string(satisfied ? "true" : "false") +
                         ",\"good\":" + std::to_string(good) +
                         ",\"count\":" + std::to_string(count) + "}";
      // 408 tells a test that the events it waited for did not all arrive in time.
      (*shared)(json_reply(satisfied ? 200 : 408, std::move(body)));
    });
    if (!ok) (*shared)(json_error(503, "too many waiting requests"));
  } else {
    reply(json_error(404, "unknown Micro endpoint"));
  }
}

void AppRouter::login_routes(const collector::HttpRequest& req, std::string_view path,
                             ReplyFn& reply) {
  const int64_t now = now_ms();
  if (path == "/login") {
    if (req.method == "GET" || req.method == "HEAD") {
      reply(login_page(200, auth_.open() ? "No password is configured: the app routes are open "
                                           "on this loopback address."
                                         : ""));
      return;
    }
    if (req.method != "POST") {
      reply(json_error(405, "method not allowed"));
      return;
    }
    std::string cookie;
    const auto d = auth_.login(req, now, cookie);
    if (d.verdict == Auth::Verdict::kForbidden) {
      reply(json_error(403, d.reason));
      return;
    }
    if (d.verdict == Auth::Verdict::kUnauthorized) {
      reply(login_page(401, "Wrong password."));
      return;
    }
    AppReply r;
    r.status = 303;
    r.headers.emplace_back("Set-Cookie", cookie);
    r.headers.emplace_back("Location", options_.dashboard_path);
    reply(std::move(r));
    return;
  }
  if (path == "/logout") {
    if (req.method != "POST") {
      reply(json_error(405, "method not allowed"));
      return;
    }
    const auto d = auth_.check(req, true, now);
    if (d.verdict == Auth::Verdict::kForbidden) {
      reply(json_error(403, d.reason));
      return;
    }
    std::string cookie;
    auth_.logout(req, cookie);
    AppReply r;
    r.status = 303;
    r.headers.emplace_back("Set-Cookie", cookie);
    r.headers.emplace_back("Location", "/login");
    reply(std::move(r));
    return;
  }
  // /auth/session: the anti-CSRF token the dashboard sends with state-changing requests.
  const auto d = auth_.check(req, false, now);
  if (d.verdict != Auth::Verdict::kAllow) {
    reply(json_error(d.verdict == Auth::Verdict::kForbidden ? 403 : 401, d.reason));
    return;
  }
  std::string body = "{\"csrf\":";
  event::append_json_string(auth_.csrf_token(req, now), body);
  body += ",\"open\":";
  body += auth_.open() ? "true}" : "false}";
  reply(json_reply(200, std::move(body)));
}

}  // namespace furrow::run
