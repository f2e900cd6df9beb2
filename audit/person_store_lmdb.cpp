// The LMDB PersonStore: exact distinct sets in the appliance's state directory, group-committed.
//
// Why LMDB rather than SQLite: the store is two key-value maps (members, counts) with one writer
// (the ledger thread), which is exactly LMDB's model: a memory-mapped copy-on-write B+tree whose
// commit is a single fsync'd meta-page flip, so it is crash-safe with no WAL to replay or
// checkpoint and no recovery step at open; readers (`datacustoms accounting show`, another
// process) get consistent snapshots in read transactions that never block the appliance's writer;
// and there is no SQL layer to parse or plan on the claim path. liblmdb is a small Debian library.
//
// Crash rule: claims accumulate in one open write transaction and flush() commits it with fsync.
// The ledger calls flush() once per batch and answers a batch's claims (releases the held
// direction) only after flush() returned, so every claim whose answer let data cross the border
// is on disk before the data crossed. A crash loses only claims never answered: their flows were
// still held, so nothing they counted left the country. A crash can never under-count.
#include <lmdb.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>

#include "audit/person_store_backends.hpp"

namespace dc::audit {
namespace {

constexpr char kSep = '\0';  // scope key, NUL, digest: scopes are printable, so no prefix clashes

Error lmdb_error(const std::string& where, int rc) {
  return make_error(rc == MDB_MAP_FULL ? ErrorCode::kUnavailable : ErrorCode::kIo,
                    "lmdb " + where + ": " + mdb_strerror(rc));
}

MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

std::string member_key(std::string_view scope, const PersonDigest& who) {
  std::string k(scope);
  k.push_back(kSep);
  k.append(reinterpret_cast<const char*>(who.data()), who.size());
  return k;
}

uint64_t read_count(const MDB_val& v) {
  uint64_t n = 0;
  if (v.mv_size == sizeof n) std::memcpy(&n, v.mv_data, sizeof n);
  return n;
}

struct Pending {
  PersonDigest who;
  std::vector<ScopeLimit> scopes;
};

class LmdbStore final : public PersonStore {
 public:
  LmdbStore(std::string dir, LmdbStoreOptions o) : dir_(std::move(dir)), opt_(o) {}
  ~LmdbStore() override {
    // Committing unanswered claims can only over-count (the safe side); never silently drop them.
    if (txn_) (void)flush();
    if (env_) mdb_env_close(env_);
  }

  Result<void> open() {
    if (!opt_.read_only && opt_.create) {
      std::error_code ec;
      std::filesystem::create_directories(dir_, ec);
      if (ec) return make_error(ErrorCode::kIo, "lmdb " + dir_ + ": " + ec.message());
    }
    int rc = mdb_env_create(&env_);
    if (rc == 0) rc = mdb_env_set_maxdbs(env_, 3);
    if (rc == 0) rc = mdb_env_set_mapsize(env_, opt_.map_size);
    // MDB_NOTLS: read transactions are not tied to a thread (the ledger may hop threads).
    unsigned flags = MDB_NOTLS | (opt_.read_only ? MDB_RDONLY : 0u);
    if (rc == 0) rc = mdb_env_open(env_, dir_.c_str(), flags, 0640);
    if (rc != 0) return lmdb_error("open " + dir_, rc);
    MDB_envinfo info;
    mdb_env_info(env_, &info);
    map_size_ = info.me_mapsize;  // an existing larger map keeps its size
    MDB_txn* t = nullptr;
    rc = mdb_txn_begin(env_, nullptr, opt_.read_only ? MDB_RDONLY : 0u, &t);
    if (rc != 0) return lmdb_error("open " + dir_, rc);
    unsigned dbflags = opt_.read_only ? 0u : MDB_CREATE;
    rc = mdb_dbi_open(t, "members", dbflags, &members_);
    if (rc == 0) rc = mdb_dbi_open(t, "counts", dbflags, &counts_);
    if (rc == 0) {  // declaration bytes: absent in a store written before they were kept
      rc = mdb_dbi_open(t, "bytes", dbflags, &bytes_);
      if (rc == MDB_NOTFOUND && opt_.read_only) {
        no_bytes_ = true;
        rc = 0;
      }
    }
    if (rc == MDB_NOTFOUND && opt_.read_only) {  // never written: an empty store
      mdb_txn_abort(t);
      empty_ = true;
      return {};
    }
    if (rc != 0) {
      mdb_txn_abort(t);
      return lmdb_error("open databases in " + dir_, rc);
    }
    rc = mdb_txn_commit(t);
    if (rc != 0) return lmdb_error("open " + dir_, rc);
    return {};
  }

  Result<ClaimResult> claim(const PersonDigest& who, std::span<const ScopeLimit> scopes) override {
    if (opt_.read_only) return make_error(ErrorCode::kInvalid, "lmdb " + dir_ + ": read-only");
    for (const auto& s : scopes)
      if (s.scope.size() + 1 + who.size() > static_cast<std::size_t>(mdb_env_get_maxkeysize(env_)))
        return make_error(ErrorCode::kInvalid, "lmdb: scope key too long: " + s.scope);
    for (;;) {
      if (auto r = begin_write(); !r) return r.error();
      int rc = 0;
      auto result = claim_in(txn_, who, scopes, rc);
      if (rc == 0) {
        if (!result.refused) pending_.push_back({who, {scopes.begin(), scopes.end()}});
        return result;
      }
      if (rc != MDB_MAP_FULL) {
        abort_write();
        return lmdb_error("claim", rc);
      }
      // The map is full: the transaction is dead. Grow the map, then redo this batch's earlier
      // claims (same committed state, same answers) and this one.
      if (auto g = grow_and_replay(); !g) return g.error();
    }
  }

  Result<uint64_t> count(std::string_view scope) override {
    return read(
        [&](MDB_txn* t) -> Result<uint64_t> {
          MDB_val k = val(scope), v;
          int rc = mdb_get(t, counts_, &k, &v);
          if (rc == MDB_NOTFOUND) return uint64_t{0};
          if (rc != 0) return lmdb_error("count", rc);
          return read_count(v);
        },
        uint64_t{0});
  }

  Result<std::vector<std::pair<std::string, uint64_t>>> scopes(std::string_view prefix) override {
    using Out = std::vector<std::pair<std::string, uint64_t>>;
    return read(
        [&](MDB_txn* t) -> Result<Out> {
          MDB_cursor* c = nullptr;
          int rc = mdb_cursor_open(t, counts_, &c);
          if (rc != 0) return lmdb_error("scopes", rc);
          Out out;
          MDB_val k = val(prefix), v;
          for (rc = mdb_cursor_get(c, &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE); rc == 0;
               rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            std::string_view key(static_cast<const char*>(k.mv_data), k.mv_size);
            if (!key.starts_with(prefix)) break;  // LMDB's default order is bytewise: sorted
            out.emplace_back(std::string(key), read_count(v));
          }
          mdb_cursor_close(c);
          if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error("scopes", rc);
          return out;
        },
        Out{});
  }

  Result<bool> contains(std::string_view scope, const PersonDigest& who) override {
    return read(
        [&](MDB_txn* t) -> Result<bool> {
          std::string key = member_key(scope, who);
          MDB_val k = val(key), v;
          int rc = mdb_get(t, members_, &k, &v);
          if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error("contains", rc);
          return rc == 0;
        },
        false);
  }

  Result<void> flush() override {
    if (lost_) {
      lost_ = false;
      return make_error(ErrorCode::kIo, "lmdb " + dir_ + ": a failed claim discarded this batch");
    }
    while (txn_) {
      int rc = mdb_txn_commit(txn_);
      txn_ = nullptr;
      if (rc == 0) break;
      if (rc != MDB_MAP_FULL) {
        abort_write();
        lost_ = false;  // reported right here
        return lmdb_error("commit", rc);
      }
      if (auto g = grow_and_replay(); !g) return g.error();
    }
    pending_.clear();
    bytes_pending_.clear();
    return {};
  }

  Result<uint64_t> reserve_bytes(std::string_view id, uint64_t want, uint64_t cap) override {
    auto total = reserved_bytes(id);
    if (!total) return total.error();
    const uint64_t got = *total >= cap ? 0 : std::min(want, cap - *total);
    if (got == 0) return got;
    if (auto w = write_bytes(id, *total + got); !w) return w.error();
    return got;
  }

  Result<void> release_bytes(std::string_view id, uint64_t n) override {
    auto total = reserved_bytes(id);
    if (!total) return total.error();
    return write_bytes(id, *total - std::min(*total, n));
  }

  Result<uint64_t> reserved_bytes(std::string_view id) override {
    if (no_bytes_) return uint64_t{0};
    return read(
        [&](MDB_txn* t) -> Result<uint64_t> {
          MDB_val k = val(id), v;
          int rc = mdb_get(t, bytes_, &k, &v);
          if (rc == MDB_NOTFOUND) return uint64_t{0};
          if (rc != 0) return lmdb_error("bytes", rc);
          return read_count(v);
        },
        uint64_t{0});
  }

  Result<std::vector<std::pair<std::string, uint64_t>>> all_reserved_bytes() override {
    using Out = std::vector<std::pair<std::string, uint64_t>>;
    if (no_bytes_) return Out{};
    return read(
        [&](MDB_txn* t) -> Result<Out> {
          MDB_cursor* c = nullptr;
          int rc = mdb_cursor_open(t, bytes_, &c);
          if (rc != 0) return lmdb_error("bytes", rc);
          Out out;
          MDB_val k, v;
          for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
               rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
            out.emplace_back(std::string(static_cast<const char*>(k.mv_data), k.mv_size),
                             read_count(v));
          mdb_cursor_close(c);
          if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error("bytes", rc);
          return out;
        },
        Out{});
  }

  std::string describe() const override { return "lmdb:" + dir_; }

 private:
  // One scope at a time inside `t`: refuse before any write, else add to every scope.
  ClaimResult claim_in(MDB_txn* t, const PersonDigest& who, std::span<const ScopeLimit> scopes,
                       int& rc) {
    ClaimResult r;
    r.counts.resize(scopes.size());
    r.added.resize(scopes.size());
    std::vector<std::string> keys(scopes.size());
    for (std::size_t i = 0; i < scopes.size() && rc == 0; ++i) {
      keys[i] = member_key(scopes[i].scope, who);
      MDB_val k = val(keys[i]), v;
      rc = mdb_get(t, members_, &k, &v);
      const bool fresh = rc == MDB_NOTFOUND;
      if (rc == MDB_NOTFOUND) rc = 0;
      MDB_val ck = val(scopes[i].scope), cv;
      int crc = mdb_get(t, counts_, &ck, &cv);
      if (crc != 0 && crc != MDB_NOTFOUND && rc == 0) rc = crc;
      r.counts[i] = crc == 0 ? read_count(cv) : 0;
      r.added[i] = fresh;
      if (fresh && scopes[i].limit != 0 && r.counts[i] + 1 > scopes[i].limit && !r.refused) {
        r.refused = true;
        r.refused_scope = i;
      }
    }
    if (rc != 0 || r.refused) {
      std::fill(r.added.begin(), r.added.end(), false);
      return r;
    }
    for (std::size_t i = 0; i < scopes.size() && rc == 0; ++i) {
      if (!r.added[i]) continue;
      MDB_val k = val(keys[i]), empty{0, nullptr};
      rc = mdb_put(t, members_, &k, &empty, MDB_NOOVERWRITE);
      MDB_val ck = val(scopes[i].scope), cv;
      if (rc == MDB_KEYEXIST) {  // the same scope twice in one claim: added by the first
        r.added[i] = false;
        rc = mdb_get(t, counts_, &ck, &cv);
        if (rc == 0) r.counts[i] = read_count(cv);
        continue;
      }
      uint64_t n = ++r.counts[i];
      cv = MDB_val{sizeof n, &n};
      if (rc == 0) rc = mdb_put(t, counts_, &ck, &cv, 0);
    }
    return r;
  }

  // A declaration's new total, in the open transaction (kept to redo it after a resize).
  Result<void> write_bytes(std::string_view id, uint64_t total) {
    if (opt_.read_only) return make_error(ErrorCode::kInvalid, "lmdb " + dir_ + ": read-only");
    for (;;) {
      if (auto r = begin_write(); !r) return r;
      bytes_pending_[std::string(id)] = total;
      MDB_val k = val(id), v{sizeof total, &total};
      int rc = mdb_put(txn_, bytes_, &k, &v, 0);
      if (rc == 0) return {};
      if (rc != MDB_MAP_FULL) {
        abort_write();
        return lmdb_error("bytes", rc);
      }
      if (auto g = grow_and_replay(); !g) return g;
    }
  }

  Result<void> begin_write() {
    if (txn_) return {};
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn_);
    if (rc == MDB_MAP_RESIZED) {  // another process grew the map
      mdb_env_set_mapsize(env_, 0);
      rc = mdb_txn_begin(env_, nullptr, 0, &txn_);
    }
    if (rc != 0) {
      txn_ = nullptr;
      return lmdb_error("begin", rc);
    }
    return {};
  }

  // Drops the open transaction. Claims it held were answered "counted" by claim() but are gone:
  // the next flush() reports it, so the ledger never releases that batch.
  void abort_write() {
    if (txn_) mdb_txn_abort(txn_);
    txn_ = nullptr;
    lost_ |= !pending_.empty() || !bytes_pending_.empty();
    pending_.clear();
    bytes_pending_.clear();
  }

  Result<void> grow_and_replay() {
    if (txn_) mdb_txn_abort(txn_);
    txn_ = nullptr;
    if (map_size_ >= opt_.max_map_size) {
      abort_write();
      return make_error(ErrorCode::kUnavailable,
                        "lmdb " + dir_ + ": map full at max_map_size " + std::to_string(map_size_));
    }
    map_size_ = std::min(map_size_ * 2, opt_.max_map_size);
    if (int rc = mdb_env_set_mapsize(env_, map_size_); rc != 0) return lmdb_error("resize", rc);
    if (auto r = begin_write(); !r) return r;
    for (const auto& p : pending_) {
      int rc = 0;
      (void)claim_in(txn_, p.who, p.scopes, rc);
      if (rc == MDB_MAP_FULL) return grow_and_replay();
      if (rc != 0) {
        abort_write();
        return lmdb_error("replay after resize", rc);
      }
    }
    for (auto& [id, total] : bytes_pending_) {
      MDB_val k = val(id), v{sizeof total, &total};
      int rc = mdb_put(txn_, bytes_, &k, &v, 0);
      if (rc == MDB_MAP_FULL) return grow_and_replay();
      if (rc != 0) {
        abort_write();
        return lmdb_error("replay after resize", rc);
      }
    }
    return {};
  }

  // Reads see the open write transaction (this batch's claims) when there is one.
  // `none` answers for a read-only store whose databases were never created.
  template <class F, class T>
  auto read(F&& f, T none) -> decltype(f(nullptr)) {
    if (txn_) return f(txn_);
    if (empty_) return none;
    MDB_txn* t = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t);
    if (rc == MDB_MAP_RESIZED) {
      mdb_env_set_mapsize(env_, 0);
      rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t);
    }
    if (rc != 0) return lmdb_error("read", rc);
    auto out = f(t);
    mdb_txn_abort(t);
    return out;
  }

  std::string dir_;
  LmdbStoreOptions opt_;
  MDB_env* env_ = nullptr;
  MDB_dbi members_ = 0, counts_ = 0, bytes_ = 0;
  MDB_txn* txn_ = nullptr;
  uint64_t map_size_ = 0;
  bool empty_ = false;
  bool no_bytes_ = false;  // read-only, and the store has no "bytes" database yet
  bool lost_ = false;      // a transaction with accepted claims was dropped since the last flush()
  std::vector<Pending> pending_;  // this transaction's accepted claims (replayed after a resize)
  std::map<std::string, uint64_t> bytes_pending_;  // this transaction's declaration totals
};

}  // namespace

Result<std::unique_ptr<PersonStore>> make_lmdb_store(const std::string& dir,
                                                     const LmdbStoreOptions& options) {
  if (dir.empty()) return make_error(ErrorCode::kInvalid, "lmdb store: empty directory");
  auto s = std::make_unique<LmdbStore>(dir, options);
  if (auto r = s->open(); !r) return r.error();
  return std::unique_ptr<PersonStore>(std::move(s));
}

}  // namespace dc::audit
