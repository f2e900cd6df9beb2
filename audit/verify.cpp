#include "audit/verify.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <tuple>

#include "audit/record.hpp"
#include "base/hash.hpp"

namespace dc::audit {
namespace fs = std::filesystem;
namespace {

struct Entry {
  std::size_t file_index = 0;
  std::uint64_t line = 0;
  std::string raw;
  std::string hash;
  bool complete = true;  // ended with '\n'
  bool valid = false;    // JSON object with seq/prev/type
  std::uint64_t seq = 0;
  std::string prev;
  std::string type;
  nlohmann::json json;
};

std::string short_hash(const std::string& h) { return h.substr(0, 12) + "…"; }

std::string seq_range(std::uint64_t a, std::uint64_t b) {
  return a == b ? "record " + std::to_string(a)
                : "records " + std::to_string(a) + ".." + std::to_string(b);
}

class Verifier {
 public:
  Verifier(const VerifyOptions& opt, const VerifyKey& key) : opt_(opt), key_(key) {}

  Result<VerifyReport> run() {
    if (auto r = load(); !r) return r.error();
    check_order();
    check_chain();
    check_checkpoints();
    check_tail();
    if (opt_.check_evidence) check_evidence();
    std::stable_sort(findings_.begin(), findings_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.first.first, a.first.second) < std::tie(b.first.first, b.first.second);
    });
    for (auto& f : findings_) report_.findings.push_back(std::move(f.second));
    report_.files = files_.size();
    return std::move(report_);
  }

 private:
  using Pos = std::pair<std::size_t, std::uint64_t>;  // (file index, line) for sorting

  void add(const Entry& at, FindingKind kind, std::uint64_t seq, std::string message,
           Severity sev = Severity::kError) {
    add_at(at.file_index, at.line, kind, seq, std::move(message), sev);
  }
  void add_at(std::size_t file_index, std::uint64_t line, FindingKind kind, std::uint64_t seq,
              std::string message, Severity sev = Severity::kError) {
    Finding f{sev, kind, files_[file_index], line, seq, std::move(message)};
    findings_.emplace_back(Pos{file_index, line}, std::move(f));
  }
  std::string where(const Entry& e) const {
    return files_[e.file_index] + ":" + std::to_string(e.line);
  }
  const Entry* first_of(std::uint64_t seq) const {
    auto it = by_seq_.find(seq);
    return it == by_seq_.end() ? nullptr : &entries_[it->second.front()];
  }

  Result<void> load() {
    std::error_code ec;
    if (!fs::is_directory(opt_.dir, ec)) return make_error(opt_.dir + ": not a directory");
    for (const auto& e : fs::directory_iterator(opt_.dir, ec)) {
      auto name = e.path().filename().string();
      if (parse_log_file_name(name)) files_.push_back(name);
    }
    if (ec) return make_error(opt_.dir + ": cannot list: " + ec.message());
    if (files_.empty()) return make_error(opt_.dir + ": no audit-*.jsonl files");
    std::sort(files_.begin(), files_.end());
    for (std::size_t fi = 0; fi < files_.size(); ++fi) {
      std::ifstream in(fs::path(opt_.dir) / files_[fi], std::ios::binary);
      if (!in) return make_error(opt_.dir + "/" + files_[fi] + ": cannot read");
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::size_t pos = 0;
      std::uint64_t line = 0;
      file_first_entry_.push_back(entries_.size());
      while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        Entry e;
        e.file_index = fi;
        e.line = ++line;
        e.complete = nl != std::string::npos;
        e.raw = text.substr(pos, (e.complete ? nl : text.size()) - pos);
        pos = e.complete ? nl + 1 : text.size();
        parse(e);
        entries_.push_back(std::move(e));
      }
    }
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (!e.complete) {
        add(e, FindingKind::kTruncatedLine, 0,
            "incomplete record (" + std::to_string(e.raw.size()) +
                " bytes without a newline): log cut mid-record");
        continue;
      }
      if (!e.valid) {
        add(e, FindingKind::kMalformed, 0, malformed_reason(e));
        continue;
      }
      by_seq_[e.seq].push_back(i);
      ++report_.records;
      if (e.type == "flow") ++report_.flows;
      report_.last_seq = std::max(report_.last_seq, e.seq);
    }
    return {};
  }

  static void parse(Entry& e) {
    e.hash = base::sha256_hex(e.raw);
    if (!e.complete) return;
    e.json = nlohmann::json::parse(e.raw, nullptr, false);
    if (e.json.is_discarded() || !e.json.is_object()) return;
    auto s = e.json.find("seq");
    auto p = e.json.find("prev");
    auto t = e.json.find("type");
    if (s == e.json.end() || !s->is_number_unsigned() || p == e.json.end() || !p->is_string() ||
        t == e.json.end() || !t->is_string())
      return;
    e.seq = s->get<std::uint64_t>();
    e.prev = p->get<std::string>();
    e.type = t->get<std::string>();
    e.valid = e.seq > 0 && parse_record_type(e.type).has_value();
  }

  static std::string malformed_reason(const Entry& e) {
    if (e.json.is_discarded()) return "malformed record (not valid JSON)";
    if (!e.json.is_object()) return "malformed record (not a JSON object)";
    if (e.json.contains("type") && e.json["type"].is_string() &&
        !parse_record_type(e.json["type"].get<std::string>()))
      return "malformed record (unknown type \"" + e.json["type"].get<std::string>() + "\")";
    return "malformed record (missing or invalid seq, prev or type)";
  }

  // Positions in file order: reordering, duplicates, replayed checkpoints, deletions, missing
  // files.
  void check_order() {
    std::uint64_t max_seq = 0;
    const Entry* last_valid = nullptr;
    bool malformed_since = false;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (!e.valid) {
        malformed_since = true;
        continue;
      }
      const auto& occ = by_seq_[e.seq];
      if (occ.front() != i) {
        const Entry& first = entries_[occ.front()];
        if (first.raw == e.raw && e.type == "checkpoint") {
          add(e, FindingKind::kReplayedCheckpoint, e.seq,
              "checkpoint record " + std::to_string(e.seq) + " replayed (copy of " + where(first) +
                  ")");
        } else if (first.raw == e.raw) {
          add(e, FindingKind::kDuplicated, e.seq,
              "record " + std::to_string(e.seq) + " duplicated (copy of " + where(first) + ")");
        } else {
          add(e, FindingKind::kDuplicated, e.seq,
              "record " + std::to_string(e.seq) + " appears twice (differs from " + where(first) +
                  ")");
        }
        continue;
      }
      if (e.seq <= max_seq) {
        add(e, FindingKind::kReordered, e.seq,
            "record " + std::to_string(e.seq) + " out of order (appears after record " +
                std::to_string(max_seq) + ")");
        continue;
      }
      if (e.seq > max_seq + 1 && !malformed_since)
        report_gap(max_seq + 1, e.seq - 1, e, last_valid);
      malformed_since = false;
      max_seq = e.seq;
      last_valid = &e;
    }
  }

  void report_gap(std::uint64_t a, std::uint64_t b, const Entry& next, const Entry* before) {
    // Seqs that exist elsewhere were moved, not deleted: the move is reported where they appear.
    std::uint64_t s = a;
    while (s <= b) {
      if (by_seq_.count(s)) {
        ++s;
        continue;
      }
      std::uint64_t t = s;
      while (t + 1 <= b && !by_seq_.count(t + 1)) ++t;
      bool at_file_start = file_first_valid(next.file_index) == &next;
      bool other_file = before == nullptr || before->file_index != next.file_index;
      if (at_file_start && other_file) {
        add(next, FindingKind::kFileMissing, s,
            "file " + log_file_name(s) + " missing (" + seq_range(s, t) + " absent before " +
                files_[next.file_index] + ")");
      } else {
        add(next, FindingKind::kDeleted, s, seq_range(s, t) + " deleted");
      }
      s = t + 1;
    }
  }

  const Entry* file_first_valid(std::size_t fi) const {
    for (std::size_t i = file_first_entry_[fi]; i < entries_.size() && entries_[i].file_index == fi;
         ++i)
      if (entries_[i].valid) return &entries_[i];
    return nullptr;
  }

  // The chain by seq: record s must name the SHA-256 of record s-1's line.
  void check_chain() {
    for (const auto& [seq, occ] : by_seq_) {
      const Entry& e = entries_[occ.front()];
      if (seq == 1) {
        if (e.prev != kGenesisHash)
          add(e, FindingKind::kGenesis, 1, "record 1 does not chain from the genesis value");
        continue;
      }
      const Entry* p = first_of(seq - 1);
      if (p == nullptr || e.prev == p->hash) continue;
      add(*p, FindingKind::kModified, seq - 1,
          "record " + std::to_string(seq - 1) + " modified (hash chain broken: record " +
              std::to_string(seq) + " expects " + short_hash(e.prev) + ", line hashes to " +
              short_hash(p->hash) + ")");
    }
  }

  void check_checkpoints() {
    for (const auto& [seq, occ] : by_seq_) {
      const Entry& e = entries_[occ.front()];
      if (e.type != "checkpoint") continue;
      auto c = checkpoint_from_record(e.json);
      if (!c) {
        add(e, FindingKind::kMalformed, seq,
            "checkpoint record " + std::to_string(seq) + " malformed (" + c.error().message + ")");
        continue;
      }
      last_checkpoint_any_ = std::max(last_checkpoint_any_, seq);
      auto sig = base64_decode(c->sig);
      bool ok = sig && key_.verify(checkpoint_signing_bytes(*c), *sig);
      if (!ok) {
        std::string why = c->key_id != key_.key_id()
                              ? "signed by key " + c->key_id + ", expected " + key_.key_id()
                              : "forged or altered";
        add(e, FindingKind::kBadSignature, seq,
            "checkpoint record " + std::to_string(seq) + " has a bad signature (" + why + ")");
        // The chain break right after an altered checkpoint is the same fact: say it once.
        drop_modified_finding(seq);
        continue;
      }
      if (c->last_seq + 1 != seq || c->last_hash != e.prev) {
        add(e, FindingKind::kModified, seq,
            "checkpoint record " + std::to_string(seq) +
                " does not seal the record before it (signed last_seq/last_hash differ)");
        continue;
      }
      ++report_.checkpoints;
      report_.sealed_through = std::max(report_.sealed_through, seq);
    }
  }

  void drop_modified_finding(std::uint64_t seq) {
    std::erase_if(findings_, [&](const auto& f) {
      return f.second.kind == FindingKind::kModified && f.second.seq == seq;
    });
  }

  void check_tail() {
    if (report_.records == 0) return;
    const std::uint64_t last = report_.last_seq;
    const Severity sev = opt_.allow_unsealed_tail ? Severity::kWarning : Severity::kError;
    // A checkpoint with a bad signature is already an error of its own; the tail is what follows
    // the last checkpoint of any kind, so a forgery is not reported a second time as "unsealed".
    const std::uint64_t sealed = last_checkpoint_any_;
    if (sealed < last) {
      std::uint64_t first_unsealed = sealed + 1;
      while (!first_of(first_unsealed) && first_unsealed < last) ++first_unsealed;
      const Entry* e = first_of(first_unsealed);
      std::string after = sealed == 0
                              ? "no valid checkpoint"
                              : "the last checkpoint (record " + std::to_string(sealed) + ")";
      add(*e, FindingKind::kUnsealedTail, first_unsealed,
          seq_range(first_unsealed, last) + " after " + after +
              " unsealed (truncated tail, unclean stop, or log still being written)",
          sev);
      return;
    }
    if (report_.sealed_through < last) return;  // the last checkpoint is itself bad
    const Entry* cp = first_of(last);
    std::string reason = cp->json["checkpoint"].value("reason", "");
    if (reason == "close") return;
    if (reason == "rotation") {
      const Entry* rot = first_of(last - 1);
      std::string next = rot && rot->type == "rotation" ? rot->json.value("next_file", "") : "";
      if (!next.empty()) {
        add(*cp, FindingKind::kFileMissing, last + 1,
            "file " + next + " missing (named by rotation record " + std::to_string(last - 1) +
                ")");
        return;
      }
    }
    add(*cp, FindingKind::kUnsealedTail, last,
        "log ends with a '" + reason + "' checkpoint (record " + std::to_string(last) +
            "), not a closing one (truncated tail, unclean stop, or log still being written)",
        sev);
  }

  void check_evidence() {
    for (const auto& [seq, occ] : by_seq_) {
      const Entry& e = entries_[occ.front()];
      if (e.type != "flow") continue;
      auto ev = e.json.find("evidence");
      if (ev == e.json.end() || !ev->is_object()) continue;
      std::string file = ev->value("file", "");
      std::string want = ev->value("sha256", "");
      ++report_.evidence_checked;
      fs::path rel(file);
      bool escapes =
          file.empty() || rel.is_absolute() ||
          std::any_of(rel.begin(), rel.end(), [](const fs::path& c) { return c == ".."; });
      if (escapes) {
        add(e, FindingKind::kEvidenceMissing, seq,
            "record " + std::to_string(seq) + ": evidence path \"" + file +
                "\" is outside the log directory");
        continue;
      }
      auto have = base::sha256_file_hex((fs::path(opt_.dir) / rel).string());
      if (!have) {
        add(e, FindingKind::kEvidenceMissing, seq,
            "record " + std::to_string(seq) + ": evidence " + file + " missing");
      } else if (*have != want) {
        add(e, FindingKind::kEvidenceMismatch, seq,
            "record " + std::to_string(seq) + ": evidence " + file +
                " does not match its hash (recorded " + short_hash(want) + ", file " +
                short_hash(*have) + ")");
      }
    }
  }

  const VerifyOptions& opt_;
  const VerifyKey& key_;
  std::vector<std::string> files_;
  std::vector<std::size_t> file_first_entry_;
  std::vector<Entry> entries_;
  std::map<std::uint64_t, std::vector<std::size_t>> by_seq_;
  std::uint64_t last_checkpoint_any_ = 0;  // highest checkpoint seq, valid signature or not
  std::vector<std::pair<Pos, Finding>> findings_;
  VerifyReport report_;
};

}  // namespace

std::string_view finding_kind_name(FindingKind k) {
  switch (k) {
    case FindingKind::kMalformed:
      return "malformed";
    case FindingKind::kTruncatedLine:
      return "truncated_line";
    case FindingKind::kModified:
      return "modified";
    case FindingKind::kGenesis:
      return "genesis";
    case FindingKind::kDeleted:
      return "deleted";
    case FindingKind::kFileMissing:
      return "file_missing";
    case FindingKind::kReordered:
      return "reordered";
    case FindingKind::kDuplicated:
      return "duplicated";
    case FindingKind::kReplayedCheckpoint:
      return "replayed_checkpoint";
    case FindingKind::kBadSignature:
      return "bad_signature";
    case FindingKind::kUnsealedTail:
      return "unsealed_tail";
    case FindingKind::kEvidenceMissing:
      return "evidence_missing";
    case FindingKind::kEvidenceMismatch:
      return "evidence_mismatch";
  }
  return "unknown";
}

std::string format_finding(const Finding& f) {
  return f.file + ":" + std::to_string(f.line) + ": " +
         (f.severity == Severity::kError ? "error: " : "warning: ") + f.message;
}

bool VerifyReport::intact() const {
  return std::none_of(findings.begin(), findings.end(),
                      [](const Finding& f) { return f.severity == Severity::kError; });
}

nlohmann::ordered_json VerifyReport::to_json() const {
  nlohmann::ordered_json j;
  j["intact"] = intact();
  j["files"] = files;
  j["records"] = records;
  j["flows"] = flows;
  j["checkpoints"] = checkpoints;
  j["last_seq"] = last_seq;
  j["sealed_through"] = sealed_through;
  j["evidence_checked"] = evidence_checked;
  auto arr = nlohmann::ordered_json::array();
  for (const auto& f : findings) {
    arr.push_back({{"severity", f.severity == Severity::kError ? "error" : "warning"},
                   {"kind", finding_kind_name(f.kind)},
                   {"file", f.file},
                   {"line", f.line},
                   {"seq", f.seq},
                   {"message", f.message}});
  }
  j["findings"] = std::move(arr);
  return j;
}

Result<VerifyReport> verify_log(const VerifyOptions& options, const VerifyKey& key) {
  return Verifier(options, key).run();
}

}  // namespace dc::audit
