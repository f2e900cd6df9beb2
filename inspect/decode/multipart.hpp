#pragma once
// Streaming multipart body splitter (RFC 2046 §5.1.1, RFC 7578): finds delimiter lines
// "--boundary" in any split (KMP over the fixed delimiter, nothing buffered beyond a partial
// delimiter), reads each part's header lines (Content-Transfer-Encoding, Content-Type,
// Content-Disposition's filename) and hands the part's body bytes to a PartHandler.
// multipart/form-data, /mixed, /related, ...
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace dc::inspect::decoding {

enum class PartEncoding : uint8_t { kIdentity, kBase64, kQuotedPrintable };

// What a part's header lines say about its body.
struct PartHead {
  PartEncoding enc = PartEncoding::kIdentity;
  bool zip = false;   // Content-Type or filename say ZIP / OOXML (zip, xlsx, docx, pptx, ...)
  bool html = false;  // Content-Type text/html or application/xhtml+xml
  std::string_view filename;  // Content-Disposition filename (truncated), valid until the next part
};

// True for media types of ZIP archives and OOXML packages (application/zip,
// application/x-zip-compressed, application/vnd.openxmlformats-officedocument.*, */*+zip).
bool is_zip_media_type(const char* value, std::size_t n) noexcept;
// True for text/html and application/xhtml+xml (parameters ignored).
bool is_html_media_type(const char* value, std::size_t n) noexcept;
// True for file names ending in .zip .xlsx .xlsm .docx .docm .pptx .pptm .jar .odt .ods .odp.
bool is_zip_filename(std::string_view name) noexcept;

class PartHandler {
 public:
  virtual ~PartHandler() = default;
  virtual void part_begin(uint16_t index, const PartHead& head) noexcept = 0;
  virtual void part_data(std::span<const uint8_t> bytes) noexcept = 0;
  virtual void part_end() noexcept = 0;
};

// Extracts the boundary parameter of a multipart Content-Type value into `out` (at most 70
// characters, RFC 2046 §5.1.1). Returns its length, 0 when absent or invalid.
std::size_t multipart_boundary(const char* value, std::size_t n, char* out) noexcept;

class MultipartDecoder {
 public:
  static constexpr std::size_t kMaxBoundary = 70;
  static constexpr std::size_t kMaxPartHead = 8192;  // header bytes per part
  static constexpr std::size_t kMaxLine = 128;       // stored bytes of one part header line
  static constexpr std::size_t kMaxFilename = 40;    // stored bytes of a part's file name

  void begin(const char* boundary, std::size_t n) noexcept;
  void feed(std::span<const uint8_t> in, PartHandler& h) noexcept;
  void finish(PartHandler& h) noexcept;
  // Missing close delimiter, oversized part header, or junk after a delimiter (reported once).
  bool malformed() const noexcept { return malformed_; }
  // The current part's file name (as in PartHead), until the next part's headers.
  std::string_view filename() const noexcept { return {filename_, filename_len_}; }

 private:
  enum class St : uint8_t {
    kPreamble,
    kAfterDelim,
    kDash,
    kDelimPad,
    kDelimLf,
    kHead,
    kBody,
    kEnd
  };
  void on_delimiter(PartHandler& h) noexcept;
  void head_byte(uint8_t c, PartHandler& h) noexcept;
  void head_line() noexcept;
  void disposition(const char* v, std::size_t n) noexcept;
  void after_delim(uint8_t c) noexcept;

  char delim_[kMaxBoundary + 4]{};  // "\r\n--" boundary
  uint8_t fail_[kMaxBoundary + 5]{};
  char line_[kMaxLine]{};
  char filename_[kMaxFilename]{};
  uint8_t filename_len_ = 0;
  bool filename_long_ = false;
  bool zip_type_ = false;
  bool html_type_ = false;
  uint16_t line_len_ = 0;
  uint16_t head_bytes_ = 0;
  uint16_t part_ = 0;
  uint8_t dlen_ = 0;
  uint8_t match_ = 0;
  St st_ = St::kPreamble;
  PartEncoding enc_ = PartEncoding::kIdentity;
  bool in_part_ = false;
  bool malformed_ = false;
};

}  // namespace dc::inspect::decoding
