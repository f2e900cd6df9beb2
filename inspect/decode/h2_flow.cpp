// HTTP/2 connection decoding (h2_flow.hpp): per-direction frame handling, stream states, body
// slots and their BodyDecoders, resets, and the h2c preface sniff. Header fields: h2_headers.cpp.
#include "inspect/decode/h2_flow.hpp"

#include <algorithm>
#include <cstring>

namespace dc::inspect::decoding {

H2Sniff sniff_h2c(std::span<const uint8_t> client_start) noexcept {
  const std::size_t n = std::min(client_start.size(), kH2PrefaceLen);
  if (std::memcmp(client_start.data(), kH2Preface, n) != 0) return H2Sniff::kNotH2;
  return n < kH2PrefaceLen ? H2Sniff::kNeedMore : H2Sniff::kH2;
}

void H2FlowDecoder::reset() noexcept {
  release();
  client_.init(this, &server_, true);
  server_.init(this, &client_, false);
  first_ = H2RequestRecord{};
  requests_ = 0;
}

void H2Direction::init(H2FlowDecoder* conn, H2Direction* peer, bool client) noexcept {
  release();
  conn_ = conn;
  peer_ = peer;
  client_ = client;
  parser_.begin(client);
  block_ = Block{};
  output_ = DirOutput{};
  data_body_ = nullptr;
  reported_ = 0;
  highest_ = 0;
  resets_ = 0;
  started_ = false;
  dead_ = false;
}

bool H2Direction::start(DecodeWorker& w) noexcept {
  if (!started_) {
    started_ = true;
    (void)hpack_.start(w.arena(), std::min(kHpackMemory, w.limits().decoder_memory));
  }
  return hpack_.active();
}

void H2Direction::release() noexcept {
  for (Body& b : bodies_) {
    b.decoder.release();
    b.stream = 0;
    b.reset = false;
  }
  data_body_ = nullptr;
  hpack_.release();
}

std::size_t H2Direction::open_bodies() const noexcept {
  return static_cast<std::size_t>(std::count_if(std::begin(bodies_), std::end(bodies_),
                                                [](const Body& b) { return b.stream; }));
}

void H2Direction::feed(std::span<const uint8_t> bytes, DecodeWorker& w, DecodeSink& sink) noexcept {
  w_ = &w;
  sink_ = &sink;
  if (resets_ > 0) pending_resets();
  if (dead_ || bytes.empty()) return;
  if (!start(w)) return uninspectable(DecodeCondition::kDecoderMemory);
  parser_.feed(bytes, *this);
  if (parser_.dead()) uninspectable(DecodeCondition::kH2Uninspectable);
}

void H2Direction::finish(DecodeWorker& w, DecodeSink& sink) noexcept {
  w_ = &w;
  sink_ = &sink;
  if (resets_ > 0) pending_resets();
  if (!dead_ && parser_.mid_frame()) on_anomaly(HttpAnomaly::kTruncatedMessage);
  for (Body& b : bodies_) {
    if (b.stream != 0) end_body(b, false);
  }
}

void H2Direction::uninspectable(DecodeCondition c) noexcept {
  if (dead_) return;
  dead_ = true;
  block_.active = false;
  sink_->on_condition(c, Path{}.child(LayerKind::kH2Connection));
  for (Body& b : bodies_) {  // what was decoded so far is judged
    if (b.stream != 0) end_body(b, false);
  }
}

void H2Direction::on_anomaly(HttpAnomaly a) noexcept {
  // Once the direction is uninspectable nothing more is judged: the frame parser may still walk
  // the rest of the bytes it was given, but later feeds are not parsed at all, and the events
  // must not depend on how the stream was cut.
  if (dead_) return;
  const uint64_t bit = uint64_t{1} << static_cast<unsigned>(a);
  if (reported_ & bit) return;  // once per direction
  reported_ |= bit;
  sink_->on_anomaly(a);
}

// §5.1: a stream this direction may not use yet. Client: a stream it has not opened (client
// streams are odd). Server: a client stream not opened yet, or an even stream not promised.
bool H2Direction::idle(uint32_t stream) const noexcept {
  if (client_) return (stream & 1) == 0 || stream > highest_;
  return (stream & 1) ? stream > peer_->highest_ : stream > highest_;
}

H2Direction::Body* H2Direction::body_of(uint32_t stream) noexcept {
  for (Body& b : bodies_) {
    if (b.stream == stream && stream != 0) return &b;
  }
  return nullptr;
}

void H2Direction::on_frame(const H2FrameHeader& h) noexcept {
  if (dead_) return;
  switch (h.kind()) {
    case H2FrameType::kHeaders:
      return headers_frame(h);
    case H2FrameType::kData:
      return data_frame(h);
    case H2FrameType::kPushPromise:
      if (client_) on_anomaly(HttpAnomaly::kH2InvalidFrame);  // §8.4: only servers push
      return;
    default:
      return;
  }
}

void H2Direction::headers_frame(const H2FrameHeader& h) noexcept {
  const uint32_t s = h.stream;
  const bool end = h.has(h2flag::kEndStream);
  if (!client_) {  // a response (or its trailers) on a client stream, or a pushed stream
    if (idle(s)) on_anomaly(HttpAnomaly::kH2StreamState);
    return begin_block(s, false, body_of(s) != nullptr, end);
  }
  if ((s & 1) == 0) on_anomaly(HttpAnomaly::kH2BadStreamId);  // §5.1.1: clients use odd ids
  if (body_of(s) != nullptr) return begin_block(s, true, true, end);  // trailers
  if (s > highest_) {
    highest_ = s;
    return begin_block(s, true, false, end);
  }
  // An id not above the last one: trailers of a stream whose body is not tracked here, or a
  // reused id (§5.1.1: PROTOCOL_ERROR), read as a new request by a lenient receiver.
  if (!end) on_anomaly(HttpAnomaly::kH2BadStreamId);
  begin_block(s, true, end, end);
}

void H2Direction::begin_block(uint32_t stream, bool request, bool trailers,
                              bool end_stream) noexcept {
  block_ = Block{};
  block_.active = true;
  block_.stream = stream;
  block_.request = request;
  block_.trailers = trailers;
  block_.end_stream = end_stream;
  block_.rec.stream = stream;
}

void H2Direction::on_push_promise(const H2FrameHeader& h, uint32_t promised) noexcept {
  if (dead_) return;
  // §6.6: the promised id is a new even stream, larger than every one before.
  if ((promised & 1) != 0 || promised <= highest_) {
    on_anomaly(HttpAnomaly::kH2BadStreamId);
  } else if (!client_) {
    highest_ = promised;
  }
  begin_block(promised, true, false, false);
  block_.push = true;
}

void H2Direction::on_header_fragment(const H2FrameHeader& h, std::span<const uint8_t> b) noexcept {
  if (dead_ || !block_.active || b.empty()) return;
  inflate(b, false);
}

void H2Direction::inflate(std::span<const uint8_t> b, bool final) noexcept {
  switch (hpack_.feed(b, final, FieldOut{this, field_hop})) {
    case HpackInflater::Status::kOk:
      return;
    case HpackInflater::Status::kError:
      on_anomaly(HttpAnomaly::kH2CompressionError);
      return uninspectable(DecodeCondition::kH2Uninspectable);
    case HpackInflater::Status::kNoMemory:
      return uninspectable(DecodeCondition::kDecoderMemory);
  }
}

void H2Direction::on_header_block_broken() noexcept {
  uninspectable(DecodeCondition::kH2Uninspectable);
}

void H2Direction::data_frame(const H2FrameHeader& h) noexcept {
  data_body_ = body_of(h.stream);
  // DATA on a closed stream is discarded by the receiver (§5.1, STREAM_CLOSED): not decoded.
  if (data_body_ == nullptr && idle(h.stream)) on_anomaly(HttpAnomaly::kH2StreamState);
}

void H2Direction::on_data(const H2FrameHeader& h, std::span<const uint8_t> b) noexcept {
  if (dead_ || data_body_ == nullptr) return;
  Body& body = *data_body_;
  body.data += b.size();
  if (body.has_cl && body.data > body.content_length && !body.cl_reported) {
    body.cl_reported = true;
    on_anomaly(HttpAnomaly::kH2ContentLengthMismatch);
  }
  body.decoder.feed(b, *w_, *sink_);
}

void H2Direction::on_frame_end(const H2FrameHeader& h) noexcept {
  if (dead_) return;
  switch (h.kind()) {
    case H2FrameType::kData:
      if (data_body_ != nullptr && h.has(h2flag::kEndStream)) end_body(*data_body_, true);
      data_body_ = nullptr;
      return;
    case H2FrameType::kHeaders:
    case H2FrameType::kPushPromise:
    case H2FrameType::kContinuation:
      if (!h.has(h2flag::kEndHeaders) || !block_.active) return;
      inflate({}, true);
      if (!dead_) block_end();
      return;
    default:
      return;
  }
}

void H2Direction::on_settings(uint16_t id, uint32_t value) noexcept {
  // §6.5.2: SETTINGS_MAX_FRAME_SIZE is the largest frame the sender accepts: the peer's limit.
  if (id == 5) peer_->set_max_frame(value);
}

void H2Direction::on_rst_stream(const H2FrameHeader& h, uint32_t code) noexcept {
  if (dead_) return;
  // §6.4: RST_STREAM on an idle stream (opened by neither side: odd ids are the client's,
  // even ids the server's promises).
  const H2Direction& c = client_ ? *this : *peer_;
  const H2Direction& s = client_ ? *peer_ : *this;
  if (h.stream > ((h.stream & 1) ? c.highest_ : s.highest_)) {
    on_anomaly(HttpAnomaly::kH2StreamState);
  }
  if (Body* b = body_of(h.stream)) end_body(*b, false);
  peer_->peer_reset(h.stream);
}

void H2Direction::peer_reset(uint32_t stream) noexcept {
  if (Body* b = body_of(stream)) {
    b->reset = true;
    ++resets_;
  }
}

void H2Direction::pending_resets() noexcept {
  resets_ = 0;
  for (Body& b : bodies_) {
    if (b.stream != 0 && b.reset) end_body(b, false);
  }
}

// The body of `b` ends: complete (END_STREAM) or cut (reset, close, lost state). What was
// decoded so far is flushed and its streams end, so the detectors judge it.
void H2Direction::end_body(Body& b, bool complete) noexcept {
  if (complete && b.has_cl && b.data != b.content_length && !b.cl_reported) {
    b.cl_reported = true;
    on_anomaly(HttpAnomaly::kH2ContentLengthMismatch);
  }
  b.decoder.finish(*w_, *sink_);
  b.stream = 0;
  b.reset = false;
  if (data_body_ == &b) data_body_ = nullptr;
}

void H2Direction::open_body() noexcept {
  const LayerKind root = client_ ? LayerKind::kH2RequestBody : LayerKind::kH2ResponseBody;
  Body* slot = nullptr;
  for (Body& b : bodies_) {
    if (b.stream == 0) {
      slot = &b;
      break;
    }
  }
  if (slot == nullptr) {
    sink_->on_condition(DecodeCondition::kH2TooManyStreams, Path{}.child(root, block_.stream));
    return;
  }
  BodySpec spec = block_.spec;
  spec.root = root;
  spec.root_index_lo = static_cast<uint16_t>(block_.stream);
  spec.root_index_hi = static_cast<uint16_t>(block_.stream >> 16);
  spec.lane = static_cast<uint8_t>(slot - bodies_ + 1);
  spec.chunked = true;  // DATA frames are not the raw bytes: the body stream is emitted
  // content-encoding lists codings in the order applied: undone right to left.
  for (int i = block_.n_codings - 1; i >= 0; --i)
    spec.codings[spec.n_codings++] = block_.codings[i];
  spec.too_many_codings = block_.too_many;
  for (uint8_t i = 0; i < spec.n_codings; ++i) {
    if (spec.codings[i] == Coding::kUnknown) {
      spec.unknown_coding = true;
      spec.n_codings = i;  // layers after an unknown one cannot be decoded
      break;
    }
  }
  slot->stream = block_.stream;
  slot->has_cl = block_.has_cl;
  slot->content_length = block_.content_length;
  slot->data = 0;
  slot->cl_reported = slot->reset = false;
  slot->decoder.begin(spec, *w_, *sink_, output_);
}

}  // namespace dc::inspect::decoding
