#pragma once
// Where the audit writer's bytes go. An interface so that tests can inject faults (ENOSPC, EIO)
// and check that the writer recovers without breaking the hash chain.
// Threads: owned and called by the audit writer thread only.
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace dc::audit {

class FileSink {
 public:
  virtual ~FileSink() = default;
  // Opens `path` for appending, creating it (mode 0640) if needed. One file at a time.
  virtual Result<void> open(const std::string& path) = 0;
  // Appends all of `bytes` or nothing: after a failure the file has its previous length again,
  // so that a retried record is never preceded by a torn copy of itself.
  virtual Result<void> append(std::string_view bytes) = 0;
  // Appends `parts` back to back, all or nothing like append(). The default joins them and calls
  // append(); the POSIX sink writes them with writev, without copying.
  virtual Result<void> append_all(std::span<const std::string_view> parts);
  // sync() may run on another thread (the log's commit thread) concurrently with append() and
  // append_all(), never with open() or close().
  virtual Result<void> sync() = 0;  // fdatasync-like: the appended bytes are durable
  virtual void close() = 0;
};

// The real sink: open(O_APPEND), write loop, ftruncate back on a short/failed write, fdatasync.
// open() also fsyncs the directory so a new file's name survives a crash.
std::unique_ptr<FileSink> make_posix_file_sink();

}  // namespace dc::audit
