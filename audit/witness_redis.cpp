// The Redis witness (libhiredis): SET the latest witness line, LPUSH + LTRIM a capped history,
// with connect and command timeouts; and the bounded read-back used by `audit verify --witness`.
#include <sys/time.h>

#include <charconv>

#include "audit/redis_handle.hpp"
#include "audit/witness.hpp"
#include "audit/witness_read.hpp"

namespace dc::audit {
namespace {

using redis::Context;
using redis::Reply;
using redis::to_timeval;

struct Endpoint {
  std::string unix_path;  // non-empty: unix socket
  std::string host;
  int port = 0;
};

Result<Endpoint> parse_endpoint(const std::string& address) {
  Endpoint e;
  if (address.starts_with("/")) {
    e.unix_path = address;
    return e;
  }
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return make_error(ErrorCode::kInvalid,
                      "redis address \"" + address + "\" is not host:port or a socket path");
  e.host = address.substr(0, colon);
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']')
    e.host = e.host.substr(1, e.host.size() - 2);  // [::1]:6379
  std::string port = address.substr(colon + 1);
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), e.port);
  if (ec != std::errc() || p != port.data() + port.size() || e.port < 1 || e.port > 65535)
    return make_error(ErrorCode::kInvalid, "redis address \"" + address + "\": bad port");
  return e;
}

Result<Context> connect(const std::string& address, std::chrono::milliseconds connect_timeout,
                        std::chrono::milliseconds command_timeout) {
  auto ep = parse_endpoint(address);
  if (!ep) return ep.error();
  timeval tv = to_timeval(connect_timeout);
  Context c(ep->unix_path.empty() ? redisConnectWithTimeout(ep->host.c_str(), ep->port, tv)
                                  : redisConnectUnixWithTimeout(ep->unix_path.c_str(), tv));
  if (!c) return make_error(ErrorCode::kUnavailable, "redis " + address + ": out of memory");
  if (c->err)
    return make_error(ErrorCode::kUnavailable,
                      "redis " + address + ": cannot connect: " + std::string(c->errstr));
  if (redisSetTimeout(c.get(), to_timeval(command_timeout)) != REDIS_OK)
    return make_error(ErrorCode::kIo, "redis " + address + ": cannot set command timeout");
  return c;
}

// The next pipelined reply; an I/O failure or an error reply is an Error.
Result<Reply> next_reply(redisContext* c, const std::string& address) {
  void* raw = nullptr;
  if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr)
    return make_error(ErrorCode::kIo,
                      "redis " + address + ": " + (c->err ? std::string(c->errstr) : "no reply"));
  Reply r(static_cast<redisReply*>(raw));
  if (r->type == REDIS_REPLY_ERROR)
    return make_error(ErrorCode::kFailed, "redis " + address + ": " + std::string(r->str, r->len));
  return r;
}

class RedisWitness final : public Witness {
 public:
  explicit RedisWitness(RedisWitnessOptions o)
      : opt_(std::move(o)), name_("redis:" + opt_.address + "/" + opt_.key) {}
  const std::string& name() const override { return name_; }

  Result<void> publish(const CheckpointInfo& c) override {
    if (!ctx_) {
      auto ctx = connect(opt_.address, opt_.connect_timeout, opt_.command_timeout);
      if (!ctx) return ctx.error();
      ctx_ = std::move(*ctx);
    }
    auto r = send(witness_line(c));
    if (!r) ctx_.reset();  // reconnect on the next checkpoint (the server may have restarted)
    return r;
  }

 private:
  Result<void> send(const std::string& line) {
    std::string history = opt_.key + std::string(kRedisHistorySuffix);
    redisContext* c = ctx_.get();
    // One round trip: the three commands are pipelined, MULTI/EXEC makes them one step.
    redisAppendCommand(c, "MULTI");
    redisAppendCommand(c, "SET %b %b", opt_.key.data(), opt_.key.size(), line.data(), line.size());
    redisAppendCommand(c, "LPUSH %b %b", history.data(), history.size(), line.data(), line.size());
    redisAppendCommand(c, "LTRIM %b 0 %d", history.data(), history.size(),
                       static_cast<int>(opt_.history_max) - 1);
    redisAppendCommand(c, "EXEC");
    for (int i = 0; i < 4; ++i)
      if (auto r = next_reply(c, opt_.address); !r) return r.error();
    auto exec = next_reply(c, opt_.address);
    if (!exec) return exec.error();
    if ((*exec)->type != REDIS_REPLY_ARRAY || (*exec)->elements != 3)
      return make_error(ErrorCode::kFailed, "redis " + opt_.address + ": transaction aborted");
    for (std::size_t i = 0; i < 3; ++i)
      if ((*exec)->element[i]->type == REDIS_REPLY_ERROR)
        return make_error(ErrorCode::kFailed,
                          "redis " + opt_.address + ": " +
                              std::string((*exec)->element[i]->str, (*exec)->element[i]->len));
    return {};
  }

  RedisWitnessOptions opt_;
  std::string name_;
  Context ctx_;
};

}  // namespace

Result<std::unique_ptr<Witness>> make_redis_witness(RedisWitnessOptions options) {
  if (auto ep = parse_endpoint(options.address); !ep) return ep.error();
  if (options.key.empty()) return make_error(ErrorCode::kInvalid, "redis witness: empty key");
  if (options.history_max == 0 || options.history_max > kMaxWitnessEntries)
    return make_error(ErrorCode::kInvalid, "redis witness: history_max out of range [1, " +
                                               std::to_string(kMaxWitnessEntries) + "]");
  return std::unique_ptr<Witness>(std::make_unique<RedisWitness>(std::move(options)));
}

Result<std::vector<std::string>> read_redis_witness(const RedisWitnessOptions& o) {
  auto ctx = connect(o.address, o.connect_timeout, o.command_timeout);
  if (!ctx) return ctx.error();
  redisContext* c = ctx->get();
  std::string history = o.key + std::string(kRedisHistorySuffix);
  std::vector<std::string> out;
  auto take = [&](const redisReply* r, const std::string& what) -> Result<void> {
    if (r->type != REDIS_REPLY_STRING)
      return make_error(ErrorCode::kInvalid,
                        "redis " + o.address + ": " + what + " is not a string");
    if (r->len > kMaxWitnessLine)
      return make_error(ErrorCode::kTooLarge, "redis " + o.address + ": " + what + " larger than " +
                                                  std::to_string(kMaxWitnessLine) + " bytes");
    out.emplace_back(r->str, r->len);
    return {};
  };
  redisAppendCommand(c, "GET %b", o.key.data(), o.key.size());
  auto latest = next_reply(c, o.address);
  if (!latest) return latest.error();
  if ((*latest)->type != REDIS_REPLY_NIL)
    if (auto r = take(latest->get(), "key " + o.key); !r) return r.error();
  // The history in pages, so no single reply is larger than a page of bounded entries.
  constexpr std::size_t kPage = 256;
  for (std::size_t start = 0; start < kMaxWitnessEntries; start += kPage) {
    redisAppendCommand(c, "LRANGE %b %d %d", history.data(), history.size(),
                       static_cast<int>(start), static_cast<int>(start + kPage - 1));
    auto page = next_reply(c, o.address);
    if (!page) return page.error();
    if ((*page)->type != REDIS_REPLY_ARRAY)
      return make_error(ErrorCode::kInvalid,
                        "redis " + o.address + ": " + history + " is not a list");
    for (std::size_t i = 0; i < (*page)->elements; ++i)
      if (auto r = take((*page)->element[i], history + "[" + std::to_string(start + i) + "]"); !r)
        return r.error();
    if ((*page)->elements < kPage) return out;
  }
  return make_error(ErrorCode::kTooLarge, "redis " + o.address + ": " + history +
                                              " has more than " +
                                              std::to_string(kMaxWitnessEntries) + " entries");
}

}  // namespace dc::audit
