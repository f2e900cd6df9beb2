#pragma once
// The durable and the site PersonStores (issue 15): LMDB in the appliance's state directory,
// Redis shared by a site's appliances, and the site store that puts a local fallback behind Redis.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "audit/person_store.hpp"

namespace dc::audit {

struct LmdbStoreOptions {
  // Initial map size; the map grows by doubling when full (a claim never fails for room alone).
  uint64_t map_size = uint64_t{64} << 20;
  uint64_t max_map_size = uint64_t{64} << 30;  // the growth stops here (then claims are Errors)
  bool read_only = false;                      // `accounting show` beside a running appliance
  bool create = true;                          // make `dir` when it does not exist
};

// One LMDB environment in `dir` (data.mdb, lock.mdb). Claims accumulate in one open write
// transaction; flush() commits it (fsync). The caller answers claims only after flush().
Result<std::unique_ptr<PersonStore>> make_lmdb_store(const std::string& dir,
                                                     const LmdbStoreOptions& options = {});

struct RedisStoreOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds command_timeout{500};
  std::string key_prefix = "dc:acct:";  // sets are <prefix>s:<scope>, the scope index <prefix>index
};

// Exact distinct sets in Redis; each claim is one atomic Lua script. An unreachable or failing
// server is an Error (kUnavailable), never a silent pass; the next call reconnects.
Result<std::unique_ptr<PersonStore>> make_redis_store(const RedisStoreOptions& options);

// "host:port" or "[v6]:port" -> host, port (config and `accounting show --redis`).
Result<std::pair<std::string, int>> parse_redis_address(const std::string& address);

enum class SiteMode : uint8_t {
  kBlock,         // Redis unreachable: every claim is an Error (the ledger fails closed)
  kCountLocally,  // Redis unreachable: count in the local store, queue for reconciliation
};

struct SiteStoreOptions {
  SiteMode mode = SiteMode::kBlock;
  // The durable reconciliation queue (count_locally): claims made while Redis was unreachable,
  // replayed into Redis in order when it is back. Usually <state_dir>/reconcile.queue.
  std::string queue_file;
  std::chrono::milliseconds retry_interval{1000};  // how often a degraded store tries Redis again
};

// The site store: Redis first, `local` (the appliance's LMDB store) beside it. Every claim Redis
// accepts is mirrored into `local` (no limit); see person_store_site.cpp for the degraded mode.
Result<std::unique_ptr<PersonStore>> make_site_store(std::unique_ptr<PersonStore> redis,
                                                     std::unique_ptr<PersonStore> local,
                                                     const SiteStoreOptions& options);

// Site store introspection for tests and `accounting show`: whether claims are being counted
// locally, and how many queued claims wait for Redis. Null for other stores.
struct SiteStatus {
  bool degraded = false;
  uint64_t queued = 0;
};
const SiteStatus* site_status(const PersonStore& store);

}  // namespace dc::audit
