#include "run/auth.h"

#include <gtest/gtest.h>

#include <memory>

#include "run/app_router.h"

namespace furrow::run {
namespace {

using collector::Header;

constexpr std::string_view kSecret = "d41d8cd98f00b204e9800998ecf8427e";
constexpr int64_t kNow = 1'700'000'000'000;

// An HttpRequest that owns its headers.
struct Req {
  std::string method = "GET";
  std::string target = "/micro/all";
  std::vector<std::pair<std::string, std::string>> owned = {{"Host", "127.0.0.1:8080"}};
  std::string body;
  std::vector<Header> views;
  collector::HttpRequest get() {
    views.clear();
    for (auto& [k, v] : owned) views.emplace_back(k, v);
    return collector::HttpRequest{method, target, views, body, "127.0.0.1"};
  }
  Req& header(std::string k, std::string v) {
    owned.emplace_back(std::move(k), std::move(v));
    return *this;
  }
};

std::string header_of(const HeaderList& h, std::string_view name) {
  for (auto& [k, v] : h) {
    if (k == name) return v;
  }
  return {};
}

TEST(Secrets, WeakOrMissingSecretsAreRefusedUnlessLoopback) {
  EXPECT_TRUE(check_secret("", true).ok());
  EXPECT_FALSE(check_secret("", false).ok());
  EXPECT_FALSE(check_secret("changeme", false).ok());
  EXPECT_FALSE(check_secret("CHANGEME", true).ok());  // a default is refused everywhere
  EXPECT_FALSE(check_secret("short-secret", false).ok());
  EXPECT_FALSE(check_secret("aaaaaaaaaaaaaaaaaaaaaaaa", false).ok());
  EXPECT_TRUE(check_secret(kSecret, false).ok());
  EXPECT_TRUE(is_loopback_host("127.0.0.1:8080"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("[::1]:80"));
  EXPECT_FALSE(is_loopback_host("evil.example"));
  EXPECT_FALSE(is_loopback_host("127.0.0.1.evil.example"));
  EXPECT_FALSE(is_loopback_host(""));
}

TEST(Auth, OpenModeServesLoopbackHostsOnlyAndStillChecksCsrf) {
  Auth auth({});
  Req r;
  EXPECT_EQ(auth.check(r.get(), false, kNow).verdict, Auth::Verdict::kAllow);
  Req rebound;
  rebound.owned = {{"Host", "attacker.example:8080"}};
  EXPECT_EQ(auth.check(rebound.get(), false, kNow).verdict, Auth::Verdict::kForbidden);
  Req cross;
  cross.method = "POST";
  cross.header("Origin", "https://attacker.example");
  EXPECT_EQ(auth.check(cross.get(), true, kNow).verdict, Auth::Verdict::kForbidden);
  Req fetch_meta;
  fetch_meta.header("Sec-Fetch-Site", "cross-site");
  EXPECT_EQ(auth.check(fetch_meta.get(), true, kNow).verdict, Auth::Verdict::kForbidden);
  Req same;
  same.method = "POST";
  same.header("Origin", "http://127.0.0.1:8080").header("Sec-Fetch-Site", "same-origin");
  EXPECT_EQ(auth.check(same.get(), true, kNow).verdict, Auth::Verdict::kAllow);
}

TEST(Auth, BearerTokenOrSessionCookieIsRequired) {
  Auth auth({std::string(kSecret)});
  Req none;
  EXPECT_EQ(auth.check(none.get(), false, kNow).verdict, Auth::Verdict::kUnauthorized);
  Req wrong;
  wrong.header("Authorization", "Bearer nope");
  EXPECT_EQ(auth.check(wrong.get(), false, kNow).verdict, Auth::Verdict::kUnauthorized);
  Req right;
  right.owned = {{"Host", "analytics.example"}};
  right.header("authorization", "bearer " + std::string(kSecret));
  EXPECT_EQ(auth.check(right.get(), true, kNow).verdict, Auth::Verdict::kAllow);
  Req forged;
  forged.header("Cookie", std::string("furrow_session=") + std::string(64, 'a'));
  EXPECT_EQ(auth.check(forged.get(), false, kNow).verdict, Auth::Verdict::kUnauthorized);
}

TEST(Auth, LoginSetsAStrictSessionCookieAndCsrfTokenIsNeededToChangeState) {
  AuthOptions o;
  o.secret = std::string(kSecret);
  o.session_ttl = std::chrono::seconds(60);
  Auth auth(o);
  std::string cookie;
  Req bad;
  bad.method = "POST";
  bad.body = "password=wrong";
  EXPECT_EQ(auth.login(bad.get(), kNow, cookie).verdict, Auth::Verdict::kUnauthorized);
  Req cross;
  cross.method = "POST";
  cross.body = "password=" + std::string(kSecret);
  cross.header("Origin", "http://evil.example");
  EXPECT_EQ(auth.login(cross.get(), kNow, cookie).verdict, Auth::Verdict::kForbidden);
  Req good;
  good.method = "POST";
  good.body = "user=x&password=" + std::string(kSecret);
  good.header("Origin", "http://127.0.0.1:8080");
  ASSERT_EQ(auth.login(good.get(), kNow, cookie).verdict, Auth::Verdict::kAllow);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  const std::string id = cookie.substr(0, cookie.find(';'));
  Req reader;
  reader.header("Cookie", "other=1; " + id);
  EXPECT_EQ(auth.check(reader.get(), false, kNow).verdict, Auth::Verdict::kAllow);
  const std::string csrf = auth.csrf_token(reader.get(), kNow);
  ASSERT_EQ(csrf.size(), 64u);
  // Changing state with the cookie alone is refused; with the token it is allowed.
  EXPECT_EQ(auth.check(reader.get(), true, kNow).verdict, Auth::Verdict::kForbidden);
  reader.header("X-CSRF-Token", csrf);
  EXPECT_EQ(auth.check(reader.get(), true, kNow).verdict, Auth::Verdict::kAllow);
  // Sessions expire.
  EXPECT_EQ(auth.check(reader.get(), false, kNow + 61'000).verdict, Auth::Verdict::kUnauthorized);
  std::string gone;
  auth.logout(reader.get(), gone);
  EXPECT_NE(gone.find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(auth.check(reader.get(), false, kNow).verdict, Auth::Verdict::kUnauthorized);
}

TEST(SecurityHeaders, AddedOnceAndFramingAlwaysForbidden) {
  HeaderList h;
  add_security_headers(h);
  EXPECT_NE(header_of(h, "Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_NE(header_of(h, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(header_of(h, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header_of(h, "Referrer-Policy"), "no-referrer");
  HeaderList dash = {{"Content-Security-Policy", "default-src 'self'"}};
  add_security_headers(dash);
  EXPECT_EQ(header_of(dash, "Content-Security-Policy"),
            "default-src 'self'; frame-ancestors 'none'");
  const std::size_t n = dash.size();
  add_security_headers(dash);
  EXPECT_EQ(dash.size(), n);
}

// ---- the router --------------------------------------------------------------------------

struct Captured {
  int calls = 0;
  AppReply reply;
};

class RouterTest : public ::testing::Test {
 protected:
  void make(std::string secret) {
    AuthOptions o;
    o.secret = std::move(secret);
    auth_ = std::make_unique<Auth>(o);
    router_ = std::make_unique<AppRouter>(
        AppRouterOptions{}, *auth_, micro_, [this](const collector::HttpRequest& req, AppReply& r) {
          if (req.target != "/" && !req.target.starts_with("/api/")) return false;
          ++dashboard_calls_;
          r.content_type = "text/html";
          r.body = "dashboard";
          r.headers.emplace_back("Content-Security-Policy", "default-src 'self'");
          return true;
        });
    router_->now_ms = [] { return kNow; };
  }
  bool send(Req& r, Captured& c) {
    return router_->handle(r.get(), [&c](AppReply rep) {
      ++c.calls;
      c.reply = std::move(rep);
    });
  }
  MicroStore micro_;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<AppRouter> router_;
  int dashboard_calls_ = 0;
};

TEST_F(RouterTest, CollectorRoutesAreNotClaimed) {
  make("");
  for (const char* t : {"/com.snowplowanalytics.snowplow/tp2", "/i?e=pv", "/health", "/r/tp2"}) {
    Req r;
    r.target = t;
    Captured c;
    EXPECT_FALSE(send(r, c)) << t;
    EXPECT_EQ(c.calls, 0);
  }
}

TEST_F(RouterTest, MicroRoutesAnswerWithSecurityHeaders) {
  make("");
  Req all;
  Captured c;
  ASSERT_TRUE(send(all, c));
  EXPECT_EQ(c.calls, 1);
  EXPECT_EQ(c.reply.status, 200);
  EXPECT_EQ(c.reply.body, R"({"total":0,"good":0,"bad":0})");
  EXPECT_FALSE(header_of(c.reply.headers, "Content-Security-Policy").empty());
  EXPECT_EQ(header_of(c.reply.headers, "X-Content-Type-Options"), "nosniff");
  Req bad_filter;
  bad_filter.method = "POST";
  bad_filter.target = "/micro/good";
  bad_filter.body = "{\"limit\":-1}";
  Captured c2;
  ASSERT_TRUE(send(bad_filter, c2));
  EXPECT_EQ(c2.reply.status, 400);
  Req unknown;
  unknown.target = "/micro/nothing";
  Captured c3;
  ASSERT_TRUE(send(unknown, c3));
  EXPECT_EQ(c3.reply.status, 404);
  Req del;
  del.method = "DELETE";
  Captured c4;
  ASSERT_TRUE(send(del, c4));
  EXPECT_EQ(c4.reply.status, 405);
}

TEST_F(RouterTest, WaitAnswersLaterWithoutBlocking) {
  make("");
  Req w;
  w.target = "/micro/wait?count=1&timeout=60000";
  Captured c;
  ASSERT_TRUE(send(w, c));
  EXPECT_EQ(c.calls, 0);  // pending: handle() returned at once
  std::string line = "x";
  micro_.add({line}, {});
  EXPECT_EQ(c.calls, 1);
  EXPECT_EQ(c.reply.status, 200);
  EXPECT_NE(c.reply.body.find("\"satisfied\":true"), std::string::npos);
  EXPECT_FALSE(header_of(c.reply.headers, "Content-Security-Policy").empty());
  Req timeout;
  timeout.target = "/micro/wait?count=5&timeout=0";
  Captured t;
  ASSERT_TRUE(send(timeout, t));
  micro_.expire(std::chrono::steady_clock::now() + std::chrono::milliseconds(1));
  EXPECT_EQ(t.calls, 1);
  EXPECT_EQ(t.reply.status, 408);
  Req junk;
  junk.target = "/micro/wait?count=abc";
  Captured j;
  ASSERT_TRUE(send(junk, j));
  EXPECT_EQ(j.reply.status, 400);
}

TEST_F(RouterTest, ResetIsRefusedCrossSite) {
  make("");
  std::string line = "x";
  micro_.add({line}, {});
  Req r;
  r.target = "/micro/reset";
  r.header("Sec-Fetch-Site", "cross-site");
  Captured c;
  ASSERT_TRUE(send(r, c));
  EXPECT_EQ(c.reply.status, 403);
  EXPECT_EQ(micro_.counts().good, 1u);
  Req ok;
  ok.target = "/micro/reset";
  Captured c2;
  ASSERT_TRUE(send(ok, c2));
  EXPECT_EQ(c2.reply.status, 200);
  EXPECT_EQ(micro_.counts().good, 0u);
}

TEST_F(RouterTest, TokenProtectsMicroApiAndDashboard) {
  make(std::string(kSecret));
  Req micro;
  Captured c;
  ASSERT_TRUE(send(micro, c));
  EXPECT_EQ(c.reply.status, 401);
  EXPECT_FALSE(header_of(c.reply.headers, "WWW-Authenticate").empty());
  Req api;
  api.target = "/api/summary";
  Captured a;
  ASSERT_TRUE(send(api, a));
  EXPECT_EQ(a.reply.status, 401);
  EXPECT_EQ(dashboard_calls_, 0);  // the API does no work for an anonymous caller
  Req page;
  page.target = "/";
  page.header("Accept", "text/html");
  Captured p;
  ASSERT_TRUE(send(page, p));
  EXPECT_EQ(p.reply.status, 303);
  EXPECT_EQ(header_of(p.reply.headers, "Location"), "/login");
  Req authed;
  authed.target = "/api/summary";
  authed.header("Authorization", "Bearer " + std::string(kSecret));
  Captured ok;
  ASSERT_TRUE(send(authed, ok));
  EXPECT_EQ(ok.reply.status, 200);
  EXPECT_EQ(ok.reply.body, "dashboard");
  EXPECT_EQ(header_of(ok.reply.headers, "Content-Security-Policy"),
            "default-src 'self'; frame-ancestors 'none'");
}

TEST_F(RouterTest, LoginFlowGivesACookieThatOpensTheDashboard) {
  make(std::string(kSecret));
  Req form;
  form.target = "/login";
  Captured f;
  ASSERT_TRUE(send(form, f));
  EXPECT_EQ(f.reply.status, 200);
  EXPECT_NE(f.reply.body.find("<form"), std::string::npos);
  Req post;
  post.method = "POST";
  post.target = "/login";
  post.body = "password=" + std::string(kSecret);
  post.header("Origin", "http://127.0.0.1:8080");
  Captured l;
  ASSERT_TRUE(send(post, l));
  ASSERT_EQ(l.reply.status, 303);
  const std::string cookie = header_of(l.reply.headers, "Set-Cookie");
  ASSERT_FALSE(cookie.empty());
  Req page;
  page.target = "/";
  page.header("Cookie", cookie.substr(0, cookie.find(';')));
  Captured p;
  ASSERT_TRUE(send(page, p));
  EXPECT_EQ(p.reply.status, 200);
  Req session;
  session.target = "/auth/session";
  session.header("Cookie", cookie.substr(0, cookie.find(';')));
  Captured s;
  ASSERT_TRUE(send(session, s));
  EXPECT_EQ(s.reply.status, 200);
  EXPECT_NE(s.reply.body.find("\"csrf\":\""), std::string::npos);
}

}  // namespace
}  // namespace furrow::run
