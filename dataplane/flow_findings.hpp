#pragma once
// Routes the scanner's findings for the flow being scanned into that flow: its category tally
// (only bytes that leave for the foreign end count towards an export verdict) and the value
// samples kept for its audit record. Owned by one worker's pipeline; set before a scan call,
// cleared after. No allocation.
#include <algorithm>
#include <bit>
#include <cstring>

#include "dataplane/counters.hpp"
#include "dataplane/flow.hpp"
#include "dataplane/inspect_pool.hpp"
#include "inspect/detect/scanner.hpp"

namespace dc::dataplane {

// Customs accounting: told of every finding of a person-key detector in exported bytes
// (dataplane/accounting_flow.cpp). No allocation.
class PersonTap {
 public:
  virtual void on_person(Flow& f, const inspect::Finding& fd) noexcept = 0;

 protected:
  ~PersonTap() = default;
};

class FlowFindings final : public inspect::FindingSink {
 public:
  explicit FlowFindings(WorkerCounters& counters) noexcept : counters_(counters) {}

  // Findings from now on belong to `f` (direction export or not) until clear(), from the raw
  // stream (source 0) until set_source().
  void attach(Flow& f, InspectCtx& ctx, bool is_export) noexcept {
    flow_ = &f;
    ctx_ = &ctx;
    is_export_ = is_export;
    source_ = 0;
    path_ = nullptr;
  }
  void clear() noexcept { flow_ = nullptr; }
  void set_person_tap(PersonTap* t) noexcept { tap_ = t; }
  // 0: the raw bytes; 1 + d: the decoded stream of path depth d (dataplane/decode_scan.cpp),
  // whose Path (kept by the caller until the next set_source/attach) is copied into samples.
  void set_source(std::size_t s, const inspect::decoding::Path* path = nullptr) noexcept {
    source_ = std::min(s, SeenValues::kSources - 1);
    path_ = path;
  }

  void on_finding(const inspect::Finding& f) noexcept override {
    if (flow_ == nullptr || ctx_ == nullptr) return;
    if (is_export_ && repeated(f)) return;
    ++counters_.findings;
    ++ctx_->findings;
    count_categories(f.detector);
    if (!is_export_ || flow_->policy == nullptr) return;
    flow_->policy->add_finding(ctx_->tally, f.detector, f.confidence);
    ++ctx_->tally_gen;  // reevaluate() decides again
    if (tap_ != nullptr &&
        flow_->policy->person_key_kind(f.detector) != policy::PersonKeyKind::kNone)
      tap_->on_person(*flow_, f);
    if (ctx_->samples_n < kMaxSamples) {
      FindingSample& s = ctx_->samples[ctx_->samples_n++];
      s.detector = f.detector;
      s.confidence = static_cast<uint8_t>(f.confidence);
      std::memcpy(s.masked, f.masked, sizeof s.masked);
      s.value_len = std::min<uint8_t>(f.value_len, sizeof s.value);
      std::memcpy(s.value, f.value, s.value_len);
      if (path_ != nullptr && path_->depth() > 0) {
        path_->format(s.path, sizeof s.path);
      } else {
        s.path[0] = '\0';
      }
    }
  }

 private:
  // One count per category the detector feeds in the flow's policy ("none": it feeds none).
  void count_categories(uint32_t detector) noexcept {
    uint64_t m = flow_->policy != nullptr ? flow_->policy->detector_categories(detector) : 0;
    if (m == 0) ++counters_.labelled.category_findings[kCatNone];
    for (; m != 0; m &= m - 1) ++counters_.labelled.category_findings[std::countr_zero(m)];
  }

  // True when this occurrence of the value was already counted from another source (the same
  // bytes seen raw and decoded, or in two decoding layers).
  bool repeated(const inspect::Finding& f) noexcept {
    uint64_t key = 1469598103934665603ull ^ f.detector;  // FNV-1a over detector and value
    for (uint8_t i = 0; i < f.value_len; ++i) key = (key ^ f.value[i]) * 1099511628211ull;
    key |= 1;  // never 0 (a free entry)
    SeenValues::Entry* e = nullptr;
    for (auto& x : ctx_->seen.entries) {
      if (x.key == key || x.key == 0) {
        e = &x;
        break;
      }
    }
    if (e == nullptr) return false;  // table full: count every occurrence (never undercount)
    e->key = key;
    uint16_t& mine = e->count[source_];
    if (mine < 0xffff) ++mine;
    for (std::size_t s = 0; s < SeenValues::kSources; ++s) {
      if (s != source_ && e->count[s] >= mine) return true;
    }
    return false;
  }

  WorkerCounters& counters_;
  Flow* flow_ = nullptr;
  InspectCtx* ctx_ = nullptr;
  bool is_export_ = false;
  std::size_t source_ = 0;
  const inspect::decoding::Path* path_ = nullptr;  // nullptr: the raw bytes
  PersonTap* tap_ = nullptr;                       // customs accounting on (else null)
};

}  // namespace dc::dataplane
