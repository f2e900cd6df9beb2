// `audit verify`: one streaming pass over a log directory naming every way it was tampered with.
#include "audit/verify.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "audit/record.hpp"
#include "audit/verify_scan.hpp"
#include "audit/witness_read.hpp"
#include "base/file.hpp"
#include "base/hash.hpp"
#include "base/names.hpp"

namespace dc::audit {
namespace fs = std::filesystem;
namespace {

// Size caps: a log file is rotated at max_file_mb (64 MiB by default); evidence captures are
// bounded per flow. These only bound what a damaged or hostile directory can cost.
constexpr std::size_t kMaxLogFile = std::size_t{4} << 30;
constexpr std::size_t kMaxEvidenceFile = std::size_t{1} << 30;
// Findings kept in the report; past this they are counted, not listed (a log of garbage must not
// turn into a report as large as itself).
constexpr std::size_t kMaxFindings = 100'000;
// First occurrences remembered to describe a duplicate ("copy of FILE:LINE").
constexpr std::size_t kRecentRecords = 4096;

struct Pos {
  std::size_t file = 0;
  std::uint64_t line = 0;
  friend auto operator<=>(const Pos&, const Pos&) = default;
};

struct Entry {
  Pos pos;
  std::string raw;
  std::string hash;
  bool complete = true;  // ended with '\n'
  bool too_long = false;
  bool valid = false;  // JSON object with seq/prev/type
  std::uint64_t seq = 0;
  std::string prev;
  std::string type;
  nlohmann::json json;
};

struct Seen {  // what is remembered of a record after its line has gone
  std::string hash;
  Pos pos;
};

struct TailInfo {  // the record with the highest seq, and the one before it
  std::uint64_t seq = 0;
  Pos pos;
  std::string type, reason, next_file;
};

struct Gap {  // seqs a..b absent before the record at `next`; resolved once every file was read
  std::uint64_t a, b;
  Pos next;
  bool at_file_start, other_file;
};

std::string short_hash(const std::string& h) { return h.substr(0, 12) + "…"; }

std::string seq_range(std::uint64_t a, std::uint64_t b) {
  return a == b ? "record " + std::to_string(a)
                : "records " + std::to_string(a) + ".." + std::to_string(b);
}

std::string rec(std::uint64_t seq) { return "record " + std::to_string(seq); }

void parse_entry(Entry& e) {
  e.hash = base::sha256_hex(e.raw);
  if (!e.complete || e.too_long) return;
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

std::string malformed_reason(const Entry& e) {
  if (e.too_long) return "malformed record (line longer than 1 MiB)";
  if (e.json.is_discarded()) return "malformed record (not valid JSON)";
  if (!e.json.is_object()) return "malformed record (not a JSON object)";
  if (e.json.contains("type") && e.json["type"].is_string() &&
      !parse_record_type(e.json["type"].get<std::string>()))
    return "malformed record (unknown type \"" + e.json["type"].get<std::string>() + "\")";
  return "malformed record (missing or invalid seq, prev or type)";
}

// A checkpoint line must be exactly the writer's serialisation of its signed fields: the last
// checkpoint of a log has no successor whose "prev" would bind its bytes, so anything beyond the
// signed fields (an extra member, spacing) would otherwise pass unseen.
bool checkpoint_is_canonical(const Entry& e) {
  static const std::vector<std::string> kTop = {"seq", "prev", "type", "time", "checkpoint"};
  auto j = nlohmann::ordered_json::parse(e.raw, nullptr, false);
  if (j.is_discarded() || j.size() != kTop.size()) return false;
  std::size_t i = 0;
  for (const auto& [k, v] : j.items())
    if (k != kTop[i++]) return false;
  auto c = checkpoint_from_record(e.json);
  return c && j["checkpoint"] == checkpoint_to_json(*c) && j.dump() == e.raw;
}

class Verifier {
 public:
  Verifier(const VerifyOptions& opt, const VerifyKey& key, std::vector<WitnessContent> witnesses)
      : opt_(opt), key_(key), witnesses_(std::move(witnesses)) {
    for (const auto& w : witnesses_)
      for (const auto& c : w.checkpoints) witnessed_[c.seq].push_back(&c);
  }

  Result<VerifyReport> run() {
    if (auto r = list_files(); !r) return r.error();
    for (std::size_t fi = 0; fi < files_.size(); ++fi)
      if (auto r = scan_file(fi); !r) return r.error();
    check_unclean(nullptr);
    resolve_gaps();
    check_file_names();
    check_tail();
    check_witnesses();
    std::stable_sort(findings_.begin(), findings_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& f : findings_) report_.findings.push_back(std::move(f.second));
    add_witness_problems();
    report_.files = files_.size();
    report_.key_id = key_.key_id();
    return std::move(report_);
  }

 private:
  void add(Pos at, FindingKind kind, std::uint64_t seq, std::string message,
           Severity sev = Severity::kError) {
    if (findings_.size() >= kMaxFindings) {
      ++report_.findings_omitted;
      return;
    }
    Finding f{sev, kind, files_[at.file], at.line, seq, std::move(message)};
    findings_.emplace_back(at, std::move(f));
  }
  std::string where(Pos p) const { return files_[p.file] + ":" + std::to_string(p.line); }

  Result<void> list_files() {
    std::error_code ec;
    if (!fs::is_directory(opt_.dir, ec)) return make_error(opt_.dir + ": not a directory");
    for (const auto& e : fs::directory_iterator(opt_.dir, ec)) {
      auto name = e.path().filename().string();
      if (parse_log_file_name(name)) files_.push_back(name);
    }
    if (ec) return make_error(opt_.dir + ": cannot list: " + ec.message());
    if (files_.empty()) return make_error(opt_.dir + ": no audit-*.jsonl files");
    std::sort(files_.begin(), files_.end());
    first_valid_.assign(files_.size(), std::nullopt);
    empty_.assign(files_.size(), false);
    return {};
  }

  Result<void> scan_file(std::size_t fi) {
    std::string path = (fs::path(opt_.dir) / files_[fi]).string();
    auto file = base::open_regular_file(path, {.max_bytes = kMaxLogFile, .follow_symlinks = false});
    if (!file) {
      if (file.error().code == ErrorCode::kIo || file.error().code == ErrorCode::kNotFound)
        return file.error();
      add({fi, 1}, FindingKind::kBadFile, 0, "log file unusable: " + file.error().message);
      return {};
    }
    empty_[fi] = file->size_at_open() == 0;
    LineReader reader(std::move(*file));
    for (std::uint64_t line = 1;; ++line) {
      auto l = reader.next();
      if (!l) return l.error();
      if (!*l) break;
      Entry e;
      e.pos = {fi, line};
      e.complete = (*l)->complete;
      e.too_long = (*l)->too_long;
      e.raw = std::move((*l)->text);
      parse_entry(e);
      on_entry(e);
    }
    return {};
  }

  void on_entry(const Entry& e) {
    if (!e.complete) {
      malformed_since_ = true;
      add(e.pos, FindingKind::kTruncatedLine, 0,
          "incomplete record (" + std::to_string(e.raw.size()) +
              " bytes without a newline): log cut mid-record");
      return;
    }
    if (!e.valid) {
      malformed_since_ = true;
      add(e.pos, FindingKind::kMalformed, 0, malformed_reason(e));
      return;
    }
    if (!first_valid_[e.pos.file]) first_valid_[e.pos.file] = std::make_pair(e.seq, e.pos);
    if (!present_.insert(e.seq)) return on_duplicate(e);
    ++report_.records;
    if (e.type == "flow") ++report_.flows;
    check_order(e);
    check_chain(e);
    remember(e);
    if (e.type == "checkpoint") check_checkpoint(e);
    check_unclean(&e);
    if (e.type == "start" || e.type == "stop") check_run(e);
    if (e.type == "flow" && opt_.check_evidence) check_evidence(e);
    if (!witnessed_.empty()) check_witnessed(e);
    note_tail(e);
  }

  void on_duplicate(const Entry& e) {
    auto cp = checkpoints_seen_.find(e.seq);
    auto re = recent_.find(e.seq);
    const Seen* first = cp != checkpoints_seen_.end() ? &cp->second
                        : re != recent_.end()         ? &re->second
                                                      : nullptr;
    std::string n = std::to_string(e.seq);
    if (first == nullptr) {
      add(e.pos, FindingKind::kDuplicated, e.seq,
          "record " + n + " appears twice (its first copy is further back in the log)");
    } else if (first->hash == e.hash && e.type == "checkpoint") {
      add(e.pos, FindingKind::kReplayedCheckpoint, e.seq,
          "checkpoint record " + n + " replayed (copy of " + where(first->pos) + ")");
    } else if (first->hash == e.hash) {
      add(e.pos, FindingKind::kDuplicated, e.seq,
          "record " + n + " duplicated (copy of " + where(first->pos) + ")");
    } else {
      add(e.pos, FindingKind::kDuplicated, e.seq,
          "record " + n + " appears twice (differs from " + where(first->pos) + ")");
    }
  }

  // Positions in file order: reordering, and holes (resolved at the end: a seq that shows up
  // later was moved, not deleted, and the move is reported where it appears).
  void check_order(const Entry& e) {
    if (e.seq <= max_seq_) {
      add(e.pos, FindingKind::kReordered, e.seq,
          "record " + std::to_string(e.seq) + " out of order (appears after record " +
              std::to_string(max_seq_) + ")");
      return;
    }
    if (e.seq > max_seq_ + 1 && !malformed_since_) {
      bool at_file_start = first_valid_[e.pos.file]->second == e.pos;
      bool other_file = !last_valid_file_ || *last_valid_file_ != e.pos.file;
      gaps_.push_back(Gap{max_seq_ + 1, e.seq - 1, e.pos, at_file_start, other_file});
    }
    malformed_since_ = false;
    max_seq_ = e.seq;
    last_valid_file_ = e.pos.file;
  }

  // The chain by seq: record s must name the SHA-256 of record s-1's line. In an intact log s-1
  // is the record just read; otherwise one side waits in a map until the other shows up.
  void check_chain(const Entry& e) {
    if (e.seq == 1) {
      if (e.prev != kGenesisHash)
        add(e.pos, FindingKind::kGenesis, 1, "record 1 does not chain from the genesis value");
    } else if (const Seen* p = seen(e.seq - 1)) {
      chain_mismatch(e.seq, e.prev, *p);
    } else {
      waiting_for_prev_[e.seq] = e.prev;
    }
    if (auto w = waiting_for_prev_.find(e.seq + 1); w != waiting_for_prev_.end()) {
      chain_mismatch(e.seq + 1, w->second, Seen{e.hash, e.pos});
      waiting_for_prev_.erase(w);
    }
  }

  void chain_mismatch(std::uint64_t seq, const std::string& prev, const Seen& before) {
    if (prev == before.hash) return;
    add(before.pos, FindingKind::kModified, seq - 1,
        rec(seq - 1) + " modified (hash chain broken: " + rec(seq) + " expects " +
            short_hash(prev) + ", line hashes to " + short_hash(before.hash) + ")");
  }

  const Seen* seen(std::uint64_t seq) const {
    if (last_.pos.line != 0 && last_seq_ == seq) return &last_;
    auto it = held_.find(seq);
    return it == held_.end() ? nullptr : &it->second;
  }

  void remember(const Entry& e) {
    // The previous record is needed later only if its successor is not the record just read.
    if (last_.pos.line != 0 && last_seq_ + 1 != e.seq && !present_.contains(last_seq_ + 1))
      held_[last_seq_] = last_;
    last_ = Seen{e.hash, e.pos};
    last_seq_ = e.seq;
    recent_[e.seq] = last_;
    recent_order_.push_back(e.seq);
    if (recent_order_.size() > kRecentRecords) {
      recent_.erase(recent_order_.front());
      recent_order_.pop_front();
    }
  }

  void check_checkpoint(const Entry& e) {
    checkpoints_seen_[e.seq] = Seen{e.hash, e.pos};
    auto c = checkpoint_from_record(e.json);
    if (!c) {
      add(e.pos, FindingKind::kMalformed, e.seq,
          "checkpoint record " + std::to_string(e.seq) + " malformed (" + c.error().message + ")");
      return;
    }
    if (e.seq > last_checkpoint_any_) {
      last_checkpoint_any_ = e.seq;
      after_checkpoint_.reset();
    }
    auto sig = base64_decode(c->sig);
    if (!sig || !key_.verify(checkpoint_signing_bytes(*c), *sig)) {
      std::string why = c->key_id != key_.key_id()
                            ? "signed by key " + c->key_id + ", expected " + key_.key_id()
                            : "forged or altered";
      add(e.pos, FindingKind::kBadSignature, e.seq,
          "checkpoint record " + std::to_string(e.seq) + " has a bad signature (" + why + ")");
      bad_signature_.push_back(e.seq);  // the chain break after it is the same fact
      return;
    }
    if (c->last_seq + 1 != e.seq || c->last_hash != e.prev) {
      add(e.pos, FindingKind::kModified, e.seq,
          "checkpoint record " + std::to_string(e.seq) +
              " does not seal the record before it (signed last_seq/last_hash differ)");
      return;
    }
    if (!checkpoint_is_canonical(e)) {
      add(e.pos, FindingKind::kModified, e.seq,
          "checkpoint record " + std::to_string(e.seq) +
              " carries bytes outside its signed fields (extra members or spacing)");
      return;
    }
    ++report_.checkpoints;
    report_.sealed_through = std::max(report_.sealed_through, e.seq);
  }

  // Runs: every start of the writer opens one; a clean stop writes "stop". A start that finds
  // the previous run still open means that run ended without its stop record: killed, crashed,
  // or its tail cut off and the chain continued by a restart. (The last run's missing stop is the
  // unsealed tail, reported by check_tail.)
  void check_run(const Entry& e) {
    if (e.type == "stop") {
      run_open_ = false;
      return;
    }
    if (run_open_) {
      unclean_ = Unclean{run_start_, run_start_seq_, run_start_time_, e.seq};
    }
    run_open_ = true;
    run_start_ = e.pos;
    run_start_seq_ = e.seq;
    run_start_time_ = e.json.value("time", "");
  }

  // The record after a start that found the previous run open: the writer seals such a run with
  // `recovery` records (the flows it left open) right after its start record. A sealed run is a
  // warning (named); one without its recovery record (or a start forged after a cut) an error.
  void check_unclean(const Entry* e) {
    if (!unclean_) return;
    const Unclean u = *unclean_;
    unclean_.reset();
    std::string msg = "run started at " + rec(u.seq) + " (" + u.time +
                      ") has no stop record (killed, crashed, or its tail cut off); next run " +
                      "starts at " + rec(u.next_start);
    const nlohmann::json* prev = nullptr;
    if (e != nullptr && e->type == "recovery" && e->json.contains("previous_run") &&
        e->json["previous_run"].is_object())
      prev = &e->json["previous_run"];
    if (prev != nullptr && prev->value("start_seq", std::uint64_t{0}) == u.seq) {
      msg += "; sealed by recovery " + rec(e->seq) + ": " +
             std::to_string(e->json.value("unclosed_flows", std::uint64_t{0})) +
             " flow(s) opened and never closed";
      add(u.pos, FindingKind::kUncleanRun, u.seq, msg, Severity::kWarning);
      return;
    }
    add(u.pos, FindingKind::kUncleanRun, u.seq, msg + "; no recovery record follows");
  }

  void check_evidence(const Entry& e) {
    auto ev = e.json.find("evidence");
    if (ev == e.json.end() || !ev->is_object()) return;
    std::string file = ev->value("file", "");
    std::string want = ev->value("sha256", "");
    ++report_.evidence_checked;
    fs::path rel(file);
    bool escapes = file.empty() || rel.is_absolute() ||
                   std::any_of(rel.begin(), rel.end(), [](const fs::path& c) { return c == ".."; });
    std::string r = rec(e.seq);
    if (escapes) {
      add(e.pos, FindingKind::kEvidenceMissing, e.seq,
          r + ": evidence path \"" + file + "\" is outside the log directory");
      return;
    }
    auto have = base::sha256_file_hex((fs::path(opt_.dir) / rel).string(),
                                      {.max_bytes = kMaxEvidenceFile, .follow_symlinks = false});
    if (!have && have.error().code == ErrorCode::kNotFound) {
      add(e.pos, FindingKind::kEvidenceMissing, e.seq, r + ": evidence " + file + " missing");
    } else if (!have) {
      add(e.pos, FindingKind::kEvidenceMismatch, e.seq,
          r + ": evidence " + file + " unusable (" + have.error().message + ")");
    } else if (*have != want) {
      add(e.pos, FindingKind::kEvidenceMismatch, e.seq,
          r + ": evidence " + file + " does not match its hash (recorded " + short_hash(want) +
              ", file " + short_hash(*have) + ")");
    }
  }

  void note_tail(const Entry& e) {
    if (e.seq > last_checkpoint_any_ && (!after_checkpoint_ || e.seq < after_checkpoint_->first))
      after_checkpoint_ = std::make_pair(e.seq, e.pos);
    if (e.seq <= report_.last_seq) return;
    TailInfo t{e.seq, e.pos, e.type, "", ""};
    if (e.type == "checkpoint" && e.json["checkpoint"].is_object())
      t.reason = e.json["checkpoint"].value("reason", "");
    if (e.type == "rotation") t.next_file = e.json.value("next_file", "");
    before_last_ = tail_.seq + 1 == e.seq ? std::optional<TailInfo>(tail_) : std::nullopt;
    tail_ = std::move(t);
    report_.last_seq = e.seq;
  }

  void resolve_gaps() {
    for (const Gap& g : gaps_) {
      for (auto [s, t] : present_.missing(g.a, g.b)) {
        if (g.at_file_start && g.other_file) {
          add(g.next, FindingKind::kFileMissing, s,
              "file " + log_file_name(s) + " missing (" + seq_range(s, t) + " absent before " +
                  files_[g.next.file] + ")");
        } else {
          add(g.next, FindingKind::kDeleted, s, seq_range(s, t) + " deleted");
        }
      }
    }
    for (std::uint64_t seq : bad_signature_) {
      std::erase_if(findings_, [&](const auto& f) {
        return f.second.kind == FindingKind::kModified && f.second.seq == seq &&
               f.second.message.find("hash chain broken") != std::string::npos;
      });
    }
  }

  // A file is named after its first record: a renamed file would move records in the chain's
  // file order unseen. Names of files whose first records were deleted are covered by the
  // deletion finding.
  void check_file_names() {
    for (std::size_t fi = 0; fi < files_.size(); ++fi) {
      if (!first_valid_[fi]) {
        if (empty_[fi])
          add({fi, 1}, FindingKind::kEmptyFile, 0,
              "empty log file (every log file starts with a record)");
        continue;
      }
      std::uint64_t named = *parse_log_file_name(files_[fi]);
      auto [first, pos] = *first_valid_[fi];
      if (named == first) continue;
      if (named >= 1 && named < first && present_.missing(named, first - 1).size() == 1 &&
          present_.missing(named, first - 1).front() == std::make_pair(named, first - 1))
        continue;
      add(pos, FindingKind::kFileName, first,
          "file name says its first record is " + std::to_string(named) + ", but it starts with " +
              rec(first) + " (renamed or moved)");
    }
  }

  void check_tail() {
    if (report_.records == 0) return;
    const std::uint64_t last = report_.last_seq;
    const Severity sev = opt_.allow_unsealed_tail ? Severity::kWarning : Severity::kError;
    // A checkpoint with a bad signature is already an error of its own; the tail is what follows
    // the last checkpoint of any kind, so a forgery is not reported a second time as "unsealed".
    const std::uint64_t sealed = last_checkpoint_any_;
    if (sealed < last) {
      auto [first, pos] = after_checkpoint_ ? *after_checkpoint_ : std::make_pair(last, tail_.pos);
      std::string after =
          sealed == 0 ? "no valid checkpoint" : "the last checkpoint (" + rec(sealed) + ")";
      add(pos, FindingKind::kUnsealedTail, first,
          seq_range(first, last) + " after " + after +
              " unsealed (truncated tail, unclean stop, or log still being written)",
          sev);
      return;
    }
    if (report_.sealed_through < last) return;  // the last checkpoint is itself bad
    if (tail_.reason == "close") return;
    if (tail_.reason == "rotation" && before_last_ && before_last_->type == "rotation" &&
        !before_last_->next_file.empty()) {
      add(tail_.pos, FindingKind::kFileMissing, last + 1,
          "file " + before_last_->next_file + " missing (named by rotation record " +
              std::to_string(last - 1) + ")");
      return;
    }
    add(tail_.pos, FindingKind::kUnsealedTail, last,
        "log ends with a '" + tail_.reason + "' checkpoint (" + rec(last) +
            "), not a closing one (truncated tail, unclean stop, or log still being written)",
        sev);
  }

  // --- Witnesses (docs/audit-format.md, "Witnesses") ---------------------------------------------

  // A witnessed seq must be this very checkpoint line: same bytes, so the same hash.
  void check_witnessed(const Entry& e) {
    auto it = witnessed_.find(e.seq);
    if (it == witnessed_.end()) return;
    witnessed_found_.insert(e.seq);
    for (const WitnessedCheckpoint* w : it->second) {
      if (w->hash == e.hash) continue;
      add(e.pos, FindingKind::kWitnessMismatch, e.seq,
          rec(e.seq) + " is not the checkpoint witnessed by " + w->where + ":" +
              std::to_string(w->line) + " (witnessed " + short_hash(w->hash) +
              ", log line hashes to " + short_hash(e.hash) + ")");
    }
  }

  void check_witnesses() {
    Pos end = tail_.pos;
    for (const auto& wc : witnesses_) {
      const WitnessedCheckpoint* latest = nullptr;
      for (const auto& c : wc.checkpoints) {
        ++report_.witnessed;
        if (witnessed_found_.contains(c.seq)) continue;
        if (c.seq > report_.last_seq) {
          if (!latest || c.seq > latest->seq) latest = &c;
          continue;
        }
        add(end, FindingKind::kWitnessMismatch, c.seq,
            "witnessed checkpoint " + std::to_string(c.seq) + " (" + c.where + ":" +
                std::to_string(c.line) + ") is absent from the log");
      }
      if (latest)
        add(end, FindingKind::kCutBack, latest->seq,
            "log cut back: witness " + wc.source + " has checkpoint seq " +
                std::to_string(latest->seq) + ", log ends at seq " +
                std::to_string(report_.last_seq));
    }
  }

  // Problems of the witness itself are not at a place in the log: listed after the log's.
  void add_witness_problems() {
    for (const auto& wc : witnesses_)
      for (const auto& p : wc.problems) {
        if (report_.findings.size() >= kMaxFindings) {
          ++report_.findings_omitted;
          continue;
        }
        report_.findings.push_back(Finding{p.error ? Severity::kError : Severity::kWarning,
                                           FindingKind::kWitnessInvalid, p.where, p.line, 0,
                                           p.message});
      }
  }

  const VerifyOptions& opt_;
  const VerifyKey& key_;
  std::vector<WitnessContent> witnesses_;
  std::map<std::uint64_t, std::vector<const WitnessedCheckpoint*>> witnessed_;  // by seq
  std::set<std::uint64_t> witnessed_found_;
  std::vector<std::string> files_;
  std::vector<std::optional<std::pair<std::uint64_t, Pos>>> first_valid_;  // per file
  std::vector<bool> empty_;                                                // per file
  SeqSet present_;                                                         // first occurrences
  std::vector<Gap> gaps_;
  std::uint64_t max_seq_ = 0;
  std::optional<std::size_t> last_valid_file_;
  bool malformed_since_ = false;
  Seen last_;  // the last first-occurrence record read
  std::uint64_t last_seq_ = 0;
  std::map<std::uint64_t, Seen> held_;                     // records whose successor is elsewhere
  std::map<std::uint64_t, std::string> waiting_for_prev_;  // seq -> its "prev", predecessor unseen
  std::map<std::uint64_t, Seen> checkpoints_seen_;
  std::unordered_map<std::uint64_t, Seen> recent_;
  std::deque<std::uint64_t> recent_order_;
  std::vector<std::uint64_t> bad_signature_;
  std::uint64_t last_checkpoint_any_ = 0;  // highest checkpoint seq, valid signature or not
  std::optional<std::pair<std::uint64_t, Pos>> after_checkpoint_;  // first record after it
  TailInfo tail_;
  std::optional<TailInfo> before_last_;
  struct Unclean {
    Pos pos;
    std::uint64_t seq = 0;
    std::string time;
    std::uint64_t next_start = 0;
  };
  std::optional<Unclean> unclean_;  // a run found open by the next start, awaiting its recovery
  bool run_open_ = false;
  Pos run_start_;
  std::uint64_t run_start_seq_ = 0;
  std::string run_start_time_;
  std::vector<std::pair<Pos, Finding>> findings_;
  VerifyReport report_;
};

}  // namespace

namespace {
// Indexed by FindingKind (docs/audit-format.md lists them).
constexpr const char* kFindingKindNames[] = {
    "malformed",         "truncated_line", "modified",
    "genesis",           "deleted",        "file_missing",
    "reordered",         "duplicated",     "replayed_checkpoint",
    "bad_signature",     "unsealed_tail",  "evidence_missing",
    "evidence_mismatch", "bad_file",       "empty_file",
    "file_name",         "unclean_run",    "witness_invalid",
    "witness_mismatch",  "cut_back"};
static_assert(std::size(kFindingKindNames) == static_cast<std::size_t>(FindingKind::kCutBack) + 1);
}  // namespace

std::string_view finding_kind_name(FindingKind k) { return base::enum_name(k, kFindingKindNames); }

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
  j["key_id"] = key_id;
  j["findings_omitted"] = findings_omitted;
  j["witnessed"] = witnessed;
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
  if (!options.expect_key_id.empty() && options.expect_key_id != key.key_id()) {
    return make_error(ErrorCode::kInvalid, "public key has key id " + key.key_id() +
                                               ", not the expected " + options.expect_key_id);
  }
  // Witnesses first: whatever they hold was durable in the log before it was published.
  std::vector<WitnessContent> witnesses;
  for (const auto& spec : options.witnesses) {
    auto w = read_witness(spec, key);
    if (!w) return w.error();
    witnesses.push_back(std::move(*w));
  }
  return Verifier(options, key, std::move(witnesses)).run();
}

}  // namespace dc::audit
