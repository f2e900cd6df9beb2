#pragma once
// Asynchronous group commit for the audit log writer: a thread of its own fdatasyncs the log file
// up to the newest record written while the writer keeps formatting and appending, and publishes
// the seq that is durable when the fsync returns. One fsync covers every record written before it
// started, so under load one fsync covers many records and the writer never waits for the disk.
//
// Threads: request(), pause()/resume(), mark_durable() on the writer's thread; durable(), fsyncs()
// and errors() on any thread; the sink's sync() on the commit thread only, never while the writer
// opens or closes a file (pause() waits for a running fsync and holds further ones off).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/file_sink.hpp"

namespace dc::audit {

// Other files whose bytes must be durable before a log record naming them may be (evidence
// captures and their directory): each commit fsyncs them first, then the log file.
struct SyncDeps {
  struct File {
    int fd;
    bool owned;  // closed once fsynced
  };
  std::vector<File> files;
  std::uint64_t last = 0;  // number of the newest dependency in `files`
  // Adds `fd` (a non-owned fd already waiting is not added twice); returns its number.
  std::uint64_t add(int fd, bool owned, std::uint64_t number);
  // fsyncs every file (then closes the owned ones) and empties the list; on an error, the list
  // stays as it was and the error says which file failed.
  Result<void> sync_all();
  void append(SyncDeps&& later);  // `later`'s files after these (a failed commit puts them back)
};

class GroupCommit {
 public:
  // Starts the commit thread. `sink` must outlive this object and allow sync() concurrently with
  // append() (FileSink's contract).
  explicit GroupCommit(FileSink& sink);
  ~GroupCommit();  // stops the thread (a running fsync finishes first)
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Records up to `seq` are written (appended whole): make them durable. Returns at once.
  void request(std::uint64_t seq);
  // The newest seq known fsynced (0: none yet). Never goes back.
  std::uint64_t durable() const noexcept { return durable_.load(std::memory_order_acquire); }
  // The writer fsynced itself (while paused): records up to `seq` are durable.
  void mark_durable(std::uint64_t seq) noexcept;
  // Waits for a running fsync to return and holds further ones off until resume().
  void pause();
  void resume();
  // `fd` must be durable before the records appended from now on: the next commit fsyncs it
  // ahead of the log (and closes it when `owned`). Returns a number; deps_durable() reaches it
  // once that fsync returned.
  std::uint64_t depend(int fd, bool owned);
  std::uint64_t deps_durable() const noexcept {
    return deps_durable_.load(std::memory_order_acquire);
  }
  // The writer, paused, takes the waiting dependencies to fsync them itself.
  SyncDeps take_deps();
  void restore_deps(SyncDeps&& deps);
  std::uint64_t deps_issued() const;  // the newest number depend() returned  // a failed fsync of
                                      // taken ones: they go first again
  void mark_deps_durable(std::uint64_t number) noexcept;
  std::uint64_t fsyncs() const noexcept { return fsyncs_.load(std::memory_order_relaxed); }
  std::thread::native_handle_type native_handle() { return thread_.native_handle(); }
  std::uint64_t errors() const noexcept { return errors_.load(std::memory_order_relaxed); }
  // The last fsync error ("" when none); takes the lock.
  std::string last_error() const;

 private:
  void run();
  bool commit_once(std::unique_lock<std::mutex>& lock);
  FileSink& sink_;
  mutable std::mutex mu_;
  std::condition_variable work_;  // commit thread: a request, resume or stop
  std::condition_variable idle_;  // writer: the running fsync returned
  std::uint64_t requested_ = 0;
  bool paused_ = false;
  bool busy_ = false;
  bool stop_ = false;
  std::string last_error_;
  SyncDeps deps_;
  std::uint64_t dep_numbers_ = 0;
  std::atomic<std::uint64_t> deps_durable_{0};
  std::atomic<std::uint64_t> durable_{0};
  std::atomic<std::uint64_t> fsyncs_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::thread thread_;
};

// pause() for a scope.
class GroupCommitPause {
 public:
  explicit GroupCommitPause(GroupCommit* gc) : gc_(gc) {
    if (gc_ != nullptr) gc_->pause();
  }
  ~GroupCommitPause() {
    if (gc_ != nullptr) gc_->resume();
  }
  GroupCommitPause(const GroupCommitPause&) = delete;
  GroupCommitPause& operator=(const GroupCommitPause&) = delete;

 private:
  GroupCommit* gc_;
};

}  // namespace dc::audit
