#include "run/auth.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "common/url_codec.h"

namespace furrow::run {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Host without its port ("[::1]:8080" → "::1", "localhost:80" → "localhost").
std::string_view host_name(std::string_view host) {
  if (host.starts_with('[')) {
    auto end = host.find(']');
    return end == std::string_view::npos ? host : host.substr(1, end - 1);
  }
  auto colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(':') == colon) host = host.substr(0, colon);
  return host;
}

std::string_view cookie_value(std::string_view cookies, std::string_view name) {
  while (!cookies.empty()) {
    auto semi = cookies.find(';');
    std::string_view part = trim(cookies.substr(0, semi));
    cookies = semi == std::string_view::npos ? std::string_view() : cookies.substr(semi + 1);
    auto eq = part.find('=');
    if (eq != std::string_view::npos && trim(part.substr(0, eq)) == name) {
      return trim(part.substr(eq + 1));
    }
  }
  return {};
}

// The cross-site rules shared by check() and login(): empty when the request may change state.
std::string cross_site_reason(const collector::HttpRequest& req) {
  const std::string_view site = header_value(req, "Sec-Fetch-Site");
  if (!site.empty() && !iequals(site, "same-origin") && !iequals(site, "none")) {
    return "cross-site request refused (Sec-Fetch-Site: " + std::string(site) + ")";
  }
  const std::string_view origin = header_value(req, "Origin");
  if (!origin.empty()) {
    const std::string_view host = header_value(req, "Host");
    std::string_view o = origin;
    if (o.starts_with("http://")) {
      o.remove_prefix(7);
    } else if (o.starts_with("https://")) {
      o.remove_prefix(8);
    } else {
      return "cross-origin request refused (Origin: " + std::string(origin.substr(0, 100)) + ")";
    }
    if (host.empty() || !iequals(o, host)) {
      return "cross-origin request refused (Origin does not match Host)";
    }
  }
  return {};
}

}  // namespace

bool secure_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

std::string random_token() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // OpenSSL's generator failing is not recoverable: refuse to hand out a guessable token.
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

bool is_weak_secret(std::string_view s) {
  static constexpr std::string_view kDefaults[] = {
      "changeme",         "change-me",    "password",
      "secret",           "token",        "admin",
      "furrow",           "default",      "changeme-changeme",
      "0123456789abcdef", "furrow-token", "furrow-secret"};
  if (s.size() < 16) return true;
  for (auto d : kDefaults) {
    if (iequals(s, d)) return true;
  }
  // One repeated character is no secret either.
  return std::all_of(s.begin(), s.end(), [&](char c) { return c == s.front(); });
}

Status check_secret(std::string_view secret, bool app_routes_loopback_only) {
  if (secret.empty() && app_routes_loopback_only) return Status::Ok();
  if (secret.empty()) {
    return Error{
        "the dashboard, /api/ and /micro/ would be reachable from other hosts without a secret: "
        "set run.auth.token (or FURROW_TOKEN) to a random string of 16+ characters, or bind "
        "to 127.0.0.1"};
  }
  if (is_weak_secret(secret)) {
    return Error{
        "the access secret is a default or shorter than 16 characters: choose a random one "
        "(e.g. `openssl rand -hex 32`)"};
  }
  return Status::Ok();
}

bool is_loopback_host(std::string_view host) {
  host = host_name(host);
  if (iequals(host, "localhost") || host == "::1") return true;
  return host.starts_with("127.") && host.find_first_not_of("0123456789.") == std::string::npos;
}

std::string_view header_value(const collector::HttpRequest& req, std::string_view name) {
  for (const auto& [k, v] : req.headers) {
    if (iequals(k, name)) return trim(v);
  }
  return {};
}

bool Auth::bearer_ok(const collector::HttpRequest& req) const {
  std::string_view authz = header_value(req, "Authorization");
  if (authz.size() < 7 || !iequals(authz.substr(0, 7), "Bearer ")) return false;
  return secure_equals(trim(authz.substr(7)), options_.secret);
}

const Auth::Session* Auth::session_for(const collector::HttpRequest& req, int64_t now_ms) const {
  std::string_view id = cookie_value(header_value(req, "Cookie"), kCookieName);
  if (id.size() != 64) return nullptr;
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.expires_ms <= now_ms) return nullptr;
  return &it->second;
}

Auth::Decision Auth::check(const collector::HttpRequest& req, bool state_changing,
                           int64_t now_ms) const {
  if (state_changing) {
    if (std::string why = cross_site_reason(req); !why.empty()) {
      return {Verdict::kForbidden, why};
    }
  }
  if (open()) {
    // Only reachable on loopback (check_secret); refuse other Host names (DNS rebinding).
    if (!is_loopback_host(header_value(req, "Host"))) {
      return {Verdict::kForbidden, "this server answers app routes for localhost only"};
    }
    return {};
  }
  if (bearer_ok(req)) return {};
  std::lock_guard lock(mu_);
  const Session* s = session_for(req, now_ms);
  if (s == nullptr) return {Verdict::kUnauthorized, "authentication required"};
  if (state_changing && !secure_equals(header_value(req, "X-CSRF-Token"), s->csrf)) {
    return {Verdict::kForbidden, "missing or wrong X-CSRF-Token"};
  }
  return {};
}

Auth::Decision Auth::login(const collector::HttpRequest& req, int64_t now_ms,
                           std::string& set_cookie) {
  if (std::string why = cross_site_reason(req); !why.empty()) return {Verdict::kForbidden, why};
  if (open()) return {Verdict::kForbidden, "no password is configured"};
  std::string password;
  std::string_view body = req.body;
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view part = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (part.starts_with("password=")) {
      password = common::url_decode(part.substr(9));
    }
  }
  if (!secure_equals(password, options_.secret)) {
    return {Verdict::kUnauthorized, "wrong password"};
  }
  std::string id = random_token();
  std::lock_guard lock(mu_);
  // Drop expired sessions, then the one expiring first while over the bound.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.expires_ms <= now_ms ? sessions_.erase(it) : std::next(it);
  }
  while (sessions_.size() >= options_.max_sessions && !sessions_.empty()) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.expires_ms < b.second.expires_ms;
    });
    sessions_.erase(oldest);
  }
  const int64_t ttl_ms = static_cast<int64_t>(options_.session_ttl.count()) * 1000;
  sessions_.emplace(id, Session{random_token(), now_ms + ttl_ms});
  set_cookie =
      std::string(kCookieName) + "=" + id + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
      std::to_string(options_.session_ttl.count()) + (options_.secure_cookie ? "; Secure" : "");
  return {};
}

void Auth::logout(const collector::HttpRequest& req, std::string& set_cookie) {
  std::string_view id = cookie_value(header_value(req, "Cookie"), kCookieName);
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(id);
    if (it != sessions_.end()) sessions_.erase(it);
  }
  set_cookie = std::string(kCookieName) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
}

std::string Auth::csrf_token(const collector::HttpRequest& req, int64_t now_ms) const {
  std::lock_guard lock(mu_);
  const Session* s = session_for(req, now_ms);
  return s == nullptr ? std::string() : s->csrf;
}

void add_security_headers(HeaderList& headers) {
  auto find = [&](std::string_view name) {
    return std::find_if(headers.begin(), headers.end(),
                        [&](const auto& h) { return iequals(h.first, name); });
  };
  auto csp = find("Content-Security-Policy");
  if (csp == headers.end()) {
    headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'self'; "
                         "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
                         "form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  } else if (csp->second.find("frame-ancestors") == std::string::npos) {
    csp->second += "; frame-ancestors 'none'";
  }
  if (find("X-Content-Type-Options") == headers.end()) {
    headers.emplace_back("X-Content-Type-Options", "nosniff");
  }
  if (find("Referrer-Policy") == headers.end()) {
    headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  if (find("X-Frame-Options") == headers.end()) headers.emplace_back("X-Frame-Options", "DENY");
  if (find("Cross-Origin-Opener-Policy") == headers.end()) {
    headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  }
  if (find("Cache-Control") == headers.end()) headers.emplace_back("Cache-Control", "no-store");
}

}  // namespace furrow::run
