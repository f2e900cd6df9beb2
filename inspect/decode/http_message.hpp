#pragma once
// Streaming HTTP/1.x message framing for one direction of a flow (RFC 9112): start line, header
// section, body length (§6.3), chunked coding with extensions and trailers (§7.1), pipelined and
// keep-alive messages, interim 1xx responses, HEAD/204/304 without a body, CONNECT/101 tunnels.
// Bodies go to a BodyDecoder; request targets are percent-decoded. Ambiguous framing is reported
// as an HttpAnomaly and the message is read the way RFC 9112 tells a recipient to (Transfer-
// Encoding over Content-Length; after a fatal framing error the rest of the stream is body).
// Written here rather than taken from a library: the Debian HTTP parsers (llhttp, picohttpparser)
// either buffer whole heads or stop at the first anomaly instead of naming it and going on.
#include <cstddef>
#include <cstdint>
#include <span>

#include "inspect/decode/body.hpp"
#include "inspect/decode/events.hpp"
#include "inspect/decode/text.hpp"
#include "inspect/decode/worker.hpp"
#include "inspect/protocol/http.hpp"

namespace dc::inspect::decoding {

// Requests whose responses have not been read yet, shared by the two directions of a flow: a
// response is framed according to its request's method (RFC 9112 §6.3 items 1-2).
class PendingRequests {
 public:
  static constexpr std::size_t kCap = 32;
  static constexpr uint8_t kHead = 1, kConnect = 2;
  void push(uint8_t kind) noexcept {
    if (count_ == kCap) {
      ++overflow_;  // answered as ordinary requests once their entries are gone
      return;
    }
    kinds_[(first_ + count_++) % kCap] = kind;
  }
  // -1 when no request is pending.
  int pop() noexcept {
    if (count_ == 0) {
      if (overflow_ == 0) return -1;
      --overflow_;
      return 0;
    }
    const uint8_t k = kinds_[first_];
    first_ = static_cast<uint8_t>((first_ + 1) % kCap);
    --count_;
    return k;
  }
  bool tunnel = false;  // a 2xx to CONNECT or a 101 was seen: both directions stop parsing

 private:
  uint8_t kinds_[kCap]{};
  uint8_t first_ = 0, count_ = 0;
  uint32_t overflow_ = 0;
};

enum class MessageState : uint8_t {
  kParsing,  // HTTP/1.x, framing followed
  kNotHttp,  // the stream did not start as HTTP/1.x: nothing decoded (raw scanning only)
  kTunnel,   // after CONNECT 2xx / 101: opaque to this layer
  kDead,     // unrecoverable framing (reported): no more decoding on this direction
};

class MessageDecoder {
 public:
  static constexpr std::size_t kMaxHead = 65536;  // header section bytes per message
  static constexpr std::size_t kMaxLine = 320;    // stored bytes of one field line

  MessageDecoder() = default;
  MessageDecoder(const MessageDecoder&) = delete;
  MessageDecoder& operator=(const MessageDecoder&) = delete;

  void init(bool request) noexcept;
  void feed(std::span<const uint8_t> bytes, PendingRequests& pending, DecodeWorker& w,
            DecodeSink& sink) noexcept;
  // End of this direction's stream (FIN or flow end): a body delimited by close ends here.
  void finish(PendingRequests& pending, DecodeWorker& w, DecodeSink& sink) noexcept;
  void release() noexcept { body_.release(); }
  MessageState state() const noexcept { return state_; }
  uint32_t messages() const noexcept { return messages_; }  // complete heads seen
  uint64_t decoded_output() const noexcept { return output_.total(); }

 private:
  enum class St : uint8_t {
    kStart,
    kMethod,
    kTarget,
    kVersion,
    kStatusLine,
    kLineLf,
    kField,
    kFieldLf,
    kHeadLf,
    kLength,
    kChunkSize,
    kChunkExt,
    kChunkLf,
    kChunkData,
    kChunkDataCr,
    kChunkDataLf,
    kTrailer,
    kTrailerLf,
    kUntilClose,
    kStop
  };
  struct Ctx;
  void step(uint8_t c, Ctx& x) noexcept;
  std::size_t body_run(const uint8_t* p, std::size_t n, Ctx& x) noexcept;
  void start_byte(uint8_t c, Ctx& x) noexcept;
  void request_line_byte(uint8_t c, Ctx& x) noexcept;
  void line_end(Ctx& x) noexcept;
  void field_byte(uint8_t c, Ctx& x) noexcept;
  void field_line_end(Ctx& x) noexcept;
  void process_field(Ctx& x) noexcept;
  void framing_field(const char* v, std::size_t n, bool is_te, Ctx& x) noexcept;
  void coding_list(const char* v, std::size_t n, bool is_te, Ctx& x) noexcept;
  void content_length(const char* v, std::size_t n, Ctx& x) noexcept;
  void head_end(Ctx& x) noexcept;
  bool response_framing(Ctx& x) noexcept;  // false: no body
  void start_body(Ctx& x) noexcept;
  void chunk_size_byte(uint8_t c, Ctx& x) noexcept;
  void message_end(Ctx& x) noexcept;
  void fatal_to_close(HttpAnomaly a, Ctx& x) noexcept;
  void anomaly(HttpAnomaly a, Ctx& x) noexcept;
  void bad_start(Ctx& x) noexcept;
  void target_out(std::span<const uint8_t> b, Ctx& x) noexcept;   // decoded target bytes
  void target_runs(std::span<const uint8_t> b, Ctx& x) noexcept;  // its base64-run search

  BodyDecoder body_;
  BodySpec spec_;
  PercentDecoder target_;
  Base64RunDecoder target_run_;
  char line_[kMaxLine]{};
  char content_type_[160]{};
  char host_[kMaxHttpHost]{};  // this request's Host (parse_http_authority), for on_request()
  uint8_t host_len_ = 0;
  uint8_t host_fields_ = 0;  // Host field lines in this request (saturating; 1 = usable)
  uint64_t remaining_ = 0;   // body or chunk bytes left
  uint64_t content_length_ = 0;
  DirOutput output_;  // decompressed bytes of this direction (DecodeLimits::max_output)
  uint32_t head_bytes_ = 0;
  uint32_t reported_ = 0;  // anomalies reported for the current message (bit per anomaly)
  uint32_t messages_ = 0;
  uint16_t line_len_ = 0;
  uint32_t line_total_ = 0;  // bytes of the current field line (line_ keeps kMaxLine)
  uint16_t fold_len_ = 0;    // stored bytes of the pending field line
  uint32_t fold_total_ = 0;
  Coding te_codings_[kMaxCodings]{}, ce_codings_[kMaxCodings]{};
  uint8_t n_te_ = 0, n_ce_ = 0;
  uint16_t chunk_line_ = 0;
  bool ext_started_ = false;
  uint16_t status_ = 0;
  uint8_t content_type_len_ = 0;
  uint8_t chunk_digits_ = 0;
  uint8_t method_kind_ = 0;  // PendingRequests kinds of this request / of the answered one
  uint8_t version_minor_ = 1;
  St st_ = St::kStart;
  MessageState state_ = MessageState::kParsing;
  bool request_ = true;
  bool pending_field_ = false;  // a field line ended; a following SP/HT would fold it
  bool skip_line_ = false;      // the current line is ignored (whitespace before first field)
  bool any_field_ = false;
  bool in_message_ = false;  // bytes of a message (after leading CRLFs) have been seen
  bool has_cl_ = false, has_te_ = false, cl_bad_ = false;
  bool te_chunked_last_ = false, saw_chunked_ = false, cl_seen_value_ = false;
  bool in_line_ = false;            // inside a field line
  bool upgrade_ = false;            // this request asked for Upgrade
  bool upgrade_requested_ = false;  // some request of the flow did (request direction)
  bool trailer_ = false;            // field lines are trailer fields
  // The request target so far is its own decoded form (no '%' or '+' yet): its bytes are held in
  // line_ instead of handed on (the raw stream holds them unchanged; request_line_byte()).
  bool target_same_ = false;
};

}  // namespace dc::inspect::decoding
