// The web dashboard of `furrow run`: a single-page app (web/, bundled by esbuild at build time and
// embedded in this library) and the JSON API under /api/ it reads (docs/api.md).
//
// The API answers from pre-aggregated rollup tables (dash_*, created in the same SQLite database)
// that refresh() brings up to date incrementally from atomic_events and bad_rows, so every query
// touches at most a few thousand rows whatever the size of atomic_events (rollup.h has the design).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "collector/http_types.h"
#include "common/result.h"

namespace furrow::dashboard {

// What handle() produces: the collector's app-router response (status, content type, body,
// extra headers).
using Response = collector::AppResponse;

struct Options {
  // The SQLite database furrow run loads (WAL mode; atomic_events, bad_rows, ...). Created with the
  // atomic schema when missing.
  std::filesystem::path db;
  // Where the SPA is served; always ends with '/' after open() (a missing one is added).
  std::string base_path = "/";
  // Wall clock in ms since the epoch, for the default time range and the live count; tests set it.
  std::function<int64_t()> now_ms;
};

// The Content-Security-Policy every response carries.
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

class Dashboard {
 public:
  // Opens (creating if needed) the database, creates the rollup tables. Errors name the file.
  static Result<std::unique_ptr<Dashboard>> open(const Options& options);
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // Serves the SPA (base_path, base_path + "index.html", base_path + "assets/...") and the JSON
  // API under /api/. Returns false, leaving `out` untouched, when the path is not the dashboard's.
  // Thread-safe: each call borrows a read-only SQLite connection from a small pool; it never
  // waits for refresh() (WAL readers are not blocked by the writer). Every response carries
  // kContentSecurityPolicy, X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer.
  bool handle(const collector::HttpRequest& req, Response& out);

  // Brings the rollups up to date with what was committed to atomic_events and bad_rows since the
  // last call. Incremental: reads only rows with a higher load_id (bad rows: rowid) than the last
  // call, in transactions of at most ~200k events, each of which moves the watermark, so an
  // interrupted refresh resumes where it stopped. Serialised internally; call from one thread
  // (furrow run: its loader thread after commits) or several.
  Status refresh();

  // Interrupt hook: while `check` returns true, a refresh in progress stops at its next SQLite
  // step (checked every 1,000 virtual-machine steps, from the refreshing thread), rolls back
  // its current chunk and returns an error; the chunks it finished stay. furrow run passes
  // Engine::should_yield, so a starved refresh gives its read snapshot back. An empty function
  // removes the hook. Not for API requests (they never use the refresh's connection).
  void interrupt_when(std::function<bool()> check);

 private:
  struct Impl;
  explicit Dashboard(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace furrow::dashboard
