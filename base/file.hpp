#pragma once
// Bounded file reading: the one way the product reads a whole file (policies, configs, keys).
// Only regular files are read; a directory, device, FIFO or socket is an error (so /dev/zero as a
// key is "not a regular file", never an unbounded read), and so is a file above `max_bytes`.
// Control plane only (allocates, blocks on I/O).
#include <cstddef>
#include <string>

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

// The whole content of `path`. Errors name the path: "PATH: not a regular file (directory)",
// "PATH: larger than N bytes", "PATH: cannot open: No such file or directory".
Result<std::string> read_file(const std::string& path, ReadOptions opt = {});

}  // namespace dc::base
