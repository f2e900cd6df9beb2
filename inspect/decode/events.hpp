#pragma once
// What the decoding layer reports: where decoded bytes come from (Path, a fixed-size descriptor),
// the named HTTP framing anomalies and decoding conditions, and the DecodeSink interface the
// caller implements to receive decoded bytes and those reports. Fast-path safe: no allocation.
#include <cstddef>
#include <cstdint>
#include <span>

namespace dc::inspect::decoding {

// Ambiguous or invalid HTTP/1.x framing (RFC 9112). Each is a way for the gateway and the
// receiver to disagree about where a message or body starts or ends; the policy blocks them.
enum class HttpAnomaly : uint8_t {
  kContentLengthAndTransferEncoding,  // both present (§6.3 item 3: TE wins; "handle as error")
  kRepeatedFramingHeader,             // Content-Length or Transfer-Encoding on several lines
  kConflictingContentLength,          // a Content-Length list with different values
  kInvalidContentLength,              // not 1*DIGIT, empty, or overflowing (§6.3 item 5)
  kObsFold,                           // obs-fold line continuation (§5.2)
  kSpaceBeforeColon,                  // whitespace between field name and colon (§5.1)
  kInvalidHeaderLine,                 // field line without a colon or with a bad name
  kInvalidFieldValue,                 // NUL / bare CR / CTL in a field value (RFC 9110 §5.5)
  kWhitespaceBeforeFirstHeader,       // SP/HT line right after the start line (§2.2)
  kChunkedNotFinal,                   // Transfer-Encoding whose last coding is not chunked
  kChunkedTwice,                      // chunked applied more than once (§6.1)
  kTransferEncodingInHttp10,          // TE in an HTTP/1.0 message (§6.1: faulty framing)
  kInvalidChunkSize,                  // chunk-size not hex, empty or above 2^40
  kInvalidChunkLine,                  // bad bytes after the chunk size / in an extension
  kMissingChunkCrlf,                  // chunk data not followed by CRLF
  kInvalidTrailer,                    // malformed trailer field line
  kBadStartLine,                      // a message that follows a complete one is not HTTP/1.x
  kHeadTooLarge,                      // header section above kMaxHead
  kFramingOnBodylessResponse,         // 1xx/204 with Transfer-Encoding or Content-Length > 0
  kResponseWithoutRequest,            // more responses than requests seen
  kTruncatedMessage,                  // the stream ended inside a message with a known length
  kBareLf,                            // a line ended by LF alone (allowed, but receivers differ)
  // HTTP/2 (RFC 9113; inspect/decode/h2_*): connection errors and malformed messages.
  kH2BadPreface,              // no client preface / first frame not SETTINGS (§3.4)
  kH2FrameTooLarge,           // length above the receiver's SETTINGS_MAX_FRAME_SIZE (§4.2)
  kH2BadFrameLength,          // wrong length for a fixed-size frame (§6.3-§6.9)
  kH2BadPadding,              // padding not shorter than the payload (§6.1, §6.2)
  kH2ContinuationOutOfPlace,  // CONTINUATION outside a header block, or a header block
                              // interrupted by another frame or stream (§6.10)
  kH2BadStreamId,             // stream 0 where a stream is needed or the reverse, even client
                              // stream, stream id not increasing, self-dependency (§5.1.1)
  kH2StreamState,             // a frame on an idle stream (§5.1)
  kH2InvalidFrame,            // SETTINGS value out of range, zero WINDOW_UPDATE, client push
  kH2CompressionError,        // HPACK (RFC 7541) decoding failed (§4.3)
  kH2MalformedHeaders,        // pseudo-header / field name / connection field rules (§8.2, §8.3)
  kH2ContentLengthMismatch,   // content-length against the DATA bytes (§8.1.1)
};
inline constexpr std::size_t kHttpAnomalyCount =
    static_cast<std::size_t>(HttpAnomaly::kH2ContentLengthMismatch) + 1;
const char* http_anomaly_name(HttpAnomaly a) noexcept;
// True for every anomaly where a receiver could frame the message differently than this layer
// did (the policy blocks these); false only for kBareLf, which RFC 9112 §2.2 allows.
constexpr bool http_anomaly_is_ambiguous(HttpAnomaly a) noexcept {
  return a != HttpAnomaly::kBareLf;
}

// Conditions of content decoding: what could not be decoded, or was stopped on purpose.
enum class DecodeCondition : uint8_t {
  kUnknownCoding,       // a Content-/Transfer-Encoding coding this layer does not decode
  kTooManyCodings,      // more coding layers than kMaxCodings
  kDecompressFailed,    // corrupt gzip/deflate/brotli data (decoded output so far was emitted)
  kTrailingData,        // bytes after the end of a compressed stream
  kOutputLimit,         // decoded bytes of one flow direction above the limit (bomb)
  kRatioLimit,          // expansion ratio above the limit (bomb)
  kDecoderMemory,       // no decoder memory from the worker arena / above the per-decoder cap
  kMultipartMalformed,  // missing boundary parameter, part header too long, no close delimiter
  kLoneSurrogate,       // JSON \uD800-\uDFFF without its pair (replaced by U+FFFD)
  kTunnel,              // CONNECT 2xx / 101 Switching Protocols: later bytes are not HTTP/1.x
  // ZIP containers (zip.hpp): a member whose content the detectors cannot see decoded
  // ("opaque_payload", with the reason), and archive framing the walker cannot follow.
  kOpaqueEncrypted,   // an encrypted member (general purpose flag bit 0, APPNOTE §4.4.4)
  kOpaqueMethod,      // a compression method other than stored (0) and deflate (8)
  kOpaqueNested,      // a ZIP inside a member of a ZIP inside a ZIP member, or too deep a path
  kZipMalformed,      // bad record signature, truncated archive, or a stored member with a data
                      // descriptor whose end could not be found (APPNOTE §4.3.9)
  kH2TooManyStreams,  // HTTP/2 bodies open at once above the decoder's stream pool
  kH2Uninspectable,   // HTTP/2 header state lost (HPACK error, broken header block, bad
                      // preface): the rest of that direction is not decoded
};
inline constexpr std::size_t kDecodeConditionCount =
    static_cast<std::size_t>(DecodeCondition::kH2Uninspectable) + 1;
const char* decode_condition_name(DecodeCondition c) noexcept;
// What a condition means for the flow's verdict:
//   kUninspected - content exists that the detectors did not see decoded (fail closed by policy)
//   kOpaque      - the rest of the direction is not HTTP/1.x any more (like TLS payload)
//   kNote        - recorded only (the decoded bytes were still scanned)
enum class ConditionClass : uint8_t { kUninspected, kOpaque, kNote };
constexpr ConditionClass condition_class(DecodeCondition c) noexcept {
  return c == DecodeCondition::kTunnel          ? ConditionClass::kOpaque
         : c == DecodeCondition::kLoneSurrogate ? ConditionClass::kNote
                                                : ConditionClass::kUninspected;
}

// One step of a decoding path.
enum class LayerKind : uint8_t {
  kRequestBody,    // http.request.body (dechunked)
  kResponseBody,   // http.response.body (dechunked)
  kRequestTarget,  // http.request.target (percent-decoded path and query)
  kGzip,
  kDeflate,
  kBrotli,
  kForm,             // application/x-www-form-urlencoded
  kJson,             // JSON strings unescaped
  kMultipart,        // one part of a multipart body (index = part number, from 1)
  kBase64,           // Content-Transfer-Encoding: base64
  kQuotedPrintable,  // Content-Transfer-Encoding: quoted-printable
  kBase64Run,        // base64 runs found in text (standard or URL-safe alphabet, >= 16 chars)
  kHtml,             // text/html with character references decoded (&#49; &#x32; &amp; ...)
  kZip,              // a ZIP archive (named layer: "zip:people.xlsx", or "zip" when unnamed)
  kZipMember,        // one member of it (named layer: "xl/sharedStrings.xml")
  kXmlText,          // the text nodes of an XML member (tags stripped, entities decoded)
  kFile,             // a raw file given to `datacustoms scan`
  // HTTP/2 (index = stream id; formatted "h2.stream[5].request.body"; kH2Connection is "h2").
  kH2Connection,
  kH2RequestHeaders,  // one decoded header field "name: value" (HPACK), a stream per field
  kH2RequestPath,     // :path percent-decoded, like http.request.target
  kH2RequestBody,     // DATA frames of the stream (unpadded)
  kH2ResponseHeaders,
  kH2ResponseBody,
};
constexpr bool is_h2_layer(LayerKind k) noexcept {
  return k >= LayerKind::kH2RequestHeaders && k <= LayerKind::kH2ResponseBody;
}
const char* layer_name(LayerKind k) noexcept;

struct Layer {
  LayerKind kind;
  uint16_t index;  // kMultipart: part number; named layers: slot in the path's name table
                   // (HTTP/2 stream ids: Path::stream())
};

// Lanes: decoded streams of different lanes may be open at the same time (HTTP/2 multiplexes
// request bodies); within a lane, at most one stream per depth is open. HTTP/1.x and HTTP/2
// header fields use lane 0; HTTP/2 bodies use lanes 1..kMaxLanes-1 (a stream-pool slot each).
inline constexpr std::size_t kMaxLanes = 17;

// The decoding path of a decoded byte stream, e.g. http.request.body > gzip > json. Fixed size
// (no allocation). (lane(), depth()) identifies the stream among those active at the same time:
// at any moment at most one decoded stream of each depth is open per lane and direction, so a
// caller can keep one scanner stream per lane and depth and reset it when on_end() reports that
// stream ended (HTTP/1.x only ever uses lane 0).
// Named layers (kZip, kZipMember) point into a name table owned by the decoder that reports the
// path: the names are valid during the DecodeSink call only, so a caller that keeps a path for
// later keeps its format()ted text, not the Path.
class Path {
 public:
  static constexpr std::size_t kMaxDepth = 8;
  std::size_t depth() const noexcept { return depth_; }
  std::size_t lane() const noexcept { return lane_; }
  Path in_lane(std::size_t lane) const noexcept {
    Path p = *this;
    p.lane_ = static_cast<uint8_t>(lane < kMaxLanes ? lane : 0);
    return p;
  }
  Layer operator[](std::size_t i) const noexcept { return Layer{kinds_[i], index_[i]}; }
  // For the HTTP/2 layers `index` is the stream id (31 bits), kept once per path.
  Path child(LayerKind k, uint32_t index = 0) const noexcept {
    Path p = *this;
    if (is_h2_layer(k)) {
      p.stream_lo_ = static_cast<uint16_t>(index);
      p.stream_hi_ = static_cast<uint16_t>(index >> 16);
      index = 0;
    }
    if (p.depth_ < kMaxDepth)
      p.kinds_[p.depth_] = k, p.index_[p.depth_++] = static_cast<uint16_t>(index);
    return p;
  }
  // A layer named by names[slot] (NUL-terminated; nullptr or empty: the layer's plain name).
  // Every named layer of one path uses the same table.
  Path named_child(LayerKind k, const char* const* names, uint16_t slot) const noexcept {
    Path p = child(k, slot);
    p.names_ = names;
    return p;
  }
  // The first `depth` layers (the path of an enclosing stream).
  Path prefix(std::size_t depth) const noexcept {
    Path p = *this;
    if (depth < p.depth_) p.depth_ = static_cast<uint8_t>(depth);
    return p;
  }
  // The HTTP/2 stream id of an h2.stream[N] layer in this path (0 otherwise).
  uint32_t stream() const noexcept { return uint32_t{stream_hi_} << 16 | stream_lo_; }
  // "http.request.body > gzip > multipart[2] > zip:people.xlsx > xl/sharedStrings.xml" into buf
  // (always NUL-terminated when size > 0, truncated to fit). Returns the full length it needed.
  std::size_t format(char* buf, std::size_t size) const noexcept;
  // Same kinds and indices (names are not compared: they belong to the reporting decoder).
  bool operator==(const Path& o) const noexcept;

 private:
  const char* name(std::size_t i) const noexcept;
  // Kinds and indices apart, so the path stays small (it is copied into per-flow state).
  LayerKind kinds_[kMaxDepth]{};
  uint16_t index_[kMaxDepth]{};
  uint8_t depth_ = 0;
  uint8_t lane_ = 0;
  uint16_t stream_lo_ = 0, stream_hi_ = 0;  // two halves: keeps the stream id 2-byte aligned
  const char* const* names_ = nullptr;
};

// Receives what the decoder found. Called on the worker thread, synchronously from feed()/
// finish(); must not re-enter the decoder. Byte spans are valid only during the call.
class DecodeSink {
 public:
  virtual ~DecodeSink() = default;
  // Next decoded bytes of the stream `where` (in order; a stream's bytes may arrive in many calls).
  virtual void on_data(const Path& where, std::span<const uint8_t> bytes) noexcept = 0;
  // The decoded stream `where` ended (end of body, part or run group): values at its end are final.
  virtual void on_end(const Path& where) noexcept {}
  // A framing anomaly, reported once per message where it occurs.
  virtual void on_anomaly(HttpAnomaly a) noexcept = 0;
  // A decoding condition on the stream `where`.
  virtual void on_condition(DecodeCondition c, const Path& where) noexcept = 0;
  // HTTP/2: a request's header block ended (what the audit record names; truncated to the
  // decoder's buffers: H2FlowDecoder::kMaxAuthority / kMaxRecordedPath).
  // HTTP/1.x: stream 0, a request head ended; `authority` is its Host as parse_http_authority()
  // reads it (lower case, no port, no trailing dot), empty when absent, repeated or malformed;
  // method and path are empty.
  virtual void on_request(uint32_t stream, std::span<const char> method,
                          std::span<const char> authority, std::span<const char> path) noexcept {}
};

}  // namespace dc::inspect::decoding
