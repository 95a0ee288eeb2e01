// The app routes `furrow run` serves beside the collector, through the collector server's app
// router: the Micro API (/micro/...), the login endpoints (/login, /logout, /auth/session) and the
// dashboard with its /api/ (delegated). Every route passes Auth first; every answer carries the
// security headers. Requests that are not app routes are left to the collector (handle() returns
// false), so tracking endpoints stay public.
//
// /micro/wait answers asynchronously: handle() registers a waiter and returns at once, and the
// reply is sent from the loader thread (when enough events arrived) or the timer (on timeout), so
// an I/O thread is never blocked.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "collector/http_types.h"
#include "run/auth.h"
#include "run/micro.h"

namespace furrow::run {

struct AppReply {
  int status = 200;
  std::string content_type;
  std::string body;
  HeaderList headers;
};
// Sends the reply; callable once, from any thread.
using ReplyFn = std::function<void(AppReply)>;
// The dashboard: fills the reply and returns true when it serves the request's path.
using DashboardFn = std::function<bool(const collector::HttpRequest&, AppReply&)>;

struct AppRouterOptions {
  // Where the dashboard lives; /api/ is always at the root.
  std::string dashboard_path = "/";
  std::chrono::milliseconds max_wait{60'000};
  std::chrono::milliseconds default_wait{10'000};
  bool micro_enabled = true;
};

class AppRouter {
 public:
  AppRouter(AppRouterOptions options, Auth& auth, MicroStore& micro, DashboardFn dashboard);

  // True when the request is an app route; `reply` is then called exactly once (maybe later, from
  // another thread). False: not ours, `reply` is never called.
  bool handle(const collector::HttpRequest& req, ReplyFn reply);

  // Current time in ms since the epoch (tests replace it).
  std::function<int64_t()> now_ms;

 private:
  void micro(const collector::HttpRequest& req, std::string_view path, std::string_view query,
             ReplyFn& reply);
  void login_routes(const collector::HttpRequest& req, std::string_view path, ReplyFn& reply);

  AppRouterOptions options_;
  Auth& auth_;
  MicroStore& micro_;
  DashboardFn dashboard_;
};

// A JSON error body {"error": message}.
AppReply json_error(int status, std::string_view message);

}  // namespace furrow::run
