// `audit verify --witness`: reading witnessed checkpoints back and checking their signatures
// (audit/witness_read.hpp).
#include "audit/witness_read.hpp"

#include <filesystem>
#include <set>

#include "audit/record.hpp"
#include "audit/verify_scan.hpp"
#include "base/file.hpp"

namespace dc::audit {
namespace {

// Why a witnessed entry is not a checkpoint signed by `key`; empty when it is.
std::string entry_problem(const CheckpointInfo& w, const VerifyKey& key) {
  auto rec = nlohmann::json::parse(w.line, nullptr, false);
  if (rec.is_discarded() || !rec.is_object() || rec.value("type", "") != "checkpoint")
    return "witnessed line is not a checkpoint record";
  auto c = checkpoint_from_record(rec);
  if (!c) return "witnessed checkpoint malformed (" + c.error().message + ")";
  if (c->seq != w.seq)
    return "witness says seq " + std::to_string(w.seq) + ", its line is " + std::to_string(c->seq);
  auto sig = base64_decode(c->sig);
  if (!sig || !key.verify(checkpoint_signing_bytes(*c), *sig)) {
    return "witnessed checkpoint " + std::to_string(w.seq) + " has a bad signature (" +
           (c->key_id != key.key_id() ? "signed by key " + c->key_id + ", expected " + key.key_id()
                                      : "forged or altered") +
           ")";
  }
  return {};
}

void add_entry(WitnessContent& out, std::string_view text, const std::string& where,
               std::uint64_t line, const VerifyKey& key) {
  auto w = parse_witness_line(text);
  std::string problem =
      w ? entry_problem(*w, key) : "unreadable witness entry (" + w.error().message + ")";
  if (!problem.empty()) {
    out.problems.push_back(WitnessProblem{where, line, std::move(problem)});
    return;
  }
  out.checkpoints.push_back(WitnessedCheckpoint{w->seq, w->hash, where, line});
}

Result<void> read_file_part(WitnessContent& out, const std::string& path, const VerifyKey& key) {
  auto f = base::open_regular_file(
      path, {.max_bytes = 4 * kMaxWitnessFileBytes, .follow_symlinks = false});
  if (!f) return make_error(f.error().code, "witness " + f.error().message);
  LineReader reader(std::move(*f));
  std::string where = "file:" + path;
  for (std::uint64_t n = 1;; ++n) {
    auto l = reader.next();
    if (!l) return l.error();
    if (!*l) return {};
    if (out.checkpoints.size() + out.problems.size() >= kMaxWitnessEntries)
      return make_error(ErrorCode::kTooLarge, "witness " + path + ": more than " +
                                                  std::to_string(kMaxWitnessEntries) + " entries");
    if (!(*l)->complete) {
      // A crash while appending leaves a torn last line; it was never a published checkpoint.
      out.problems.push_back(WitnessProblem{where, n, "incomplete last line (ignored)", false});
      continue;
    }
    if ((*l)->too_long || (*l)->text.size() > kMaxWitnessLine) {
      out.problems.push_back(WitnessProblem{where, n, "witness line too long"});
      continue;
    }
    add_entry(out, (*l)->text, where, n, key);
  }
}

Result<WitnessContent> read_file_witness(const std::string& spec, const std::string& path,
                                         const VerifyKey& key) {
  WitnessContent out{spec, {}, {}};
  std::error_code ec;
  std::string older = path + ".1";
  if (std::filesystem::symlink_status(older, ec).type() != std::filesystem::file_type::not_found)
    if (auto r = read_file_part(out, older, key); !r) return r.error();
  if (auto r = read_file_part(out, path, key); !r) return r.error();
  return out;
}

Result<WitnessContent> read_redis(const std::string& spec, std::string rest, const VerifyKey& key) {
  RedisWitnessOptions o;
  auto hash = rest.find('#');
  if (hash != std::string::npos) {
    o.key = rest.substr(hash + 1);
    rest.resize(hash);
  } else if (!rest.starts_with("/")) {
    auto slash = rest.find('/');
    if (slash != std::string::npos) {
      o.key = rest.substr(slash + 1);
      rest.resize(slash);
    }
  }
  if (o.key.empty()) return make_error(ErrorCode::kInvalid, "witness " + spec + ": empty key");
  o.address = rest;
  o.connect_timeout = std::chrono::seconds(2);
  o.command_timeout = std::chrono::seconds(5);
  auto values = read_redis_witness(o);
  if (!values) return make_error(values.error().code, "witness " + values.error().message);
  WitnessContent out{spec, {}, {}};
  std::string where = "redis:" + o.address + "/" + o.key;
  for (std::size_t i = 0; i < values->size(); ++i) add_entry(out, (*values)[i], where, i + 1, key);
  return out;
}

}  // namespace

Result<WitnessContent> read_witness(const std::string& spec, const VerifyKey& key) {
  Result<WitnessContent> r = make_error("");
  if (spec.starts_with("file:") && spec.size() > 5)
    r = read_file_witness(spec, spec.substr(5), key);
  else if (spec.starts_with("redis:") && spec.size() > 6)
    r = read_redis(spec, spec.substr(6), key);
  else
    return make_error(ErrorCode::kInvalid, "witness \"" + spec +
                                               "\": expected file:PATH, redis:HOST:PORT[/KEY] or "
                                               "redis:/SOCKET[#KEY]");
  if (!r) return r;
  // One checkpoint is often held twice (Redis: the latest key and the history's head; a file
  // and its .1 generation never overlap): keep its first place.
  auto& cps = r->checkpoints;
  std::set<std::pair<std::uint64_t, std::string>> seen;
  std::erase_if(cps,
                [&](const WitnessedCheckpoint& c) { return !seen.emplace(c.seq, c.hash).second; });
  return r;
}

}  // namespace dc::audit
