// DPDK telemetry socket client for `datacustoms ctl` (appliance/telemetry_client.hpp).
#include "appliance/telemetry_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace dc::appliance {
namespace {

constexpr const char* kSocketName = "dpdk_telemetry.v2";

std::vector<std::string> runtime_bases(const std::string& runtime_dir) {
  if (!runtime_dir.empty()) return {runtime_dir};
  std::vector<std::string> bases;
  if (const char* rd = std::getenv("RUNTIME_DIRECTORY")) bases.push_back(rd);
  bases.push_back("/run/datacustoms");
  bases.push_back("/var/run");
  if (const char* x = std::getenv("XDG_RUNTIME_DIR")) bases.push_back(x);
  bases.push_back("/tmp");
  return bases;
}

}  // namespace

Result<std::string> find_telemetry_socket(const std::string& prefix,
                                          const std::string& runtime_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> found, looked;
  for (const auto& base : runtime_bases(runtime_dir)) {
    fs::path dpdk = fs::path(base) / "dpdk";
    looked.push_back((dpdk / (prefix.empty() ? "*" : prefix) / kSocketName).string());
    std::error_code ec;
    if (!prefix.empty()) {
      fs::path p = dpdk / prefix / kSocketName;
      if (fs::is_socket(p, ec)) found.push_back(p.string());
      continue;
    }
    for (const auto& e : fs::directory_iterator(dpdk, ec))
      if (fs::is_socket(e.path() / kSocketName, ec))
        found.push_back((e.path() / kSocketName).string());
  }
  // Under systemd, $RUNTIME_DIRECTORY, /run/datacustoms and $XDG_RUNTIME_DIR are one directory
  // (and /var/run is /run): the same socket found through several bases is one appliance.
  std::vector<std::string> unique;
  std::vector<fs::path> seen;
  for (const auto& f : found) {
    std::error_code ec;
    fs::path canon = fs::weakly_canonical(f, ec);
    if (ec) canon = f;
    if (std::find(seen.begin(), seen.end(), canon) != seen.end()) continue;
    seen.push_back(canon);
    unique.push_back(f);
  }
  found = std::move(unique);
  if (found.size() == 1) return found[0];
  std::string where;
  for (const auto& l : (found.empty() ? looked : found)) where += "\n  " + l;
  if (found.empty())
    return make_error("no telemetry socket of a running appliance (looked for:" + where +
                      ")\nIs `datacustoms run` running, with a --file-prefix in [eal] args "
                      "(telemetry needs one; --no-shconf turns it off)? Root or the "
                      "appliance's user may be needed to see it.");
  return make_error("several telemetry sockets; choose one with --file-prefix or --socket:" +
                    where);
}

Result<std::unique_ptr<TelemetryClient>> TelemetryClient::connect(const std::string& path,
                                                                  std::chrono::seconds timeout) {
  std::unique_ptr<TelemetryClient> c(new TelemetryClient());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return make_error("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  c->fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (c->fd_ < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count());
  setsockopt(c->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(c->fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return make_error("cannot connect to " + path + ": " + std::strerror(errno));
  std::string buf(16384, '\0');
  ssize_t n = recv(c->fd_, buf.data(), buf.size(), 0);
  if (n <= 0)
    return make_error(
        "no greeting on " + path +
        (n == 0 ? ": closed (more than 10 clients?)" : ": " + std::string(std::strerror(errno))));
  auto hello = nlohmann::json::parse(buf.substr(0, static_cast<size_t>(n)), nullptr, false);
  if (hello.is_discarded() || !hello.is_object())
    return make_error("not a DPDK telemetry socket: " + path);
  c->pid_ = hello.value("pid", 0);
  return c;
}

TelemetryClient::~TelemetryClient() {
  if (fd_ >= 0) close(fd_);
}

Result<nlohmann::json> TelemetryClient::query(const std::string& cmd, const std::string& params) {
  std::string msg = params.empty() ? cmd : cmd + "," + params;
  if (send(fd_, msg.data(), msg.size(), MSG_NOSIGNAL) < 0)
    return make_error("send " + cmd + ": " + std::strerror(errno));
  std::string buf(65536, '\0');
  ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
  if (n < 0)
    return make_error("no reply to " + cmd + ": " +
                      (errno == EAGAIN ? std::string("timed out") : std::strerror(errno)));
  if (n == 0) return make_error("the appliance closed the connection (" + cmd + ")");
  last_ = buf.substr(0, static_cast<size_t>(n));
  auto j = nlohmann::json::parse(last_, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains(cmd))
    return make_error("unexpected reply to " + cmd + ": " + last_.substr(0, 200));
  return j[cmd];
}

// Diagnostics come in chunks (telemetry strings are short): `diagnostic_parts` says how many
// chunks each has.
std::vector<std::string> join_chunks(const nlohmann::json& r, const char* text_key,
                                     const char* parts_key) {
  std::vector<std::string> out;
  if (!r.contains(text_key) || !r[text_key].is_array()) return out;
  const nlohmann::json& text = r[text_key];
  size_t at = 0;
  if (parts_key != nullptr && r.contains(parts_key) && r[parts_key].is_array()) {
    for (const auto& n : r[parts_key]) {
      std::string line;
      for (uint64_t k = 0; k < n.get<uint64_t>() && at < text.size(); ++k, ++at)
        line += text[at].get<std::string>();
      out.push_back(line);
    }
    return out;
  }
  std::string all;
  for (const auto& t : text) all += t.get<std::string>();
  if (!all.empty()) out.push_back(all);
  return out;
}

}  // namespace dc::appliance
