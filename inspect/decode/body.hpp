#pragma once
// The decoding chain of one HTTP message body: dechunked body bytes -> up to kMaxCodings
// decompression layers -> a content decoder chosen by Content-Type (form, JSON, HTML character
// references, ZIP/OOXML archives, multipart parts with their Content-Transfer-Encoding, and a
// part's own type or file name) -> base64 runs in the resulting text (nested once). A body or
// part of another type that starts with "PK\3\4" is walked as a ZIP too. Every layer's output
// goes to the DecodeSink with its Path; limits (output, ratio, decoder memory) stop the chain
// with a named condition. One per flow direction, reused message after message.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "inspect/decode/codec.hpp"
#include "inspect/decode/events.hpp"
#include "inspect/decode/multipart.hpp"
#include "inspect/decode/text.hpp"
#include "inspect/decode/worker.hpp"
#include "inspect/decode/zip.hpp"

namespace dc::inspect::decoding {

enum class ContentKind : uint8_t { kText, kForm, kJson, kMultipart, kHtml, kZip };

// What the message head says about its body.
struct BodySpec {
  LayerKind root = LayerKind::kRequestBody;
  bool chunked = false;           // the body layer differs from the raw bytes: emit it
  Coding codings[kMaxCodings]{};  // in decoding order
  uint8_t n_codings = 0;
  bool unknown_coding = false;  // decoding stops after the codings above
  bool too_many_codings = false;
  ContentKind content = ContentKind::kText;
  char boundary[MultipartDecoder::kMaxBoundary]{};
  uint8_t boundary_len = 0;
  uint8_t lane = 0;  // Path::lane() of every stream of this body (HTTP/2 bodies)
  uint16_t root_index_lo = 0, root_index_hi = 0;  // HTTP/2: the stream id (no 4-byte padding)
  uint32_t root_index() const noexcept { return uint32_t{root_index_hi} << 16 | root_index_lo; }
};

// Decompressed bytes of one flow direction, per coding layer depth (DecodeLimits::max_output
// applies to each depth, so where a limit cuts a layer's output does not depend on how the
// other layers' output was interleaved).
struct DirOutput {
  uint64_t layer[kMaxCodings]{};
  uint64_t zip = 0;  // inflated ZIP members
  uint64_t total() const noexcept { return layer[0] + layer[1] + layer[2] + zip; }
};
static_assert(kMaxCodings == 3);

// Classifies a Content-Type value (media type only; parameters read for the boundary).
void content_from_type(const char* value, std::size_t n, BodySpec& spec) noexcept;

// The start of a content view (JSON strings unescaped, form, HTML references) that is still
// identical to its input: the layer that feeds the content decoder is scanned already, so those
// bytes are not handed on a second time. Only the last kWindow of them are kept (from the worker's
// arena): when the decoder first changes a byte, the view starts with them, so a value or keyword
// that begins before the first escape is still whole in the view (a keyword counts up to 1000
// bytes before a value, policy "proximity"). After a change the view goes on until kWindow
// unchanged bytes have followed the last change, then holds again (the view's scanner stream
// ends once kWindow more unchanged bytes passed; the next change reopens it with the kWindow
// bytes before that change, none of which it handed on before). No arena room: the view is
// handed on whole from where it stands.
class ViewHold {
 public:
  static constexpr std::size_t kWindow = 2048;
  void begin(DecoderArena& arena) noexcept;  // the arena must be the one given to drop()
  bool holding() const noexcept { return buf_ != nullptr; }
  bool full() const noexcept { return len_ == kWindow; }  // kWindow or more kept since begin()
  void keep(std::span<const uint8_t> b) noexcept;         // the last kWindow bytes are kept
  // The kept bytes in order; stops holding.
  void release_to(ByteOut out, DecoderArena& arena) noexcept;
  void drop(DecoderArena& arena) noexcept;  // stops holding, nothing handed on

 private:
  uint8_t* buf_ = nullptr;
  uint16_t len_ = 0;  // bytes kept (<= kWindow)
  uint16_t pos_ = 0;  // next write position in the ring
};

class BodyDecoder final : private PartHandler {
 public:
  BodyDecoder() = default;
  BodyDecoder(const BodyDecoder&) = delete;
  BodyDecoder& operator=(const BodyDecoder&) = delete;

  // Starts a body. `dir_output` counts the flow direction's decompressed bytes (owned by the
  // caller, outlives the body). `name` names a ZIP body's layer ("zip:<name>"; a raw file).
  void begin(const BodySpec& spec, DecodeWorker& w, DecodeSink& sink, DirOutput& dir_output,
             std::string_view name = {}) noexcept;
  void feed(std::span<const uint8_t> body, DecodeWorker& w, DecodeSink& sink) noexcept;
  // End of the body: flushes decoders, reports on_end for each layer, releases codec memory.
  void finish(DecodeWorker& w, DecodeSink& sink) noexcept;
  // Releases codec memory without reporting (flow end). Idempotent.
  void release() noexcept;
  bool active() const noexcept { return active_; }

 private:
  struct Hop {
    BodyDecoder* self;
    uint8_t layer;
  };
  static void hop(void* ctx, std::span<const uint8_t> b) noexcept;
  static void content_hop(void* ctx, std::span<const uint8_t> b) noexcept;
  static void run_hop(void* ctx, std::span<const uint8_t> b) noexcept;
  static void part_hop(void* ctx, std::span<const uint8_t> b) noexcept;
  static void part_html_hop(void* ctx, std::span<const uint8_t> b) noexcept;
  void stage(std::size_t i, std::span<const uint8_t> b) noexcept;
  void codec_out(std::size_t i, std::span<const uint8_t> b) noexcept;
  void content(std::span<const uint8_t> b) noexcept;
  // Bytes of a held content view (identical to the input): kept for the view, searched for runs.
  void held(std::span<const uint8_t> b) noexcept;
  void open_view() noexcept;
  bool viewed() const noexcept {
    return content_ == ContentKind::kForm || content_ == ContentKind::kJson ||
           content_ == ContentKind::kHtml;
  }
  std::size_t view_identity(std::span<const uint8_t> b) noexcept;
  void view_content(std::span<const uint8_t> b) noexcept;
  void to_view(std::span<const uint8_t> b) noexcept;  // unchanged bytes of an open view
  static constexpr std::size_t kViewStep = 256;
  static void view_hop(void* ctx, std::span<const uint8_t> b) noexcept;
  void leaf(std::span<const uint8_t> b) noexcept;  // text for the base64-run decoder
  static void run2_hop(void* ctx, std::span<const uint8_t> b) noexcept;
  void end_runs() noexcept;
  // Content that may be a ZIP: kLeaf (text), kSniff (held until 4 bytes tell), kZip (walked).
  enum class Route : uint8_t { kLeaf, kSniff, kZip };
  void route_begin(Route r, std::string_view name) noexcept;
  void routed(std::span<const uint8_t> b) noexcept;
  void route_end() noexcept;
  void start_zip(std::string_view name) noexcept;
  const Path& route_parent() const noexcept {
    return content_ == ContentKind::kMultipart ? enc_path_ : content_path_;
  }
  Path path(std::size_t i) const noexcept { return top_.prefix(i + 1); }  // 0: body, i: coding i
  // Stops stage `from` and every later one (a layer's failure never cuts the layers before it,
  // so what they emit does not depend on where the input was split). Reports `c` once.
  void stop(std::size_t from, DecodeCondition c, const Path& where) noexcept;
  bool stopped(std::size_t stage) const noexcept { return stage >= stopped_at_; }
  void part_begin(uint16_t index, const PartHead& head) noexcept override;
  void part_data(std::span<const uint8_t> bytes) noexcept override;
  void part_end() noexcept override;
  ByteOut out_to(void (*fn)(void*, std::span<const uint8_t>) noexcept) noexcept {
    return ByteOut{this, fn};
  }

  Decompressor codecs_[kMaxCodings];
  Hop hops_[kMaxCodings]{};
  Path top_;  // the body, then one layer per coding (path(i) are its prefixes)
  Path content_path_, enc_path_, run_path_;
  // An HTML part: its text with character references decoded.
  Path part_html_path() const noexcept { return enc_path_.child(LayerKind::kHtml); }
  PercentDecoder percent_;
  JsonDecoder json_;
  MultipartDecoder multipart_;
  Base64Decoder base64_;
  QuotedPrintableDecoder qp_;
  Base64RunDecoder run_;
  EntityDecoder html_;
  ViewHold hold_;
  ZipWalker* zip_ = nullptr;    // from the worker's arena while an archive is walked
  DecodeSink* sink_ = nullptr;  // valid during feed()/finish() only
  DecodeWorker* worker_ = nullptr;
  DirOutput* dir_output_ = nullptr;
  uint64_t out_bytes_[kMaxCodings]{};  // decompressed bytes of this body (ratio check)
  uint8_t n_codings_ = 0;
  ContentKind content_ = ContentKind::kText;
  PartEncoding part_enc_ = PartEncoding::kIdentity;
  bool part_html_ = false;
  uint16_t part_index_ = 0;
  uint8_t sniff_[4]{};
  uint8_t sniff_len_ = 0;
  Route route_ = Route::kLeaf;
  // Stages (0..n_codings_-1 codecs, n_codings_ the content decoders) from here on are stopped.
  uint8_t stopped_at_ = kNotStopped;
  static constexpr uint8_t kNotStopped = 0xff;
  // Flags as bits: the per-flow decoder state has a size budget (decode_units_test).
  bool view_open_ : 1 = false;  // the view's stream is open (holding: ends when the hold is full)
  bool chunked_ : 1 = false;
  bool active_ : 1 = false;
  bool trailing_reported_ : 1 = false;
  uint16_t clean_ = 0;  // unchanged bytes handed on since the view's last change
};

}  // namespace dc::inspect::decoding
