#pragma once
// Prometheus endpoint: GET /metrics on `listen` (e.g. "127.0.0.1:9464") serves
// appliance/telemetry.hpp's prometheus_metrics(). HTTP by civetweb (Debian libcivetweb-dev),
// one server thread, control plane only: it never touches the workers except through their
// monotonic counters.
#include <memory>
#include <string>

#include "base/result.hpp"

struct mg_context;

namespace dc::appliance {

class MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  MetricsServer() = default;
  mg_context* ctx_ = nullptr;
};

}  // namespace dc::appliance
