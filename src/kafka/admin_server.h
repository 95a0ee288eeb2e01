// A minimal admin listener for the Kafka stages: GET /metrics (Prometheus text from a callback)
// and GET /health. One thread, one request per connection, bounded request size; never the
// public data path, so simplicity wins over speed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "common/result.h"

namespace furrow::kafka {

class AdminServer {
 public:
  using Render = std::function<std::string()>;
  using Healthy = std::function<bool()>;
  AdminServer(Render render, Healthy healthy);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds host:port (port 0: ephemeral) and starts serving.
  Status start(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }
  void stop();

 private:
  void serve();
  void answer(int fd);

  Render render_;
  Healthy healthy_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace furrow::kafka
