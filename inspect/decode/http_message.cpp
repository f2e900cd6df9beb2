// HTTP/1.x message framing for one flow direction (http_message.hpp): start lines, body
// length, chunked coding, anomalies. Field lines and the framing fields: http_fields.cpp.
#include "inspect/decode/http_message.hpp"

#include <algorithm>
#include <cstring>

#include "inspect/decode/text_util.hpp"

namespace dc::inspect::decoding {

struct MessageDecoder::Ctx {
  PendingRequests& pending;
  DecodeWorker& w;
  DecodeSink& sink;
};

namespace {

constexpr uint64_t kMaxChunk = uint64_t{1} << 40;  // 1 TiB: 10 significant hex digits

}  // namespace

void MessageDecoder::init(bool request) noexcept {
  body_.release();
  request_ = request;
  st_ = St::kStart;
  state_ = MessageState::kParsing;
  messages_ = 0;
  output_ = DirOutput{};
  in_message_ = false;
  reported_ = 0;
}

void MessageDecoder::anomaly(HttpAnomaly a, Ctx& x) noexcept {
  const uint32_t bit = 1u << static_cast<unsigned>(a);
  if (reported_ & bit) return;
  reported_ |= bit;
  x.sink.on_anomaly(a);
}

void MessageDecoder::feed(std::span<const uint8_t> bytes, PendingRequests& pending, DecodeWorker& w,
                          DecodeSink& sink) noexcept {
  Ctx x{pending, w, sink};
  std::size_t i = 0;
  while (i < bytes.size() && state_ == MessageState::kParsing) {
    if (st_ == St::kLength || st_ == St::kChunkData || st_ == St::kUntilClose) {
      i += body_run(bytes.data() + i, bytes.size() - i, x);
      continue;
    }
    step(bytes[i++], x);
  }
}

// Body bytes delimited by a length, a chunk or the end of the stream: handed over in one piece.
std::size_t MessageDecoder::body_run(const uint8_t* p, std::size_t n, Ctx& x) noexcept {
  std::size_t take = n;
  if (st_ != St::kUntilClose) take = static_cast<std::size_t>(std::min<uint64_t>(n, remaining_));
  body_.feed({p, take}, x.w, x.sink);
  if (st_ == St::kUntilClose) return take;
  remaining_ -= take;
  if (remaining_ == 0) {
    if (st_ == St::kLength) {
      message_end(x);
    } else {
      st_ = St::kChunkDataCr;
    }
  }
  return take;
}

void MessageDecoder::step(uint8_t c, Ctx& x) noexcept {
  switch (st_) {
    case St::kStart:
      return start_byte(c, x);
    case St::kMethod:
    case St::kTarget:
    case St::kVersion:
      return request_line_byte(c, x);
    case St::kStatusLine:
      if (++head_bytes_ > kMaxHead) {
        anomaly(HttpAnomaly::kHeadTooLarge, x);
        state_ = MessageState::kDead;
        return;
      }
      if (c == '\r' || c == '\n') break;
      if (line_len_ < kMaxLine) line_[line_len_++] = static_cast<char>(c);
      return;
    case St::kLineLf:
      if (c != '\n') return bad_start(x);
      return line_end(x);
    case St::kField:
    case St::kTrailer:
      return field_byte(c, x);
    case St::kFieldLf:
    case St::kTrailerLf:
      if (c == '\n') return field_line_end(x);
      anomaly(HttpAnomaly::kInvalidFieldValue, x);  // bare CR (RFC 9112 §2.2): read as SP
      st_ = st_ == St::kFieldLf ? St::kField : St::kTrailer;
      if (line_len_ < kMaxLine) line_[line_len_++] = ' ';
      return field_byte(c, x);
    case St::kHeadLf:
      if (c != '\n')
        anomaly(trailer_ ? HttpAnomaly::kInvalidTrailer : HttpAnomaly::kInvalidHeaderLine, x);
      if (trailer_) return message_end(x);
      return head_end(x);
    case St::kChunkSize:
    case St::kChunkExt:
    case St::kChunkLf:
      return chunk_size_byte(c, x);
    case St::kChunkDataCr:
      if (c == '\r') {
        st_ = St::kChunkDataLf;
      } else if (c == '\n') {
        anomaly(HttpAnomaly::kBareLf, x);
        st_ = St::kChunkSize, chunk_digits_ = 0, chunk_line_ = 0, remaining_ = 0;
      } else {
        fatal_to_close(HttpAnomaly::kMissingChunkCrlf, x);
        body_.feed({&c, 1}, x.w, x.sink);
      }
      return;
    case St::kChunkDataLf:
      if (c != '\n') {
        fatal_to_close(HttpAnomaly::kMissingChunkCrlf, x);
        body_.feed({&c, 1}, x.w, x.sink);
        return;
      }
      st_ = St::kChunkSize, chunk_digits_ = 0, chunk_line_ = 0, remaining_ = 0;
      return;
    default:
      return;
  }
  // End of the status line (CR or LF).
  if (c == '\r') {
    st_ = St::kLineLf;
  } else {
    anomaly(HttpAnomaly::kBareLf, x);
    line_end(x);
  }
}

void MessageDecoder::bad_start(Ctx& x) noexcept {
  if (messages_ == 0) {
    state_ = MessageState::kNotHttp;  // not HTTP at all: raw scanning only, nothing to report
  } else if (x.pending.tunnel || upgrade_requested_) {
    state_ = MessageState::kTunnel;  // the upgraded protocol (RFC 9110 §7.8) or a tunnel
    x.sink.on_condition(
        DecodeCondition::kTunnel,
        Path{}.child(request_ ? LayerKind::kRequestBody : LayerKind::kResponseBody));
  } else {
    anomaly(HttpAnomaly::kBadStartLine, x);  // e.g. bytes after a final chunk
    state_ = MessageState::kDead;
  }
  st_ = St::kStop;
}

void MessageDecoder::start_byte(uint8_t c, Ctx& x) noexcept {
  if (c == '\r' || c == '\n') return;  // RFC 9112 §2.2: empty lines before a start line
  if (x.pending.tunnel && messages_ > 0) {
    state_ = MessageState::kTunnel;
    return;
  }
  reported_ = 0;
  in_message_ = true;
  line_len_ = 0;
  head_bytes_ = 0;
  spec_ = BodySpec{};
  content_type_len_ = 0;
  host_len_ = host_fields_ = 0;
  n_te_ = n_ce_ = 0;
  has_cl_ = has_te_ = cl_bad_ = te_chunked_last_ = saw_chunked_ = cl_seen_value_ = false;
  upgrade_ = trailer_ = any_field_ = pending_field_ = skip_line_ = in_line_ = false;
  content_length_ = 0;
  method_kind_ = 0;
  status_ = 0;
  if (!request_) {
    if (c != 'H') return bad_start(x);
    st_ = St::kStatusLine;
    line_[line_len_++] = static_cast<char>(c);
    return;
  }
  st_ = St::kMethod;
  request_line_byte(c, x);
}

void MessageDecoder::target_out(std::span<const uint8_t> b, Ctx& x) noexcept {
  static const Path kTarget = Path{}.child(LayerKind::kRequestTarget);
  x.sink.on_data(kTarget, b);
  target_runs(b, x);
}

void MessageDecoder::target_runs(std::span<const uint8_t> b, Ctx& x) noexcept {
  static const Path kRun = Path{}.child(LayerKind::kRequestTarget).child(LayerKind::kBase64Run);
  struct RunCtx {
    DecodeSink* sink;
  } rc{&x.sink};
  target_run_.feed(b, ByteOut{&rc, [](void* p, std::span<const uint8_t> d) noexcept {
                                static_cast<RunCtx*>(p)->sink->on_data(kRun, d);
                              }});
}

void MessageDecoder::request_line_byte(uint8_t c, Ctx& x) noexcept {
  if (++head_bytes_ > kMaxHead) {
    anomaly(HttpAnomaly::kHeadTooLarge, x);
    state_ = MessageState::kDead;
    return;
  }
  struct TargetCtx {
    MessageDecoder* self;
    Ctx* x;
  } tc{this, &x};
  const ByteOut to_target{&tc, [](void* p, std::span<const uint8_t> d) noexcept {
                            auto* t = static_cast<TargetCtx*>(p);
                            t->self->target_out(d, *t->x);
                          }};
  if (st_ == St::kMethod) {
    // Methods are upper-case tokens (RFC 9110 §9); anything else is not an HTTP request.
    if (c == ' ' && line_len_ > 0) {
      method_kind_ = text_detail::ascii_name_is(line_, line_len_, "head") ? PendingRequests::kHead
                     : text_detail::ascii_name_is(line_, line_len_, "connect")
                         ? PendingRequests::kConnect
                         : 0;
      st_ = St::kTarget;
      target_.begin(PercentDecoder::Mode::kTarget);
      target_run_.begin();
      line_len_ = 0;  // line_ holds the target while it is unchanged
      target_same_ = true;
      return;
    }
    if (!((c >= 'A' && c <= 'Z') || (line_len_ > 0 && (c == '-' || c == '_'))) || line_len_ >= 20) {
      return bad_start(x);
    }
    line_[line_len_++] = static_cast<char>(c);
  } else if (st_ == St::kTarget) {
    if (c == ' ') {
      // An unchanged target is not handed on: the raw stream has the same bytes in the same
      // order (its base64 runs were decoded as it went). A changed one was handed on whole.
      if (!target_same_) target_.finish(to_target);
      target_same_ = false;
      line_len_ = 0;
      st_ = St::kVersion;
      return;
    }
    if (c < 0x21 || c == 0x7f) return bad_start(x);  // no CTL or whitespace in a target
    if (target_same_) {
      if (c != '%' && c != '+' && line_len_ < kMaxLine) {
        // Only '%' and '+' change a target (PercentDecoder, kTarget mode): c is its own
        // decoded form. The decoder still sees it (the query starts at '?'), its output is
        // c again and not needed; the base64-run search reads it as before.
        target_.feed({&c, 1}, ByteOut{nullptr, [](void*, std::span<const uint8_t>) noexcept {}});
        line_[line_len_++] = static_cast<char>(c);
        target_runs({&c, 1}, x);
        return;
      }
      // The first change (or a target longer than line_): the decoded target starts with the
      // bytes held so far (their base64 runs were searched already) and goes on from here.
      target_same_ = false;
      if (line_len_ > 0)
        x.sink.on_data(Path{}.child(LayerKind::kRequestTarget),
                       {reinterpret_cast<const uint8_t*>(line_), line_len_});
    }
    target_.feed({&c, 1}, to_target);
  } else {
    if (c == '\r') {
      st_ = St::kLineLf;
      return;
    }
    if (c == '\n') {
      anomaly(HttpAnomaly::kBareLf, x);
      return line_end(x);
    }
    if (line_len_ >= 8) return bad_start(x);
    line_[line_len_++] = static_cast<char>(c);
  }
}

void MessageDecoder::line_end(Ctx& x) noexcept {
  const char* v = line_;
  const bool http1 =
      line_len_ >= 8 && std::memcmp(v, "HTTP/1.", 7) == 0 && v[7] >= '0' && v[7] <= '9';
  if (!http1) return bad_start(x);
  version_minor_ = static_cast<uint8_t>(v[7] - '0');
  if (!request_) {
    // status-line = HTTP-version SP 3DIGIT SP [reason-phrase] (RFC 9112 §4)
    if (line_len_ < 12 || v[8] != ' ' ||
        !std::all_of(v + 9, v + 12, [](char d) { return d >= '0' && d <= '9'; })) {
      return bad_start(x);
    }
    status_ = static_cast<uint16_t>((v[9] - '0') * 100 + (v[10] - '0') * 10 + (v[11] - '0'));
  } else {
    // The target ended: its decoded stream ends with it.
    static const Path kTarget = Path{}.child(LayerKind::kRequestTarget);
    struct RunCtx {
      DecodeSink* sink;
    } rc{&x.sink};
    target_run_.finish(
        ByteOut{&rc, [](void* p, std::span<const uint8_t> d) noexcept {
                  static const Path kRun =
                      Path{}.child(LayerKind::kRequestTarget).child(LayerKind::kBase64Run);
                  static_cast<RunCtx*>(p)->sink->on_data(kRun, d);
                }});
    x.sink.on_end(kTarget.child(LayerKind::kBase64Run));
    x.sink.on_end(kTarget);
  }
  line_len_ = 0;
  st_ = St::kField;
}

}  // namespace dc::inspect::decoding

namespace dc::inspect::decoding {

// ---- end of the header section: message body length (RFC 9112 §6.3) ---------------------------

void MessageDecoder::head_end(Ctx& x) noexcept {
  if (state_ != MessageState::kParsing) return;
  ++messages_;
  spec_.root = request_ ? LayerKind::kRequestBody : LayerKind::kResponseBody;
  bool body = false;
  if (request_) {
    // HTTP/1.x requests are reported as stream 0 with their Host (empty: none, several, bad).
    const std::span<const char> host(host_, host_fields_ == 1 ? host_len_ : 0u);
    x.sink.on_request(0, {}, host, {});
    upgrade_requested_ |= upgrade_ || method_kind_ == PendingRequests::kConnect;
    x.pending.push(method_kind_);
    body = has_te_ || (has_cl_ && (cl_bad_ || content_length_ > 0));  // §6.3 items 4-7
  } else {
    body = response_framing(x);
    if (state_ != MessageState::kParsing) return;
  }
  if (!body) return message_end(x);
  if (has_te_) {
    if (has_cl_) anomaly(HttpAnomaly::kContentLengthAndTransferEncoding, x);      // §6.3 item 3
    if (version_minor_ == 0) anomaly(HttpAnomaly::kTransferEncodingInHttp10, x);  // §6.1
    if (te_chunked_last_) {
      st_ = St::kChunkSize;
      spec_.chunked = true;
    } else {
      // §6.3 item 4: a request cannot be framed (400); a response runs until close.
      if (request_) anomaly(HttpAnomaly::kChunkedNotFinal, x);
      st_ = St::kUntilClose;
    }
  } else if (cl_bad_) {
    st_ = St::kUntilClose;  // §6.3 item 5: unrecoverable; the rest is inspected as body
  } else if (has_cl_) {
    if (content_length_ == 0) return message_end(x);  // e.g. a 200 with Content-Length: 0
    st_ = St::kLength;
    remaining_ = content_length_;
  } else {
    st_ = St::kUntilClose;  // a response without length (§6.3 item 8)
  }
  chunk_digits_ = 0;
  chunk_line_ = 0;
  ext_started_ = false;
  if (st_ == St::kChunkSize) remaining_ = 0;
  start_body(x);
}

bool MessageDecoder::response_framing(Ctx& x) noexcept {
  const bool framing = has_te_ || (has_cl_ && content_length_ > 0);
  if (status_ >= 100 && status_ < 200) {
    if (framing) anomaly(HttpAnomaly::kFramingOnBodylessResponse, x);
    if (status_ == 101) {  // Switching Protocols: the connection is no longer HTTP/1.x
      (void)x.pending.pop();
      x.pending.tunnel = true;
      state_ = MessageState::kTunnel;
      x.sink.on_condition(DecodeCondition::kTunnel, Path{}.child(LayerKind::kResponseBody));
      return false;
    }
    return false;  // interim (100-continue etc.): the final response follows
  }
  int kind = x.pending.pop();
  if (kind < 0) {
    anomaly(HttpAnomaly::kResponseWithoutRequest, x);
    kind = 0;
  }
  if ((kind & PendingRequests::kConnect) && status_ >= 200 && status_ < 300) {
    x.pending.tunnel = true;  // §6.3 item 2
    state_ = MessageState::kTunnel;
    x.sink.on_condition(DecodeCondition::kTunnel, Path{}.child(LayerKind::kResponseBody));
    return false;
  }
  if (status_ == 204) {
    if (framing) anomaly(HttpAnomaly::kFramingOnBodylessResponse, x);
    return false;
  }
  if (status_ == 304 || (kind & PendingRequests::kHead)) return false;  // §6.3 item 1
  return true;
}

void MessageDecoder::start_body(Ctx& x) noexcept {
  // Undo transfer codings (right to left), then content codings (right to left).
  for (int i = n_te_ - 1; i >= 0; --i) {
    if (spec_.n_codings < kMaxCodings) spec_.codings[spec_.n_codings++] = te_codings_[i];
  }
  for (int i = n_ce_ - 1; i >= 0; --i) {
    if (spec_.n_codings < kMaxCodings) {
      spec_.codings[spec_.n_codings++] = ce_codings_[i];
    } else {
      spec_.too_many_codings = true;
    }
  }
  for (uint8_t i = 0; i < spec_.n_codings; ++i) {
    if (spec_.codings[i] == Coding::kUnknown) {
      spec_.unknown_coding = true;
      spec_.n_codings = i;  // layers after an unknown one cannot be decoded
      break;
    }
  }
  content_from_type(content_type_, content_type_len_, spec_);
  body_.begin(spec_, x.w, x.sink, output_);
}

// ---- chunked coding (RFC 9112 §7.1)
// --------------------------------------------------------------

void MessageDecoder::fatal_to_close(HttpAnomaly a, Ctx& x) noexcept {
  anomaly(a, x);
  st_ = St::kUntilClose;  // as Snort does: no more framing; the rest is inspected as body
}

void MessageDecoder::chunk_size_byte(uint8_t c, Ctx& x) noexcept {
  if (++chunk_line_ > 4096) return fatal_to_close(HttpAnomaly::kInvalidChunkLine, x);
  bool line_done = false;
  if (st_ == St::kChunkSize) {
    const int h = text_detail::hex_value(c);
    if (h >= 0) {
      remaining_ = remaining_ * 16 + static_cast<uint64_t>(h);
      if (remaining_ > kMaxChunk) return fatal_to_close(HttpAnomaly::kInvalidChunkSize, x);
      ++chunk_digits_;
      return;
    }
    if (chunk_digits_ == 0) return fatal_to_close(HttpAnomaly::kInvalidChunkSize, x);
    if (c == ';' || c == ' ' || c == '\t') {
      ext_started_ = c == ';';
      st_ = St::kChunkExt;
      return;
    }
    if (c == '\r') {
      st_ = St::kChunkLf;
      return;
    }
    if (c != '\n') return fatal_to_close(HttpAnomaly::kInvalidChunkSize, x);
    anomaly(HttpAnomaly::kBareLf, x);
    line_done = true;
  } else if (st_ == St::kChunkExt) {
    if (c == '\r') {
      st_ = St::kChunkLf;
      return;
    }
    if (c == '\n') {
      anomaly(HttpAnomaly::kBareLf, x);
      line_done = true;
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return fatal_to_close(HttpAnomaly::kInvalidChunkLine, x);
    } else if (!ext_started_) {
      // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ): only BWS before ';'.
      if (c == ';') {
        ext_started_ = true;
      } else if (c != ' ' && c != '\t') {
        anomaly(HttpAnomaly::kInvalidChunkLine, x);
        ext_started_ = true;
      }
    }
    if (!line_done) return;
  } else {  // kChunkLf
    if (c != '\n') return fatal_to_close(HttpAnomaly::kInvalidChunkLine, x);
    line_done = true;
  }
  if (remaining_ == 0) {  // last-chunk: trailer section follows
    trailer_ = true;
    st_ = St::kTrailer;
    in_line_ = pending_field_ = skip_line_ = false;
    return;
  }
  st_ = St::kChunkData;
}

void MessageDecoder::message_end(Ctx& x) noexcept {
  if (pending_field_) {
    pending_field_ = false;
    process_field(x);
  }
  body_.finish(x.w, x.sink);
  st_ = St::kStart;
  in_message_ = false;
  trailer_ = false;
}

void MessageDecoder::finish(PendingRequests& pending, DecodeWorker& w, DecodeSink& sink) noexcept {
  Ctx x{pending, w, sink};
  if (state_ == MessageState::kParsing && in_message_) {
    if (st_ != St::kUntilClose) anomaly(HttpAnomaly::kTruncatedMessage, x);
    body_.finish(w, sink);
  }
  body_.release();
  st_ = St::kStart;
  in_message_ = false;
}

}  // namespace dc::inspect::decoding
