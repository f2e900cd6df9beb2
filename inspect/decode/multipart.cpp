// Streaming multipart splitter: KMP delimiter search, part header lines, part bodies.
#include "inspect/decode/multipart.hpp"

#include <cstring>

namespace dc::inspect::decoding {

namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool prefix_ci(const char* s, std::size_t n, const char* p) noexcept {
  const std::size_t m = std::strlen(p);
  if (n < m) return false;
  for (std::size_t i = 0; i < m; ++i) {
    if (lower(s[i]) != p[i]) return false;
  }
  return true;
}

// Buffers a part's body bytes and hands them to the handler in batches.
class Batch {
 public:
  explicit Batch(PartHandler& h) noexcept : h_(h) {}
  ~Batch() { flush(); }
  void put(const char* p, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) put(static_cast<uint8_t>(p[i]));
  }
  void put(uint8_t c) noexcept {
    if (n_ == sizeof buf_) flush();
    buf_[n_++] = c;
  }
  void flush() noexcept {
    if (n_ > 0) h_.part_data({buf_, n_});
    n_ = 0;
  }

 private:
  PartHandler& h_;
  std::size_t n_ = 0;
  uint8_t buf_[512];
};

bool suffix_ci(const char* s, std::size_t n, const char* p) noexcept {
  const std::size_t m = std::strlen(p);
  return n >= m && prefix_ci(s + n - m, m, p);
}

}  // namespace

bool is_zip_media_type(const char* v, std::size_t n) noexcept {
  std::size_t end = 0;  // media type = up to ';' or whitespace
  while (end < n && v[end] != ';' && v[end] != ' ' && v[end] != '\t') ++end;
  static constexpr const char* kTypes[] = {"application/zip", "application/x-zip",
                                           "application/x-zip-compressed"};
  for (const char* t : kTypes) {
    if (std::strlen(t) == end && prefix_ci(v, end, t)) return true;
  }
  return prefix_ci(v, end, "application/vnd.openxmlformats-officedocument.") ||
         prefix_ci(v, end, "application/vnd.ms-excel.sheet.macroenabled") ||
         suffix_ci(v, end, "+zip");
}

bool is_html_media_type(const char* v, std::size_t n) noexcept {
  std::size_t end = 0;
  while (end < n && v[end] != ';' && v[end] != ' ' && v[end] != '\t') ++end;
  return (end == 9 && prefix_ci(v, end, "text/html")) ||
         (end == 21 && prefix_ci(v, end, "application/xhtml+xml"));
}

bool is_zip_filename(std::string_view name) noexcept {
  static constexpr const char* kExt[] = {".zip",  ".xlsx", ".xlsm", ".docx", ".docm", ".pptx",
                                         ".pptm", ".jar",  ".odt",  ".ods",  ".odp"};
  for (const char* e : kExt) {
    if (suffix_ci(name.data(), name.size(), e)) return true;
  }
  return false;
}

std::size_t multipart_boundary(const char* v, std::size_t n, char* out) noexcept {
  for (std::size_t i = 0; i + 9 <= n; ++i) {
    if (!prefix_ci(v + i, n - i, "boundary")) continue;
    if (i > 0 && v[i - 1] != ';' && v[i - 1] != ' ' && v[i - 1] != '\t') continue;
    std::size_t j = i + 8;
    while (j < n && (v[j] == ' ' || v[j] == '\t')) ++j;
    if (j >= n || v[j] != '=') continue;
    ++j;
    while (j < n && (v[j] == ' ' || v[j] == '\t')) ++j;
    const bool quoted = j < n && v[j] == '"';
    if (quoted) ++j;
    std::size_t len = 0;
    while (j < n) {
      const char c = v[j];
      if (quoted ? c == '"' : (c == ';' || c == ' ' || c == '\t' || c == ',')) break;
      if (len == MultipartDecoder::kMaxBoundary) return 0;
      out[len++] = c;
      ++j;
    }
    return len;
  }
  return 0;
}

void MultipartDecoder::begin(const char* boundary, std::size_t n) noexcept {
  *this = MultipartDecoder{};
  if (n > kMaxBoundary) n = kMaxBoundary;
  std::memcpy(delim_, "\r\n--", 4);
  std::memcpy(delim_ + 4, boundary, n);
  dlen_ = static_cast<uint8_t>(n + 4);
  // KMP failure function: fail_[k] = longest proper border of delim_[0, k).
  fail_[0] = fail_[1] = 0;
  uint8_t k = 0;
  for (uint8_t i = 1; i < dlen_; ++i) {
    while (k > 0 && delim_[i] != delim_[k]) k = fail_[k];
    if (delim_[i] == delim_[k]) ++k;
    fail_[i + 1] = k;
  }
  match_ = 2;  // RFC 2046 §5.1.1: the first delimiter may start the body (an implied CRLF)
}

void MultipartDecoder::feed(std::span<const uint8_t> in, PartHandler& h) noexcept {
  Batch b(h);
  for (const uint8_t c : in) {
    switch (st_) {
      case St::kPreamble:
      case St::kBody: {
        const bool body = st_ == St::kBody;
        while (match_ > 0 && static_cast<uint8_t>(delim_[match_]) != c) {
          const uint8_t next = fail_[match_];
          if (body) b.put(delim_, match_ - next);  // held bytes that cannot start a delimiter
          match_ = next;
        }
        if (static_cast<uint8_t>(delim_[match_]) == c) {
          if (++match_ == dlen_) {
            b.flush();
            match_ = 0;
            on_delimiter(h);
          }
        } else if (body) {
          b.put(c);
        }
        break;
      }
      case St::kHead:
        head_byte(c, h);
        break;
      case St::kEnd:
        break;  // epilogue: ignored (RFC 2046 §5.1.1)
      default:
        after_delim(c);
        break;
    }
  }
}

void MultipartDecoder::on_delimiter(PartHandler& h) noexcept {
  if (in_part_) h.part_end();
  in_part_ = false;
  st_ = St::kAfterDelim;
}

void MultipartDecoder::after_delim(uint8_t c) noexcept {
  St next = St::kHead;
  if (st_ == St::kAfterDelim && c == '-') {
    next = St::kDash;
  } else if (st_ == St::kDash) {
    if (c == '-') {
      st_ = St::kEnd;
      return;
    }
    malformed_ = true;
  } else if ((st_ == St::kAfterDelim || st_ == St::kDelimPad) && (c == ' ' || c == '\t')) {
    next = St::kDelimPad;  // transport padding
  } else if (st_ != St::kDelimLf && c == '\r') {
    next = St::kDelimLf;
  } else if (c != '\n') {
    malformed_ = true;
  }
  st_ = next;
  if (next == St::kHead) {
    line_len_ = 0, head_bytes_ = 0, enc_ = PartEncoding::kIdentity;
    filename_len_ = 0, filename_long_ = false, zip_type_ = false, html_type_ = false;
  }
}

void MultipartDecoder::head_byte(uint8_t c, PartHandler& h) noexcept {
  bool start_body = false;
  if (++head_bytes_ > kMaxPartHead) {
    malformed_ = true;
    start_body = true;
  } else if (c == '\n') {
    if (line_len_ > 0 && line_[line_len_ - 1] == '\r') --line_len_;
    if (line_len_ == 0) {
      start_body = true;
    } else {
      head_line();
      line_len_ = 0;
    }
  } else if (line_len_ < kMaxLine) {
    line_[line_len_++] = static_cast<char>(c);
  }
  if (!start_body) return;
  ++part_;
  PartHead head;
  head.enc = enc_;
  head.filename = std::string_view(filename_, filename_len_);
  // A truncated name keeps its start only: its extension is unknown.
  head.zip = zip_type_ || (!filename_long_ && is_zip_filename(head.filename));
  head.html = html_type_ && !head.zip;
  h.part_begin(part_, head);
  in_part_ = true;
  st_ = St::kBody;
  match_ = 0;
}

void MultipartDecoder::head_line() noexcept {
  static constexpr char kCte[] = "content-transfer-encoding:";
  static constexpr char kType[] = "content-type:";
  static constexpr char kDisp[] = "content-disposition:";
  if (prefix_ci(line_, line_len_, kType)) {
    std::size_t i = sizeof kType - 1;
    while (i < line_len_ && (line_[i] == ' ' || line_[i] == '\t')) ++i;
    zip_type_ = is_zip_media_type(line_ + i, line_len_ - i);
    html_type_ = is_html_media_type(line_ + i, line_len_ - i);
    return;
  }
  if (prefix_ci(line_, line_len_, kDisp)) return disposition(line_, line_len_);
  if (!prefix_ci(line_, line_len_, kCte)) return;
  std::size_t i = sizeof kCte - 1;
  while (i < line_len_ && (line_[i] == ' ' || line_[i] == '\t')) ++i;
  if (prefix_ci(line_ + i, line_len_ - i, "base64")) {
    enc_ = PartEncoding::kBase64;
  } else if (prefix_ci(line_ + i, line_len_ - i, "quoted-printable")) {
    enc_ = PartEncoding::kQuotedPrintable;
  }
}

// RFC 7578 §4.2 / RFC 6266: filename="name" or filename=name (filename* is not decoded). Only
// the first kMaxLine bytes of the line are kept, so a long line's name may be cut.
void MultipartDecoder::disposition(const char* v, std::size_t n) noexcept {
  for (std::size_t i = 0; i + 9 <= n; ++i) {
    if (!prefix_ci(v + i, n - i, "filename=") ||
        (i > 0 && v[i - 1] != ';' && v[i - 1] != ' ' && v[i - 1] != '\t')) {
      continue;
    }
    std::size_t j = i + 9;
    const bool quoted = j < n && v[j] == '"';
    if (quoted) ++j;
    filename_len_ = 0;
    for (; j < n && (quoted ? v[j] != '"' : v[j] != ';'); ++j) {
      if (filename_len_ == kMaxFilename) {
        filename_long_ = true;
        break;
      }
      filename_[filename_len_++] = v[j];
    }
    if (j == n && n == kMaxLine) filename_long_ = true;  // the line was cut inside the name
    return;
  }
}

void MultipartDecoder::finish(PartHandler& h) noexcept {
  if (in_part_) {
    if (match_ > 0) h.part_data({reinterpret_cast<const uint8_t*>(delim_), match_});
    h.part_end();
    in_part_ = false;
  }
  if (st_ != St::kEnd) malformed_ = true;
  st_ = St::kEnd;
}

}  // namespace dc::inspect::decoding
