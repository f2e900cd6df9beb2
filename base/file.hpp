#pragma once
// Bounded file reading: the one way the product reads a whole file (policies, configs, keys).
// Only regular files are read; a directory, device, FIFO or socket is an error (so /dev/zero as a
// key is "not a regular file", never an unbounded read), and so is a file above `max_bytes`.
// Control plane only (allocates, blocks on I/O).
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace dc::base {

// Size caps per kind of input (generous for real files, far below what could exhaust memory).
inline constexpr std::size_t kMaxPolicyBytes = 16u << 20;   // a policy or appliance.toml
inline constexpr std::size_t kMaxKeyBytes = 64u << 10;      // PEM keys, HMAC secrets
inline constexpr std::size_t kMaxSampleBytes = 256u << 20;  // scan inputs, test payload files

struct ReadOptions {
  std::size_t max_bytes = kMaxPolicyBytes;
  bool follow_symlinks = true;  // false: a symlink at the final component is refused
};

// An open regular file (descriptor owned, closed on destruction), for streaming readers that
// must not hold a whole file: log verification, file hashing.
class RegularFile {
 public:
  RegularFile(RegularFile&& o) noexcept : fd_(o.fd_), size_(o.size_), path_(std::move(o.path_)) {
    o.fd_ = -1;
  }
  RegularFile& operator=(RegularFile&&) = delete;
  ~RegularFile();
  // Up to `n` bytes; 0 at end of file. Retries EINTR.
  Result<std::size_t> read(char* buf, std::size_t n);
  // Reads to the end of the file, handing each chunk (at most 64 KiB) to `fn`; returns the byte
  // count, or "PATH: larger than N bytes" as soon as more than `max_bytes` arrive (a file that
  // grew since it was opened is still bounded).
  Result<std::size_t> read_chunks(std::size_t max_bytes,
                                  const std::function<void(std::string_view)>& fn);
  std::size_t size_at_open() const noexcept { return size_; }
  const std::string& path() const noexcept { return path_; }

 private:
  friend Result<RegularFile> open_regular_file(const std::string& path, ReadOptions opt);
  RegularFile(int fd, std::size_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_;
  std::size_t size_;
  std::string path_;
};

// Opens `path` under the rules of read_file (regular files only; a file whose size is above
// `opt.max_bytes` is refused here; a reader must still stop at the cap if it grows).
Result<RegularFile> open_regular_file(const std::string& path, ReadOptions opt = {});

// The whole content of `path`. Errors name the path: "PATH: not a regular file (directory)",
// "PATH: larger than N bytes", "PATH: cannot open: No such file or directory".
Result<std::string> read_file(const std::string& path, ReadOptions opt = {});

}  // namespace dc::base
