#include "audit/record.hpp"

#include <cstdio>
#include <ctime>

#include "base/time.hpp"

namespace dc::audit {
namespace {

std::optional<std::uint64_t> get_u64(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}

std::optional<std::string> get_str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

std::string format_time(TimePoint t) {
  return base::format_rfc3339_utc_micros(t.time_since_epoch().count());
}

std::optional<std::string> utc_date(std::string_view s) {
  // A date-time with an explicit zone only: without one the instant is unknown (refuse to guess).
  if (s.size() < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')) return std::nullopt;
  bool zoned = s.back() == 'Z' || s.back() == 'z' || s.find_first_of("+-", 19) != s.npos;
  auto ns = zoned ? base::parse_rfc3339(s, 0) : std::nullopt;
  if (!ns) return std::nullopt;
  return base::format_rfc3339(*ns, 0).substr(0, 10);
}

std::string log_file_name(std::uint64_t first_seq) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "audit-%012llu.jsonl", static_cast<unsigned long long>(first_seq));
  return buf;
}

std::optional<std::uint64_t> parse_log_file_name(std::string_view name) {
  if (name.size() != kLogPrefix.size() + 12 + kLogSuffix.size() || !name.starts_with(kLogPrefix) ||
      !name.ends_with(kLogSuffix))
    return std::nullopt;
  std::uint64_t v = 0;
  for (char c : name.substr(kLogPrefix.size(), 12)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

std::string_view record_type_name(RecordType t) {
  switch (t) {
    case RecordType::kFlow:
      return "flow";
    case RecordType::kStart:
      return "start";
    case RecordType::kStop:
      return "stop";
    case RecordType::kPolicyReload:
      return "policy_reload";
    case RecordType::kFailOpen:
      return "fail_open";
    case RecordType::kFailClosed:
      return "fail_closed";
    case RecordType::kRotation:
      return "rotation";
    case RecordType::kCheckpoint:
      return "checkpoint";
    case RecordType::kRecordsLost:
      return "records_lost";
  }
  return "unknown";
}

std::optional<RecordType> parse_record_type(std::string_view name) {
  for (auto t : {RecordType::kFlow, RecordType::kStart, RecordType::kStop,
                 RecordType::kPolicyReload, RecordType::kFailOpen, RecordType::kFailClosed,
                 RecordType::kRotation, RecordType::kCheckpoint, RecordType::kRecordsLost}) {
    if (record_type_name(t) == name) return t;
  }
  return std::nullopt;
}

std::string checkpoint_signing_bytes(const Checkpoint& c) {
  // One "key=value\n" line per field in a fixed order; no field can contain '\n' (seqs are
  // decimal, hashes hex, file names are generated, reason and key id are fixed alphabets, time is
  // RFC 3339). Independent of JSON serialisation, so any JSON library can verify.
  std::string files;
  for (std::size_t i = 0; i < c.files.size(); ++i) {
    if (i) files += ',';
    files += c.files[i];
  }
  std::string out = "datacustoms-audit-checkpoint-v1\n";
  out += "seq=" + std::to_string(c.seq) + "\n";
  out += "time=" + c.time + "\n";
  out += "first_seq=" + std::to_string(c.first_seq) + "\n";
  out += "last_seq=" + std::to_string(c.last_seq) + "\n";
  out += "last_hash=" + c.last_hash + "\n";
  out += "records=" + std::to_string(c.records) + "\n";
  out += "flows=" + std::to_string(c.flows) + "\n";
  out += "files=" + files + "\n";
  out += "reason=" + c.reason + "\n";
  out += "key_id=" + c.key_id + "\n";
  return out;
}

nlohmann::ordered_json checkpoint_to_json(const Checkpoint& c) {
  nlohmann::ordered_json j;
  j["first_seq"] = c.first_seq;
  j["last_seq"] = c.last_seq;
  j["last_hash"] = c.last_hash;
  j["records"] = c.records;
  j["flows"] = c.flows;
  j["files"] = c.files;
  j["reason"] = c.reason;
  j["key_id"] = c.key_id;
  j["sig"] = c.sig;
  return j;
}

Result<Checkpoint> checkpoint_from_record(const nlohmann::json& record) {
  Checkpoint c;
  auto seq = get_u64(record, "seq");
  auto time = get_str(record, "time");
  auto it = record.find("checkpoint");
  if (!seq || !time || it == record.end() || !it->is_object())
    return make_error("checkpoint record lacks seq, time or checkpoint");
  const auto& cp = *it;
  auto first = get_u64(cp, "first_seq");
  auto last = get_u64(cp, "last_seq");
  auto last_hash = get_str(cp, "last_hash");
  auto records = get_u64(cp, "records");
  auto flows = get_u64(cp, "flows");
  auto reason = get_str(cp, "reason");
  auto key_id = get_str(cp, "key_id");
  auto sig = get_str(cp, "sig");
  auto files = cp.find("files");
  if (!first || !last || !last_hash || !records || !flows || !reason || !key_id || !sig ||
      files == cp.end() || !files->is_array())
    return make_error("checkpoint member lacks a field");
  c.seq = *seq;
  c.time = *time;
  c.first_seq = *first;
  c.last_seq = *last;
  c.last_hash = *last_hash;
  c.records = *records;
  c.flows = *flows;
  c.reason = *reason;
  c.key_id = *key_id;
  c.sig = *sig;
  for (const auto& f : *files) {
    if (!f.is_string()) return make_error("checkpoint files must be strings");
    c.files.push_back(f.get<std::string>());
  }
  return c;
}

nlohmann::ordered_json evidence_to_json(const EvidenceRef& e) {
  nlohmann::ordered_json j;
  j["file"] = e.file;
  j["sha256"] = e.sha256;
  j["packets"] = e.packets;
  j["bytes"] = e.bytes;
  j["truncated"] = e.truncated;
  return j;
}

nlohmann::ordered_json flow_record_body(const FlowRecord& f) {
  nlohmann::ordered_json j;
  j["time"] = format_time(f.time);
  j["flow_id"] = f.flow_id;
  j["community_id"] = f.community_id;
  j["src_ip"] = f.src_ip;
  j["src_port"] = f.src_port;
  j["dest_ip"] = f.dest_ip;
  j["dest_port"] = f.dest_port;
  j["proto"] = f.proto;
  j["zones"] = {{"src", f.src_zone}, {"dest", f.dest_zone}};
  j["counterparty"] = f.counterparty.empty() ? nlohmann::ordered_json(nullptr)
                                             : nlohmann::ordered_json(f.counterparty);
  if (f.legal_basis.empty()) {
    j["legal_basis"] = nullptr;
  } else {
    j["legal_basis"] = {{"kind", f.legal_basis}, {"ref", f.legal_basis_ref}};
  }
  j["verdict"] = f.verdict;
  j["action"] = f.action;
  j["reasons"] = f.reasons;
  j["sni"] = f.sni.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.sni);
  j["http_host"] =
      f.http_host.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.http_host);
  auto cats = nlohmann::ordered_json::array();
  for (const auto& c : f.categories)
    cats.push_back({{"name", c.name}, {"count", c.count}, {"confidence", c.confidence}});
  j["categories"] = std::move(cats);
  auto vals = nlohmann::ordered_json::array();
  for (const auto& v : f.values)
    vals.push_back({{"category", v.category}, {"masked", v.masked}, {"hmac", v.hmac}});
  j["values"] = std::move(vals);
  j["flow"] = {{"pkts_toserver", f.pkts_toserver},
               {"pkts_toclient", f.pkts_toclient},
               {"bytes_toserver", f.bytes_toserver},
               {"bytes_toclient", f.bytes_toclient}};
  j["policy_sha256"] = f.policy_sha256;
  j["evidence"] = f.evidence ? evidence_to_json(*f.evidence) : nlohmann::ordered_json(nullptr);
  return j;
}

}  // namespace dc::audit
