#pragma once
// The audit log writer: one JSON line per record, hash-chained, with signed checkpoints, size or
// count based rotation and an fsync policy. See docs/audit-format.md for the bytes it writes.
//
// Threads: single-threaded. The audit writer thread creates it, owns it and is the only caller.
// Workers never touch it: they push fixed-size events onto a ring; the writer thread turns each
// into a body and calls append_flow()/append_event(), and calls tick() when the ring is idle.
//
// Fault model: a failed write (ENOSPC, EIO...) never breaks the chain. The record keeps its seq and
// waits in a bounded pending queue; every later call retries the queue first. While the queue is
// full, new records are refused (kDropped, counted, and never given a seq) and, once writes
// succeed again, a "records_lost" event states how many were dropped.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "audit/crypto.hpp"
#include "audit/file_sink.hpp"
#include "audit/log_writer_sync.hpp"
#include "audit/record.hpp"
#include "base/result.hpp"

namespace dc::audit {

// A signed checkpoint as a witness publishes it (audit/witness.hpp): given to
// WriterOptions::on_checkpoint once the checkpoint line is written and fsynced.
struct CheckpointInfo {
  std::uint64_t seq = 0;
  std::string hash;    // SHA-256 (hex) of `line`: the chain value the next record names
  std::string file;    // the log file holding the checkpoint
  std::string key_id;  // the signer
  std::string time;    // the checkpoint's "time"
  std::string line;    // the checkpoint line itself, without its '\n'
};

struct WriterOptions {
  std::string dir;                                // created if missing (one level)
  std::function<TimePoint()> clock;               // required: record and checkpoint times, timers
  std::uint64_t checkpoint_every_records = 1000;  // 0: off
  std::chrono::milliseconds checkpoint_interval{60'000};  // 0: off
  std::uint64_t max_file_bytes = 64ull << 20;             // rotate when reached; 0: no size limit
  std::uint64_t max_file_records = 0;                     // rotate when reached; 0: no count limit
  // Crash-loss window: at most fsync_every_records - 1 written records or fsync_interval of
  // records may be lost on power failure (checkpoints, rotation and close always fsync).
  std::uint64_t fsync_every_records = 0;           // 0: off (interval only)
  std::chrono::milliseconds fsync_interval{1000};  // 0: off (checked on append and tick)
  std::size_t max_pending_records = 4096;          // bound on records held during a write fault
  nlohmann::ordered_json start_details = nlohmann::ordered_json::object();  // merged into "start"
  std::unique_ptr<FileSink> sink;  // null: make_posix_file_sink()
  // Called on the writer's thread after each checkpoint is on disk and fsynced (not when its
  // fsync failed). Must return quickly and not throw: WitnessPublisher::publish() only queues.
  std::function<void(const CheckpointInfo&)> on_checkpoint;
  // Group commit on a thread of its own (audit/log_writer_sync.hpp): every fsync of the policy
  // above, of checkpoints and of request_sync() runs there while the writer keeps appending, and
  // durable_seq() advances when it returns; checkpoints are witnessed once durable. Only file
  // switches (rotation) and close() fsync on the writer's thread. false: every fsync inline.
  bool background_sync = false;
};

enum class AppendStatus {
  kWritten,  // on disk (not necessarily fsynced yet)
  kQueued,   // chained and queued: the sink is failing, retried on every later call
  kDropped,  // refused: the pending queue is full; counted in Stats::records_dropped
  kInvalid,  // body is not a JSON object, uses a reserved key (seq, prev, type; time for events),
             // or close() was already called
};

struct WriterStats {
  std::uint64_t next_seq = 0;
  std::uint64_t records_written = 0;
  std::uint64_t records_dropped = 0;
  std::uint64_t write_errors = 0;
  std::uint64_t sync_errors = 0;
  std::uint64_t fsyncs = 0;  // successful fsyncs of log files (either thread)
  std::uint64_t checkpoints = 0;
  std::uint64_t rotations = 0;
  std::size_t pending = 0;
  std::string current_file;
  std::string last_error;
};

struct RecoveryScan;

class LogWriter {
 public:
  // Opens DIR, resumes the chain from the last complete record of the newest log file (a torn
  // final line left by a crash is cut off and its SHA-256 noted in the start record), starts a new
  // file and writes the "start" record.
  static Result<std::unique_ptr<LogWriter>> open(WriterOptions options, SigningKey key);
  ~LogWriter();  // best effort close() if the caller did not close
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // A flow record; `body` must be an object without "seq", "prev" or "type" (see
  // flow_record_body() for the fields). Its members follow seq/prev/type on the line.
  AppendStatus append_flow(const nlohmann::ordered_json& body);
  AppendStatus append_flow(const nlohmann::json& body);
  // A flow_open or flow_update record (same body rules; `type` kFlowOpen, kFlowUpdate or kFlow).
  AppendStatus append_flow(RecordType type, const nlohmann::ordered_json& body);
  // An event record (not kFlow/kCheckpoint: checkpoints are the writer's own). The writer adds
  // "time" from the clock; `details` members follow it.
  AppendStatus append_event(
      RecordType type, const nlohmann::ordered_json& details = nlohmann::ordered_json::object());
  // Timers: interval checkpoint, interval fsync, retry of pending records.
  void tick();
  void tick(TimePoint now);
  // Writes "stop" (with details) and a closing checkpoint, flushes, fsyncs, closes the file.
  // On failure the records stay pending and close() may be called again (tick() also retries);
  // from the first close() on, append_flow()/append_event() return kInvalid.
  Result<void> close(const nlohmann::ordered_json& stop_details = nlohmann::ordered_json::object());

  WriterStats stats() const;
  // Records chained but not yet on disk (a write fault is being retried, or with background_sync
  // the current write batch). Cheap: no copies.
  std::size_t pending() const noexcept { return pending_.size(); }
  // A write or file switch failed and is being retried: the log is unhealthy.
  bool failing() const noexcept { return write_failing_; }
  // Group commit: writes what is pending and fsyncs now if anything is unsynced.
  void sync();
  // Group commit without waiting: writes what is pending and asks for an fsync of everything
  // written; durable_seq() says when it is done. Without background_sync, the same as sync().
  void request_sync();
  // The seq of the newest record given (chained), and of the newest record known to be on disk
  // and fsynced (0: none yet in this run). Writer's thread only, like everything else here.
  std::uint64_t last_seq() const noexcept { return next_seq_ - 1; }
  std::uint64_t written_seq() const noexcept { return written_seq_; }
  bool background_sync() const noexcept { return commit_ != nullptr; }
  // The commit thread, for its CPU affinity (null: no background_sync).
  GroupCommit* commit_thread() noexcept { return commit_.get(); }
  std::uint64_t durable_seq() const noexcept {
    return commit_ ? commit_->durable() : durable_seq_.load(std::memory_order_acquire);
  }
  // `fd` (an evidence capture, or its directory) must be durable before the records appended
  // from now on may be: the next fsync of the log fsyncs it first (and closes it when `owned`).
  // Returns its number; deps_durable() reaches it once that fsync returned. A record naming the
  // file should be appended only then, so that no crash keeps the record without the file.
  std::uint64_t sync_before_next_commit(int fd, bool owned);
  std::uint64_t deps_durable() const noexcept {
    return commit_ ? commit_->deps_durable() : deps_durable_;
  }
  std::uint64_t fsyncs() const noexcept {
    return fsyncs_.load(std::memory_order_relaxed) + (commit_ ? commit_->fsyncs() : 0);
  }

 private:
  struct Pending {
    bool open_file = false;  // true: switch to file `data`; false: append the line `data`
    std::string data;
    bool sync_after = false;  // checkpoints are fsynced as soon as they are written
    std::uint64_t seq = 0;    // the line's record (0: a file switch)
  };

  explicit LogWriter(WriterOptions options, SigningKey key);
  Result<void> resume();
  AppendStatus append_line(RecordType type, std::string members, bool internal);
  void enqueue(RecordType type, const std::string& members);  // formats, chains, queues
  void enqueue_checkpoint(const char* reason);
  void enqueue_recovery(const RecoveryScan& scan, TimePoint now);
  void enqueue_records_lost();
  void maybe_rotate();
  bool rotation_due() const;
  bool batch_full() const;
  void flush_pending();
  bool write_batch();
  void sync_now(TimePoint now);
  void sync_inline(TimePoint now);
  void commit(TimePoint now);
  void after_write(TimePoint now);
  void publish_durable_checkpoints();

  WriterOptions opt_;
  SigningKey key_;
  std::string key_id_;
  std::unique_ptr<FileSink> sink_;
  // Lines chained but not written yet: a write fault is being retried, or (background_sync)
  // the current write batch.
  std::deque<Pending> pending_;
  std::size_t pending_bytes_ = 0;
  bool write_failing_ = false;  // the last write or file switch failed (until one succeeds)
  static constexpr std::size_t kMaxBatchLines = 256;
  static constexpr std::size_t kBatchBytes = 256 << 10;
  std::deque<CheckpointInfo> unwitnessed_;  // queued checkpoints, in order (on_checkpoint only)
  bool closed_ = false;
  bool stop_written_ = false;

  // Chain state: advanced when a record is formatted (queued), so queued lines stay chained.
  std::uint64_t next_seq_ = 1;
  std::string last_hash_;
  std::string file_;  // file receiving newly queued records
  std::uint64_t file_bytes_ = 0;
  std::uint64_t file_records_ = 0;

  // Checkpoint state.
  std::uint64_t cp_first_seq_ = 1;
  std::uint64_t cp_flows_ = 0;
  std::vector<std::string> cp_files_;
  TimePoint last_checkpoint_{};

  // fsync state.
  std::uint64_t unsynced_records_ = 0;
  std::uint64_t written_seq_ = 0;              // newest record written (not necessarily fsynced)
  std::atomic<std::uint64_t> durable_seq_{0};  // newest record fsynced (no background sync)
  std::atomic<std::uint64_t> fsyncs_{0};       // fsyncs on the writer's thread
  TimePoint last_sync_{};
  SyncDeps deps_;  // without the commit thread: files fsynced before the log's next fsync
  std::uint64_t dep_numbers_ = 0;
  std::uint64_t deps_durable_ = 0;
  // The commit thread (background_sync); declared after sink_, so it stops before the sink goes.
  std::unique_ptr<GroupCommit> commit_;

  // Fault state.
  std::uint64_t dropped_unreported_ = 0;
  std::string first_drop_error_;
  nlohmann::ordered_json resume_info_;

  WriterStats stats_;
};

}  // namespace dc::audit
