// The audit writer thread: outcome source -> flow records, evidence pcaps, health reporting.
#include "audit/writer_thread.hpp"

#include <pthread.h>

#include <chrono>
#include <cstdio>

#include "audit/flow_format.hpp"

namespace dc::audit {

namespace {
constexpr size_t kMaxPendingFlows = 65536;  // flows with evidence waiting for their verdict
constexpr unsigned kBatch = 64;             // items per drain
constexpr unsigned kMaxPerCommit = 1024;    // items drained between two group commits
constexpr size_t kSpareEvidence = 1024;     // emptied evidence buffers kept for reuse
constexpr size_t kMaxHeldRecords = 4096;    // records waiting for their capture's fsync
}  // namespace

WriterThread::WriterThread(OutcomeSource& source, std::unique_ptr<LogWriter> writer,
                           std::unique_ptr<EvidenceStore> evidence, std::string hmac_key,
                           uint32_t evidence_packets_per_flow)
    : source_(source),
      writer_(std::move(writer)),
      evidence_(std::move(evidence)),
      hmac_key_(std::move(hmac_key)),
      per_flow_(evidence_packets_per_flow) {}

WriterThread::~WriterThread() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  writer_.reset();  // its last fsync may still name the evidence directory: before evidence_ goes
}

// Healthy exactly while no write fails: a write fault (disk full, I/O error) keeps records
// pending; once the retries succeed, new border flows are admitted again. (Lines waiting in the
// current write batch of background_sync are not a fault.)
void WriterThread::report_health() { source_.set_writer_healthy(!writer_->failing()); }

void WriterThread::start() {
  // A log that cannot even write its start record (disk full, read-only) is unavailable from the
  // first packet on: border-crossing flows meet the audit_unavailable failure action.
  report_health();
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), "dc-audit");  // ps -L, perf, top -H
}

bool WriterThread::set_cpus(const cpu_set_t& cpus) {
  bool ok = !thread_.joinable() ||
            pthread_setaffinity_np(thread_.native_handle(), sizeof cpus, &cpus) == 0;
  if (GroupCommit* gc = writer_->commit_thread(); gc != nullptr)
    ok = pthread_setaffinity_np(gc->native_handle(), sizeof cpus, &cpus) == 0 && ok;
  return ok;
}

void WriterThread::run() {
  while (!stop_.load(std::memory_order_relaxed)) {
    if (drain_once() == 0) {
      writer_->tick();  // retries pending records
      commit_opens();
      append_held();
      // While flow_open records wait for the commit thread's fsync, look again soon: their held
      // payload crosses as soon as the workers hear of it.
      if (opens_waiting_.empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      else
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    report_health();
  }
}

void WriterThread::post_event(RecordType type, nlohmann::ordered_json details) {
  std::lock_guard<std::mutex> lock(posted_mu_);
  posted_.emplace_back(type, std::move(details));
}

unsigned WriterThread::drain_once() {
  std::vector<std::pair<RecordType, nlohmann::ordered_json>> posted;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted.swap(posted_);
  }
  for (auto& [type, details] : posted) {
    if (writer_->append_event(type, details) == AppendStatus::kDropped) ++refused_;
  }
  // Group commit: drain what is queued (up to kMaxPerCommit items, evidence copies included),
  // asking after each batch for an fsync of the flow_open records among them. With the writer's
  // commit thread (WriterOptions::background_sync) that fsync runs while the next batches are
  // formatted, and one fsync covers whatever was written before it started; without it, the
  // fsync is made here, once for the whole drain.
  unsigned n = 0;
  for (unsigned got = kBatch; got > 0 && n < kMaxPerCommit;) {
    got = source_.drain(*this, kBatch);
    n += got;
    if (writer_->background_sync()) {
      commit_opens();
      append_held();
    }
  }
  commit_opens();
  append_held();
  return n + static_cast<unsigned>(posted.size());
}

WriterThread::PendingEvidence WriterThread::take_spare() {
  if (spare_.empty()) return {};
  PendingEvidence p = std::move(spare_.back());
  spare_.pop_back();
  return p;
}

void WriterThread::recycle(PendingEvidence&& p) {
  if (spare_.size() >= kSpareEvidence) return;
  p.frames.clear();
  p.bytes.clear();
  spare_.push_back(std::move(p));
}

// Forgets a flow's evidence (its outcome came, or it was evicted), counting what is discarded.
void WriterThread::drop_pending(uint64_t flow_id) {
  auto o = pending_.find(flow_id);
  if (o == pending_.end()) return;
  evidence_dropped_ += o->second.frames.size();
  recycle(std::move(o->second));
  pending_.erase(o);
}

void WriterThread::on_evidence(uint64_t flow_id, int64_t ts_ns, std::span<const uint8_t> frame) {
  auto pos = pending_.find(flow_id);
  if (pos == pending_.end()) {
    pending_order_.push_back(flow_id);
    while (pending_.size() >= kMaxPendingFlows && !pending_order_.empty()) {
      const uint64_t old = pending_order_.front();
      pending_order_.pop_front();
      drop_pending(old);
    }
    // Ids of flows whose outcome came stay in the eviction order until they reach its front:
    // sweep them now and then, so the order stays bounded by the pending flows.
    if (pending_order_.size() > 2 * kMaxPendingFlows)
      std::erase_if(pending_order_, [this](uint64_t id) { return !pending_.contains(id); });
    pos = pending_.emplace(flow_id, take_spare()).first;
  }
  PendingEvidence& p = pos->second;
  if (p.frames.size() >= per_flow_) {
    ++evidence_dropped_;
    return;
  }
  if (p.frames.empty()) {
    p.frames.reserve(per_flow_);
    p.bytes.reserve(static_cast<size_t>(per_flow_) * 128);
  }
  p.frames.push_back(
      {ts_ns, static_cast<uint32_t>(p.bytes.size()), static_cast<uint32_t>(frame.size())});
  p.bytes.insert(p.bytes.end(), frame.begin(), frame.end());
}

// The evidence pcap of a blocked flow from its pending packets; nullopt when there is none.
std::optional<EvidenceRef> WriterThread::write_evidence(const FlowOutcome& ev, std::string& missing,
                                                        uint64_t& dep) {
  if (ev.verdict != OutcomeVerdict::kBlock) return std::nullopt;  // kept for blocked flows only
  const bool pool_empty = (ev.flags & policy::flag::kEvidenceUnavailable) != 0;
  auto pend = pending_.find(ev.flow_id);
  if (!evidence_) {
    missing = "no evidence store";
    return std::nullopt;
  }
  if (pend == pending_.end() || pend->second.frames.empty()) {
    missing = pool_empty ? "no packets kept: evidence buffers exhausted"
                         : "no packets kept (evidence_packets_per_flow = 0, or evicted)";
    return std::nullopt;
  }
  char name[64];
  std::snprintf(name, sizeof name, "flow-%016llx", static_cast<unsigned long long>(ev.flow_id));
  auto cap = evidence_->begin(std::string(name) + "-" + std::to_string(ev.time_ns));
  if (!cap) {
    missing = "evidence store refused the capture: " + cap.error().message;
    return std::nullopt;
  }
  const PendingEvidence& pe = pend->second;
  for (const auto& fr : pe.frames)
    (void)cap.value()->add(TimePoint(std::chrono::nanoseconds(fr.ts_ns)),
                           std::span<const uint8_t>(pe.bytes.data() + fr.offset, fr.len));
  Result<EvidenceRef> ref = make_error("");
  if (writer_->background_sync() && held_.size() < kMaxHeldRecords) {
    // Written now, fsynced by the next group commit (with the directory, once per commit).
    auto d = cap.value()->finish_deferred();
    if (d) {
      writer_->sync_before_next_commit(d->fd, true);
      dep = writer_->sync_before_next_commit(evidence_->dir_fd(), false);
      ref = d->ref;
    } else {
      ref = d.error();
    }
  } else {
    ref = cap.value()->finish();
  }
  if (!ref) {
    missing = "evidence capture failed: " + ref.error().message;
    return std::nullopt;
  }
  ++evidence_files_;
  // Some packets could not be copied (buffers exhausted): the capture is partial, and says so.
  if (pool_empty) missing = "capture incomplete: evidence buffers exhausted";
  return ref.value();
}

void WriterThread::commit_opens() {
  if (opens_waiting_.empty()) return;
  writer_->request_sync();  // waits for the disk only without the commit thread
  group_commits_.store(writer_->fsyncs(), std::memory_order_relaxed);
  // A ticket is acknowledged only once its record's seq is durable: never before the fsync that
  // covers it returned.
  const uint64_t durable = writer_->durable_seq();
  while (!opens_waiting_.empty() && opens_waiting_.front().seq <= durable) {
    source_.set_durable(opens_waiting_.front().worker, opens_waiting_.front().ticket);
    opens_waiting_.pop_front();
  }
}

// A border flow's admission. Never refused by the writer (a flow_open bypasses the bound on
// pending records; their number is bounded by the ring): a worker whose open could not be queued
// already treats the flow as unrecordable, and one it queued waits for this record.
void WriterThread::on_open(const FlowOutcome& ev) {
  nlohmann::ordered_json body;
  try {
    body = flow_open_body(to_flow_record(ev, hmac_key_));
  } catch (...) {
    body = nlohmann::ordered_json{{"flow_id", ev.flow_id}, {"error", "record formatting failed"}};
  }
  AppendStatus st = writer_->append_flow(RecordType::kFlowOpen, body);
  if (st != AppendStatus::kWritten && st != AppendStatus::kQueued) {
    ++refused_;  // closing: the ticket never becomes durable, the held payload times out
    return;
  }
  ++opens_;
  opens_waiting_.push_back(OpenTicket{writer_->last_seq(), ev.worker, ev.ticket});
}

void WriterThread::on_update(const FlowOutcome& ev) {
  try {
    AppendStatus st = writer_->append_flow(RecordType::kFlowUpdate,
                                           flow_record_body(to_flow_record(ev, hmac_key_)));
    if (st == AppendStatus::kWritten || st == AppendStatus::kQueued)
      ++updates_;
    else
      ++refused_;
  } catch (...) {
    ++refused_;
  }
}

void WriterThread::on_outcome(const FlowOutcome& ev) {
  if (ev.kind == OutcomeKind::kOpen) return on_open(ev);
  if (ev.kind == OutcomeKind::kUpdate) return on_update(ev);
  if (!audit_worthy(ev)) {
    ++skipped_;
    drop_pending(ev.flow_id);
    return;
  }
  FlowRecord rec;
  try {
    rec = to_flow_record(ev, hmac_key_);
  } catch (...) {
    ++refused_;
    source_.set_writer_healthy(false);
    return;
  }
  uint64_t dep = 0;
  rec.evidence = write_evidence(ev, rec.evidence_missing, dep);
  if (auto pend = pending_.find(ev.flow_id); pend != pending_.end()) {
    recycle(std::move(pend->second));
    pending_.erase(pend);
  }
  if (dep != 0) {
    held_.push_back(HeldRecord{dep, flow_record_body(rec)});
    return;
  }
  append_record(flow_record_body(rec));
  // Health is "no write fails" (also refreshed by run() after every drain).
  report_health();
}

void WriterThread::append_record(const nlohmann::ordered_json& body) {
  AppendStatus st = writer_->append_flow(body);
  if (st == AppendStatus::kWritten || st == AppendStatus::kQueued)
    ++records_;  // kQueued: chained and kept while a write fault is retried
  else
    ++refused_;
}

void WriterThread::append_held(bool all) {
  if (held_.empty()) return;
  const uint64_t durable = writer_->deps_durable();
  while (!held_.empty() && (all || held_.front().dep <= durable)) {
    append_record(held_.front().body);
    held_.pop_front();
  }
}

Result<void> WriterThread::stop(const nlohmann::ordered_json& stop_details) {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  while (drain_once() > 0) {
  }
  // The last captures' fsync, then their records (also if it failed: a record is never lost).
  writer_->sync();
  append_held(true);
  auto details = stop_details;
  details["records"] = records_.load();
  details["events_lost"] = source_.lost_outcomes();
  details["evidence_lost"] = source_.lost_evidence();
  return writer_->close(details);
}

WriterThreadStats WriterThread::stats() const {
  return WriterThreadStats{records_.load(),        skipped_.load(),          refused_.load(),
                           evidence_files_.load(), evidence_dropped_.load(), opens_.load(),
                           updates_.load(),        group_commits_.load()};
}

}  // namespace dc::audit
