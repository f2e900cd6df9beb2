#pragma once
// The pipeline's DecodeSink: decoded HTTP bytes of one flow direction (dechunked, decompressed,
// unescaped) are scanned like raw bytes, with scanner streams from the flow engine's pool (one
// per path depth, kept in the flow's InspectCtx), and their findings count into the flow's tally;
// framing anomalies and decoding conditions become policy flags; a later request naming another
// server than the one a flow was admitted by (HTTP Host) blocks it. Worker thread; no allocation.
#include <cstddef>
#include <span>

#include "dataplane/counters.hpp"
#include "dataplane/flow.hpp"
#include "dataplane/flow_findings.hpp"
#include "dataplane/inspect_pool.hpp"
#include "inspect/decode/events.hpp"
#include "inspect/detect/scanner.hpp"

namespace dc::dataplane {

class DecodedScan final : public inspect::decoding::DecodeSink {
 public:
  DecodedScan(FlowFindings& findings, WorkerCounters& counters) noexcept
      : findings_(findings), counters_(counters) {}

  // Decoded bytes of direction `di` of `f` are scanned until unbind(). `is_export`: the
  // direction's bytes leave for the foreign end (only those count towards the verdict).
  void bind(Flow& f, InspectCtx& ctx, unsigned di, inspect::Scratch& scratch,
            bool is_export) noexcept;
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
  // Keep-alive: every HTTP/1.x request of a flow admitted by its Host must name that server.
  void on_request(uint32_t stream, std::span<const char> method, std::span<const char> authority,
                  std::span<const char> path) noexcept override;

 private:
  inspect::Stream*& slot(const inspect::decoding::Path& where) noexcept;
  // The path kept for the scanner stream in `s` (a slot of the bound direction).
  inspect::decoding::Path& path_of(inspect::Stream*& s) noexcept;
  void close_slot(inspect::Stream*& s, bool judge) noexcept;

  FlowFindings& findings_;
  WorkerCounters& counters_;
  Flow* flow_ = nullptr;
  InspectCtx* ctx_ = nullptr;
  inspect::Scratch* scratch_ = nullptr;
  unsigned di_ = 0;
};

}  // namespace dc::dataplane
