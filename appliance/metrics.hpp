#pragma once
// Prometheus endpoint: GET /metrics on `listen` (e.g. "127.0.0.1:9464"; a bare port means the
// loopback address, with a warning) serves
// appliance/telemetry.hpp's prometheus_metrics(). HTTP by civetweb (Debian libcivetweb-dev),
// one server thread, control plane only: it never touches the workers except through their
// monotonic counters.
#include <memory>
#include <string>

#include "base/result.hpp"

struct mg_context;

namespace dc::appliance {

// civetweb's listening_ports value for [metrics] listen: "PORT" -> "127.0.0.1:PORT" (`defaulted`
// set), "ADDR:PORT" and "[V6]:PORT" as written. Error: no port.
Result<std::string> metrics_bind_address(const std::string& listen, bool& defaulted);

class MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen);
  const std::string& address() const noexcept { return address_; }
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  MetricsServer() = default;
  mg_context* ctx_ = nullptr;
  std::string address_;
};

}  // namespace dc::appliance
