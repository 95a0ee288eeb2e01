// Access control for the app routes of `furrow run` (dashboard, /api/, /micro/); the collector
// routes stay public and never pass through here.
//
// Policy:
//  - With a secret (config `run.auth.token` or env FURROW_TOKEN): every app request needs
//    `Authorization: Bearer <secret>` or the session cookie a successful login (POST /login with
//    the secret as `password`) sets. Secrets are compared in constant time.
//  - Without a secret the app routes are open, which start-up allows only when they are served on
//    a loopback address (check_secret); then the Host header must name a loopback host, so a
//    DNS-rebinding page cannot reach them either.
//  - CSRF, on every state-changing route (POST /micro/*, GET /micro/reset, login, logout): a
//    cross-site request is refused by its Origin (must be this Host) and Sec-Fetch-Site headers;
//    a request authenticated by the cookie (SameSite=Strict, HttpOnly) must also carry the
//    session's anti-CSRF token in `X-CSRF-Token` (GET /auth/session returns it).
//  - Every app response carries the security headers (add_security_headers).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/http_types.h"
#include "common/result.h"

namespace furrow::run {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// True for an empty secret, a well-known default ("changeme", "password", ...) or one shorter
// than 16 characters.
bool is_weak_secret(std::string_view secret);
// Start-up rule: app routes reachable from other hosts need a strong secret.
Status check_secret(std::string_view secret, bool app_routes_loopback_only);
// True for 127.0.0.0/8, ::1, "localhost".
bool is_loopback_host(std::string_view host);

// The value of the first header named `name` (case-insensitive), empty if absent.
std::string_view header_value(const collector::HttpRequest& req, std::string_view name);

struct AuthOptions {
  std::string secret;  // empty: open (loopback only)
  std::chrono::seconds session_ttl{12 * 3600};
  std::size_t max_sessions = 1000;
  bool secure_cookie = false;  // add `Secure` (when served behind HTTPS)
};

class Auth {
 public:
  explicit Auth(AuthOptions options) : options_(std::move(options)) {}

  enum class Verdict { kAllow, kUnauthorized, kForbidden };
  struct Decision {
    Verdict verdict = Verdict::kAllow;
    std::string reason;  // for the error body
  };
  // `state_changing`: the route changes state (CSRF rules apply).
  Decision check(const collector::HttpRequest& req, bool state_changing, int64_t now_ms) const;

  // POST /login (application/x-www-form-urlencoded `password=...`). On success `set_cookie` is
  // the session cookie; otherwise the decision says why (403 cross-site, 401 wrong password).
  Decision login(const collector::HttpRequest& req, int64_t now_ms, std::string& set_cookie);
  // POST /logout: forgets the session; `set_cookie` expires the cookie.
  void logout(const collector::HttpRequest& req, std::string& set_cookie);
  // The anti-CSRF token of the request's session, empty when there is none.
  std::string csrf_token(const collector::HttpRequest& req, int64_t now_ms) const;

  bool open() const { return options_.secret.empty(); }

  static constexpr std::string_view kCookieName = "furrow_session";

 private:
  struct Session {
    std::string csrf;
    int64_t expires_ms = 0;
  };
  // The session the cookie names, or null.
  const Session* session_for(const collector::HttpRequest& req, int64_t now_ms) const;
  bool bearer_ok(const collector::HttpRequest& req) const;

  AuthOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Session, std::less<>> sessions_;
};

// Constant-time equality (length leaks, content does not).
bool secure_equals(std::string_view a, std::string_view b);
// 32 random bytes from OpenSSL as 64 hex digits.
std::string random_token();

// Adds the headers every app response carries, keeping a Content-Security-Policy already present
// (the dashboard's) but making sure it forbids framing.
void add_security_headers(HeaderList& headers);

}  // namespace furrow::run
