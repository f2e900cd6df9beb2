#pragma once
// Incremental HTTP/1.x request-head parser (RFC 9112 §2-§5): method, host and path of the
// first request of a client-to-server stream, fed in order after the Reorderer.
//
// It answers the policy's questions (which host is this export going to, which path) and is
// deliberately strict where lenient parsing would let the gateway and the server disagree about
// the destination: duplicate Host, whitespace before a colon, obs-fold, CTLs, userinfo in the
// target are kMalformed (fail closed). A target in absolute form wins over the Host header
// (RFC 9112 §3.2.2, as the server does); a different Host header sets host_conflict().
// Non-HTTP streams are rejected at the first byte that cannot start or continue a method, or at
// the version token ("RTSP/1.0", "SIP/2.0").
//
// Bounds: the request line + header block is at most kMaxHttpHead = 16 KiB (kTooLarge beyond);
// the first kMaxStoredTarget bytes of the request-target are kept (path_truncated() beyond);
// the host is at most 255 bytes. State ~1.6 KiB, fixed. One parser per flow direction,
// worker-owned; no allocation, no exceptions, O(1) per byte.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace dc::inspect {

enum class HttpStatus : uint8_t {
  kNeedMore,      // request head not complete yet
  kDone,          // request line and headers complete; accessors valid
  kNotHttp,       // not an HTTP/1.x request
  kMalformed,     // HTTP-shaped but invalid or ambiguous (fail closed)
  kTooLarge,      // head longer than kMaxHttpHead
  kHttp2Preface,  // "PRI * HTTP/2.0": HTTP/2 with prior knowledge (RFC 9113 §3.4)
};

const char* http_status_name(HttpStatus s) noexcept;

inline constexpr std::size_t kMaxHttpHead = 16384;
inline constexpr std::size_t kMaxStoredTarget = 1024;
inline constexpr std::size_t kMaxHttpMethod = 20;
inline constexpr std::size_t kMaxHttpHost = 255;

// An authority (host [":" port], RFC 9110 §4.2) read as the request parser reads targets and
// Host headers: DNS-name characters or a bracketed IPv6 literal, lower-cased, one trailing dot
// dropped. `host` holds kMaxHttpHost bytes. False when malformed (host_len is then 0).
bool parse_http_authority(std::string_view a, char* host, uint8_t& host_len,
                          uint16_t& port) noexcept;

class HttpRequestParser {
 public:
  HttpStatus feed(std::span<const uint8_t> bytes) noexcept;
  HttpStatus status() const noexcept { return status_; }
  void reset() noexcept { *this = HttpRequestParser{}; }

  // Valid once status() == kDone (empty before).
  std::string_view method() const noexcept;
  // Lower-cased host without port or trailing dot (IPv6 literal with its brackets); from an
  // absolute-form or authority-form target, else from the Host header. May be empty (HTTP/1.0).
  std::string_view host() const noexcept;
  uint16_t port() const noexcept { return done() ? port_ : 0; }  // 0 = not given
  // Origin-form path and query ("/a/b?q"), "/" for an absolute-form target without a path,
  // "*" for asterisk-form, empty for CONNECT's authority-form. At most kMaxStoredTarget bytes.
  std::string_view path() const noexcept;
  bool path_truncated() const noexcept { return target_len_ > kMaxStoredTarget; }
  bool host_conflict() const noexcept { return done() && host_conflict_; }
  uint8_t version_minor() const noexcept { return version_minor_; }  // HTTP/1.<minor>
  uint32_t head_bytes() const noexcept { return consumed_; }  // bytes up to the end of the head

 private:
  enum class St : uint8_t {
    kMethod,
    kTarget,
    kVersion,
    kLineLf,
    kHeaderStart,
    kHeaderName,
    kValueOws,
    kValue,
    kValueLf,
    kEndLf
  };
  bool done() const noexcept { return status_ == HttpStatus::kDone; }
  void step(uint8_t c) noexcept;  // one byte: dispatches on the state
  void on_method(uint8_t c) noexcept;
  void on_target(uint8_t c) noexcept;
  void on_version(uint8_t c) noexcept;
  void on_header_start(uint8_t c) noexcept;
  void on_header_name(uint8_t c) noexcept;
  void on_value(uint8_t c) noexcept;
  void end_request_line() noexcept;
  void end_header() noexcept;
  void finish() noexcept;
  void fail(HttpStatus s) noexcept { status_ = s; }

  std::array<char, kMaxHttpMethod> method_{};
  std::array<char, kMaxStoredTarget> target_{};
  std::array<char, 8> version_{};
  std::array<char, kMaxHttpHost> host_{};
  std::array<char, kMaxHttpHost> hdr_host_{};   // parsed Host header, compared with the target
  std::array<char, kMaxHttpHost + 8> value_{};  // raw Host header value being read
  uint32_t consumed_ = 0;
  uint32_t target_len_ = 0;
  uint16_t value_len_ = 0;
  uint16_t name_len_ = 0;
  uint16_t port_ = 0, hdr_port_ = 0;
  uint16_t path_off_ = 0, path_len_ = 0;
  uint8_t method_len_ = 0, version_len_ = 0, host_len_ = 0, hdr_host_len_ = 0;
  uint8_t version_minor_ = 0;
  St st_ = St::kMethod;
  HttpStatus status_ = HttpStatus::kNeedMore;
  bool name_is_host_ = false;  // header name read so far is a prefix of "host"
  bool seen_host_ = false;
  bool target_has_host_ = false;
  bool host_conflict_ = false;
  bool path_is_slash_ = false;  // absolute-form without a path: path() is "/"
};

}  // namespace dc::inspect
