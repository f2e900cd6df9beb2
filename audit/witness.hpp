#pragma once
// Witnesses for the head of the audit log: every signed checkpoint is also published outside the
// log directory (a file on another mount, syslog/journald, a Redis key), so that cutting the log
// back is detected by `audit verify --witness` (docs/audit-format.md, "Witnesses").
// Threads: a Witness is used by one thread at a time (the WitnessPublisher's thread); the
// WitnessPublisher's methods are thread-safe (publish() on the writer thread, the rest on the
// control thread).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "audit/log_writer.hpp"
#include "base/result.hpp"

namespace dc::audit {

// The one line a witness stores per checkpoint (file line, Redis value):
// {"seq":N,"hash":"<hex>","file":"audit-....jsonl","key_id":"...","time":"...","line":"<the
// checkpoint line, as a JSON string>"}. `hash` is the SHA-256 of `line`.
std::string witness_line(const CheckpointInfo& c);
// The reverse; an error names what is wrong (not JSON, a field missing, hash not of line).
Result<CheckpointInfo> parse_witness_line(std::string_view text);

class Witness {
 public:
  virtual ~Witness() = default;
  // "file:/srv/witness/dc.log", "syslog", "redis:127.0.0.1:6379/datacustoms:witness".
  virtual const std::string& name() const = 0;
  // Stores `c`; bounded in time by the witness's own timeouts.
  virtual Result<void> publish(const CheckpointInfo& c) = 0;
};

// Bounds of a witness file: the file is renamed to PATH.1 (replacing an older PATH.1) before a
// line would take it past max_bytes; `audit verify` reads PATH.1 then PATH.
inline constexpr std::uint64_t kMaxWitnessFileBytes = 16u << 20;
struct FileWitnessOptions {
  std::string path;
  std::uint64_t max_bytes = kMaxWitnessFileBytes;
};
// Appends one witness_line() per checkpoint (O_APPEND, never through a symlink, regular files
// only) and fsyncs it. Refuses now a path that exists and is not a regular file.
Result<std::unique_ptr<Witness>> make_file_witness(FileWitnessOptions options);

// One syslog(3) message per checkpoint (LOG_DAEMON | LOG_NOTICE, ident "datacustoms-audit"):
// "audit checkpoint seq=N hash=<hex> key_id=<id> file=<name> time=<time>". journald keeps it.
std::unique_ptr<Witness> make_syslog_witness();
std::string syslog_witness_message(const CheckpointInfo& c);

// Redis: SET key <witness_line>, LPUSH key:history <witness_line>, LTRIM key:history to
// history_max entries. `address` is "host:port" or a unix socket path (starting with '/').
struct RedisWitnessOptions {
  std::string address;
  std::string key = "datacustoms:witness";
  std::uint32_t history_max = 10000;
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds command_timeout{500};
};
inline constexpr std::string_view kRedisHistorySuffix = ":history";
Result<std::unique_ptr<Witness>> make_redis_witness(RedisWitnessOptions options);

struct WitnessStats {
  std::string name;
  std::uint64_t published = 0;
  std::uint64_t failures = 0;  // publish attempts that failed
  std::uint64_t episodes = 0;  // failure episodes (a failure after a success, or the first)
  bool healthy = true;         // the last attempt succeeded
  std::string last_error;
};

// Runs the witnesses on a thread of its own, so a slow or dead witness never holds up the audit
// writer: publish() only queues (bounded; when full the oldest queued checkpoint is skipped, the
// newest always kept: the head is what a witness is for). A failing witness is counted, and the
// first failure of each episode is handed to the event sink (the appliance writes it to the log
// as a `witness_error` record); the log is never stopped.
class WitnessPublisher {
 public:
  explicit WitnessPublisher(std::vector<std::unique_ptr<Witness>> witnesses,
                            std::size_t max_queue = 64);
  ~WitnessPublisher();  // stop() with the default grace
  WitnessPublisher(const WitnessPublisher&) = delete;
  WitnessPublisher& operator=(const WitnessPublisher&) = delete;

  // Where `witness_error` details go ({witness, error, seq}); called on the publisher's thread.
  void set_event_sink(std::function<void(nlohmann::ordered_json)> sink);
  // Queues `c` for every witness (the writer thread's WriterOptions::on_checkpoint).
  void publish(const CheckpointInfo& c);
  // Publishes what is queued, waiting at most `grace`; a witness still busy after that is left
  // to finish on its own (its thread is detached) and stop() reports it. Idempotent.
  Result<void> stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  std::vector<WitnessStats> stats() const;
  std::uint64_t skipped() const;  // checkpoints dropped from a full queue

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the thread, which may outlive a timed-out stop()
  std::thread thread_;
};

}  // namespace dc::audit
