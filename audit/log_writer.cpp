// The hash-chained audit log: records, rotation, signed checkpoints, fsync policy, resume.
#include "audit/log_writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "audit/recovery.hpp"
#include "base/file.hpp"
#include "base/hash.hpp"

namespace dc::audit {
namespace fs = std::filesystem;
namespace {

// A log file is rotated at max_file_mb; this only bounds what a damaged or foreign file costs.
constexpr std::size_t kMaxLogFileBytes = std::size_t{4} << 30;

template <class Json>
std::string dump(const Json& j) {
  // Invalid UTF-8 in a caller's string must not throw on the writer thread: replace it (U+FFFD).
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The members of a JSON object without its braces: "{\"a\":1}" -> "\"a\":1".
template <class Json>
std::string inner_members(const Json& j) {
  std::string s = dump(j);
  return s.size() <= 2 ? std::string() : s.substr(1, s.size() - 2);
}

std::string json_string(const std::string& s) { return dump(nlohmann::json(s)); }

}  // namespace

LogWriter::LogWriter(WriterOptions options, SigningKey key)
    : opt_(std::move(options)), key_(std::move(key)) {
  key_id_ = key_.key_id();
  sink_ = opt_.sink ? std::move(opt_.sink) : make_posix_file_sink();
  last_hash_ = std::string(kGenesisHash);
}

LogWriter::~LogWriter() {
  if (!closed_) (void)close();
  for (const SyncDeps::File& f : deps_.files)
    if (f.owned) ::close(f.fd);
}

Result<std::unique_ptr<LogWriter>> LogWriter::open(WriterOptions options, SigningKey key) {
  if (!options.clock) return make_error("audit writer: no clock given");
  if (options.dir.empty()) return make_error("audit writer: no directory given");
  std::unique_ptr<LogWriter> w(new LogWriter(std::move(options), std::move(key)));
  if (auto r = w->resume(); !r) {
    w->closed_ = true;  // nothing was written: do not write stop/close on destruction
    return r.error();
  }
  if (w->opt_.background_sync) {
    w->commit_ = std::make_unique<GroupCommit>(*w->sink_);
    w->commit_->mark_durable(w->durable_seq_.load());
  }
  return w;
}

Result<void> LogWriter::resume() {
  std::error_code ec;
  fs::create_directory(opt_.dir, ec);
  if (ec) return make_error(opt_.dir + ": cannot create directory: " + ec.message());
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(opt_.dir, ec)) {
    auto name = e.path().filename().string();
    if (parse_log_file_name(name)) names.push_back(name);
  }
  if (ec) return make_error(opt_.dir + ": cannot list: " + ec.message());
  std::sort(names.begin(), names.end());

  nlohmann::ordered_json recovered;
  bool unclean = false;
  // Newest file first: find the last complete record to chain from.
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    fs::path p = fs::path(opt_.dir) / *it;
    auto text = base::read_file(p.string(), {.max_bytes = kMaxLogFileBytes});
    if (!text) return text.error();
    std::size_t end = text->rfind('\n');
    std::size_t keep = end == std::string::npos ? 0 : end + 1;
    if (keep < text->size()) {
      // A torn line from a crash was never chained; cut it off so the next file starts clean, but
      // keep its fingerprint in the start record.
      std::string torn = text->substr(keep);
      recovered = {{"file", *it}, {"bytes", torn.size()}, {"sha256", base::sha256_hex(torn)}};
      if (::truncate(p.c_str(), static_cast<off_t>(keep)) != 0)
        return make_error(p.string() + ": cannot remove torn final line");
      text->resize(keep);
    }
    if (text->empty()) {
      fs::remove(p, ec);  // holds nothing; its name may be reused by the new file
      continue;
    }
    std::size_t begin = text->rfind('\n', text->size() - 2);
    begin = begin == std::string::npos ? 0 : begin + 1;
    std::string line = text->substr(begin, text->size() - 1 - begin);
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("seq") || !j["seq"].is_number_unsigned())
      return make_error(p.string() + ": last record is unreadable; refusing to extend this chain " +
                        "(run 'datacustoms audit verify')");
    next_seq_ = j["seq"].get<std::uint64_t>() + 1;
    last_hash_ = base::sha256_hex(line);
    // A run that ended cleanly ends with its closing checkpoint; anything else was cut short.
    const auto cp = j.find("checkpoint");
    unclean = !(j.value("type", "") == "checkpoint" && cp != j.end() && cp->is_object() &&
                cp->value("reason", "") == "close");
    resume_info_ = {{"file", *it}, {"seq", next_seq_ - 1}, {"hash", last_hash_}};
    break;
  }

  TimePoint now = opt_.clock();
  last_sync_ = now;
  last_checkpoint_ = now;
  file_ = log_file_name(next_seq_);
  if (fs::exists(fs::path(opt_.dir) / file_, ec))
    return make_error(opt_.dir + "/" + file_ + ": already exists; refusing to append to it");
  pending_.push_back(Pending{true, file_, false});
  cp_first_seq_ = next_seq_;

  nlohmann::ordered_json details = nlohmann::ordered_json::object();
  details["resumed"] = resume_info_.is_null() ? nlohmann::ordered_json(nullptr) : resume_info_;
  details["recovered"] = recovered.is_null() ? nlohmann::ordered_json(nullptr) : recovered;
  details["key_id"] = key_id_;
  if (opt_.start_details.is_object())
    for (auto& [k, v] : opt_.start_details.items())
      if (k != "seq" && k != "prev" && k != "type" && k != "time") details[k] = v;
  enqueue(RecordType::kStart,
          "\"time\":" + json_string(format_time(now)) + "," + inner_members(details));
  if (unclean) {
    std::erase_if(names, [&](const std::string& n) { return !fs::exists(fs::path(opt_.dir) / n); });
    auto scan = scan_unclean_run(opt_.dir, names);
    if (!scan) return make_error("audit log recovery: " + scan.error().message);
    enqueue_recovery(*scan, now);
  }
  flush_pending();
  after_write(now);
  return {};
}

// The previous run ended without its closing checkpoint: one or more `recovery` records (at most
// kRecoveryFlowsPerRecord flows each) say which run it was and which flows it left open.
void LogWriter::enqueue_recovery(const RecoveryScan& scan, TimePoint now) {
  const std::size_t parts = std::max<std::size_t>(
      1, (scan.flows.size() + kRecoveryFlowsPerRecord - 1) / kRecoveryFlowsPerRecord);
  for (std::size_t part = 0; part < parts; ++part) {
    nlohmann::ordered_json d;
    d["previous_run"] = {{"start_seq", scan.run_start_seq},
                         {"start_time", scan.run_start_time},
                         {"last_seq", scan.last_seq}};
    d["unclosed_flows"] = scan.unclosed;
    d["listed_truncated"] = scan.truncated;
    d["part"] = part + 1;
    d["parts"] = parts;
    auto flows = nlohmann::ordered_json::array();
    const std::size_t end = std::min(scan.flows.size(), (part + 1) * kRecoveryFlowsPerRecord);
    for (std::size_t i = part * kRecoveryFlowsPerRecord; i < end; ++i) {
      const UnclosedFlow& f = scan.flows[i];
      auto o = nlohmann::ordered_json::parse(f.open_body, nullptr, false);
      if (f.updated)
        o["crossed_at_last_update"] = {{"packets", f.crossed_packets}, {"bytes", f.crossed_bytes}};
      flows.push_back(std::move(o));
    }
    d["flows"] = std::move(flows);
    enqueue(RecordType::kRecovery,
            "\"time\":" + json_string(format_time(now)) + "," + inner_members(d));
  }
}

void LogWriter::enqueue(RecordType type, const std::string& members) {
  std::string line = "{\"seq\":" + std::to_string(next_seq_) + ",\"prev\":\"" + last_hash_ +
                     "\",\"type\":\"" + std::string(record_type_name(type)) + "\"";
  if (!members.empty()) line += "," + members;
  line += "}";
  last_hash_ = base::sha256_hex(line);
  ++next_seq_;
  file_bytes_ += line.size() + 1;
  ++file_records_;
  if (type == RecordType::kFlow) ++cp_flows_;
  if (cp_files_.empty() || cp_files_.back() != file_) cp_files_.push_back(file_);
  line += '\n';
  pending_bytes_ += line.size();
  pending_.push_back(
      Pending{false, std::move(line), type == RecordType::kCheckpoint, next_seq_ - 1});
}

void LogWriter::enqueue_checkpoint(const char* reason) {
  TimePoint now = opt_.clock();
  Checkpoint c;
  c.seq = next_seq_;
  c.time = format_time(now);
  c.first_seq = cp_first_seq_;
  c.last_seq = next_seq_ - 1;
  c.last_hash = last_hash_;
  c.records = c.last_seq + 1 - c.first_seq;
  c.flows = cp_flows_;
  c.files = cp_files_;
  if (c.files.empty() || c.files.back() != file_) c.files.push_back(file_);
  c.reason = reason;
  c.key_id = key_id_;
  auto sig = key_.sign(checkpoint_signing_bytes(c));
  if (sig) {
    c.sig =
        base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(sig->data()), sig->size()));
  } else {
    stats_.last_error = sig.error().message;  // an unsigned checkpoint fails verification loudly
  }
  enqueue(RecordType::kCheckpoint,
          "\"time\":" + json_string(c.time) + ",\"checkpoint\":" + dump(checkpoint_to_json(c)));
  if (opt_.on_checkpoint) {
    const std::string& line = pending_.back().data;  // the checkpoint just queued, with '\n'
    unwitnessed_.push_back(
        CheckpointInfo{c.seq, last_hash_, file_, key_id_, c.time, line.substr(0, line.size() - 1)});
  }
  cp_first_seq_ = next_seq_;
  cp_flows_ = 0;
  cp_files_.clear();
  last_checkpoint_ = now;
  ++stats_.checkpoints;
}

bool LogWriter::rotation_due() const {
  return (opt_.max_file_bytes > 0 && file_bytes_ >= opt_.max_file_bytes) ||
         (opt_.max_file_records > 0 && file_records_ >= opt_.max_file_records);
}

void LogWriter::maybe_rotate() {
  if (!rotation_due() || file_records_ == 0) return;
  // rotation event (seq n), checkpoint (n + 1), the new file starts at n + 2.
  std::string next = log_file_name(next_seq_ + 2);
  nlohmann::ordered_json details{{"next_file", next}};
  enqueue(RecordType::kRotation,
          "\"time\":" + json_string(format_time(opt_.clock())) + "," + inner_members(details));
  enqueue_checkpoint("rotation");
  pending_.push_back(Pending{true, next, false});
  file_ = next;
  file_bytes_ = 0;
  file_records_ = 0;
  ++stats_.rotations;
}

void LogWriter::flush_pending() {
  while (!pending_.empty()) {
    Pending& p = pending_.front();
    if (p.open_file) {
      // The commit thread never fsyncs a file being switched: everything written to the old file
      // is made durable here, and the new file is opened, while it is held off.
      GroupCommitPause pause(commit_.get());
      if (written_seq_ > durable_seq()) sync_inline(opt_.clock());
      sink_->close();
      auto r = sink_->open((fs::path(opt_.dir) / p.data).string());
      if (!r) {
        write_failing_ = true;
        ++stats_.write_errors;
        stats_.last_error = r.error().message;
        return;
      }
      stats_.current_file = p.data;
      pending_.pop_front();
      continue;
    }
    if (!write_batch()) return;
  }
  write_failing_ = false;
  if (dropped_unreported_ > 0) {
    // Writes work again: say in the log itself how many records were lost meanwhile.
    enqueue_records_lost();
    flush_pending();
  }
}

// The lines at the head of the queue, up to the next file switch or checkpoint (included), in one
// append (writev): all or nothing, so a failed batch is retried whole.
bool LogWriter::write_batch() {
  std::string_view parts[kMaxBatchLines];
  std::size_t n = 0;
  for (auto it = pending_.begin(); it != pending_.end() && !it->open_file && n < kMaxBatchLines;
       ++it) {
    parts[n++] = it->data;
    if (it->sync_after) break;
  }
  auto r = sink_->append_all(std::span<const std::string_view>(parts, n));
  if (!r) {
    write_failing_ = true;
    ++stats_.write_errors;
    stats_.last_error = r.error().message;
    return false;
  }
  for (std::size_t i = 0; i < n; ++i) {
    Pending& p = pending_.front();
    ++stats_.records_written;
    ++unsynced_records_;
    written_seq_ = p.seq;
    pending_bytes_ -= p.data.size();
    if (p.sync_after) commit(opt_.clock());
    // Only checkpoints are sync_after. Published once durable: a witness must never hold a
    // checkpoint the log could lose (one whose fsync failed is not published). With the commit
    // thread, publish_durable_checkpoints() does it once an fsync covering it returned.
    if (p.sync_after && !commit_ && !unwitnessed_.empty()) {
      if (unsynced_records_ == 0) opt_.on_checkpoint(unwitnessed_.front());
      unwitnessed_.pop_front();
    }
    pending_.pop_front();
  }
  return true;
}

void LogWriter::enqueue_records_lost() {
  nlohmann::ordered_json details{{"count", dropped_unreported_}, {"error", first_drop_error_}};
  dropped_unreported_ = 0;
  first_drop_error_.clear();
  enqueue(RecordType::kRecordsLost,
          "\"time\":" + json_string(format_time(opt_.clock())) + "," + inner_members(details));
}

// fsync on this thread, the commit thread (if any) held off: everything written is durable.
void LogWriter::sync_now(TimePoint now) {
  GroupCommitPause pause(commit_.get());
  sync_inline(now);
}

std::uint64_t LogWriter::sync_before_next_commit(int fd, bool owned) {
  if (commit_) return commit_->depend(fd, owned);
  return deps_.add(fd, owned, ++dep_numbers_);
}

void LogWriter::sync_inline(TimePoint now) {
  // Files the records name first (evidence), then the log.
  SyncDeps deps = std::move(deps_);
  deps_ = SyncDeps{};
  if (commit_) deps.append(commit_->take_deps());
  const std::uint64_t deps_number = deps.last;
  auto r = deps.sync_all();
  if (!r) {
    if (commit_)
      commit_->restore_deps(std::move(deps));
    else
      deps_ = std::move(deps);
  } else {
    deps_durable_ = std::max(deps_durable_, deps_number);
    if (commit_) commit_->mark_deps_durable(deps_number);
    r = sink_->sync();
  }
  if (!r) {
    ++stats_.sync_errors;
    stats_.last_error = r.error().message;
    return;
  }
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  unsynced_records_ = 0;
  durable_seq_.store(written_seq_, std::memory_order_release);
  if (commit_) commit_->mark_durable(written_seq_);
  last_sync_ = now;
}

// An fsync of everything written: asked of the commit thread (returns at once), or made here.
void LogWriter::commit(TimePoint now) {
  if (!commit_) return sync_now(now);
  if (written_seq_ > commit_->durable()) commit_->request(written_seq_);
  unsynced_records_ = 0;
  last_sync_ = now;
}

// Checkpoints reach the witnesses once an fsync covering them returned (commit thread only; the
// inline path publishes right after its own fsync, in flush_pending()).
void LogWriter::publish_durable_checkpoints() {
  if (!commit_) return;
  const std::uint64_t durable = commit_->durable();
  while (!unwitnessed_.empty() && unwitnessed_.front().seq <= durable) {
    opt_.on_checkpoint(unwitnessed_.front());
    unwitnessed_.pop_front();
  }
}

void LogWriter::sync() {
  if (closed_) return;
  flush_pending();
  const bool deps_waiting =
      commit_ ? commit_->deps_issued() > commit_->deps_durable() : !deps_.files.empty();
  if (written_seq_ > durable_seq() || deps_waiting) sync_now(opt_.clock());
  publish_durable_checkpoints();
}

void LogWriter::request_sync() {
  if (!commit_) return sync();
  if (closed_) return;
  flush_pending();
  commit(opt_.clock());
  publish_durable_checkpoints();
}

void LogWriter::after_write(TimePoint now) {
  publish_durable_checkpoints();
  const std::uint64_t unsynced = unsynced_records_ + pending_.size();  // batched lines count
  if (unsynced == 0) return;
  if ((opt_.fsync_every_records > 0 && unsynced >= opt_.fsync_every_records) ||
      (opt_.fsync_interval.count() > 0 && now - last_sync_ >= opt_.fsync_interval)) {
    if (commit_) flush_pending();  // the batch first: the fsync covers it
    if (unsynced_records_ > 0) commit(now);
  }
}

// With the commit thread, lines are written in batches (writev of up to kMaxBatchLines lines or
// kBatchBytes): when a batch is full, and whenever an fsync is asked for, tick() runs or a file
// switches. Without it, every line is written at once.
bool LogWriter::batch_full() const {
  if (!commit_) return true;
  const std::size_t lines =
      std::min<std::size_t>(kMaxBatchLines, std::max<std::size_t>(1, opt_.max_pending_records / 2));
  return write_failing_ || pending_.size() >= lines || pending_bytes_ >= kBatchBytes;
}

AppendStatus LogWriter::append_line(RecordType type, std::string members, bool internal) {
  if (closed_ || stop_written_) return AppendStatus::kInvalid;  // closing: see close()
  TimePoint now = opt_.clock();
  if (batch_full() || rotation_due()) flush_pending();
  if (!internal && pending_.size() >= opt_.max_pending_records) {
    ++stats_.records_dropped;
    if (dropped_unreported_++ == 0) first_drop_error_ = stats_.last_error;
    return AppendStatus::kDropped;
  }
  // Rotation switches files, so only do it when nothing older is still waiting for the old file.
  if (pending_.empty()) maybe_rotate();
  enqueue(type, members);
  if (opt_.checkpoint_every_records > 0 &&
      next_seq_ - cp_first_seq_ >= opt_.checkpoint_every_records)
    enqueue_checkpoint("records");
  if (batch_full()) flush_pending();
  after_write(now);
  return write_failing_ ? AppendStatus::kQueued : AppendStatus::kWritten;
}

AppendStatus LogWriter::append_flow(const nlohmann::ordered_json& body) {
  if (!body.is_object() || body.contains("seq") || body.contains("prev") || body.contains("type"))
    return AppendStatus::kInvalid;
  return append_line(RecordType::kFlow, inner_members(body), false);
}

AppendStatus LogWriter::append_flow(const nlohmann::json& body) {
  if (!body.is_object() || body.contains("seq") || body.contains("prev") || body.contains("type"))
    return AppendStatus::kInvalid;
  return append_line(RecordType::kFlow, inner_members(body), false);
}

AppendStatus LogWriter::append_flow(RecordType type, const nlohmann::ordered_json& body) {
  if (type != RecordType::kFlow && type != RecordType::kFlowOpen && type != RecordType::kFlowUpdate)
    return AppendStatus::kInvalid;
  if (!body.is_object() || body.contains("seq") || body.contains("prev") || body.contains("type"))
    return AppendStatus::kInvalid;
  // A flow_open is never refused for a full pending queue: payload waits for it, and the workers
  // stop opening border flows while the writer is unhealthy, so their number stays bounded.
  return append_line(type, inner_members(body), type == RecordType::kFlowOpen);
}

AppendStatus LogWriter::append_event(RecordType type, const nlohmann::ordered_json& details) {
  if (type == RecordType::kFlow || type == RecordType::kFlowOpen ||
      type == RecordType::kFlowUpdate || type == RecordType::kCheckpoint)
    return AppendStatus::kInvalid;
  if (!details.is_object() || details.contains("seq") || details.contains("prev") ||
      details.contains("type") || details.contains("time"))
    return AppendStatus::kInvalid;
  std::string members = "\"time\":" + json_string(format_time(opt_.clock()));
  if (!details.empty()) members += "," + inner_members(details);
  return append_line(type, std::move(members), false);
}

void LogWriter::tick() { tick(opt_.clock()); }

void LogWriter::tick(TimePoint now) {
  if (closed_) return;
  flush_pending();
  if (pending_.empty() && !stop_written_ && opt_.checkpoint_interval.count() > 0 &&
      now - last_checkpoint_ >= opt_.checkpoint_interval && next_seq_ > cp_first_seq_) {
    enqueue_checkpoint("interval");
    flush_pending();
  }
  after_write(now);
}

Result<void> LogWriter::close(const nlohmann::ordered_json& stop_details) {
  if (closed_) return {};
  if (!stop_written_) {
    nlohmann::ordered_json details = nlohmann::ordered_json::object();
    details["records_dropped"] = stats_.records_dropped;
    details["write_errors"] = stats_.write_errors;
    if (stop_details.is_object())
      for (auto& [k, v] : stop_details.items())
        if (k != "seq" && k != "prev" && k != "type" && k != "time") details[k] = v;
    // The loss report must be sealed by the closing checkpoint, even if the disk is still full.
    if (dropped_unreported_ > 0) enqueue_records_lost();
    enqueue(RecordType::kStop,
            "\"time\":" + json_string(format_time(opt_.clock())) + "," + inner_members(details));
    enqueue_checkpoint("close");
    stop_written_ = true;
  }
  flush_pending();
  if (!pending_.empty()) return make_error("audit writer: cannot close: " + stats_.last_error);
  sync_now(opt_.clock());
  publish_durable_checkpoints();
  if (commit_) {
    // durable_seq() and fsyncs() read these from here on.
    durable_seq_.store(std::max(durable_seq_.load(), commit_->durable()));
    deps_durable_ = std::max(deps_durable_, commit_->deps_durable());
    fsyncs_.fetch_add(commit_->fsyncs());
    stats_.sync_errors += commit_->errors();
    commit_.reset();
  }
  sink_->close();
  closed_ = true;
  return {};
}

WriterStats LogWriter::stats() const {
  WriterStats s = stats_;
  s.next_seq = next_seq_;
  s.pending = pending_.size();
  s.fsyncs = fsyncs();
  if (commit_) {
    s.sync_errors += commit_->errors();
    if (commit_->errors() > 0 && s.last_error.empty()) s.last_error = commit_->last_error();
  }
  return s;
}

}  // namespace dc::audit
