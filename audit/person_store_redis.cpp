// The Redis PersonStore (libhiredis): one exact SET per scope shared by a site's appliances; a
// claim is one atomic Lua script (check every scope, then add to all or none).
//
// Exact sets, not HyperLogLog: the caps and thresholds are legal lines ("1,000,000 persons or
// more"), and HLL's ~0.8% standard error is ~8,000 persons at the line. A set costs 72.5 bytes
// per 16-byte member in Redis 7.0 (INFO memory used_memory: 69 MiB per million members;
// docs/accounting.md, "Stores and their cost").
#include <openssl/sha.h>
#include <sys/time.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "audit/person_store_backends.hpp"
#include "audit/redis_handle.hpp"

namespace dc::audit {
namespace {

// KEYS[1..n]: the scopes' sets; KEYS[n+1]: the scope index. ARGV[1]: the digest; ARGV[1+i]: the
// limit of scope i (0: none); ARGV[1+n+i]: scope i's name (for the index). Returns
// {refused (0 or the 1-based scope), counts[1..n], added[1..n]}. A script runs atomically.
constexpr const char* kClaimScript = R"lua(
local n = #KEYS - 1
local who = ARGV[1]
local counts, fresh, refused = {}, {}, 0
for i = 1, n do
  counts[i] = redis.call('SCARD', KEYS[i])
  fresh[i] = redis.call('SISMEMBER', KEYS[i], who) == 0
  local limit = tonumber(ARGV[1 + i])
  if refused == 0 and fresh[i] and limit > 0 and counts[i] + 1 > limit then refused = i end
end
local out = {refused}
for i = 1, n do
  local added = 0
  if refused == 0 and fresh[i] then
    added = redis.call('SADD', KEYS[i], who)
    if added == 1 then redis.call('SADD', KEYS[n + 1], ARGV[1 + n + i]) end
    counts[i] = redis.call('SCARD', KEYS[i])
  end
  out[1 + i] = counts[i]
  out[1 + n + i] = added
end
return out
)lua";

// KEYS[1]: a declaration's byte total, KEYS[2]: the index of declarations with a total. ARGV[1]:
// bytes wanted, ARGV[2]: the cap, ARGV[3]: the declaration id. Reserves min(want, cap - total)
// (integers below 2^53: Lua numbers are doubles) and returns it.
constexpr const char* kReserveScript = R"lua(
local total = tonumber(redis.call('GET', KEYS[1]) or '0')
local want, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local got = 0
if total < cap then got = math.min(want, cap - total) end
if got > 0 then
  redis.call('INCRBY', KEYS[1], got)
  redis.call('SADD', KEYS[2], ARGV[3])
end
return got
)lua";

// KEYS[1]: a declaration's byte total. ARGV[1]: bytes given back. Never below 0.
constexpr const char* kReleaseScript = R"lua(
local total = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = math.min(total, tonumber(ARGV[1]))
if n > 0 then redis.call('DECRBY', KEYS[1], n) end
return n
)lua";

// Byte totals are kept below 2^53 so that the scripts' doubles stay exact (8 PiB).
constexpr uint64_t kMaxScriptBytes = uint64_t{1} << 53;

using redis::Context;
using redis::Reply;
using redis::to_timeval;

std::string sha1_hex(std::string_view s) {
  unsigned char d[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  std::string hex;
  char b[3];
  for (unsigned char c : d) {
    std::snprintf(b, sizeof b, "%02x", c);
    hex += b;
  }
  return hex;
}

class RedisStore final : public PersonStore {
 public:
  explicit RedisStore(RedisStoreOptions o)
      : opt_(std::move(o)),
        name_("redis:" + opt_.host + ":" + std::to_string(opt_.port)),
        sha_(sha1_hex(kClaimScript)) {}

  Result<ClaimResult> claim(const PersonDigest& who, std::span<const ScopeLimit> scopes) override {
    std::vector<std::string> args;
    const std::size_t n = scopes.size();
    args.reserve(3 + 3 * n + 1);
    args.push_back("EVALSHA");
    args.push_back(sha_);
    args.push_back(std::to_string(n + 1));
    for (const auto& s : scopes) args.push_back(set_key(s.scope));
    args.push_back(opt_.key_prefix + "index");
    args.emplace_back(reinterpret_cast<const char*>(who.data()), who.size());
    for (const auto& s : scopes) args.push_back(std::to_string(s.limit));
    for (const auto& s : scopes) args.push_back(s.scope);
    auto reply = command(args);
    if (!reply && reply.error().message.find("NOSCRIPT") != std::string::npos) {
      args[0] = "EVAL";  // the server does not have it cached (restarted, SCRIPT FLUSH)
      args[1] = kClaimScript;
      reply = command(args);
    }
    if (!reply) return reply.error();
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 + 2 * n)
      return fail(ErrorCode::kFailed, "unexpected claim reply");
    for (std::size_t i = 0; i < r->elements; ++i)
      if (r->element[i]->type != REDIS_REPLY_INTEGER)
        return fail(ErrorCode::kFailed, "unexpected claim reply");
    ClaimResult out;
    const long long refused = r->element[0]->integer;
    out.refused = refused > 0;
    out.refused_scope = out.refused ? static_cast<std::size_t>(refused - 1) : 0;
    for (std::size_t i = 0; i < n; ++i) {
      out.counts.push_back(static_cast<uint64_t>(r->element[1 + i]->integer));
      out.added.push_back(r->element[1 + n + i]->integer == 1);
    }
    return out;
  }

  Result<uint64_t> count(std::string_view scope) override {
    auto r = command({"SCARD", set_key(scope)});
    if (!r) return r.error();
    if ((*r)->type != REDIS_REPLY_INTEGER) return fail(ErrorCode::kFailed, "SCARD: not a number");
    return static_cast<uint64_t>((*r)->integer);
  }

  Result<std::vector<std::pair<std::string, uint64_t>>> scopes(std::string_view prefix) override {
    auto idx = command({"SMEMBERS", opt_.key_prefix + "index"});
    if (!idx) return idx.error();
    if ((*idx)->type != REDIS_REPLY_ARRAY) return fail(ErrorCode::kFailed, "index: not a set");
    std::vector<std::pair<std::string, uint64_t>> out;
    for (std::size_t i = 0; i < (*idx)->elements; ++i) {
      const redisReply* e = (*idx)->element[i];
      std::string s(e->str, e->len);
      if (s.starts_with(prefix)) out.emplace_back(std::move(s), 0);
    }
    std::sort(out.begin(), out.end());
    for (auto& [s, c] : out) {  // pipelining would be faster; reports are not on a hot path
      auto n = count(s);
      if (!n) return n.error();
      c = *n;
    }
    return out;
  }

  Result<bool> contains(std::string_view scope, const PersonDigest& who) override {
    auto r = command({"SISMEMBER", set_key(scope),
                      std::string(reinterpret_cast<const char*>(who.data()), who.size())});
    if (!r) return r.error();
    if ((*r)->type != REDIS_REPLY_INTEGER) return fail(ErrorCode::kFailed, "SISMEMBER");
    return (*r)->integer == 1;
  }

  Result<uint64_t> reserve_bytes(std::string_view id, uint64_t want, uint64_t cap) override {
    auto r = eval(kReserveScript, {bytes_key(id), opt_.key_prefix + "bytes-index"},
                  {std::to_string(std::min(want, kMaxScriptBytes)),
                   std::to_string(std::min(cap, kMaxScriptBytes)), std::string(id)});
    if (!r) return r.error();
    return *r;
  }

  Result<void> release_bytes(std::string_view id, uint64_t n) override {
    auto r = eval(kReleaseScript, {bytes_key(id)}, {std::to_string(std::min(n, kMaxScriptBytes))});
    if (!r) return r.error();
    return {};
  }

  Result<uint64_t> reserved_bytes(std::string_view id) override {
    auto r = command({"GET", bytes_key(id)});
    if (!r) return r.error();
    if ((*r)->type == REDIS_REPLY_NIL) return uint64_t{0};
    if ((*r)->type != REDIS_REPLY_STRING) return fail(ErrorCode::kFailed, "GET: not a string");
    uint64_t n = 0;
    std::string_view t((*r)->str, (*r)->len);
    if (std::from_chars(t.data(), t.data() + t.size(), n).ec != std::errc())
      return fail(ErrorCode::kFailed, "GET: not a number");
    return n;
  }

  Result<std::vector<std::pair<std::string, uint64_t>>> all_reserved_bytes() override {
    auto idx = command({"SMEMBERS", opt_.key_prefix + "bytes-index"});
    if (!idx) return idx.error();
    if ((*idx)->type != REDIS_REPLY_ARRAY) return fail(ErrorCode::kFailed, "index: not a set");
    std::vector<std::pair<std::string, uint64_t>> out;
    for (std::size_t i = 0; i < (*idx)->elements; ++i)
      out.emplace_back(std::string((*idx)->element[i]->str, (*idx)->element[i]->len), 0);
    std::sort(out.begin(), out.end());
    for (auto& [id, n] : out) {
      auto b = reserved_bytes(id);
      if (!b) return b.error();
      n = *b;
    }
    return out;
  }

  // Every claim the script answered is in the server's memory (and its AOF, per its fsync
  // policy: docs/scale-out.md): nothing is buffered here.
  Result<void> flush() override {
    if (auto r = command({"PING"}); !r) return r.error();
    return {};
  }

  std::string describe() const override { return name_; }

 private:
  // <prefix>b:<declaration id>: the declaration's byte total (INCRBY by the reserve script).
  std::string bytes_key(std::string_view id) const {
    return opt_.key_prefix + "b:" + std::string(id);
  }

  // A small script by EVAL (not cached: byte reservations are one per grant, not per claim);
  // its integer reply.
  Result<uint64_t> eval(const char* script, const std::vector<std::string>& keys,
                        const std::vector<std::string>& argv) {
    std::vector<std::string> args{"EVAL", script, std::to_string(keys.size())};
    args.insert(args.end(), keys.begin(), keys.end());
    args.insert(args.end(), argv.begin(), argv.end());
    auto r = command(args);
    if (!r) return r.error();
    if ((*r)->type != REDIS_REPLY_INTEGER || (*r)->integer < 0)
      return fail(ErrorCode::kFailed, "unexpected byte script reply");
    return static_cast<uint64_t>((*r)->integer);
  }

  std::string set_key(std::string_view scope) const {
    return opt_.key_prefix + "s:" + std::string(scope);
  }

  Error fail(ErrorCode code, const std::string& what) {
    ctx_.reset();  // reconnect next time: the connection's state is unknown
    return make_error(code, name_ + ": " + what);
  }

  Result<void> connect() {
    if (ctx_) return {};
    Context c(
        redisConnectWithTimeout(opt_.host.c_str(), opt_.port, to_timeval(opt_.connect_timeout)));
    if (!c) return make_error(ErrorCode::kUnavailable, name_ + ": out of memory");
    if (c->err)
      return make_error(ErrorCode::kUnavailable, name_ + ": cannot connect: " + c->errstr);
    if (redisSetTimeout(c.get(), to_timeval(opt_.command_timeout)) != REDIS_OK)
      return make_error(ErrorCode::kUnavailable, name_ + ": cannot set command timeout");
    ctx_ = std::move(c);
    return {};
  }

  // One command; a dead connection is retried once on a fresh one (the server may have
  // restarted), then it is an Error. Error replies are Errors (kFailed) and keep the connection.
  Result<Reply> command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (auto c = connect(); !c) return c.error();
      void* raw =
          redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), lens.data());
      if (raw == nullptr) {
        std::string why = ctx_->errstr;
        ctx_.reset();
        if (attempt == 1) return make_error(ErrorCode::kUnavailable, name_ + ": " + why);
        continue;
      }
      Reply r(static_cast<redisReply*>(raw));
      if (r->type == REDIS_REPLY_ERROR)
        return make_error(ErrorCode::kFailed, name_ + ": " + std::string(r->str, r->len));
      return r;
    }
    return make_error(ErrorCode::kUnavailable, name_ + ": unreachable");
  }

  RedisStoreOptions opt_;
  std::string name_;
  std::string sha_;
  Context ctx_;
};

}  // namespace

Result<std::pair<std::string, int>> parse_redis_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return make_error(ErrorCode::kInvalid, "redis address \"" + address + "\" is not host:port");
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);  // [::1]:6379
  int port = 0;
  std::string_view p(address);
  p.remove_prefix(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port < 1 || port > 65535)
    return make_error(ErrorCode::kInvalid, "redis address \"" + address + "\": bad port");
  return std::pair{host, port};
}

Result<std::unique_ptr<PersonStore>> make_redis_store(const RedisStoreOptions& options) {
  if (options.host.empty() || options.port < 1 || options.port > 65535)
    return make_error(ErrorCode::kInvalid, "redis store: bad address");
  if (options.key_prefix.empty())
    return make_error(ErrorCode::kInvalid, "redis store: empty key prefix");
  return std::unique_ptr<PersonStore>(std::make_unique<RedisStore>(options));
}

}  // namespace dc::audit
