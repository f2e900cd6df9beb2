#pragma once
// On-disk cache of compiled Hyperscan databases (hs_serialize_database), so that a policy whose
// detectors were compiled before loads in a millisecond instead of compiling again (replay
// start-up, issue 13). Control plane only (allocates, does file I/O).
//
// A cache file is named by the SHA-256 of everything the compile reads: the file format version,
// hs_version(), the host platform Hyperscan tunes for (hs_populate_platform), the mode and every
// expression with its flags and id. Its content repeats that key and carries a SHA-256 of the
// serialized bytes; a file whose key, length or digest does not match, or that Hyperscan refuses
// to deserialize, is "rejected": the database is compiled again and the file rewritten. A cache
// never makes a compile fail, and a failed write only costs the next start its compile.
#include <hs/hs.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "base/hash.hpp"
#include "inspect/detect/patterns.hpp"

namespace dc::inspect {

// The directory DetectorDb::compile() caches databases in (created on the first store; empty:
// no cache, the default). Process-wide; set before policies are compiled.
void set_detector_cache_dir(std::string dir);
std::string detector_cache_dir();

// The default directory when the caller names none: $DATACUSTOMS_CACHE_DIR, else systemd's
// $CACHE_DIRECTORY, else $XDG_CACHE_HOME/datacustoms, else $HOME/.cache/datacustoms; empty when
// none of them is set.
std::string default_detector_cache_dir();

struct DetectorCacheStats {
  std::atomic<uint64_t> hits{0}, misses{0}, rejected{0}, write_failures{0};
};
DetectorCacheStats& detector_cache_stats();  // counters since process start (tests, --timing)

// The cache key of one compile.
base::Sha256 db_cache_key(unsigned mode, const std::vector<std::string>& exprs,
                          const std::vector<unsigned>& flags);
// The file of `key` in `dir`.
std::string db_cache_path(const std::string& dir, const base::Sha256& key);

// The cached database of `key`, or null (a miss or a rejected file: counted).
HsDatabasePtr db_cache_load(const std::string& dir, const base::Sha256& key);
// Writes `db` under `key` (a temporary file renamed into place, so a reader never sees half a
// file). Failures are counted, never reported.
void db_cache_store(const std::string& dir, const base::Sha256& key, const hs_database_t* db);

}  // namespace dc::inspect
