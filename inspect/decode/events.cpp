// Names of the decoding layer's anomalies, conditions and path layers; Path formatting.
#include "inspect/decode/events.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "base/names.hpp"

namespace dc::inspect::decoding {

const char* http_anomaly_name(HttpAnomaly a) noexcept {
  static constexpr const char* kNames[] = {"content_length_and_transfer_encoding",
                                           "repeated_framing_header",
                                           "conflicting_content_length",
                                           "invalid_content_length",
                                           "obs_fold",
                                           "space_before_colon",
                                           "invalid_header_line",
                                           "invalid_field_value",
                                           "whitespace_before_first_header",
                                           "chunked_not_final",
                                           "chunked_twice",
                                           "transfer_encoding_in_http10",
                                           "invalid_chunk_size",
                                           "invalid_chunk_line",
                                           "missing_chunk_crlf",
                                           "invalid_trailer",
                                           "bad_start_line",
                                           "head_too_large",
                                           "framing_on_bodyless_response",
                                           "response_without_request",
                                           "truncated_message",
                                           "bare_lf",
                                           "h2_bad_preface",
                                           "h2_frame_too_large",
                                           "h2_bad_frame_length",
                                           "h2_bad_padding",
                                           "h2_continuation_out_of_place",
                                           "h2_bad_stream_id",
                                           "h2_stream_state",
                                           "h2_invalid_frame",
                                           "h2_compression_error",
                                           "h2_malformed_headers",
                                           "h2_content_length_mismatch"};
  static_assert(std::size(kNames) == kHttpAnomalyCount);
  return base::enum_name(a, kNames);
}

const char* decode_condition_name(DecodeCondition c) noexcept {
  static constexpr const char* kNames[] = {"unknown_coding",
                                           "too_many_codings",
                                           "decompress_failed",
                                           "trailing_data",
                                           "output_limit",
                                           "ratio_limit",
                                           "decoder_memory",
                                           "multipart_malformed",
                                           "lone_surrogate",
                                           "tunnel",
                                           "opaque_payload_encrypted",
                                           "opaque_payload_unsupported_method",
                                           "opaque_payload_nested_archive",
                                           "zip_malformed",
                                           "h2_too_many_streams",
                                           "h2_uninspectable"};
  static_assert(std::size(kNames) == kDecodeConditionCount);
  return base::enum_name(c, kNames);
}

const char* layer_name(LayerKind k) noexcept {
  static constexpr const char* kNames[] = {"http.request.body",
                                           "http.response.body",
                                           "http.request.target",
                                           "gzip",
                                           "deflate",
                                           "br",
                                           "form",
                                           "json",
                                           "multipart",
                                           "base64",
                                           "quoted-printable",
                                           "base64-run",
                                           "html",
                                           "zip",
                                           "zip-member",
                                           "xml-text",
                                           "file",
                                           "h2",
                                           "h2.request.headers",
                                           "h2.request.path",
                                           "h2.request.body",
                                           "h2.response.headers",
                                           "h2.response.body"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(LayerKind::kH2ResponseBody) + 1);
  return base::enum_name(k, kNames);
}

std::size_t Path::format(char* buf, std::size_t size) const noexcept {
  std::size_t need = 0;
  auto put = [&](const char* s, std::size_t n) {
    if (need < size) std::memcpy(buf + need, s, std::min(n, size - need));
    need += n;
  };
  for (std::size_t i = 0; i < depth_; ++i) {
    if (i > 0) put(" > ", 3);
    const char* own = name(i);
    if (own != nullptr && kinds_[i] == LayerKind::kZipMember) {
      put(own, std::strlen(own));  // the member name is the layer ("xl/sharedStrings.xml")
      continue;
    }
    const char* kind = layer_name(kinds_[i]);
    if (is_h2_layer(kinds_[i])) {  // "h2.stream[5].request.body"
      char idx[24];
      const int n = std::snprintf(idx, sizeof idx, "h2.stream[%u].", unsigned{stream()});
      put(idx, static_cast<std::size_t>(n));
      kind += 3;  // after "h2."
    }
    put(kind, std::strlen(kind));
    if (own != nullptr) {  // "zip:people.xlsx"
      put(":", 1);
      put(own, std::strlen(own));
    }
    if (kinds_[i] == LayerKind::kMultipart) {
      char idx[16];
      const int n = std::snprintf(idx, sizeof idx, "[%u]", unsigned{index_[i]});
      put(idx, static_cast<std::size_t>(n));
    }
  }
  if (size > 0) buf[std::min(need, size - 1)] = '\0';
  return need;
}

const char* Path::name(std::size_t i) const noexcept {
  if (names_ == nullptr || (kinds_[i] != LayerKind::kZip && kinds_[i] != LayerKind::kZipMember)) {
    return nullptr;
  }
  const char* n = names_[index_[i]];
  return (n == nullptr || *n == '\0') ? nullptr : n;
}

bool Path::operator==(const Path& o) const noexcept {
  if (depth_ != o.depth_ || lane_ != o.lane_ || stream() != o.stream()) return false;
  for (std::size_t i = 0; i < depth_; ++i) {
    if (kinds_[i] != o.kinds_[i] || index_[i] != o.index_[i]) return false;
  }
  return true;
}

}  // namespace dc::inspect::decoding
