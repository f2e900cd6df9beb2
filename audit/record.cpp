// The audit log vocabulary: time stamps, file names, record types, checkpoints, flow records.
#include "audit/record.hpp"

#include <cstdio>
#include <ctime>
#include <iterator>
#include <type_traits>

#include "base/names.hpp"
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

namespace {
// Indexed by RecordType (docs/audit-format.md spells them).
constexpr const char* kRecordTypeNames[] = {
    "flow",        "start",       "stop",       "policy_reload", "fail_open",
    "fail_closed", "rotation",    "checkpoint", "records_lost",  "witness_error",
    "flow_open",   "flow_update", "recovery"};
static_assert(std::size(kRecordTypeNames) == static_cast<std::size_t>(RecordType::kRecovery) + 1);
}  // namespace

std::string_view record_type_name(RecordType t) { return base::enum_name(t, kRecordTypeNames); }

std::optional<RecordType> parse_record_type(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kRecordTypeNames); ++i)
    if (name == kRecordTypeNames[i]) return static_cast<RecordType>(i);
  return std::nullopt;
}

namespace {

// The signed members of a checkpoint, in their one order: the canonical signing form lists them
// after seq and time, the JSON "checkpoint" member lists them and then "sig" (audit-format.md).
// `files` is the only list and is handled beside the table.
struct U64Member {
  const char* name;
  std::uint64_t Checkpoint::*field;
};
struct StrMember {
  const char* name;
  std::string Checkpoint::*field;
};
constexpr U64Member kCountsBeforeHash[] = {{"first_seq", &Checkpoint::first_seq},
                                           {"last_seq", &Checkpoint::last_seq}};
constexpr U64Member kCountsAfterHash[] = {{"records", &Checkpoint::records},
                                          {"flows", &Checkpoint::flows}};
constexpr StrMember kTrailer[] = {{"reason", &Checkpoint::reason}, {"key_id", &Checkpoint::key_id}};

// Calls u64(name, field&), str(name, field&) and files(list&) in the canonical member order.
template <class C, class U, class S, class F>
void for_each_member(C& c, U&& u64, S&& str, F&& files) {
  for (const auto& m : kCountsBeforeHash) u64(m.name, c.*m.field);
  str("last_hash", c.last_hash);
  for (const auto& m : kCountsAfterHash) u64(m.name, c.*m.field);
  files(c.files);
  for (const auto& m : kTrailer) str(m.name, c.*m.field);
}

}  // namespace

std::string checkpoint_signing_bytes(const Checkpoint& c) {
  // One "key=value\n" line per field in a fixed order; no field can contain '\n' (seqs are
  // decimal, hashes hex, file names are generated, reason and key id are fixed alphabets, time is
  // RFC 3339). Independent of JSON serialisation, so any JSON library can verify.
  std::string out = "datacustoms-audit-checkpoint-v1\n";
  out += "seq=" + std::to_string(c.seq) + "\n";
  out += "time=" + c.time + "\n";
  for_each_member(
      c,
      [&](const char* n, std::uint64_t v) {
        out += std::string(n) + "=" + std::to_string(v) + "\n";
      },
      [&](const char* n, const std::string& v) { out += std::string(n) + "=" + v + "\n"; },
      [&](const std::vector<std::string>& files) {
        out += "files=";
        for (std::size_t i = 0; i < files.size(); ++i) out += (i ? "," : "") + files[i];
        out += "\n";
      });
  return out;
}

nlohmann::ordered_json checkpoint_to_json(const Checkpoint& c) {
  nlohmann::ordered_json j;
  auto put = [&](const char* n, const auto& v) { j[n] = v; };
  for_each_member(c, put, put, [&](const std::vector<std::string>& f) { j["files"] = f; });
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
  c.seq = *seq;
  c.time = *time;
  const auto& cp = *it;
  bool complete = true;
  bool files_ok = true;
  auto take = [&](const char* n, auto& field) {
    std::optional<std::decay_t<decltype(field)>> v;
    if constexpr (std::is_same_v<std::decay_t<decltype(field)>, std::string>) {
      v = get_str(cp, n);
    } else {
      v = get_u64(cp, n);
    }
    if (v) field = *v;
    complete = complete && v.has_value();
  };
  for_each_member(c, take, take, [&](std::vector<std::string>& files) {
    auto f = cp.find("files");
    if (f == cp.end() || !f->is_array()) {
      complete = false;
      return;
    }
    for (const auto& name : *f) {
      if (!name.is_string()) {
        files_ok = false;
        return;
      }
      files.push_back(name.get<std::string>());
    }
  });
  auto sig = get_str(cp, "sig");
  if (!complete || !sig) return make_error("checkpoint member lacks a field");
  if (!files_ok) return make_error("checkpoint files must be strings");
  c.sig = *sig;
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

nlohmann::ordered_json flow_open_body(const FlowRecord& f) {
  nlohmann::ordered_json full = flow_record_body(f);
  nlohmann::ordered_json j;
  for (const char* k : {"time", "flow_id", "community_id", "src_ip", "src_port", "dest_ip",
                        "dest_port", "proto", "zones", "counterparty", "exporter", "legal_basis",
                        "declaration", "sni", "http_host", "server_name_from", "policy_sha256"})
    j[k] = full[k];
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
  j["exporter"] =
      f.exporter.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.exporter);
  if (f.legal_basis.empty()) {
    j["legal_basis"] = nullptr;
  } else {
    j["legal_basis"] = {{"kind", f.legal_basis}, {"ref", f.legal_basis_ref}};
    if (!f.legal_basis_id.empty()) j["legal_basis"]["id"] = f.legal_basis_id;
  }
  j["bases_considered"] = f.bases_considered;
  j["declaration"] = f.declaration.empty() ? nlohmann::ordered_json(nullptr)
                                           : nlohmann::ordered_json(f.declaration);
  j["verdict"] = f.verdict;
  j["action"] = f.action;
  j["reasons"] = f.reasons;
  j["sni"] = f.sni.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.sni);
  j["http_host"] =
      f.http_host.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.http_host);
  j["server_name_from"] = f.server_name_from.empty() ? nlohmann::ordered_json(nullptr)
                                                     : nlohmann::ordered_json(f.server_name_from);
  j["payload_inspection"] = f.payload_inspection.empty()
                                ? nlohmann::ordered_json(nullptr)
                                : nlohmann::ordered_json(f.payload_inspection);
  j["tls_key_line_sha256"] = f.tls_key_line_sha256.empty()
                                 ? nlohmann::ordered_json(nullptr)
                                 : nlohmann::ordered_json(f.tls_key_line_sha256);
  auto cats = nlohmann::ordered_json::array();
  for (const auto& c : f.categories)
    cats.push_back({{"name", c.name}, {"count", c.count}, {"confidence", c.confidence}});
  j["categories"] = std::move(cats);
  auto vals = nlohmann::ordered_json::array();
  for (const auto& v : f.values)
    vals.push_back(
        {{"category", v.category}, {"masked", v.masked}, {"hmac", v.hmac}, {"path", v.path}});
  j["values"] = std::move(vals);
  j["flow"] = {{"pkts_toserver", f.pkts_toserver},
               {"pkts_toclient", f.pkts_toclient},
               {"bytes_toserver", f.bytes_toserver},
               {"bytes_toclient", f.bytes_toclient}};
  j["crossed"] = {{"packets", f.crossed_packets}, {"bytes", f.crossed_bytes}};
  if (f.foreign_side.empty()) {
    j["foreign"] = j["exported"] = j["received"] = nullptr;
  } else {
    j["foreign"] = f.foreign_side;
    j["exported"] = {{"packets", f.exported_packets}, {"bytes", f.exported_bytes}};
    j["received"] = {{"packets", f.received_packets}, {"bytes", f.received_bytes}};
  }
  j["policy_sha256"] = f.policy_sha256;
  j["evidence"] = f.evidence ? evidence_to_json(*f.evidence) : nlohmann::ordered_json(nullptr);
  j["evidence_missing"] = f.evidence_missing.empty() ? nlohmann::ordered_json(nullptr)
                                                     : nlohmann::ordered_json(f.evidence_missing);
  if (!f.accounting.is_null()) j["accounting"] = f.accounting;
  return j;
}

}  // namespace dc::audit
