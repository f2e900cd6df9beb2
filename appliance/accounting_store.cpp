// make_store: appliance.toml [accounting] -> the PersonStore the ledger counts in.
#include "appliance/accounting_store.hpp"

#include "audit/person_store_backends.hpp"

namespace dc::appliance {

Result<std::unique_ptr<audit::PersonStore>> make_store(const AccountingConfig& config) {
  if (config.state_dir.empty() && config.redis.empty()) return audit::make_memory_store();
  if (config.state_dir.empty())
    return make_error(ErrorCode::kInvalid,
                      "[accounting] redis needs a state_dir for its local fallback store");
  auto local = audit::make_lmdb_store(config.state_dir);
  if (!local || config.redis.empty()) return local;
  auto addr = audit::parse_redis_address(config.redis);
  if (!addr) return addr.error();
  audit::RedisStoreOptions ro;
  ro.host = addr->first;
  ro.port = addr->second;
  ro.connect_timeout = ro.command_timeout = std::chrono::milliseconds(config.redis_timeout_ms);
  auto redis = audit::make_redis_store(ro);
  if (!redis) return redis.error();
  audit::SiteStoreOptions so;
  so.mode = config.count_locally ? audit::SiteMode::kCountLocally : audit::SiteMode::kBlock;
  so.queue_file = config.state_dir + "/reconcile.queue";
  return audit::make_site_store(std::move(*redis), std::move(*local), so);
}

}  // namespace dc::appliance
