// HTTP/2 frame parsing for one connection direction (h2_frame.hpp): preface, frame headers,
// padding, fixed fields, header block continuity, framing anomalies.
#include "inspect/decode/h2_frame.hpp"

#include <algorithm>

namespace dc::inspect::decoding {

namespace {

uint32_t be32(const uint8_t* p) noexcept {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

bool carries_block(H2FrameType t) noexcept {
  return t == H2FrameType::kHeaders || t == H2FrameType::kPushPromise ||
         t == H2FrameType::kContinuation;
}

bool can_pad(H2FrameType t) noexcept {
  return t == H2FrameType::kData || t == H2FrameType::kHeaders || t == H2FrameType::kPushPromise;
}

// Fixed bytes between the pad length and the content: priority (HEADERS) or promised id.
uint32_t fixed_prefix(const H2FrameHeader& h) noexcept {
  if (h.kind() == H2FrameType::kHeaders && h.has(h2flag::kPriority)) return 5;
  if (h.kind() == H2FrameType::kPushPromise) return 4;
  return 0;
}

enum Part : uint8_t { kPartPad = 0, kPartFixed = 1, kPartContent = 2, kPartTail = 3 };

}  // namespace

void H2FrameParser::begin(bool client) noexcept {
  *this = H2FrameParser{};
  client_ = client;
  st_ = client ? St::kPreface : St::kHeader;
}

void H2FrameParser::feed(std::span<const uint8_t> bytes, H2FrameHandler& h) noexcept {
  const uint8_t* p = bytes.data();
  std::size_t i = 0;
  const std::size_t n = bytes.size();
  while (i < n) {
    switch (st_) {
      case St::kDead:
        return;
      case St::kPreface:
        if (p[i++] != static_cast<uint8_t>(kH2Preface[preface_len_])) {
          h.on_anomaly(HttpAnomaly::kH2BadPreface);
          st_ = St::kDead;
          return;
        }
        if (++preface_len_ == kH2PrefaceLen) st_ = St::kHeader;
        break;
      case St::kHeader:
        header_[header_len_++] = p[i++];
        if (header_len_ == sizeof header_) header_done(h);
        break;
      case St::kPadLength:
        --remaining_;
        after_pad_length(p[i++], h);
        break;
      case St::kFixed:
        --remaining_;
        fixed_[fixed_len_++] = p[i++];
        if (fixed_len_ == fixed_need_) fixed_done(h);
        break;
      case St::kContent:
        i += content(p + i, n - i, h);
        break;
      case St::kSkip: {
        const auto take = static_cast<uint32_t>(std::min<std::size_t>(remaining_, n - i));
        remaining_ -= take;
        i += take;
        if (remaining_ == 0) frame_end(h);
        break;
      }
    }
  }
}

void H2FrameParser::header_done(H2FrameHandler& h) noexcept {
  header_len_ = 0;
  ++frames_;
  cur_.length = uint32_t{header_[0]} << 16 | uint32_t{header_[1]} << 8 | header_[2];
  cur_.type = header_[3];
  cur_.flags = header_[4];
  cur_.stream = be32(header_ + 5) & 0x7fffffffu;
  remaining_ = cur_.length;
  pad_ = 0;
  part_ = kPartPad;
  on_frame_sent_ = false;
  if (first_frame_) {
    first_frame_ = false;  // §3.4: each side's preface ends with (or is) a SETTINGS frame
    if (cur_.kind() != H2FrameType::kSettings) h.on_anomaly(HttpAnomaly::kH2BadPreface);
  }
  // §4.2: a receiver MUST send FRAME_SIZE_ERROR; a lenient one may read the frame, so it is
  // still parsed (its length field is all the parser needs).
  if (cur_.length > max_frame_) h.on_anomaly(HttpAnomaly::kH2FrameTooLarge);
  const H2FrameType t = cur_.kind();
  bool skip = false;
  if (block_stream_ != 0) {  // §6.10: only CONTINUATION of the same stream may follow
    if (t != H2FrameType::kContinuation || cur_.stream != block_stream_) {
      h.on_anomaly(HttpAnomaly::kH2ContinuationOutOfPlace);
      block_stream_ = 0;
      h.on_header_block_broken();
      skip = t == H2FrameType::kContinuation;
    }
  } else if (t == H2FrameType::kContinuation) {
    h.on_anomaly(HttpAnomaly::kH2ContinuationOutOfPlace);
    skip = true;
  }
  if (!skip && (!check_stream(h) || !check_length(h))) {
    skip = true;
    if (carries_block(t)) h.on_header_block_broken();  // the encoder's table changed unseen
  }
  if (skip) {
    st_ = St::kSkip;
    if (remaining_ == 0) frame_end(h);
    return;
  }
  start_payload(h);
}

// Stream identifier rules of §6 per frame type (stream-state rules are the flow's).
bool H2FrameParser::check_stream(H2FrameHandler& h) noexcept {
  bool ok = true;
  switch (cur_.kind()) {
    case H2FrameType::kData:
    case H2FrameType::kHeaders:
    case H2FrameType::kPriority:
    case H2FrameType::kRstStream:
    case H2FrameType::kPushPromise:
    case H2FrameType::kContinuation:
      ok = cur_.stream != 0;
      break;
    case H2FrameType::kSettings:
    case H2FrameType::kPing:
    case H2FrameType::kGoaway:
      ok = cur_.stream == 0;
      break;
    default:
      break;
  }
  if (!ok) h.on_anomaly(HttpAnomaly::kH2BadStreamId);
  return ok;
}

bool H2FrameParser::check_length(H2FrameHandler& h) noexcept {
  const uint32_t n = cur_.length;
  bool ok = true;
  switch (cur_.kind()) {
    case H2FrameType::kPriority:
      ok = n == 5;
      break;
    case H2FrameType::kRstStream:
    case H2FrameType::kWindowUpdate:
      ok = n == 4;
      break;
    case H2FrameType::kPing:
      ok = n == 8;
      break;
    case H2FrameType::kSettings:
      ok = cur_.has(h2flag::kAck) ? n == 0 : n % 6 == 0;
      break;
    case H2FrameType::kGoaway:
      ok = n >= 8;
      break;
    case H2FrameType::kHeaders:
    case H2FrameType::kPushPromise:
      ok = n >= (cur_.has(h2flag::kPadded) ? 1u : 0u) + fixed_prefix(cur_);
      break;
    default:
      break;
  }
  if (!ok) h.on_anomaly(HttpAnomaly::kH2BadFrameLength);
  return ok;
}

void H2FrameParser::start_payload(H2FrameHandler& h) noexcept {
  on_frame_sent_ = true;
  h.on_frame(cur_);
  switch (cur_.kind()) {
    case H2FrameType::kData:
    case H2FrameType::kHeaders:
    case H2FrameType::kPushPromise:
    case H2FrameType::kContinuation:
      return next_part(h);
    case H2FrameType::kPriority:
    case H2FrameType::kRstStream:
    case H2FrameType::kWindowUpdate:
      need_fixed(static_cast<uint8_t>(cur_.length));
      return;
    case H2FrameType::kSettings:
      if (cur_.length == 0) return frame_end(h);
      need_fixed(6);
      return;
    default:  // PING, GOAWAY (opaque data), unknown types (§4.1: ignored)
      st_ = St::kSkip;
      if (remaining_ == 0) frame_end(h);
      return;
  }
}

// DATA / HEADERS / PUSH_PROMISE / CONTINUATION: [pad length] [fixed] content [padding].
void H2FrameParser::next_part(H2FrameHandler& h) noexcept {
  const H2FrameType t = cur_.kind();
  switch (part_) {
    case kPartPad:
      part_ = kPartFixed;
      if (can_pad(t) && cur_.has(h2flag::kPadded)) {
        if (remaining_ == 0) {  // no room even for the pad length (§6.1)
          h.on_anomaly(HttpAnomaly::kH2BadPadding);
        } else {
          st_ = St::kPadLength;
          return;
        }
      }
      [[fallthrough]];
    case kPartFixed:
      part_ = kPartContent;
      if (fixed_prefix(cur_) > 0 && remaining_ >= fixed_prefix(cur_)) {
        need_fixed(static_cast<uint8_t>(fixed_prefix(cur_)));
        return;
      }
      [[fallthrough]];
    case kPartContent:
      part_ = kPartTail;
      content_ = remaining_ - pad_;
      if (content_ > 0) {
        st_ = St::kContent;
        return;
      }
      [[fallthrough]];
    default:
      if (remaining_ > 0) {
        st_ = St::kSkip;  // padding: not delivered to the receiving application
        return;
      }
      return frame_end(h);
  }
}

void H2FrameParser::after_pad_length(uint8_t pad, H2FrameHandler& h) noexcept {
  const uint32_t fixed = fixed_prefix(cur_);
  if (uint32_t{pad} > remaining_ - std::min(remaining_, fixed)) {
    // §6.1/§6.2: padding as long as the payload or longer is a PROTOCOL_ERROR. Read the way
    // a receiver that ignores the pad length would: every byte is content, so it is inspected.
    h.on_anomaly(HttpAnomaly::kH2BadPadding);
    pad = 0;
  }
  pad_ = pad;
  next_part(h);
}

void H2FrameParser::need_fixed(uint8_t n) noexcept {
  st_ = St::kFixed;
  fixed_need_ = n;
  fixed_len_ = 0;
}

void H2FrameParser::fixed_done(H2FrameHandler& h) noexcept {
  const uint32_t v = be32(fixed_);
  switch (cur_.kind()) {
    case H2FrameType::kHeaders:
    case H2FrameType::kPriority:
      if ((v & 0x7fffffffu) == cur_.stream) h.on_anomaly(HttpAnomaly::kH2BadStreamId);  // §5.3.1
      break;
    case H2FrameType::kPushPromise:
      h.on_push_promise(cur_, v & 0x7fffffffu);
      break;
    case H2FrameType::kRstStream:
      h.on_rst_stream(cur_, v);
      break;
    case H2FrameType::kWindowUpdate:
      if ((v & 0x7fffffffu) == 0) h.on_anomaly(HttpAnomaly::kH2InvalidFrame);  // §6.9
      break;
    case H2FrameType::kSettings: {
      const auto id = static_cast<uint16_t>(fixed_[0] << 8 | fixed_[1]);
      const uint32_t value = be32(fixed_ + 2);
      // §6.5.2: ENABLE_PUSH 0/1, INITIAL_WINDOW_SIZE <= 2^31-1, MAX_FRAME_SIZE 2^14..2^24-1.
      if ((id == 2 && value > 1) || (id == 4 && value > 0x7fffffffu) ||
          (id == 5 && (value < kH2DefaultMaxFrame || value > kH2MaxFrameLimit))) {
        h.on_anomaly(HttpAnomaly::kH2InvalidFrame);
      } else {
        h.on_settings(id, value);
      }
      if (remaining_ >= 6) return need_fixed(6);
      return frame_end(h);
    }
    default:
      break;
  }
  if (part_ != kPartPad) return next_part(h);  // HEADERS / PUSH_PROMISE: content follows
  if (remaining_ > 0) {
    st_ = St::kSkip;
    return;
  }
  frame_end(h);
}

std::size_t H2FrameParser::content(const uint8_t* p, std::size_t n, H2FrameHandler& h) noexcept {
  const auto take = static_cast<uint32_t>(std::min<std::size_t>(n, content_));
  if (cur_.kind() == H2FrameType::kData) {
    h.on_data(cur_, {p, take});
  } else {
    h.on_header_fragment(cur_, {p, take});
  }
  content_ -= take;
  remaining_ -= take;
  if (content_ == 0) next_part(h);
  return take;
}

void H2FrameParser::frame_end(H2FrameHandler& h) noexcept {
  st_ = St::kHeader;
  if (on_frame_sent_ && carries_block(cur_.kind())) {
    block_stream_ = cur_.has(h2flag::kEndHeaders) ? 0 : cur_.stream;
  }
  if (on_frame_sent_) {
    on_frame_sent_ = false;
    h.on_frame_end(cur_);
  }
}

}  // namespace dc::inspect::decoding
