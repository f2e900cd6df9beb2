// HTTP/1.x request-head parser (RFC 9112): method, target, version, Host; strict on smuggling.
#include "inspect/protocol/http.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "base/names.hpp"

namespace dc::inspect {

const char* http_status_name(HttpStatus s) noexcept {
  static constexpr const char* kNames[] = {"need_more", "done",      "not_http",
                                           "malformed", "too_large", "http2_preface"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(HttpStatus::kHttp2Preface) + 1);
  return base::enum_name(s, kNames);
}

namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// RFC 9110 §5.6.2 tchar.
bool is_tchar(uint8_t c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool starts_with_ci(const char* s, std::size_t n, std::string_view prefix) noexcept {
  if (n < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

// Parses an authority without userinfo (RFC 3986 §3.2.2-3.2.3 as restricted by RFC 9110 §4.2):
// host [":" port]. Hosts are limited to DNS-name characters and bracketed IPv6 literals: a
// percent-encoded or sub-delim host would be read differently by different servers.
// Lower-cases the host and drops one trailing dot (the same DNS name).
bool parse_authority(const char* s, std::size_t n, char* host, uint8_t& host_len,
                     uint16_t& port) noexcept {
  host_len = 0;
  port = 0;
  if (n == 0) return true;
  if (std::memchr(s, '@', n) != nullptr) return false;  // RFC 9110 §4.2.4: userinfo is an error
  std::size_t hend = 0;                                 // end of the host part
  if (s[0] == '[') {
    const void* close = std::memchr(s, ']', n);
    if (close == nullptr) return false;
    hend = static_cast<std::size_t>(static_cast<const char*>(close) - s) + 1;
    if (hend < 4) return false;  // "[::]" at least
    for (std::size_t i = 1; i + 1 < hend; ++i) {
      const char c = lower(s[i]);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.')) return false;
    }
  } else {
    while (hend < n && s[hend] != ':') {
      const char c = s[hend];
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
      if (!ok) return false;
      ++hend;
    }
  }
  std::size_t hlen = hend;
  if (hlen > 1 && s[hlen - 1] == '.' && s[0] != '[') --hlen;
  if (hlen == 0 || hlen > kMaxHttpHost) return false;
  for (std::size_t i = 0; i < hlen; ++i) host[i] = lower(s[i]);
  host_len = static_cast<uint8_t>(hlen);
  if (hend == n) return true;
  if (s[hend] != ':') return false;
  const std::size_t plen = n - hend - 1;
  if (plen == 0) return true;  // RFC 3986 §3.2.3: port = *DIGIT, empty means default
  if (plen > 5) return false;
  uint32_t v = 0;
  for (std::size_t i = hend + 1; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<uint32_t>(s[i] - '0');
  }
  if (v == 0 || v > 65535) return false;
  port = static_cast<uint16_t>(v);
  return true;
}

}  // namespace

bool parse_http_authority(std::string_view a, char* host, uint8_t& host_len,
                          uint16_t& port) noexcept {
  if (parse_authority(a.data(), a.size(), host, host_len, port)) return true;
  host_len = 0;
  return false;
}

HttpStatus HttpRequestParser::feed(std::span<const uint8_t> bytes) noexcept {
  for (const uint8_t c : bytes) {
    if (status_ != HttpStatus::kNeedMore) break;
    if (++consumed_ > kMaxHttpHead) {
      fail(HttpStatus::kTooLarge);
      break;
    }
    step(c);
  }
  return status_;
}

void HttpRequestParser::step(uint8_t c) noexcept {
  switch (st_) {
    case St::kMethod:
      return on_method(c);
    case St::kTarget:
      return on_target(c);
    case St::kVersion:
      return on_version(c);
    case St::kLineLf:
      if (c != '\n') return fail(HttpStatus::kMalformed);
      return end_request_line();
    case St::kHeaderStart:
      return on_header_start(c);
    case St::kHeaderName:
      return on_header_name(c);
    case St::kValueOws:
      if (c == ' ' || c == '\t') return;
      st_ = St::kValue;
      return on_value(c);
    case St::kValue:
      return on_value(c);
    case St::kValueLf:
      if (c != '\n') return fail(HttpStatus::kMalformed);
      return end_header();
    case St::kEndLf:
      if (c != '\n') return fail(HttpStatus::kMalformed);
      return finish();
  }
}

void HttpRequestParser::on_method(uint8_t c) noexcept {
  // Registered methods are upper-case tokens (RFC 9110 §9, IANA registry); accepting only
  // those rejects TLS, SSH and binary protocols at their first byte.
  if (c == ' ' && method_len_ > 0) {
    st_ = St::kTarget;
  } else if ((c >= 'A' && c <= 'Z') || (method_len_ > 0 && (c == '-' || c == '_'))) {
    if (method_len_ == kMaxHttpMethod) return fail(HttpStatus::kNotHttp);
    method_[method_len_++] = static_cast<char>(c);
  } else {
    fail(HttpStatus::kNotHttp);
  }
}

void HttpRequestParser::on_target(uint8_t c) noexcept {
  // RFC 9112 §3.2: no whitespace or CTL in the request-target, and no fragment (§3.2.2).
  if (c == ' ') {
    if (target_len_ == 0) return fail(HttpStatus::kMalformed);
    st_ = St::kVersion;
    return;
  }
  if (c < 0x21 || c > 0x7e || c == '#') return fail(HttpStatus::kMalformed);
  if (target_len_ < kMaxStoredTarget) target_[target_len_] = static_cast<char>(c);
  ++target_len_;
}

void HttpRequestParser::on_version(uint8_t c) noexcept {
  if (c == '\r' || c == '\n') {
    // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT
    if (version_len_ < 5) return fail(HttpStatus::kNotHttp);
    if (version_len_ != 8) return fail(HttpStatus::kMalformed);
    if (c == '\r') {
      st_ = St::kLineLf;
    } else {
      end_request_line();  // RFC 9112 §2.2: a bare LF MAY end a line
    }
    return;
  }
  if (version_len_ == version_.size()) return fail(HttpStatus::kMalformed);
  static constexpr char kPrefix[] = "HTTP/";
  if (version_len_ < 5 && c != static_cast<uint8_t>(kPrefix[version_len_])) {
    return fail(HttpStatus::kNotHttp);  // RTSP/1.0, SIP/2.0, ...
  }
  if ((version_len_ == 5 || version_len_ == 7) && (c < '0' || c > '9')) {
    return fail(HttpStatus::kMalformed);
  }
  if (version_len_ == 6 && c != '.') return fail(HttpStatus::kMalformed);
  version_[version_len_++] = static_cast<char>(c);
}

void HttpRequestParser::on_header_start(uint8_t c) noexcept {
  if (c == '\r') {
    st_ = St::kEndLf;
  } else if (c == '\n') {
    finish();
  } else if (is_tchar(c)) {
    name_len_ = 1;
    name_is_host_ = lower(static_cast<char>(c)) == 'h';
    st_ = St::kHeaderName;
  } else {
    // SP/HT here is obs-fold (RFC 9112 §5.2) or whitespace after the start line (§2.2):
    // both are ways to hide a header from one parser and not another.
    fail(HttpStatus::kMalformed);
  }
}

void HttpRequestParser::on_header_name(uint8_t c) noexcept {
  if (c == ':') {
    name_is_host_ = name_is_host_ && name_len_ == 4;
    value_len_ = 0;
    st_ = St::kValueOws;
  } else if (is_tchar(c)) {
    name_is_host_ =
        name_is_host_ && name_len_ < 4 && lower(static_cast<char>(c)) == "host"[name_len_];
    if (name_len_ < 0xffff) ++name_len_;
  } else {
    fail(HttpStatus::kMalformed);  // RFC 9112 §5.1: no whitespace before the colon
  }
}

void HttpRequestParser::on_value(uint8_t c) noexcept {
  if (c == '\r') {
    st_ = St::kValueLf;
    return;
  }
  if (c == '\n') return end_header();
  // RFC 9110 §5.5: NUL, CR, LF and other CTLs are invalid in field values.
  if ((c < 0x20 && c != '\t') || c == 0x7f) return fail(HttpStatus::kMalformed);
  if (name_is_host_) {
    if (value_len_ == value_.size()) return fail(HttpStatus::kMalformed);
    value_[value_len_++] = static_cast<char>(c);
  }
}

void HttpRequestParser::end_request_line() noexcept {
  const std::string_view method(method_.data(), method_len_);
  const char* t = target_.data();
  const std::size_t stored = std::min<std::size_t>(target_len_, kMaxStoredTarget);
  if (version_[5] == '2') {
    // RFC 9113 §3.4: the connection preface starts with this exact line.
    if (method == "PRI" && target_len_ == 1 && t[0] == '*' && version_[7] == '0') {
      return fail(HttpStatus::kHttp2Preface);
    }
    return fail(HttpStatus::kMalformed);
  }
  if (version_[5] != '1' || version_[7] > '1') return fail(HttpStatus::kMalformed);
  version_minor_ = static_cast<uint8_t>(version_[7] - '0');

  if (method == "CONNECT") {
    // RFC 9112 §3.2.3 authority-form: host ":" port, port required.
    if (target_len_ > stored || !parse_authority(t, stored, host_.data(), host_len_, port_) ||
        host_len_ == 0 || port_ == 0) {
      return fail(HttpStatus::kMalformed);
    }
    target_has_host_ = true;
    path_len_ = 0;
  } else if (t[0] == '/') {
    path_off_ = 0;  // origin-form (§3.2.1)
    path_len_ = static_cast<uint16_t>(stored);
  } else if (target_len_ == 1 && t[0] == '*') {
    if (method != "OPTIONS") return fail(HttpStatus::kMalformed);  // asterisk-form (§3.2.4)
    path_off_ = 0;
    path_len_ = 1;
  } else {
    // absolute-form (§3.2.2), e.g. to a forward proxy; only the http(s) schemes are HTTP.
    std::size_t a = 0;
    if (starts_with_ci(t, stored, "http://")) {
      a = 7;
    } else if (starts_with_ci(t, stored, "https://")) {
      a = 8;
    } else {
      return fail(HttpStatus::kMalformed);
    }
    std::size_t e = a;
    while (e < stored && t[e] != '/' && t[e] != '?') ++e;
    if (e == stored && target_len_ > stored) return fail(HttpStatus::kMalformed);
    if (!parse_authority(t + a, e - a, host_.data(), host_len_, port_) || host_len_ == 0) {
      return fail(HttpStatus::kMalformed);
    }
    target_has_host_ = true;
    path_off_ = static_cast<uint16_t>(e);
    path_len_ = static_cast<uint16_t>(stored - e);
    path_is_slash_ = path_len_ == 0;
  }
  st_ = St::kHeaderStart;
}

void HttpRequestParser::end_header() noexcept {
  if (name_is_host_) {
    // RFC 9112 §3.2: a request with more than one Host field line must be rejected.
    if (seen_host_) return fail(HttpStatus::kMalformed);
    seen_host_ = true;
    std::size_t n = value_len_;
    while (n > 0 && (value_[n - 1] == ' ' || value_[n - 1] == '\t')) --n;  // trailing OWS
    if (!parse_authority(value_.data(), n, hdr_host_.data(), hdr_host_len_, hdr_port_)) {
      return fail(HttpStatus::kMalformed);
    }
  }
  name_is_host_ = false;
  st_ = St::kHeaderStart;
}

void HttpRequestParser::finish() noexcept {
  // RFC 9112 §3.2: an HTTP/1.1 request without Host must be rejected.
  if (version_minor_ == 1 && !seen_host_) return fail(HttpStatus::kMalformed);
  if (target_has_host_) {
    const std::string_view a(host_.data(), host_len_), b(hdr_host_.data(), hdr_host_len_);
    host_conflict_ = seen_host_ && (a != b || port_ != hdr_port_);
  } else {
    std::memcpy(host_.data(), hdr_host_.data(), hdr_host_len_);
    host_len_ = hdr_host_len_;
    port_ = hdr_port_;
  }
  status_ = HttpStatus::kDone;
}

std::string_view HttpRequestParser::method() const noexcept {
  return done() ? std::string_view(method_.data(), method_len_) : std::string_view{};
}

std::string_view HttpRequestParser::host() const noexcept {
  return done() ? std::string_view(host_.data(), host_len_) : std::string_view{};
}

std::string_view HttpRequestParser::path() const noexcept {
  if (!done()) return {};
  if (path_is_slash_) return "/";
  return {target_.data() + path_off_, path_len_};
}

}  // namespace dc::inspect
