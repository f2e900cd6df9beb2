#pragma once
// The appliance's PersonStore from appliance.toml [accounting]: LMDB in state_dir, or the site
// store (Redis + that LMDB store as the fallback) when `redis` is set.
#include <memory>

#include "appliance/config.hpp"
#include "audit/person_store.hpp"

namespace dc::appliance {

// No state_dir and no redis: an in-memory store (counts do not survive a restart).
Result<std::unique_ptr<audit::PersonStore>> make_store(const AccountingConfig& config);

}  // namespace dc::appliance
