// `config check` for appliance.toml [accounting]: the LMDB state directory is (or can be made)
// writable, and the site's Redis address parses.
#include <unistd.h>

#include <filesystem>

#include "appliance/config_check_parts.hpp"
#include "audit/person_store_backends.hpp"

namespace dc::appliance::check {

void accounting_store(Context& c) {
  namespace fs = std::filesystem;
  const auto& a = c.cfg.accounting;
  // Without an [accounting] table the defaults beside the audit log apply; [audit] dir's own
  // check covers that directory's parent.
  if (a.line == 0) return;
  if (!a.redis.empty()) {
    if (auto addr = audit::parse_redis_address(a.redis); !addr)
      c.error("accounting.redis", addr.error().message, "write host:port, e.g. 10.0.0.5:6379");
  }
  if (a.state_dir.empty()) {
    c.warning("accounting", "no [accounting] state_dir and no [audit] dir: counts stay in memory",
              "set [accounting] state_dir (e.g. /var/lib/datacustoms/accounting)");
    return;
  }
  std::string dir = c.expand(a.state_dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    c.error("accounting.state_dir", Context::display(dir) + " is not a directory");
    return;
  }
  fs::path probe = fs::absolute(dir, ec).lexically_normal();
  while (!fs::exists(probe, ec) && probe.has_parent_path() && probe != probe.parent_path())
    probe = probe.parent_path();
  if (::access(probe.c_str(), W_OK | X_OK) != 0)
    c.error("accounting.state_dir",
            Context::display(probe.string()) + " is not writable: the accounting store (" +
                Context::display(dir) + ") cannot be made or written",
            "chown it to the user the appliance runs as (the package's unit: datacustoms)");
}

}  // namespace dc::appliance::check
