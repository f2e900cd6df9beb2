// Prometheus endpoint ([metrics] listen): GET /metrics served by civetweb from the counter list.
#include "appliance/metrics.hpp"

#include <civetweb.h>

#include <cstring>

#include "appliance/telemetry.hpp"

namespace dc::appliance {
namespace {

int serve_metrics(mg_connection* conn, void*) {
  std::string body = prometheus_metrics();
  if (body.empty()) {
    mg_printf(conn,
              "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
              "Content-Length: 12\r\nConnection: close\r\n\r\nnot running\n");
    return 503;
  }
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
            body.size());
  mg_write(conn, body.data(), body.size());
  return 200;
}

}  // namespace

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen) {
  static bool initialised = false;
  if (!initialised) {
    mg_init_library(0);
    initialised = true;
  }
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  const char* options[] = {"listening_ports", listen.c_str(), "num_threads", "1", nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof callbacks);
  m->ctx_ = mg_start(&callbacks, nullptr, options);
  if (m->ctx_ == nullptr)
    return make_error("metrics: cannot listen on " + listen + " (address in use or invalid)");
  mg_set_request_handler(m->ctx_, "/metrics", serve_metrics, nullptr);
  return m;
}

MetricsServer::~MetricsServer() {
  if (ctx_ != nullptr) mg_stop(ctx_);
}

}  // namespace dc::appliance
