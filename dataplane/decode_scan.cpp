// Scanning of the HTTP decoding layer's output for the pipeline (see decode_scan.hpp).
#include "dataplane/decode_scan.hpp"

#include <algorithm>
#include <string_view>

#include "dataplane/policy_epoch.hpp"

namespace dc::dataplane {

namespace pflag = policy::flag;
namespace dec = inspect::decoding;

void DecodedScan::bind(Flow& f, InspectCtx& ctx, unsigned di, inspect::Scratch& scratch,
                       bool is_export, const DecodedSlots* slots) noexcept {
  flow_ = &f;
  ctx_ = &ctx;
  di_ = di;
  scratch_ = &scratch;
  slots_ = slots != nullptr ? *slots : DecodedSlots{&ctx.decoded[0][0], &ctx.decoded_path[0][0], 1};
  findings_.attach(f, ctx, is_export);
}

void DecodedScan::unbind() noexcept {
  findings_.clear();
  flow_ = nullptr;
  ctx_ = nullptr;
  scratch_ = nullptr;
}

std::size_t DecodedScan::index_of(const dec::Path& where) const noexcept {
  const std::size_t lane = where.lane() < slots_.lanes ? where.lane() : 0;
  return index(lane, std::min(where.depth(), InspectCtx::kDecodedStreams - 1));
}

void DecodedScan::on_data(const dec::Path& where, std::span<const uint8_t> bytes) noexcept {
  if (flow_ == nullptr || bytes.empty()) return;
  const std::size_t i = index_of(where);
  inspect::Stream*& s = slots_.streams[i];
  if (s == nullptr) {
    // Bounded: decoded streams share the engine's pool with the raw streams of all flows.
    s = flow_->engine->streams->acquire();
    if (s == nullptr) {
      flow_->flags |= pflag::kStreamUnavailable;
      return;
    }
  }
  counters_.decoded_bytes += bytes.size();
  inspect::decoding::Path& p = slots_.paths[i];
  p = where;  // 34 bytes, no allocation: the finding's path, rendered off the fast path
  findings_.set_source(1 + where.depth(), &p);
  if (inspect::scan(*s, *scratch_, bytes, findings_) != inspect::ScanStatus::kOk)
    flow_->flags |= pflag::kScanError;
}

// The first request's Host admitted the flow (docs/architecture.md step 5b); the server behind
// the address serves every later request of the connection by its own Host, so each must name
// the same server: another one, or none, is server_name_changed (always block).
void DecodedScan::on_request(uint32_t stream, std::span<const char> method,
                             std::span<const char> authority, std::span<const char> path) noexcept {
  (void)method;
  (void)path;
  if (flow_ == nullptr || stream != 0 || di_ != 0) return;
  if (flow_->cold().adm.server_name != policy::NameSource::kHttpHost) return;
  ++counters_.http_requests_named;
  const std::string_view admitted = ctx_->http.host();
  if (admitted.empty() || std::string_view(authority.data(), authority.size()) != admitted)
    flow_->flags |= pflag::kServerNameChanged;
}

void DecodedScan::settle() noexcept {
  if (flow_ == nullptr) return;
  for (std::size_t lane = 0; lane < slots_.lanes; ++lane) {
    for (std::size_t d = 0; d < InspectCtx::kDecodedStreams; ++d) {
      const std::size_t i = index(lane, d);
      inspect::Stream* s = slots_.streams[i];
      if (s == nullptr) continue;
      findings_.set_source(1 + d, &slots_.paths[i]);
      if (inspect::settle(*s, *scratch_, findings_) != inspect::ScanStatus::kOk)
        flow_->flags |= pflag::kScanError;
    }
  }
}

void DecodedScan::close_slot(std::size_t i, bool judge) noexcept {
  inspect::Stream*& s = slots_.streams[i];
  if (s == nullptr) return;
  findings_.set_source(1 + i % InspectCtx::kDecodedStreams, &slots_.paths[i]);
  if (judge) (void)inspect::close(*s, *scratch_, findings_);
  flow_->engine->streams->release(s);
  s = nullptr;
}

void DecodedScan::on_end(const dec::Path& where) noexcept {
  if (flow_ != nullptr) close_slot(index_of(where), true);
}

void DecodedScan::close_all(bool judge) noexcept {
  if (flow_ == nullptr) return;
  for (std::size_t i = index(0, 0); i < index(slots_.lanes, 0); ++i) close_slot(i, judge);
}

void DecodedScan::on_anomaly(dec::HttpAnomaly a) noexcept {
  if (flow_ == nullptr || !dec::http_anomaly_is_ambiguous(a)) return;
  ++counters_.http_anomalies;
  flow_->flags |= pflag::kHttpAnomaly;
  if (ctx_->http_anomaly == nullptr) ctx_->http_anomaly = dec::http_anomaly_name(a);
}

void DecodedScan::on_condition(dec::DecodeCondition c, const dec::Path&) noexcept {
  if (flow_ == nullptr) return;
  switch (dec::condition_class(c)) {
    case dec::ConditionClass::kUninspected:
      ++counters_.content_uninspected;
      flow_->flags |= pflag::kContentUninspected;
      if (ctx_->uninspected == nullptr) ctx_->uninspected = dec::decode_condition_name(c);
      break;
    case dec::ConditionClass::kOpaque:  // a tunnel: what follows is judged like TLS payload
      flow_->flags |= pflag::kPayloadOpaque;
      break;
    case dec::ConditionClass::kNote:
      break;
  }
}

}  // namespace dc::dataplane
