#pragma once
// Prometheus endpoint: GET /metrics on `listen` (e.g. "127.0.0.1:9464"; a bare port means the
// loopback address, with a warning), behind HTTP Basic authentication when an auth file is
// given (appliance/metrics_auth.hpp), serves
// appliance/telemetry.hpp's prometheus_metrics(). HTTP by civetweb (Debian libcivetweb-dev),
// one server thread, control plane only: it never touches the workers except through their
// monotonic counters.
#include <memory>
#include <optional>
#include <string>

#include "appliance/metrics_auth.hpp"
#include "base/result.hpp"

struct mg_context;
struct mg_connection;

namespace dc::appliance {

// civetweb's listening_ports value for [metrics] listen: "PORT" -> "127.0.0.1:PORT" (`defaulted`
// set), "ADDR:PORT" and "[V6]:PORT" as written. Error: no port.
Result<std::string> metrics_bind_address(const std::string& listen, bool& defaulted);

class MetricsServer {
 public:
  // `auth_file` empty: no authentication. An auth file that cannot be used is an error (the
  // endpoint is never opened without the protection asked for).
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen,
                                                      const std::string& auth_file = {});
  const std::string& address() const noexcept { return address_; }
  bool authenticated() const noexcept { return auth_.has_value(); }
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  MetricsServer() = default;
  static int serve(mg_connection* conn, void* self);
  mg_context* ctx_ = nullptr;
  std::string address_;
  std::optional<BasicAuth> auth_;
};

}  // namespace dc::appliance
