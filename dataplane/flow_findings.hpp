#pragma once
// Routes the scanner's findings for the flow being scanned into that flow: its category tally
// (only bytes that leave for the foreign end count towards an export verdict) and the value
// samples kept for its audit record. Owned by one worker's pipeline; set before a scan call,
// cleared after. No allocation.
#include <algorithm>
#include <cstring>

#include "dataplane/counters.hpp"
#include "dataplane/flow.hpp"
#include "dataplane/inspect_pool.hpp"
#include "inspect/detect/scanner.hpp"

namespace dc::dataplane {

class FlowFindings final : public inspect::FindingSink {
 public:
  explicit FlowFindings(WorkerCounters& counters) noexcept : counters_(counters) {}

  // Findings from now on belong to `f` (direction export or not) until clear().
  void attach(Flow& f, InspectCtx& ctx, bool is_export) noexcept {
    flow_ = &f;
    ctx_ = &ctx;
    is_export_ = is_export;
  }
  void clear() noexcept { flow_ = nullptr; }

  void on_finding(const inspect::Finding& f) noexcept override {
    if (flow_ == nullptr || ctx_ == nullptr) return;
    ++counters_.findings;
    ++ctx_->findings;
    if (!is_export_ || flow_->policy == nullptr) return;
    flow_->policy->add_finding(flow_->tally, f.detector, f.confidence);
    if (ctx_->samples_n < kMaxSamples) {
      FindingSample& s = ctx_->samples[ctx_->samples_n++];
      s.detector = f.detector;
      s.confidence = static_cast<uint8_t>(f.confidence);
      std::memcpy(s.masked, f.masked, sizeof s.masked);
      s.value_len = std::min<uint8_t>(f.value_len, sizeof s.value);
      std::memcpy(s.value, f.value, s.value_len);
    }
  }

 private:
  WorkerCounters& counters_;
  Flow* flow_ = nullptr;
  InspectCtx* ctx_ = nullptr;
  bool is_export_ = false;
};

}  // namespace dc::dataplane
