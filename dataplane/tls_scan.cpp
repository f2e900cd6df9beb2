// Scanning of decrypted TLS application data and of its HTTP layer (dataplane/tls_scan.hpp).
#include "dataplane/tls_scan.hpp"

#include "dataplane/policy_epoch.hpp"

namespace dc::dataplane {

namespace pflag = policy::flag;
namespace dec = inspect::decoding;

void TlsPlainScan::bind(Flow& f, InspectCtx& ctx, TlsCtx& t, inspect::Scratch& scratch,
                        dec::DecodeWorker* w) noexcept {
  flow_ = &f;
  ctx_ = &ctx;
  t_ = &t;
  scratch_ = &scratch;
  w_ = w;
}

// The TLS client is the flow's opener (a session is only made for a ClientHello in the opener's
// stream), so client -> server is direction 0.
void TlsPlainScan::on_plaintext(inspect::tls::Direction d, std::span<const uint8_t> data) noexcept {
  if (flow_ == nullptr || data.empty()) return;
  const unsigned di = d == inspect::tls::Direction::kClientToServer ? 0 : 1;
  const bool content =
      di == 0 ? flow_->cold().adm.inspect_forward : flow_->cold().adm.inspect_reverse;
  if (!content) return;
  counters_.tls_plaintext_bytes += data.size();
  if (is_export(di) && t_->outcome == TlsOutcome::kNone) {
    t_->outcome = TlsOutcome::kDecrypted;
    if (const auto* h = t_->session.key_line_hash(d); h != nullptr) {
      t_->key_hash = *h;
      t_->have_key_hash = true;
    }
  }
  scan_plain(di, data);
  decode(di, data);
}

void TlsPlainScan::scan_plain(unsigned di, std::span<const uint8_t> data) noexcept {
  if (flow_->engine == nullptr || flow_->engine->streams == nullptr) return;
  inspect::Stream*& s = t_->plain[di];
  if (s == nullptr) {
    s = flow_->engine->streams->acquire();
    if (s == nullptr) {
      flow_->flags |= pflag::kStreamUnavailable;
      return;
    }
  }
  findings_.attach(*flow_, *ctx_, is_export(di));
  if (inspect::scan(*s, *scratch_, data, findings_) != inspect::ScanStatus::kOk)
    flow_->flags |= pflag::kScanError;
  // The record's packet may cross next: judge a value ending here as if the stream ended.
  if (inspect::settle(*s, *scratch_, findings_) != inspect::ScanStatus::kOk)
    flow_->flags |= pflag::kScanError;
  findings_.clear();
}

void TlsPlainScan::decode(unsigned di, std::span<const uint8_t> data) noexcept {
  if (w_ == nullptr || flow_->engine == nullptr || flow_->engine->streams == nullptr) return;
  if (!t_->layer_chosen) {
    t_->layer_chosen = true;
    // ALPN (TLS 1.3: in EncryptedExtensions, which a flow whose keys came late may not have
    // decrypted); failing that, the client's HTTP/2 connection preface.
    t_->h2_mode =
        t_->session.alpn() == "h2" || (di == 0 && dec::sniff_h2c(data) == dec::H2Sniff::kH2);
    if (t_->h2_mode) (void)t_->h2.start_h2(*w_);  // a failure is reported by the first feed()
  }
  const DecodedSlots slots = t_->slots();
  decoded_.bind(*flow_, *ctx_, di, *scratch_, is_export(di), &slots);
  const dec::FlowSide side = di == 0 ? dec::FlowSide::kClient : dec::FlowSide::kServer;
  if (t_->h2_mode)
    t_->h2.feed(side, data, *w_, decoded_);
  else
    t_->http.feed(side, data, *w_, decoded_);
  decoded_.settle();
  decoded_.unbind();
}

void TlsPlainScan::finish(unsigned di) noexcept {
  if (flow_ == nullptr || flow_->engine == nullptr || flow_->engine->streams == nullptr) return;
  if (w_ != nullptr && t_->layer_chosen) {
    const DecodedSlots slots = t_->slots();
    decoded_.bind(*flow_, *ctx_, di, *scratch_, is_export(di), &slots);
    const dec::FlowSide side = di == 0 ? dec::FlowSide::kClient : dec::FlowSide::kServer;
    if (t_->h2_mode)
      t_->h2.finish(side, *w_, decoded_);
    else
      t_->http.finish(side, *w_, decoded_);
    decoded_.close_all(true);
    decoded_.unbind();
  }
  if (t_->plain[di] != nullptr) {
    findings_.attach(*flow_, *ctx_, is_export(di));
    (void)inspect::close(*t_->plain[di], *scratch_, findings_);
    findings_.clear();
    flow_->engine->streams->release(t_->plain[di]);
    t_->plain[di] = nullptr;
  }
}

void TlsPlainScan::close_all(bool judge) noexcept {
  if (flow_ == nullptr) return;
  if (flow_->engine != nullptr && flow_->engine->streams != nullptr) {
    const DecodedSlots slots = t_->slots();
    for (unsigned di = 0; di < 2; ++di) {
      decoded_.bind(*flow_, *ctx_, di, *scratch_, is_export(di), &slots);
      decoded_.close_all(judge);
      decoded_.unbind();
      inspect::Stream*& s = t_->plain[di];
      if (s == nullptr) continue;
      findings_.attach(*flow_, *ctx_, is_export(di));
      if (judge) (void)inspect::close(*s, *scratch_, findings_);
      findings_.clear();
      flow_->engine->streams->release(s);
      s = nullptr;
    }
  }
  t_->http.release();
  t_->h2.release();
}

}  // namespace dc::dataplane
