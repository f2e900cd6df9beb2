#pragma once
// The decoding layer's per-flow object for HTTP/2 (RFC 9113): both directions of one connection,
// over decrypted TLS (ALPN "h2") or cleartext with prior knowledge (h2c, sniffed from the client
// preface with sniff_h2c()). Frames are parsed per direction (H2FrameParser), header blocks
// decoded with one HPACK inflater per direction (HpackInflater, arena memory), and the DATA of
// each stream goes into a BodyDecoder of its own, so codings and content decoders apply as for
// HTTP/1.x. Decoded streams (Path, DecodeSink in events.hpp):
//   h2.stream[N].request.headers      one stream per header field, "name: value"
//   h2.stream[N].request.path         :path percent-decoded (> base64-run)
//   h2.stream[N].request.body > ...   DATA of the stream, lane = body slot + 1
//   h2.stream[N].response.headers / response.body   the same for the server's side
// Bodies of at most kMaxStreams streams per direction are decoded at once (a fixed pool; beyond:
// kH2TooManyStreams). Worker-owned; noexcept; fixed size; the HPACK inflaters are created at the
// connection's start (start_h2() or the first bytes) with memory from the worker's DecoderArena.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "inspect/decode/body.hpp"
#include "inspect/decode/events.hpp"
#include "inspect/decode/h2_frame.hpp"
#include "inspect/decode/h2_hpack.hpp"
#include "inspect/decode/http_flow.hpp"
#include "inspect/decode/text.hpp"
#include "inspect/decode/worker.hpp"

namespace dc::inspect::decoding {

// Whether a client stream starts with the HTTP/2 connection preface (prior-knowledge h2c).
enum class H2Sniff : uint8_t { kNeedMore, kH2, kNotH2 };
H2Sniff sniff_h2c(std::span<const uint8_t> client_start) noexcept;

class H2FlowDecoder;

// What a request's header block said, truncated to fixed buffers (for the audit record).
struct H2RequestRecord {
  static constexpr std::size_t kMaxMethod = 16, kMaxAuthority = 128, kMaxPath = 256;
  uint32_t stream = 0;
  char method[kMaxMethod]{};
  char authority[kMaxAuthority]{};
  char path[kMaxPath]{};
  uint8_t method_len = 0, authority_len = 0;
  uint16_t path_len = 0;
  std::string_view method_view() const noexcept { return {method, method_len}; }
  std::string_view authority_view() const noexcept { return {authority, authority_len}; }
  std::string_view path_view() const noexcept { return {path, path_len}; }
};

// One direction: frame handler, HPACK state, the current header block, its body slots.
class H2Direction final : private H2FrameHandler {
 public:
  static constexpr std::size_t kMaxStreams = kMaxLanes - 1;
  static constexpr std::size_t kHpackMemory = 512u << 10;  // Lease cap of one inflater

  void init(H2FlowDecoder* conn, H2Direction* peer, bool client) noexcept;
  bool start(DecodeWorker& w) noexcept;  // creates the inflater; false: no memory
  void feed(std::span<const uint8_t> bytes, DecodeWorker& w, DecodeSink& sink) noexcept;
  void finish(DecodeWorker& w, DecodeSink& sink) noexcept;
  void release() noexcept;
  // The peer reset `stream`: its body here ends at this direction's next feed()/finish().
  void peer_reset(uint32_t stream) noexcept;
  void set_max_frame(uint32_t v) noexcept { parser_.set_max_frame(v); }
  bool dead() const noexcept { return dead_; }
  uint32_t highest_stream() const noexcept { return highest_; }
  std::size_t open_bodies() const noexcept;
  uint64_t frames() const noexcept { return parser_.frames(); }

 private:
  struct Body {
    BodyDecoder decoder;
    uint64_t content_length = 0, data = 0;
    uint32_t stream = 0;  // 0: free slot
    bool has_cl = false, cl_reported = false, reset = false;
  };
  // The header block being decoded (header blocks of a direction never interleave, §6.10).
  struct Block {
    BodySpec spec;
    H2RequestRecord rec;
    uint64_t content_length = 0;
    Coding codings[kMaxCodings]{};
    uint32_t stream = 0;
    uint16_t status = 0;
    uint8_t n_codings = 0;
    uint8_t pseudo = 0;  // bits of kPseudo* seen
    bool active = false, request = false, trailers = false, end_stream = false, push = false;
    bool regular_seen = false, has_cl = false, too_many = false;
  };

  // H2FrameHandler
  void on_frame(const H2FrameHeader& h) noexcept override;
  void on_data(const H2FrameHeader& h, std::span<const uint8_t> b) noexcept override;
  void on_header_fragment(const H2FrameHeader& h, std::span<const uint8_t> b) noexcept override;
  void on_push_promise(const H2FrameHeader& h, uint32_t promised) noexcept override;
  void on_settings(uint16_t id, uint32_t value) noexcept override;
  void on_rst_stream(const H2FrameHeader& h, uint32_t code) noexcept override;
  void on_header_block_broken() noexcept override;
  void on_frame_end(const H2FrameHeader& h) noexcept override;
  void on_anomaly(HttpAnomaly a) noexcept override;

  void headers_frame(const H2FrameHeader& h) noexcept;
  void data_frame(const H2FrameHeader& h) noexcept;
  bool idle(uint32_t stream) const noexcept;
  void begin_block(uint32_t stream, bool request, bool trailers, bool end_stream) noexcept;
  void inflate(std::span<const uint8_t> b, bool final) noexcept;
  static void field_hop(void* ctx, std::span<const uint8_t> n, std::span<const uint8_t> v) noexcept;
  void field(std::string_view name, std::string_view value) noexcept;
  void emit_field(std::string_view name, std::string_view value) noexcept;
  void pseudo_field(std::string_view name, std::string_view value) noexcept;
  void regular_field(std::string_view name, std::string_view value) noexcept;
  void scan_path(std::string_view value) noexcept;
  void block_end() noexcept;
  void check_required() noexcept;
  void open_body() noexcept;
  Body* body_of(uint32_t stream) noexcept;
  void end_body(Body& b, bool complete) noexcept;
  void pending_resets() noexcept;
  void uninspectable(DecodeCondition c) noexcept;
  LayerKind field_layer() const noexcept;

  H2FrameParser parser_;
  HpackInflater hpack_;
  Body bodies_[kMaxStreams];
  Block block_;
  PercentDecoder percent_;
  Base64RunDecoder run_;
  DirOutput output_;
  H2FlowDecoder* conn_ = nullptr;
  H2Direction* peer_ = nullptr;
  DecodeWorker* w_ = nullptr;  // valid during feed()/finish() only
  DecodeSink* sink_ = nullptr;
  Body* data_body_ = nullptr;  // body of the DATA frame being read (nullptr: not decoded)
  uint64_t reported_ = 0;      // anomalies reported on this direction (bit per HttpAnomaly)
  uint32_t highest_ = 0;       // client: highest stream opened; server: highest promised
  uint32_t resets_ = 0;        // peer_reset() calls not yet handled
  bool client_ = false;
  bool started_ = false;
  bool dead_ = false;  // header state lost / not HTTP/2: nothing more is decoded
};

class H2FlowDecoder {
 public:
  static constexpr std::size_t kMaxStreams = H2Direction::kMaxStreams;

  H2FlowDecoder() noexcept { reset(); }
  H2FlowDecoder(const H2FlowDecoder&) = delete;
  H2FlowDecoder& operator=(const H2FlowDecoder&) = delete;
  ~H2FlowDecoder() { release(); }

  // The connection is HTTP/2 (ALPN "h2" after the TLS handshake, or sniff_h2c() said kH2):
  // creates both HPACK inflaters now, off the per-record path. false: no arena memory (the first
  // feed() then reports kDecoderMemory). Optional: feed() starts a direction that was not.
  bool start_h2(DecodeWorker& w) noexcept { return client_.start(w) && server_.start(w); }
  // Next in-order (decrypted) bytes sent by `from`. Cost: O(bytes) framing, HPACK, decoders.
  void feed(FlowSide from, std::span<const uint8_t> bytes, DecodeWorker& w,
            DecodeSink& sink) noexcept {
    dir(from).feed(bytes, w, sink);
  }
  // `from` closed: open bodies of that direction end; a partial frame is kTruncatedMessage.
  void finish(FlowSide from, DecodeWorker& w, DecodeSink& sink) noexcept {
    dir(from).finish(w, sink);
  }
  // Returns all arena memory (bodies and inflaters). Reusable after reset().
  void release() noexcept {
    client_.release();
    server_.release();
  }
  void reset() noexcept;

  // Requests whose header block ended, and the first one (empty before), for the audit record.
  uint32_t requests() const noexcept { return requests_; }
  const H2RequestRecord& first_request() const noexcept { return first_; }
  const H2Direction& side(FlowSide s) const noexcept {
    return s == FlowSide::kClient ? client_ : server_;
  }

 private:
  friend class H2Direction;
  H2Direction& dir(FlowSide s) noexcept { return s == FlowSide::kClient ? client_ : server_; }
  void record(const H2RequestRecord& r) noexcept {
    if (requests_++ == 0) first_ = r;
  }
  H2Direction client_;
  H2Direction server_;
  H2RequestRecord first_;
  uint32_t requests_ = 0;
};

}  // namespace dc::inspect::decoding
