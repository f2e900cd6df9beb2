#pragma once
// Key intake ([tls] key_socket): a local UNIX stream socket on which exporters escrow their TLS
// session keys as NSS key log lines (`datacustoms keys push`, or anything that writes the lines).
// One thread of its own (poll loop): accepts up to max_clients connections, splits what they send
// into lines (bounded), checks each line's syntax (appliance/key_line) and hands accepted lines to
// a callback. The callback runs on the intake thread, never on a worker.
// Secrets are never logged and never written to disk; connection buffers are locked in memory
// (mlock, best effort) and wiped after every line. See docs/security.md.
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/result.hpp"
#include "dataplane/key_line.hpp"

namespace dc::appliance {

using dataplane::key_line_status_name;
using dataplane::KeyLine;
using dataplane::KeyLineStatus;
using dataplane::parse_key_line;
using dataplane::wipe_bytes;
using dataplane::wipe_key_line;

inline constexpr std::size_t kMaxKeyLineBytes = 1024;  // the longest valid line is ~200 bytes

struct KeyIntakeConfig {
  std::string path;                      // socket path (at most 107 bytes)
  uid_t owner = static_cast<uid_t>(-1);  // -1: the process's own
  gid_t group = static_cast<gid_t>(-1);
  mode_t mode = 0600;
  std::vector<uid_t> allowed_uids;  // empty: anyone the socket's mode lets connect
  unsigned max_clients = 16;
};

// Monotonic counters, written by the intake thread, read by any thread.
struct KeyIntakeStats {
  uint64_t keys_received = 0;        // lines accepted and handed over
  uint64_t keys_rejected = 0;        // lines failing the syntactic check (incl. over-long)
  uint64_t keys_overlong = 0;        // of those: longer than kMaxKeyLineBytes
  uint64_t keys_ignored = 0;         // comments, blank lines, labels not used for decryption
  uint64_t keys_dropped_full = 0;    // accepted but the hand-off was full
  uint64_t connections = 0;          // connections served
  uint64_t connections_refused = 0;  // uid not allowed, or max_clients reached
};

class KeyIntake {
 public:
  // Called for each accepted line on the intake thread; false: the hand-off was full (counted as
  // keys_dropped_full). The line is wiped after the call: copy what must be kept.
  using Handler = std::function<bool(const KeyLine&)>;

  // Creates the socket (stale one removed; refused if another process listens there) with its
  // mode and owner, then starts the thread.
  static Result<std::unique_ptr<KeyIntake>> start(KeyIntakeConfig config, Handler handler);
  // Stops the thread, closes every connection and removes the socket file (if still ours).
  ~KeyIntake();
  KeyIntake(const KeyIntake&) = delete;
  KeyIntake& operator=(const KeyIntake&) = delete;

  KeyIntakeStats stats() const;
  const std::string& path() const { return config_.path; }

 private:
  struct Counters {
    std::atomic<uint64_t> received{0}, rejected{0}, overlong{0}, ignored{0}, dropped_full{0},
        connections{0}, refused{0};
  };
  struct Client;

  KeyIntake(KeyIntakeConfig config, Handler handler);
  Result<void> open_socket();
  void loop();
  void accept_clients();
  void read_client(Client& c);
  void take_lines(Client& c, bool at_eof);
  void take_line(Client& c, std::string_view line);
  void close_client(Client& c);

  KeyIntakeConfig config_;
  Handler handler_;
  Counters counters_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: the destructor wakes the poll loop
  dev_t dev_ = 0;     // the socket file we created (removed at the end only if still ours)
  ino_t ino_ = 0;
  std::unique_ptr<Client[]> clients_;  // max_clients slots, mlocked
  std::thread thread_;
};

}  // namespace dc::appliance
