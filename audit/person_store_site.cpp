// The site PersonStore: Redis shared by a site's appliances, the appliance's LMDB store beside it,
// and what happens when Redis is unreachable (block, or count locally and reconcile later).
//
// Healthy: a claim is decided by Redis (the site's exact sets); once Redis accepted it, the claim
// is mirrored into the local store with no limit, so the local store always holds every person
// this appliance counted. The last site count seen per scope is remembered, with the local count
// at that moment.
//
// Degraded, mode block: every claim is an Error; the ledger fails closed (accounting_unavailable).
// Degraded, mode count_locally: the local store decides, against each limit lowered by what the
// other appliances had counted when Redis was last seen (site count - local count then); the
// claim is appended to the reconciliation queue file, fsync'd by flush() before the ledger
// answers. Every retry_interval, the queue is replayed into Redis in order with no limits (these
// claims were answered: their data crossed, so they must be counted, even past a cap), then the
// queue is emptied. Replaying is idempotent, so a crash mid-replay just replays again.
//
// What can over-run a cap during a partition: claims the other appliances make meanwhile are
// invisible here (each appliance may admit up to the remaining room on its own, so a site of k
// appliances can exceed a cap by up to (k-1) x the room left when the partition began); and after
// a restart during a partition the remembered site counts are gone (the local count alone is
// checked). Counts are never lower than the truth: every answered claim is in Redis, in the local
// store or in the fsync'd queue, and reconciliation adds the queue to Redis; a person counted by
// two appliances during the partition is one member of the set afterwards.
//
// Declaration bytes follow the same rules: Redis holds the site's total (every appliance's
// reservations), the local store this appliance's own. Degraded, block: no reservation (the
// workers stop at their budget, declaration_grant_wait); count_locally: reserved locally against
// the cap lowered by the others' share when last seen, queued as "bytes<TAB>id<TAB>n" lines and
// added to Redis (no cap) when it is back.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>

#include "audit/person_store_backends.hpp"

namespace dc::audit {
namespace {

using Clock = std::chrono::steady_clock;

std::string hex(const PersonDigest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

bool unhex(std::string_view s, PersonDigest& d) {
  if (s.size() != 2 * d.size()) return false;
  auto v = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  for (std::size_t i = 0; i < d.size(); ++i) {
    int hi = v(s[2 * i]), lo = v(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    d[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

struct Seen {
  uint64_t site = 0;   // the scope's count in Redis when last seen
  uint64_t local = 0;  // the local store's count at that moment
};

class SiteStore final : public PersonStore {
 public:
  SiteStore(std::unique_ptr<PersonStore> redis, std::unique_ptr<PersonStore> local,
            SiteStoreOptions o)
      : redis_(std::move(redis)), local_(std::move(local)), opt_(std::move(o)) {}
  ~SiteStore() override {
    if (queue_fd_ >= 0) ::close(queue_fd_);
  }

  Result<void> open() {
    if (opt_.mode != SiteMode::kCountLocally) return {};
    queue_fd_ = ::open(opt_.queue_file.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (queue_fd_ < 0)
      return make_error(ErrorCode::kIo,
                        "reconciliation queue " + opt_.queue_file + ": " + std::strerror(errno));
    auto lines = read_queue();
    if (!lines) return lines.error();
    status_.queued = *lines;
    status_.degraded = status_.queued > 0;  // a partition outlived the last run: reconcile first
    if (status_.degraded) last_try_ = Clock::now() - opt_.retry_interval;
    return {};
  }

  const SiteStatus& status() const { return status_; }

  Result<ClaimResult> claim(const PersonDigest& who, std::span<const ScopeLimit> scopes) override {
    if (status_.degraded) try_reconcile();
    if (!status_.degraded) {
      auto r = redis_->claim(who, scopes);
      if (r) {
        if (!r->refused) {
          if (auto m = mirror(who, scopes, *r); !m) return m.error();
        }
        return r;
      }
      if (opt_.mode == SiteMode::kBlock) return r.error();
      status_.degraded = true;
      last_try_ = Clock::now();
    }
    if (opt_.mode == SiteMode::kBlock)
      return make_error(ErrorCode::kUnavailable, "site store: redis unreachable (mode block)");
    return claim_locally(who, scopes);
  }

  Result<uint64_t> count(std::string_view scope) override {
    if (status_.degraded) try_reconcile();
    if (!status_.degraded) {
      auto r = redis_->count(scope);
      if (r && opt_.mode == SiteMode::kCountLocally) {
        auto local = local_->count(scope);
        if (local) seen_[std::string(scope)] = Seen{*r, *local};
      }
      if (r || opt_.mode == SiteMode::kBlock) return r;
    }
    auto local = local_->count(scope);
    if (!local) return local;
    return *local + others(scope);
  }

  Result<std::vector<std::pair<std::string, uint64_t>>> scopes(std::string_view prefix) override {
    if (status_.degraded) try_reconcile();
    if (!status_.degraded) {
      auto r = redis_->scopes(prefix);
      if (r || opt_.mode == SiteMode::kBlock) return r;
    }
    auto local = local_->scopes(prefix);
    if (!local) return local;
    for (auto& [s, c] : *local) c += others(s);
    return local;
  }

  Result<bool> contains(std::string_view scope, const PersonDigest& who) override {
    if (!status_.degraded) {
      auto r = redis_->contains(scope, who);
      if (r || opt_.mode == SiteMode::kBlock) return r;
    }
    return local_->contains(scope, who);
  }

  Result<uint64_t> reserve_bytes(std::string_view id, uint64_t want, uint64_t cap) override {
    if (status_.degraded) try_reconcile();
    if (!status_.degraded) {
      auto got = redis_->reserve_bytes(id, want, cap);
      auto site = got ? redis_->reserved_bytes(id) : Result<uint64_t>(got.error());
      if (site) {
        auto mine = local_->reserve_bytes(id, *got, UINT64_MAX);  // this appliance's own
        auto local = mine ? local_->reserved_bytes(id) : Result<uint64_t>(mine.error());
        if (!local) return local.error();
        seen_bytes_[std::string(id)] = Seen{*site, *local};
        return got;
      }
      if (opt_.mode == SiteMode::kBlock) return site.error();
      status_.degraded = true;
      last_try_ = Clock::now();
    }
    if (opt_.mode == SiteMode::kBlock)
      return make_error(ErrorCode::kUnavailable, "site store: redis unreachable (mode block)");
    if (id.find_first_of("\t\n") != std::string_view::npos)
      return make_error(ErrorCode::kInvalid, "site store: declaration id with a tab or newline");
    const uint64_t o = others_bytes(id);
    auto got = local_->reserve_bytes(id, want, cap > o ? cap - o : 0);
    if (!got || *got == 0) return got;
    if (auto q = append("bytes\t" + std::string(id) + "\t" + std::to_string(*got) + "\n"); !q)
      return q.error();
    return got;
  }

  Result<void> release_bytes(std::string_view id, uint64_t n) override {
    if (!status_.degraded) {
      auto r = redis_->release_bytes(id, n);
      if (!r && opt_.mode == SiteMode::kBlock) return r;
      if (!r) status_.degraded = true;  // the queue keeps the reservation: over-counts, safely
    }
    return local_->release_bytes(id, n);
  }

  Result<uint64_t> reserved_bytes(std::string_view id) override {
    if (!status_.degraded) {
      auto r = redis_->reserved_bytes(id);
      if (r || opt_.mode == SiteMode::kBlock) return r;
    }
    auto local = local_->reserved_bytes(id);
    if (!local) return local;
    return *local + others_bytes(id);
  }

  Result<std::vector<std::pair<std::string, uint64_t>>> all_reserved_bytes() override {
    if (!status_.degraded) {
      auto r = redis_->all_reserved_bytes();
      if (r || opt_.mode == SiteMode::kBlock) return r;
    }
    auto local = local_->all_reserved_bytes();
    if (!local) return local;
    for (auto& [id, n] : *local) n += others_bytes(id);
    return local;
  }

  // The local store's commit and the queue's fsync: after this, every claim answered so far is
  // either in Redis or on this appliance's disk.
  Result<void> flush() override {
    if (auto r = local_->flush(); !r) return r;
    if (queue_fd_ >= 0 && queue_dirty_) {
      if (::fdatasync(queue_fd_) != 0)
        return make_error(ErrorCode::kIo,
                          "reconciliation queue: fsync: " + std::string(std::strerror(errno)));
      queue_dirty_ = false;
    }
    if (status_.degraded) try_reconcile();
    return {};
  }

  std::string describe() const override {
    return "site:" + redis_->describe() + "+" + local_->describe() +
           (opt_.mode == SiteMode::kBlock ? " (block)" : " (count_locally)");
  }

 private:
  uint64_t others(std::string_view scope) const {
    auto it = seen_.find(scope);
    if (it == seen_.end()) return 0;
    return it->second.site > it->second.local ? it->second.site - it->second.local : 0;
  }

  uint64_t others_bytes(std::string_view id) const {
    auto it = seen_bytes_.find(id);
    if (it == seen_bytes_.end()) return 0;
    return it->second.site > it->second.local ? it->second.site - it->second.local : 0;
  }

  Result<void> mirror(const PersonDigest& who, std::span<const ScopeLimit> scopes,
                      const ClaimResult& site) {
    std::vector<ScopeLimit> open(scopes.begin(), scopes.end());
    for (auto& s : open) s.limit = 0;
    auto r = local_->claim(who, open);
    if (!r) return r.error();
    for (std::size_t i = 0; i < scopes.size(); ++i)
      seen_[scopes[i].scope] = Seen{site.counts[i], r->counts[i]};
    return {};
  }

  Result<ClaimResult> claim_locally(const PersonDigest& who, std::span<const ScopeLimit> scopes) {
    std::vector<ScopeLimit> lowered(scopes.begin(), scopes.end());
    for (std::size_t i = 0; i < lowered.size(); ++i) {
      if (lowered[i].scope.find_first_of("\t\n") != std::string::npos)
        return make_error(ErrorCode::kInvalid, "site store: scope with a tab or newline");
      const uint64_t limit = lowered[i].limit, o = others(lowered[i].scope);
      if (limit == 0) continue;
      if (o < limit) {
        lowered[i].limit = limit - o;  // the room the others had not taken when last seen
        continue;
      }
      // The others had filled it: only a person already counted here passes.
      auto here = local_->contains(lowered[i].scope, who);
      if (!here) return here.error();
      if (!*here) return refuse(scopes, i);
      lowered[i].limit = 0;
    }
    auto r = local_->claim(who, lowered);
    if (!r) return r;
    for (std::size_t i = 0; i < scopes.size(); ++i) r->counts[i] += others(scopes[i].scope);
    if (!r->refused) {
      if (auto q = enqueue(who, scopes); !q) return q.error();
    }
    return r;
  }

  Result<ClaimResult> refuse(std::span<const ScopeLimit> scopes, std::size_t at) {
    ClaimResult r;
    r.refused = true;
    r.refused_scope = at;
    r.added.assign(scopes.size(), false);
    for (const auto& s : scopes) {
      auto c = local_->count(s.scope);
      if (!c) return c.error();
      r.counts.push_back(*c + others(s.scope));
    }
    return r;
  }

  Result<void> enqueue(const PersonDigest& who, std::span<const ScopeLimit> scopes) {
    std::string line = hex(who);
    for (const auto& s : scopes) line += "\t" + s.scope;
    return append(line + "\n");
  }

  Result<void> append(const std::string& line) {
    if (::write(queue_fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      return make_error(ErrorCode::kIo,
                        "reconciliation queue: write: " + std::string(std::strerror(errno)));
    queue_dirty_ = true;
    ++status_.queued;
    return {};
  }

  // Counts the queue's complete lines; with `replay`, claims each into Redis in order. A last
  // line without its newline was torn by a crash before its fsync (never answered): it is cut off.
  Result<uint64_t> read_queue(bool replay = false) {
    std::ifstream in(opt_.queue_file, std::ios::binary);
    std::string line;
    uint64_t n = 0;
    off_t complete = 0;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // no newline: torn
      complete += static_cast<off_t>(line.size() + 1);
      if (line.starts_with("bytes\t")) {  // a declaration's bytes reserved while degraded
        if (auto r = replay_bytes(line, replay); !r) return r.error();
        ++n;
        continue;
      }
      PersonDigest who{};
      std::size_t tab = line.find('\t');
      if (tab == std::string::npos || !unhex(std::string_view(line).substr(0, tab), who))
        return make_error(ErrorCode::kInvalid,
                          opt_.queue_file + ": bad line " + std::to_string(n + 1));
      std::vector<ScopeLimit> scopes;  // no limits: these claims were answered
      while (tab != std::string::npos) {
        std::size_t next = line.find('\t', tab + 1);
        std::size_t len = next == std::string::npos ? std::string::npos : next - tab - 1;
        scopes.push_back({line.substr(tab + 1, len), 0});
        tab = next;
      }
      if (replay) {
        if (auto r = redis_->claim(who, scopes); !r) return r.error();
      }
      ++n;
    }
    if (!replay && ::ftruncate(queue_fd_, complete) != 0)
      return make_error(ErrorCode::kIo, opt_.queue_file + ": " + std::strerror(errno));
    return n;
  }

  // "bytes<TAB>id<TAB>n": with `replay`, adds n to the declaration's site total (no cap: the
  // budget was granted, its bytes may have crossed).
  Result<void> replay_bytes(const std::string& line, bool replay) {
    const std::size_t tab = line.rfind('\t');
    uint64_t n = 0;
    const char* end = line.data() + line.size();
    if (tab <= 6 || std::from_chars(line.data() + tab + 1, end, n).ptr != end)
      return make_error(ErrorCode::kInvalid, opt_.queue_file + ": bad bytes line");
    if (!replay) return {};
    auto r = redis_->reserve_bytes(std::string_view(line).substr(6, tab - 6), n, UINT64_MAX);
    if (!r) return r.error();
    return {};
  }

  void try_reconcile() {
    if (Clock::now() - last_try_ < opt_.retry_interval) return;
    last_try_ = Clock::now();
    if (queue_fd_ < 0) {  // mode block: nothing queued, Redis just has to answer again
      if (redis_->flush()) status_.degraded = false;
      return;
    }
    if (queue_dirty_ && ::fdatasync(queue_fd_) != 0) return;
    queue_dirty_ = false;
    auto n = read_queue(true);
    if (!n) return;  // still unreachable: stay degraded, keep the queue
    if (::ftruncate(queue_fd_, 0) != 0 || ::fdatasync(queue_fd_) != 0) return;
    status_.queued = 0;
    status_.degraded = false;
    seen_.clear();  // the next claims refresh them from Redis
    seen_bytes_.clear();
  }

  std::unique_ptr<PersonStore> redis_, local_;
  SiteStoreOptions opt_;
  SiteStatus status_;
  Clock::time_point last_try_{};
  int queue_fd_ = -1;
  bool queue_dirty_ = false;
  std::map<std::string, Seen, std::less<>> seen_;
  std::map<std::string, Seen, std::less<>> seen_bytes_;  // by declaration id: site, own total
};

}  // namespace

Result<std::unique_ptr<PersonStore>> make_site_store(std::unique_ptr<PersonStore> redis,
                                                     std::unique_ptr<PersonStore> local,
                                                     const SiteStoreOptions& options) {
  if (!redis || !local) return make_error(ErrorCode::kInvalid, "site store: needs both stores");
  if (options.mode == SiteMode::kCountLocally && options.queue_file.empty())
    return make_error(ErrorCode::kInvalid, "site store: count_locally needs a queue file");
  auto s = std::make_unique<SiteStore>(std::move(redis), std::move(local), options);
  if (auto r = s->open(); !r) return r.error();
  return std::unique_ptr<PersonStore>(std::move(s));
}

const SiteStatus* site_status(const PersonStore& store) {
  const auto* s = dynamic_cast<const SiteStore*>(&store);
  return s ? &s->status() : nullptr;
}

}  // namespace dc::audit
