// Crash recovery: the flows an unclean run opened and never closed (see recovery.hpp).
#include "audit/recovery.hpp"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "audit/verify_scan.hpp"

namespace dc::audit {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMaxLogFileBytes = std::size_t{4} << 30;
constexpr std::size_t kMaxTracked = 1'000'000;  // flows open at once that we follow

// Calls fn(json) for each parseable record of one file; unparseable lines are skipped (the
// verifier reports them; recovery lists what it can read).
template <class Fn>
Result<void> each_record(const std::string& path, Fn&& fn) {
  auto file =
      base::open_regular_file(path, {.max_bytes = kMaxLogFileBytes, .follow_symlinks = false});
  if (!file) return file.error();
  LineReader reader(std::move(file.value()));
  for (;;) {
    auto line = reader.next();
    if (!line) return line.error();
    if (!line.value()) return {};
    if (!line.value()->complete || line.value()->too_long) continue;
    auto j = nlohmann::json::parse(line.value()->text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    if (!fn(j)) return {};
  }
}

std::string str(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::uint64_t u64(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

// Follows flow_open / flow_update / flow records from the run's start on.
class Tracker {
 public:
  void on_record(const nlohmann::json& j, RecoveryScan& out) {
    const std::string type = str(j, "type");
    out.last_seq = std::max(out.last_seq, u64(j, "seq"));
    if (type != "flow_open" && type != "flow_update" && type != "flow") return;
    if (!j.contains("flow_id") || !j["flow_id"].is_number_unsigned()) return;
    const std::uint64_t id = j["flow_id"].get<std::uint64_t>();
    auto it = by_id_.find(id);
    if (type == "flow") {
      if (it != by_id_.end()) {
        open_.erase(it->second);
        by_id_.erase(it);
      }
    } else if (type == "flow_update") {
      if (it == by_id_.end()) return;
      UnclosedFlow& f = open_[it->second];
      f.updated = true;
      f.crossed_packets = u64(j["crossed"], "packets");
      f.crossed_bytes = u64(j["crossed"], "bytes");
    } else if (it == by_id_.end()) {
      if (by_id_.size() >= kMaxTracked) {
        ++untracked_;
        return;
      }
      nlohmann::ordered_json o;
      for (const char* k :
           {"flow_id", "time", "src_ip", "src_port", "dest_ip", "dest_port", "proto",
            "counterparty", "exporter", "legal_basis", "sni", "http_host", "server_name_from"})
        if (j.contains(k)) o[k] = j[k];
      o["open_seq"] = u64(j, "seq");
      const std::uint64_t seq = u64(j, "seq");
      open_[seq] =
          UnclosedFlow{id, o.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
      by_id_[id] = seq;
    }
  }
  void finish(RecoveryScan& out) {
    out.unclosed = open_.size() + untracked_;
    out.truncated = untracked_ > 0 || open_.size() > kMaxRecoveryListed;
    for (auto& [seq, f] : open_) {
      if (out.flows.size() >= kMaxRecoveryListed) break;
      out.flows.push_back(std::move(f));
    }
  }

 private:
  std::map<std::uint64_t, UnclosedFlow> open_;              // by open seq: listing order
  std::unordered_map<std::uint64_t, std::uint64_t> by_id_;  // flow id -> open seq
  std::uint64_t untracked_ = 0;
};

}  // namespace

Result<RecoveryScan> scan_unclean_run(const std::string& dir,
                                      const std::vector<std::string>& names) {
  RecoveryScan out;
  // Newest first: the file holding the run's start record (the last "start" of the log).
  std::size_t first = names.size();
  for (std::size_t i = names.size(); i-- > 0 && first == names.size();) {
    auto r = each_record((fs::path(dir) / names[i]).string(), [&](const nlohmann::json& j) {
      if (str(j, "type") == "start") {
        first = i;
        out.run_start_seq = u64(j, "seq");
        out.run_start_time = str(j, "time");
      }
      return true;
    });
    if (!r) return r.error();
  }
  if (first == names.size()) first = 0;  // no start record readable: take the whole log
  Tracker t;
  for (std::size_t i = first; i < names.size(); ++i) {
    auto r = each_record((fs::path(dir) / names[i]).string(), [&](const nlohmann::json& j) {
      if (u64(j, "seq") >= out.run_start_seq) t.on_record(j, out);
      return true;
    });
    if (!r) return r.error();
  }
  t.finish(out);
  return out;
}

}  // namespace dc::audit
