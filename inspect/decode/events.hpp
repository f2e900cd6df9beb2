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
};
inline constexpr std::size_t kHttpAnomalyCount = static_cast<std::size_t>(HttpAnomaly::kBareLf) + 1;
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
  kOpaqueEncrypted,  // an encrypted member (general purpose flag bit 0, APPNOTE §4.4.4)
  kOpaqueMethod,     // a compression method other than stored (0) and deflate (8)
  kOpaqueNested,     // a ZIP inside a ZIP member (walked one level deep), or too deep a path
  kZipMalformed,     // bad record signature, truncated archive, or a stored member with a data
                     // descriptor whose end could not be found (APPNOTE §4.3.9)
};
inline constexpr std::size_t kDecodeConditionCount =
    static_cast<std::size_t>(DecodeCondition::kZipMalformed) + 1;
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
};
const char* layer_name(LayerKind k) noexcept;

struct Layer {
  LayerKind kind;
  uint16_t index;  // kMultipart: part number; named layers: slot in the path's name table
};

// The decoding path of a decoded byte stream, e.g. http.request.body > gzip > json. Fixed size
// (no allocation). depth() identifies the stream among those active at the same time: at any
// moment at most one decoded stream of each depth is open per direction, so a caller can keep
// one scanner stream per depth and reset it when on_end() reports that depth's stream ended.
// Named layers (kZip, kZipMember) point into a name table owned by the decoder that reports the
// path: the names are valid during the DecodeSink call only, so a caller that keeps a path for
// later keeps its format()ted text, not the Path.
class Path {
 public:
  static constexpr std::size_t kMaxDepth = 8;
  std::size_t depth() const noexcept { return depth_; }
  Layer operator[](std::size_t i) const noexcept { return Layer{kinds_[i], index_[i]}; }
  Path child(LayerKind k, uint16_t index = 0) const noexcept {
    Path p = *this;
    if (p.depth_ < kMaxDepth) p.kinds_[p.depth_] = k, p.index_[p.depth_++] = index;
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
};

}  // namespace dc::inspect::decoding
