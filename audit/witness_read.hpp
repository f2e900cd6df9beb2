#pragma once
// Reading a witness back for `audit verify --witness SPEC`: the witnessed checkpoints, each with
// its signature checked under the verifier's key. Bounded: a witness file goes through the
// regular-file reader (no symlinks, size cap), Redis replies are paged and size-checked.
// Threads: any; control plane / CLI only (blocking I/O).
#include <cstdint>
#include <string>
#include <vector>

#include "audit/crypto.hpp"
#include "audit/witness.hpp"
#include "base/result.hpp"

namespace dc::audit {

inline constexpr std::size_t kMaxWitnessEntries = 100'000;  // checkpoints read from one witness
inline constexpr std::size_t kMaxWitnessLine = 64u << 10;   // one witness line (~700 bytes)

struct WitnessedCheckpoint {
  std::uint64_t seq = 0;
  std::string hash;        // SHA-256 of the checkpoint line
  std::string where;       // "file:/srv/w/dc.log", "redis:host:port/key"
  std::uint64_t line = 0;  // 1-based position in `where` (file line, or Redis entry)
};

struct WitnessProblem {  // an entry that is not a validly signed checkpoint
  std::string where;
  std::uint64_t line = 0;
  std::string message;
  bool error = true;  // false: a torn last line (a crash mid-append; never a published checkpoint)
};

struct WitnessContent {
  std::string source;  // the spec as given
  std::vector<WitnessedCheckpoint> checkpoints;
  std::vector<WitnessProblem> problems;
};

// SPEC: "file:PATH" (reads PATH.1 then PATH), "redis:HOST:PORT[/KEY]" or "redis:/SOCKET[#KEY]"
// (KEY defaults to "datacustoms:witness"). An error (exit 2) when the witness cannot be read at
// all: unknown spec, missing / non-regular / oversized file, Redis unreachable.
Result<WitnessContent> read_witness(const std::string& spec, const VerifyKey& key);

// The raw values of a Redis witness: the latest (if set), then the history, newest first.
Result<std::vector<std::string>> read_redis_witness(const RedisWitnessOptions& options);

}  // namespace dc::audit
