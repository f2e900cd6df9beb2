// Prometheus endpoint ([metrics] listen): GET /metrics served by civetweb from the counter list.
#include "appliance/metrics.hpp"

#include <civetweb.h>

#include <cstring>

#include "appliance/log.hpp"
#include "appliance/telemetry.hpp"

namespace dc::appliance {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

int MetricsServer::serve(mg_connection* conn, void* self) {
  const auto* m = static_cast<const MetricsServer*>(self);
  if (m->auth_ && !m->auth_->allows(mg_get_header(conn, "Authorization"))) {
    mg_printf(conn,
              "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"datacustoms "
              "metrics\", charset=\"UTF-8\"\r\nContent-Type: text/plain\r\nContent-Length: "
              "13\r\nConnection: close\r\n\r\nunauthorized\n");
    return 401;
  }
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

Result<std::string> metrics_bind_address(const std::string& listen, bool& defaulted) {
  defaulted = false;
  if (all_digits(listen)) {
    defaulted = true;
    return "127.0.0.1:" + listen;
  }
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || !all_digits(listen.substr(colon + 1)))
    return make_error("metrics: listen = \"" + listen +
                      "\": expected ADDRESS:PORT (\"127.0.0.1:9464\", \"[::1]:9464\") or PORT");
  return listen;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen,
                                                            const std::string& auth_file) {
  bool defaulted = false;
  auto bind = metrics_bind_address(listen, defaulted);
  if (!bind) return bind.error();
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  if (!auth_file.empty()) {
    auto auth = BasicAuth::load(auth_file);
    if (!auth) return make_error("metrics: auth_file " + auth.error().message);
    m->auth_ = std::move(*auth);
  }
  if (defaulted)
    log::warning(
        "[metrics] listen = \"%s\" has no address: bound to %s (loopback only); write "
        "\"ADDRESS:%s\" to expose it elsewhere",
        listen.c_str(), bind->c_str(), listen.c_str());
  static bool initialised = false;
  if (!initialised) {
    mg_init_library(0);
    initialised = true;
  }
  m->address_ = *bind;
  const char* options[] = {"listening_ports", m->address_.c_str(), "num_threads", "1", nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof callbacks);
  m->ctx_ = mg_start(&callbacks, nullptr, options);
  if (m->ctx_ == nullptr)
    return make_error("metrics: cannot listen on " + m->address_ + " (address in use or invalid)");
  mg_set_request_handler(m->ctx_, "/metrics", &MetricsServer::serve, m.get());
  return m;
}

MetricsServer::~MetricsServer() {
  if (ctx_ != nullptr) mg_stop(ctx_);
}

}  // namespace dc::appliance
