// The collector's HTTP/1.1 server (Boost.Beast/Asio; this is the only translation unit that
// includes Beast). One I/O thread per configured thread, each with its own io_context and its own
// SO_REUSEPORT listener on the same port. Requests go through Handler; tracking requests answer
// only once the RawSink has stored their records (503 + Retry-After when it refuses).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "collector/bad_output.h"
#include "collector/handler.h"
#include "collector/metrics.h"
#include "common/result.h"
#include "sinks/raw_sink.h"

namespace furrow::collector {

// Blocks SIGTERM and SIGINT in the calling thread and in every thread it creates afterwards;
// call first thing, so that Server::wait() can collect them.
void block_termination_signals();

class Server {
 public:
  Server(const Handler& handler, sinks::RawSink& sink, BadOutput& bad, Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Installs the application router (see AppRouter in http_types.h); call before start().
  // Without one, requests go straight to the collector's routes. Requests handed to the
  // application keep their connection open (without blocking an I/O thread) until it responds;
  // they do not hold up a graceful shutdown (pending ones are dropped when the server stops).
  void set_app_router(AppRouter router);

  // Binds the public (and, if configured, admin) listeners and starts the I/O threads.
  Status start();
  uint16_t port() const;
  uint16_t admin_port() const;

  // Blocks until SIGTERM/SIGINT (or stop()), then shuts down gracefully: stops accepting,
  // finishes in-flight requests (at most `grace`), and returns. The caller then closes the sink.
  void wait(std::chrono::milliseconds grace = std::chrono::milliseconds(8000));
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace furrow::collector
