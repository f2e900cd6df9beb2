// The in-memory PersonStore: exact distinct sets keyed by scope, for replay and tests.
#include <algorithm>
#include <map>
#include <unordered_set>

#include "audit/person_store.hpp"

namespace dc::audit {
namespace {

struct DigestHash {
  std::size_t operator()(const PersonDigest& d) const noexcept {
    std::size_t h;
    static_assert(sizeof h <= sizeof d);
    std::copy_n(d.data(), sizeof h, reinterpret_cast<uint8_t*>(&h));  // already uniform (HMAC)
    return h;
  }
};

class MemoryStore final : public PersonStore {
 public:
  Result<ClaimResult> claim(const PersonDigest& who, std::span<const ScopeLimit> scopes) override {
    ClaimResult r;
    r.counts.resize(scopes.size());
    r.added.resize(scopes.size());
    std::vector<std::unordered_set<PersonDigest, DigestHash>*> sets(scopes.size());
    for (std::size_t i = 0; i < scopes.size(); ++i) {
      auto& set = sets_[scopes[i].scope];
      sets[i] = &set;
      const bool fresh = !set.contains(who);
      r.counts[i] = set.size();
      r.added[i] = fresh;
      if (fresh && scopes[i].limit != 0 && set.size() + 1 > scopes[i].limit && !r.refused) {
        r.refused = true;
        r.refused_scope = i;
      }
    }
    if (r.refused) {
      std::fill(r.added.begin(), r.added.end(), false);
      return r;
    }
    for (std::size_t i = 0; i < scopes.size(); ++i) {
      if (r.added[i]) {
        sets[i]->insert(who);
        r.counts[i] = sets[i]->size();
      }
    }
    return r;
  }

  Result<uint64_t> count(std::string_view scope) override {
    auto it = sets_.find(std::string(scope));
    return it == sets_.end() ? 0 : it->second.size();
  }

  Result<std::vector<std::pair<std::string, uint64_t>>> scopes(std::string_view prefix) override {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (auto it = sets_.lower_bound(std::string(prefix)); it != sets_.end(); ++it) {
      if (!it->first.starts_with(prefix)) break;
      out.emplace_back(it->first, it->second.size());
    }
    return out;
  }

  Result<bool> contains(std::string_view scope, const PersonDigest& who) override {
    auto it = sets_.find(std::string(scope));
    return it != sets_.end() && it->second.contains(who);
  }

  Result<uint64_t> reserve_bytes(std::string_view id, uint64_t want, uint64_t cap) override {
    uint64_t& total = bytes_[std::string(id)];
    const uint64_t got = total >= cap ? 0 : std::min(want, cap - total);
    total += got;
    return got;
  }

  Result<void> release_bytes(std::string_view id, uint64_t n) override {
    uint64_t& total = bytes_[std::string(id)];
    total -= std::min(total, n);
    return {};
  }

  Result<uint64_t> reserved_bytes(std::string_view id) override {
    auto it = bytes_.find(id);
    return it == bytes_.end() ? 0 : it->second;
  }

  Result<std::vector<std::pair<std::string, uint64_t>>> all_reserved_bytes() override {
    return std::vector<std::pair<std::string, uint64_t>>(bytes_.begin(), bytes_.end());
  }

  Result<void> flush() override { return {}; }
  std::string describe() const override { return "memory"; }

 private:
  std::map<std::string, std::unordered_set<PersonDigest, DigestHash>, std::less<>> sets_;
  std::map<std::string, uint64_t, std::less<>> bytes_;  // declaration id -> reserved bytes
};

}  // namespace

std::unique_ptr<PersonStore> make_memory_store() { return std::make_unique<MemoryStore>(); }

}  // namespace dc::audit
