#pragma once
// A client of DPDK's telemetry socket (SOCK_SEQPACKET, protocol v2), used by `datacustoms ctl`:
// finds the socket of a running appliance, reads the greeting, sends commands, parses replies.
// No DPDK needed on this side.
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace dc::appliance {

// Where `datacustoms run` puts its socket: <base>/dpdk/<prefix>/dpdk_telemetry.v2, with <base>
// $RUNTIME_DIRECTORY (systemd RuntimeDirectory=), /run/datacustoms, /var/run, $XDG_RUNTIME_DIR
// or /tmp (DPDK's own order, plus the unit's runtime directory). `runtime_dir` non-empty: only
// that base. `prefix` empty: any prefix, but exactly one socket must be found.
Result<std::string> find_telemetry_socket(const std::string& prefix,
                                          const std::string& runtime_dir);

// Strings of a reply come in chunks (telemetry strings are short): `parts_key` (may be null: one
// string) says how many chunks each of the `text_key` array has; they are joined back.
std::vector<std::string> join_chunks(const nlohmann::json& r, const char* text_key,
                                     const char* parts_key);

class TelemetryClient {
 public:
  static Result<std::unique_ptr<TelemetryClient>> connect(const std::string& path,
                                                          std::chrono::seconds timeout);
  ~TelemetryClient();
  TelemetryClient(const TelemetryClient&) = delete;
  TelemetryClient& operator=(const TelemetryClient&) = delete;

  // Sends "cmd[,params]" and returns the reply's value (null: unknown command or refused).
  Result<nlohmann::json> query(const std::string& cmd, const std::string& params = "");
  // The raw reply text of the last query.
  const std::string& last_reply() const noexcept { return last_; }
  int pid() const noexcept { return pid_; }

 private:
  TelemetryClient() = default;
  int fd_ = -1;
  int pid_ = 0;
  std::string last_;
};

}  // namespace dc::appliance
