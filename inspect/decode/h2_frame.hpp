#pragma once
// Streaming HTTP/2 frame parser for one direction of a connection (RFC 9113 §3.4, §4, §6): the
// client connection preface, frame headers, padding, priority fields, header block fragments
// (HEADERS / PUSH_PROMISE / CONTINUATION, which must follow on the same stream), and the control
// frames. Bytes arrive in any split; nothing is buffered beyond a 9-byte frame header and an
// 8-byte control field. Framing errors are named HttpAnomaly values; the parser keeps going
// wherever the frame length can still be trusted (every frame carries its own length), so the
// bytes a lenient receiver would accept are still inspected. Written here: nghttp2's public API
// only parses frames inside a full nghttp2_session, which answers instead of naming anomalies.
#include <cstddef>
#include <cstdint>
#include <span>

#include "inspect/decode/events.hpp"

namespace dc::inspect::decoding {

enum class H2FrameType : uint8_t {
  kData = 0,
  kHeaders = 1,
  kPriority = 2,
  kRstStream = 3,
  kSettings = 4,
  kPushPromise = 5,
  kPing = 6,
  kGoaway = 7,
  kWindowUpdate = 8,
  kContinuation = 9,
};

namespace h2flag {
inline constexpr uint8_t kEndStream = 0x1;  // DATA, HEADERS
inline constexpr uint8_t kAck = 0x1;        // SETTINGS, PING
inline constexpr uint8_t kEndHeaders = 0x4;
inline constexpr uint8_t kPadded = 0x8;
inline constexpr uint8_t kPriority = 0x20;
}  // namespace h2flag

inline constexpr uint32_t kH2DefaultMaxFrame = 16384;         // SETTINGS_MAX_FRAME_SIZE initial
inline constexpr uint32_t kH2MaxFrameLimit = (1u << 24) - 1;  // largest value it may take
inline constexpr char kH2Preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
inline constexpr std::size_t kH2PrefaceLen = sizeof kH2Preface - 1;  // 24

struct H2FrameHeader {
  uint32_t length = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream = 0;  // reserved bit cleared (§4.1: ignored on receipt)
  bool has(uint8_t f) const noexcept { return (flags & f) != 0; }
  H2FrameType kind() const noexcept { return static_cast<H2FrameType>(type); }
};

// What the parser found, called synchronously from feed(). A frame that failed a check before
// its payload (wrong stream id, wrong length) is reported as an anomaly and skipped: no on_frame.
class H2FrameHandler {
 public:
  virtual ~H2FrameHandler() = default;
  // A frame's header passed the framing checks; its payload follows.
  virtual void on_frame(const H2FrameHeader& h) noexcept = 0;
  // DATA content without padding (in pieces).
  virtual void on_data(const H2FrameHeader& h, std::span<const uint8_t> b) noexcept = 0;
  // Header block fragment bytes of HEADERS / PUSH_PROMISE / CONTINUATION (in pieces).
  virtual void on_header_fragment(const H2FrameHeader& h, std::span<const uint8_t> b) noexcept = 0;
  // PUSH_PROMISE: the promised stream id (before its fragment).
  virtual void on_push_promise(const H2FrameHeader& h, uint32_t promised) noexcept = 0;
  virtual void on_settings(uint16_t id, uint32_t value) noexcept = 0;
  virtual void on_rst_stream(const H2FrameHeader& h, uint32_t code) noexcept = 0;
  // A header block ended without END_HEADERS being followed by its CONTINUATION: the block is
  // lost (and the HPACK state with it).
  virtual void on_header_block_broken() noexcept = 0;
  // The frame's payload is complete (also for frames whose payload was skipped after on_frame).
  virtual void on_frame_end(const H2FrameHeader& h) noexcept = 0;
  virtual void on_anomaly(HttpAnomaly a) noexcept = 0;
};

class H2FrameParser {
 public:
  // client: the direction starts with the 24-byte client preface. Both directions must then
  // start with a SETTINGS frame (§3.4).
  void begin(bool client) noexcept;
  void feed(std::span<const uint8_t> bytes, H2FrameHandler& h) noexcept;
  // Largest frame this direction may send: the peer's SETTINGS_MAX_FRAME_SIZE.
  void set_max_frame(uint32_t v) noexcept { max_frame_ = v; }
  // The preface was wrong: nothing more is parsed.
  bool dead() const noexcept { return st_ == St::kDead; }
  // Inside a frame or a header block (a close here truncates the connection).
  bool mid_frame() const noexcept {
    return st_ != St::kHeader || header_len_ > 0 || block_stream_ != 0;
  }
  uint64_t frames() const noexcept { return frames_; }

 private:
  enum class St : uint8_t {
    kPreface,
    kHeader,
    kPadLength,  // first payload byte of a PADDED frame
    kFixed,      // a fixed field (priority, promised id, settings entry, control payload)
    kContent,    // DATA content or header block fragment
    kSkip,       // payload bytes not inspected (padding, unknown frames, skipped frames)
    kDead,
  };
  void header_done(H2FrameHandler& h) noexcept;
  bool check_stream(H2FrameHandler& h) noexcept;
  bool check_length(H2FrameHandler& h) noexcept;
  void start_payload(H2FrameHandler& h) noexcept;
  void after_pad_length(uint8_t pad, H2FrameHandler& h) noexcept;
  void need_fixed(uint8_t n) noexcept;
  void fixed_done(H2FrameHandler& h) noexcept;
  void next_part(H2FrameHandler& h) noexcept;
  void frame_end(H2FrameHandler& h) noexcept;
  std::size_t content(const uint8_t* p, std::size_t n, H2FrameHandler& h) noexcept;

  H2FrameHeader cur_;
  uint64_t frames_ = 0;
  uint32_t remaining_ = 0;     // payload bytes of cur_ not consumed yet
  uint32_t content_ = 0;       // DATA / fragment bytes left (before padding)
  uint32_t pad_ = 0;           // padding bytes at the end of the payload
  uint32_t block_stream_ = 0;  // a header block is open on this stream (expects CONTINUATION)
  uint32_t max_frame_ = kH2DefaultMaxFrame;
  uint8_t header_[9]{};
  uint8_t header_len_ = 0;
  uint8_t fixed_[8]{};
  uint8_t fixed_need_ = 0, fixed_len_ = 0;
  uint8_t part_ = 0;  // which fixed field of the frame is being read
  uint8_t preface_len_ = 0;
  St st_ = St::kHeader;
  bool client_ = false;
  bool first_frame_ = true;  // the next frame must be SETTINGS
  bool on_frame_sent_ = false;
};

}  // namespace dc::inspect::decoding
