// HTTP/1.x field lines for one flow direction (http_message.hpp; RFC 9112 §5): obs-fold, the
// framing fields (Content-Length, Transfer-Encoding, Content-Encoding), Host, and their anomalies.
// The start line, body length and chunked coding: http_message.cpp.
#include <algorithm>
#include <cstring>

#include "inspect/decode/http_message.hpp"
#include "inspect/decode/text_util.hpp"

namespace dc::inspect::decoding {

namespace {

constexpr uint64_t kMaxLength = uint64_t{1} << 62;

}  // namespace

// ---- field lines (RFC 9112 §5) ----------------------------------------------------------------

void MessageDecoder::field_byte(uint8_t c, Ctx& x) noexcept {
  if (++head_bytes_ > kMaxHead) {
    anomaly(HttpAnomaly::kHeadTooLarge, x);
    state_ = MessageState::kDead;
    return;
  }
  if (skip_line_) {
    if (c == '\n') field_line_end(x);
    return;
  }
  if (!in_line_) {
    if (pending_field_) {
      pending_field_ = false;
      if (c == ' ' || c == '\t') {
        // obs-fold (§5.2): a recipient replaces it with SP; receivers differ, so it is reported.
        anomaly(HttpAnomaly::kObsFold, x);
        in_line_ = true;
        line_len_ = fold_len_;
        line_total_ = fold_total_;
        if (line_len_ < kMaxLine) line_[line_len_++] = ' ';
        ++line_total_;
        return;
      }
      process_field(x);
    }
    if (c == '\r') {
      st_ = St::kHeadLf;
      return;
    }
    if (c == '\n') {
      anomaly(HttpAnomaly::kBareLf, x);
      if (trailer_) return message_end(x);
      return head_end(x);
    }
    if ((c == ' ' || c == '\t') && !any_field_ && !trailer_) {
      anomaly(HttpAnomaly::kWhitespaceBeforeFirstHeader, x);  // §2.2: ignore the line
      skip_line_ = true;
      return;
    }
    in_line_ = true;
    line_len_ = 0;
    line_total_ = 0;
  }
  if (c == '\r') {
    st_ = trailer_ ? St::kTrailerLf : St::kFieldLf;
    return;
  }
  if (c == '\n') {
    anomaly(HttpAnomaly::kBareLf, x);
    return field_line_end(x);
  }
  if (line_len_ < kMaxLine) line_[line_len_++] = static_cast<char>(c);
  ++line_total_;
}

void MessageDecoder::field_line_end(Ctx& x) noexcept {
  st_ = trailer_ ? St::kTrailer : St::kField;
  in_line_ = false;
  if (skip_line_) {
    skip_line_ = false;
    return;
  }
  // Processed when the next line starts: it may be an obs-fold continuation of this one.
  pending_field_ = true;
  fold_len_ = line_len_;
  fold_total_ = line_total_;
}

void MessageDecoder::process_field(Ctx& x) noexcept {
  const std::size_t n = fold_len_;
  const char* colon = static_cast<const char*>(std::memchr(line_, ':', n));
  const HttpAnomaly bad = trailer_ ? HttpAnomaly::kInvalidTrailer : HttpAnomaly::kInvalidHeaderLine;
  any_field_ = true;
  if (colon == nullptr || colon == line_) return anomaly(bad, x);
  const auto name_len = static_cast<std::size_t>(colon - line_);
  if (line_[name_len - 1] == ' ' || line_[name_len - 1] == '\t') {
    // §5.1: a server MUST reject this; some parsers strip the space and use the field.
    return anomaly(trailer_ ? bad : HttpAnomaly::kSpaceBeforeColon, x);
  }
  for (std::size_t i = 0; i < name_len; ++i) {
    if (!text_detail::is_tchar(static_cast<uint8_t>(line_[i]))) return anomaly(bad, x);
  }
  std::size_t b = name_len + 1, e = n;
  while (b < e && (line_[b] == ' ' || line_[b] == '\t')) ++b;
  while (e > b && (line_[e - 1] == ' ' || line_[e - 1] == '\t')) --e;
  for (std::size_t i = b; i < e; ++i) {
    const auto c = static_cast<uint8_t>(line_[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      anomaly(HttpAnomaly::kInvalidFieldValue, x);  // RFC 9110 §5.5: read as SP
      line_[i] = ' ';
    }
  }
  if (trailer_) return;  // trailer fields never change framing (RFC 9112 §7.1.2)
  const char* v = line_ + b;
  const std::size_t vn = e - b;
  if (text_detail::ascii_name_is(line_, name_len, "content-length")) {
    if (has_cl_) anomaly(HttpAnomaly::kRepeatedFramingHeader, x);
    has_cl_ = true;
    if (fold_total_ > kMaxLine) {
      cl_bad_ = true;
      return anomaly(HttpAnomaly::kInvalidContentLength, x);
    }
    content_length(v, vn, x);
  } else if (text_detail::ascii_name_is(line_, name_len, "transfer-encoding")) {
    if (has_te_) anomaly(HttpAnomaly::kRepeatedFramingHeader, x);
    has_te_ = true;
    coding_list(v, vn, true, x);
  } else if (text_detail::ascii_name_is(line_, name_len, "content-encoding")) {
    coding_list(v, vn, false, x);
  } else if (text_detail::ascii_name_is(line_, name_len, "content-type")) {
    content_type_len_ = static_cast<uint8_t>(std::min(vn, sizeof content_type_));
    std::memcpy(content_type_, v, content_type_len_);
  } else if (text_detail::ascii_name_is(line_, name_len, "upgrade")) {
    upgrade_ = true;
  } else if (request_ && text_detail::ascii_name_is(line_, name_len, "host")) {
    host_fields_ = static_cast<uint8_t>(std::min(host_fields_ + 1, 2));
    uint16_t port = 0;
    if (fold_total_ > kMaxLine || !parse_http_authority({v, vn}, host_, host_len_, port))
      host_fields_ = 2;  // unusable: names no server
  }
}

// RFC 9110 §8.6 / RFC 9112 §6.3 item 5: 1*DIGIT, or a list of identical values.
void MessageDecoder::content_length(const char* v, std::size_t n, Ctx& x) noexcept {
  std::size_t i = 0;
  bool first = !cl_seen_value_;
  while (true) {
    while (i < n && (v[i] == ' ' || v[i] == '\t')) ++i;
    uint64_t value = 0;
    std::size_t digits = 0;
    while (i < n && v[i] >= '0' && v[i] <= '9') {
      value = value * 10 + static_cast<uint64_t>(v[i++] - '0');
      if (value > kMaxLength) break;
      ++digits;
    }
    while (i < n && (v[i] == ' ' || v[i] == '\t')) ++i;
    if (digits == 0 || value > kMaxLength || (i < n && v[i] != ',')) {
      cl_bad_ = true;
      return anomaly(HttpAnomaly::kInvalidContentLength, x);
    }
    if (!first && value != content_length_) {
      cl_bad_ = true;
      anomaly(HttpAnomaly::kConflictingContentLength, x);
    }
    content_length_ = value;
    first = false;
    cl_seen_value_ = true;
    if (i >= n) return;
    ++i;  // ','
  }
}

void MessageDecoder::coding_list(const char* v, std::size_t n, bool is_te, Ctx& x) noexcept {
  std::size_t i = 0;
  while (i < n) {
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) ++i;
    const std::size_t b = i;
    while (i < n && v[i] != ',' && v[i] != ';' && v[i] != ' ' && v[i] != '\t') ++i;
    const std::size_t len = i - b;
    while (i < n && v[i] != ',') ++i;  // parameters (none are defined for these codings)
    if (len == 0) continue;            // empty list elements are allowed (RFC 9110 §5.6.1.2)
    const Coding c = coding_from_token(v + b, len);
    if (is_te) {
      if (c == Coding::kChunked) {
        if (saw_chunked_) anomaly(HttpAnomaly::kChunkedTwice, x);
        saw_chunked_ = true;
        te_chunked_last_ = true;
        continue;
      }
      te_chunked_last_ = false;
    } else if (c == Coding::kChunked) {
      spec_.unknown_coding = true;  // chunked is not a content coding
      continue;
    }
    if (c == Coding::kIdentity) continue;
    // Transfer codings are removed before content codings; each list was applied left to right,
    // so both are undone right to left: collected here, reversed in head_end().
    uint8_t& count = is_te ? n_te_ : n_ce_;
    Coding* list = is_te ? te_codings_ : ce_codings_;
    if (count < kMaxCodings) {
      list[count++] = c;
    } else {
      spec_.too_many_codings = true;
    }
  }
}

}  // namespace dc::inspect::decoding
