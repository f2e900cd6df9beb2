#pragma once
// The pipeline's DecodeSink: decoded HTTP bytes of one flow direction (dechunked, decompressed,
// unescaped) are scanned like raw bytes, with scanner streams from the flow engine's pool (one
// per path depth, kept in the flow's InspectCtx), and their findings count into the flow's tally;
// framing anomalies and decoding conditions become policy flags. Worker thread; no allocation.
#include <cstddef>
#include <span>

#include "dataplane/counters.hpp"
#include "dataplane/flow.hpp"
#include "dataplane/flow_findings.hpp"
#include "dataplane/inspect_pool.hpp"
#include "inspect/decode/events.hpp"
#include "inspect/detect/scanner.hpp"

namespace dc::dataplane {

// Where the scanner streams of decoded byte streams live: one per (direction, lane, depth), with
// the Path each reads. The plain HTTP/1.x layer of a flow uses one lane (InspectCtx); the layer
// over decrypted TLS has every lane, since HTTP/2 bodies of several streams are open at once.
struct DecodedSlots {
  inspect::Stream** streams = nullptr;  // [2][lanes][InspectCtx::kDecodedStreams]
  inspect::decoding::Path* paths = nullptr;
  std::size_t lanes = 1;
};

class DecodedScan final : public inspect::decoding::DecodeSink {
 public:
  DecodedScan(FlowFindings& findings, WorkerCounters& counters) noexcept
      : findings_(findings), counters_(counters) {}

  // Decoded bytes of direction `di` of `f` are scanned until unbind(). `is_export`: the
  // direction's bytes leave for the foreign end (only those count towards the verdict).
  // `slots`: the flow's plain layer (ctx.decoded) unless given.
  void bind(Flow& f, InspectCtx& ctx, unsigned di, inspect::Scratch& scratch, bool is_export,
            const DecodedSlots* slots = nullptr) noexcept;
  void unbind() noexcept;
  // Judges values that end where the decoded bytes so far end (the segment is forwarded next).
  void settle() noexcept;
  // Ends every decoded stream of the bound direction: judged first unless `judge` is false.
  void close_all(bool judge) noexcept;

  void on_data(const inspect::decoding::Path& where,
               std::span<const uint8_t> bytes) noexcept override;
  void on_end(const inspect::decoding::Path& where) noexcept override;
  void on_anomaly(inspect::decoding::HttpAnomaly a) noexcept override;
  void on_condition(inspect::decoding::DecodeCondition c,
                    const inspect::decoding::Path& where) noexcept override;

 private:
  std::size_t index(std::size_t lane, std::size_t depth) const noexcept {
    return (di_ * slots_.lanes + lane) * InspectCtx::kDecodedStreams + depth;
  }
  std::size_t index_of(const inspect::decoding::Path& where) const noexcept;
  void close_slot(std::size_t i, bool judge) noexcept;

  FlowFindings& findings_;
  WorkerCounters& counters_;
  Flow* flow_ = nullptr;
  InspectCtx* ctx_ = nullptr;
  inspect::Scratch* scratch_ = nullptr;
  unsigned di_ = 0;
  DecodedSlots slots_{};
};

}  // namespace dc::dataplane
