#pragma once
// The pipeline's PlaintextSink: application data a TLS Session decrypted with escrowed keys is
// scanned in a scanner stream of its own (never mixed with the ciphertext's raw stream) and goes
// through the HTTP layer the connection negotiated (ALPN "h2": H2FlowDecoder; else
// HttpFlowDecoder), whose decoded streams are scanned per (lane, depth) (DecodedScan). Findings
// count into the flow's tally like those of cleartext. Worker thread; no allocation.
#include <cstdint>
#include <span>

#include "dataplane/counters.hpp"
#include "dataplane/decode_scan.hpp"
#include "dataplane/flow.hpp"
#include "dataplane/flow_findings.hpp"
#include "dataplane/tls_flow.hpp"
#include "inspect/decode/worker.hpp"
#include "inspect/detect/scanner.hpp"
#include "inspect/tls/session.hpp"

namespace dc::dataplane {

class TlsPlainScan final : public inspect::tls::PlaintextSink {
 public:
  TlsPlainScan(FlowFindings& findings, DecodedScan& decoded, WorkerCounters& counters) noexcept
      : findings_(findings), decoded_(decoded), counters_(counters) {}

  // Plaintext of `t` (flow `f`) is scanned until unbind(). `w`: the worker's decoders (nullptr:
  // the HTTP layer is off and only the plaintext itself is scanned).
  void bind(Flow& f, InspectCtx& ctx, TlsCtx& t, inspect::Scratch& scratch,
            inspect::decoding::DecodeWorker* w) noexcept;
  void unbind() noexcept { flow_ = nullptr; }
  bool bound() const noexcept { return flow_ != nullptr; }

  void on_plaintext(inspect::tls::Direction d, std::span<const uint8_t> data) noexcept override;
  // Direction `di` (initiator-relative) ended: the HTTP layer finishes it, its streams are judged.
  void finish(unsigned di) noexcept;
  // The flow ends: every plaintext and decoded stream is closed (judged first unless `judge` is
  // false) and returned; the decoders' memory goes back to the worker's arena.
  void close_all(bool judge) noexcept;

 private:
  bool is_export(unsigned di) const noexcept {
    return di == 0 ? flow_->cold().adm.forward_is_export() : flow_->cold().adm.reverse_is_export();
  }
  void scan_plain(unsigned di, std::span<const uint8_t> data) noexcept;
  void decode(unsigned di, std::span<const uint8_t> data) noexcept;

  FlowFindings& findings_;
  DecodedScan& decoded_;
  WorkerCounters& counters_;
  Flow* flow_ = nullptr;
  InspectCtx* ctx_ = nullptr;
  TlsCtx* t_ = nullptr;
  inspect::Scratch* scratch_ = nullptr;
  inspect::decoding::DecodeWorker* w_ = nullptr;
};

}  // namespace dc::dataplane
