// `datacustoms run`'s customs accounting: the workers' claim rings, the ledger over the store
// appliance.toml names, and what a policy reload that enables, removes or keeps [accounting] does
// (docs/accounting.md "Enabling and disabling by a reload").
#include "appliance/accounting_store.hpp"
#include "appliance/control_plane.hpp"
#include "appliance/log.hpp"

namespace dc::appliance {

// The rings exist when the first policy enables [accounting], or appliance.toml names an
// [accounting] key_file (so that a later reload can enable it: the workers' pipelines take the
// rings at start). The ledger starts with the first policy that enables [accounting]. Without a
// key file accounting cannot start: digests made with a per-appliance key would split the site's
// counts.
int ControlPlane::open_accounting() {
  const auto* live = reloader_ ? reloader_->live()->load() : nullptr;
  const bool enabled = live != nullptr && live->snapshot->accounting().enabled;
  const AccountingConfig& ac = cfg_.accounting;
  auto fail = [&](const std::string& msg) {
    log::diagnostic(log::Level::kError,
                    cfg_.path + ":" + std::to_string(ac.line) + ":1: error: [accounting] " + msg);
    log::error("customs accounting not available; nothing started");
    return 2;
  };
  if (!enabled && ac.key_file.empty()) return 0;
  if (enabled && ac.key_file.empty())
    return fail(
        "the policy enables [accounting]: key_file is needed (datacustoms accounting keygen)");
  auto ch = dataplane::AccountingChannel::create(
      static_cast<unsigned>(cfg_.dataplane.worker_lcores.size()), ac.ring_size);
  if (!ch) return fail(ch.error().message);
  acct_channel_ = std::move(ch.value());
  cfg_.dataplane.pipeline.accounting = acct_channel_.get();
  if (!enabled) {
    log::info("customs accounting: ready; the ledger starts when a policy enables [accounting]");
    return 0;
  }
  if (auto r = start_ledger(); !r) return fail(r.error().message);
  return 0;
}

// The key, the store, the ledger and its thread; the live generation adopted.
Result<void> ControlPlane::start_ledger() {
  const AccountingConfig& ac = cfg_.accounting;
  std::string path = expand(ac.key_file);
  if (!path.empty() && path[0] != '/') path = cfg_.dir + "/" + path;
  auto key = audit::load_accounting_key(path);
  if (!key) return key.error();
  auto store = make_store(ac);  // LMDB in state_dir, Redis + LMDB for a site, else memory
  if (!store) return store.error();
  person_store_ = std::move(store.value());
  ledger_ = std::make_unique<audit::Ledger>(*person_store_, *key);
  key->fill(0);
  acct_service_ = std::make_unique<dataplane::AccountingService>(*acct_channel_, *ledger_);
  accounting_adopt();
  acct_service_->start();
  acct_was_enabled_ = true;
  log::info("customs accounting: store %s, decision wait %lld ms",
            person_store_->describe().c_str(),
            static_cast<long long>(cfg_.dataplane.pipeline.accounting_wait_ns / 1'000'000));
  return {};
}

// A reloaded policy, before it is published. Enables [accounting] for the first time: the ledger
// starts now (an Error rejects the reload: without it every counted flow would be blocked
// accounting_unavailable). Enables it again, or keeps it: the running ledger adopts the generation
// first, so no claim under it is unresolved. Removes it: new flows are not counted; the ledger
// stays open for the flows admitted before and for declaration byte budgets. appliance.toml is
// read at start only: its store (state_dir, redis) changes at a restart, and a reload says so.
Result<void> ControlPlane::prepare_accounting(const std::shared_ptr<const policy::Snapshot>& s) {
  const bool enabled = s->accounting().enabled;
  if (enabled && !acct_service_) {
    if (!acct_channel_)
      return make_error(ErrorCode::kInvalid,
                        "the policy enables [accounting] but this appliance started without "
                        "[accounting] key_file in " +
                            cfg_.path + ": add it and restart");
    if (auto r = start_ledger(); !r)
      return make_error(r.error().code, "[accounting] cannot start: " + r.error().message);
    acct_service_->adopt(s);  // before the workers see it
    log::notice("customs accounting enabled by the reload (store %s)",
                person_store_->describe().c_str());
  } else if (acct_service_) {
    acct_service_->adopt(s);
    if (!enabled && acct_was_enabled_)
      log::warning(
          "the reloaded policy has no [accounting]: new flows are not counted; the ledger and "
          "its store %s stay open (flows admitted before, declaration byte budgets) until a "
          "restart",
          person_store_->describe().c_str());
    if (enabled && !acct_was_enabled_)
      log::notice("customs accounting enabled again by the reload");
  }
  acct_was_enabled_ = enabled;
  std::vector<Diagnostic> diags;
  if (auto now = load_appliance_config(cfg_.path, diags);
      now && acct_service_ &&
      (now->accounting.state_dir != cfg_.accounting.state_dir ||
       now->accounting.redis != cfg_.accounting.redis ||
       now->accounting.count_locally != cfg_.accounting.count_locally))
    log::warning("%s: [accounting] store settings changed; the ledger keeps %s until a restart",
                 cfg_.path.c_str(), person_store_->describe().c_str());
  return {};
}

void ControlPlane::accounting_adopt() {
  if (!acct_service_ || !reloader_) return;
  if (const auto* e = reloader_->live()->load(); e != nullptr) acct_service_->adopt(e->snapshot);
}

void ControlPlane::close_accounting() {
  if (!acct_service_) return;
  acct_service_->stop();
  acct_service_->run_once();  // claims the thread had not taken before it stopped
  if (auto r = acct_service_->release_bytes(); !r)
    log::warning(
        "customs accounting: unused declaration byte budgets not given back (%s): the "
        "store over-counts them",
        r.error().message.c_str());
}

}  // namespace dc::appliance
