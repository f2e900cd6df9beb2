#include "appliance/audit_thread.hpp"

#include <chrono>
#include <cstdio>

#include "appliance/flow_format.hpp"

namespace dc::appliance {

namespace {
constexpr size_t kMaxPendingFlows = 65536;  // flows with evidence waiting for their verdict
}

AuditThread::AuditThread(dataplane::AuditChannel& channel, std::unique_ptr<audit::LogWriter> writer,
                         std::unique_ptr<audit::EvidenceStore> evidence, std::string hmac_key,
                         uint32_t evidence_packets_per_flow)
    : ch_(channel),
      writer_(std::move(writer)),
      evidence_(std::move(evidence)),
      hmac_key_(std::move(hmac_key)),
      per_flow_(evidence_packets_per_flow) {}

AuditThread::~AuditThread() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void AuditThread::start() {
  // A log that cannot even write its start record (disk full, read-only) is unavailable from the
  // first packet on: border-crossing flows meet the audit_unavailable failure action.
  ch_.writer_ok.store(writer_->pending() == 0);
  thread_ = std::thread([this] { run(); });
}

void AuditThread::run() {
  while (!stop_.load(std::memory_order_relaxed)) {
    if (drain_once() == 0) {
      writer_->tick();  // retries pending records
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // Healthy exactly while nothing waits to be written: a write fault (disk full, I/O error)
    // keeps records pending; once the retries succeed, new border flows are admitted again.
    ch_.writer_ok.store(writer_->pending() == 0, std::memory_order_relaxed);
  }
}

void AuditThread::post_event(audit::RecordType type, nlohmann::ordered_json details) {
  std::lock_guard<std::mutex> lock(posted_mu_);
  posted_.emplace_back(type, std::move(details));
}

unsigned AuditThread::drain_once() {
  std::vector<std::pair<audit::RecordType, nlohmann::ordered_json>> posted;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted.swap(posted_);
  }
  for (auto& [type, details] : posted) {
    if (writer_->append_event(type, details) == audit::AppendStatus::kDropped) ++refused_;
  }
  dataplane::AuditItem items[64];
  unsigned n = ch_.dequeue(items, 64);
  for (unsigned i = 0; i < n; ++i) {
    if (items[i].kind == dataplane::AuditItem::kFlow) {
      auto* ev = static_cast<dataplane::FlowEvent*>(items[i].obj);
      on_flow(*ev);
      ch_.release_event(ev);
    } else {
      on_evidence(items[i]);
      ch_.release_evidence(items[i].obj);
    }
  }
  return n + static_cast<unsigned>(posted.size());
}

void AuditThread::on_evidence(const dataplane::AuditItem& it) {
  auto [pos, fresh] = pending_.try_emplace(it.flow_id);
  if (fresh) {
    pending_order_.push_back(it.flow_id);
    while (pending_.size() > kMaxPendingFlows && !pending_order_.empty()) {
      uint64_t old = pending_order_.front();
      pending_order_.pop_front();
      auto o = pending_.find(old);
      if (o != pending_.end()) {
        evidence_dropped_ += o->second.size();
        pending_.erase(o);
      }
    }
    pos = pending_.find(it.flow_id);
    if (pos == pending_.end()) return;
  }
  if (pos->second.size() >= per_flow_) {
    ++evidence_dropped_;
    return;
  }
  const uint8_t* d = dataplane::AuditChannel::evidence_data(it.obj);
  pos->second.push_back(Packet{it.ts_ns, std::vector<uint8_t>(d, d + it.len)});
}

void AuditThread::on_flow(dataplane::FlowEvent& ev) {
  auto pend = pending_.find(ev.flow_id);
  if (!audit_worthy(ev)) {
    ++skipped_;
    if (pend != pending_.end()) {
      evidence_dropped_ += pend->second.size();
      pending_.erase(pend);
    }
    return;
  }
  audit::FlowRecord rec;
  try {
    rec = to_flow_record(ev, hmac_key_);
  } catch (...) {
    ++refused_;
    ch_.writer_ok.store(false);
    return;
  }
  if (ev.verdict == dataplane::FlowVerdict::kBlock && evidence_ && pend != pending_.end() &&
      !pend->second.empty()) {
    char name[64];
    std::snprintf(name, sizeof name, "flow-%016llx", static_cast<unsigned long long>(ev.flow_id));
    auto cap = evidence_->begin(std::string(name) + "-" + std::to_string(ev.time_ns));
    if (cap) {
      for (const auto& p : pend->second)
        (void)cap.value()->add(audit::TimePoint(std::chrono::nanoseconds(p.ts_ns)), p.bytes);
      auto ref = cap.value()->finish();
      if (ref) {
        rec.evidence = ref.value();
        ++evidence_files_;
      }
    }
  }
  if (pend != pending_.end()) pending_.erase(pend);
  audit::AppendStatus st = writer_->append_flow(audit::flow_record_body(rec));
  if (st == audit::AppendStatus::kWritten || st == audit::AppendStatus::kQueued)
    ++records_;  // kQueued: chained and kept while a write fault is retried
  else
    ++refused_;
  // Health is "nothing waits to be written" (also refreshed by run() after every drain).
  ch_.writer_ok.store(writer_->pending() == 0, std::memory_order_relaxed);
}

Result<void> AuditThread::stop(const nlohmann::ordered_json& stop_details) {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  while (drain_once() > 0) {
  }
  auto details = stop_details;
  details["records"] = records_.load();
  details["events_lost"] = ch_.lost_events.load();
  details["evidence_lost"] = ch_.lost_evidence.load();
  return writer_->close(details);
}

AuditThreadStats AuditThread::stats() const {
  return AuditThreadStats{records_.load(), skipped_.load(), refused_.load(), evidence_files_.load(),
                          evidence_dropped_.load()};
}

}  // namespace dc::appliance
