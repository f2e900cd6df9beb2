// TLS ClientHello parser across records and segments: SNI, ALPN, versions, ECH (RFC 8446/6066).
#include "inspect/protocol/tls.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "base/names.hpp"

namespace dc::inspect {

const char* tls_status_name(TlsStatus s) noexcept {
  static constexpr const char* kNames[] = {"need_more", "sni",       "no_sni",   "ech",
                                           "not_tls",   "malformed", "too_large"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(TlsStatus::kTooLarge) + 1);
  return base::enum_name(s, kNames);
}

namespace {

constexpr uint8_t kContentHandshake = 22;           // RFC 8446 §5.1 ContentType.handshake
constexpr uint8_t kHandshakeClientHello = 1;        // RFC 8446 §4 HandshakeType.client_hello
constexpr uint32_t kMaxRecord = 1u << 14;           // RFC 8446 §5.1 TLSPlaintext.length bound
constexpr uint16_t kExtServerName = 0x0000;         // RFC 6066 §3
constexpr uint16_t kExtAlpn = 0x0010;               // RFC 7301 §3.1
constexpr uint16_t kExtSupportedVersions = 0x002b;  // RFC 8446 §4.2.1
constexpr uint16_t kExtEch = 0xfe0d;         // draft-ietf-tls-esni (ECH) encrypted_client_hello
constexpr uint16_t kExtEsniLegacy = 0xffce;  // the older ESNI draft
// version(2) + random(32) + session_id len(1) + cipher_suites len(2) + one suite(2)
// + compression len(1) + one method(1)
constexpr uint32_t kMinClientHello = 41;

uint16_t be16(const uint8_t* p) noexcept { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

}  // namespace

TlsStatus TlsClientHelloParser::feed(std::span<const uint8_t> bytes) noexcept {
  const uint8_t* p = bytes.data();
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n && status_ == TlsStatus::kNeedMore) {
    if (rec_left_ == 0) {
      // Record header, checked byte by byte so that a non-TLS stream is rejected at its first
      // byte. Only the first record decides "not TLS"; a bad later header is malformed TLS.
      const uint8_t b = p[i++];
      ++consumed_;
      const bool first = consumed_ <= 5;
      const TlsStatus bad = first ? TlsStatus::kNotTls : TlsStatus::kMalformed;
      rec_hdr_[rec_hdr_have_++] = b;
      if (rec_hdr_have_ == 1 && b != kContentHandshake) {
        fail(bad);
        return status_;
      }
      if (rec_hdr_have_ == 2 && b != 3) {  // legacy_record_version 3.x
        fail(bad);
        return status_;
      }
      if (rec_hdr_have_ == 3 && b > 4) {
        fail(bad);
        return status_;
      }
      if (rec_hdr_have_ == 5) {
        const uint32_t len = be16(&rec_hdr_[3]);
        // RFC 8446 §5.1: no zero-length handshake fragments, no record above 2^14.
        if (len == 0 || len > kMaxRecord) {
          fail(TlsStatus::kMalformed);
          return status_;
        }
        rec_left_ = len;
        rec_hdr_have_ = 0;
      }
      continue;
    }
    const std::size_t k = std::min<std::size_t>(rec_left_, n - i);
    const std::size_t used = hs_bytes(p + i, k);
    consumed_ += static_cast<uint32_t>(used);
    rec_left_ -= static_cast<uint32_t>(used);
    i += used;
  }
  return status_;
}

// Runs the ClientHello state machine over handshake-layer bytes. Returns the bytes used.
std::size_t TlsClientHelloParser::hs_bytes(const uint8_t* p, std::size_t n) noexcept {
  std::size_t i = 0;
  while (status_ == TlsStatus::kNeedMore) {
    if (skip_ > 0) {
      if (i == n) break;
      const std::size_t k = std::min<std::size_t>(skip_, n - i);
      skip_ -= static_cast<uint32_t>(k);
      i += k;
      continue;
    }
    if (have_ < need_) {
      if (i == n) break;
      const std::size_t k = std::min<std::size_t>(need_ - have_, n - i);
      std::memcpy(fld_.data() + have_, p + i, k);
      have_ += static_cast<uint32_t>(k);
      i += k;
      continue;
    }
    on_field();  // also runs for zero-length fields without waiting for another byte
  }
  return i;
}

void TlsClientHelloParser::expect(St s, uint32_t n) noexcept {
  // Every field must fit in what is left of the ClientHello (RFC 8446 §4.1.2 vectors).
  if (s != St::kHsHeader) {
    if (n > hs_left_) return fail(TlsStatus::kMalformed);
    hs_left_ -= n;
  }
  st_ = s;
  need_ = n;
  have_ = 0;
}

void TlsClientHelloParser::skip(uint32_t n) noexcept {
  if (n > hs_left_) return fail(TlsStatus::kMalformed);
  hs_left_ -= n;
  skip_ += n;
}

void TlsClientHelloParser::finish() noexcept {
  if (ech_) {
    status_ = TlsStatus::kEch;
  } else {
    status_ = sni_len_ > 0 ? TlsStatus::kSni : TlsStatus::kNoSni;
  }
}

void TlsClientHelloParser::next_extension() noexcept {
  if (hs_left_ == 0) {
    expect(St::kEnd, 0);  // finish only after pending skipped bytes have arrived
  } else {
    expect(St::kExtHeader, 4);
  }
}

// An extension's type and length: the ones we read are kept whole (kExtBody), others skipped.
void TlsClientHelloParser::on_ext_header(const uint8_t* f) noexcept {
  const uint16_t type = be16(f);
  const uint16_t len = be16(f + 2);
  if (len > hs_left_) return fail(TlsStatus::kMalformed);
  ext_type_ = type;
  switch (type) {
    case kExtServerName:
      // RFC 8446 §4.2: at most one extension of a type. Two server_name extensions could
      // show the gateway one name and the server another: malformed.
      if (seen_sni_) return fail(TlsStatus::kMalformed);
      seen_sni_ = true;
      // list length(2) + name type(1) + name length(2) + 1..255 bytes of name
      if (len < 6 || len > 5 + kMaxHostName) return fail(TlsStatus::kMalformed);
      return expect(St::kExtBody, len);
    case kExtAlpn:
      if (seen_alpn_) return fail(TlsStatus::kMalformed);
      seen_alpn_ = true;
      if (len <= kMaxAlpnList + 2) return expect(St::kExtBody, len);
      skip(len);  // unusually long list: not stored (alpn_count() == 0)
      return next_extension();
    case kExtSupportedVersions:
      if (seen_versions_) return fail(TlsStatus::kMalformed);
      seen_versions_ = true;
      if (len > 255) return fail(TlsStatus::kMalformed);  // versions<2..254> + length
      return expect(St::kExtBody, len);
    case kExtEch:
    case kExtEsniLegacy:
      ech_ = true;
      [[fallthrough]];
    default:
      skip(len);
      return next_extension();
  }
}

void TlsClientHelloParser::on_field() noexcept {
  const uint8_t* f = fld_.data();
  switch (st_) {
    case St::kHsHeader: {
      if (f[0] != kHandshakeClientHello) return fail(TlsStatus::kMalformed);
      const uint32_t len = uint32_t{f[1]} << 16 | uint32_t{f[2]} << 8 | f[3];
      if (len > kMaxClientHello) return fail(TlsStatus::kTooLarge);
      if (len < kMinClientHello) return fail(TlsStatus::kMalformed);
      hs_left_ = len;
      return expect(St::kVersion, 2);
    }
    case St::kVersion:
      legacy_version_ = be16(f);
      // SSL 3.0 .. TLS 1.2; TLS 1.3 also sends 0x0303 here (RFC 8446 §4.1.2).
      if (legacy_version_ < 0x0300 || legacy_version_ > 0x0303) return fail(TlsStatus::kMalformed);
      skip(32);  // random
      return expect(St::kSessionIdLen, 1);
    case St::kSessionIdLen:
      if (f[0] > 32) return fail(TlsStatus::kMalformed);
      skip(f[0]);
      return expect(St::kCipherLen, 2);
    case St::kCipherLen: {
      const uint16_t len = be16(f);
      if (len < 2 || (len & 1) != 0) return fail(TlsStatus::kMalformed);
      skip(len);
      return expect(St::kCompLen, 1);
    }
    case St::kCompLen:
      if (f[0] < 1) return fail(TlsStatus::kMalformed);
      skip(f[0]);
      // A ClientHello without extensions (SSL 3.0 style) ends here.
      if (hs_left_ == 0) return expect(St::kEnd, 0);
      return expect(St::kExtsLen, 2);
    case St::kExtsLen:
      // The extensions block is the last field and must fill the message exactly.
      if (be16(f) != hs_left_) return fail(TlsStatus::kMalformed);
      return next_extension();
    case St::kExtHeader:
      return on_ext_header(f);
    case St::kExtBody: {
      bool ok = true;
      if (ext_type_ == kExtServerName) ok = parse_sni(f, need_);
      if (ext_type_ == kExtAlpn) ok = parse_alpn(f, need_);
      if (ext_type_ == kExtSupportedVersions) ok = parse_versions(f, need_);
      if (!ok) return fail(TlsStatus::kMalformed);
      return next_extension();
    }
    case St::kEnd:
      return finish();
  }
}

// RFC 6066 §3: ServerNameList; at most one host_name; "HostName" is ASCII (IDNs as A-labels,
// RFC 5890), without a trailing dot. We also refuse empty labels, labels over 63 bytes
// (RFC 1035 §2.3.4) and any byte outside letters, digits, '-', '_' and '.': a NUL or a space
// would let the gateway's whitelist match see a different name than the server's lookup.
bool TlsClientHelloParser::parse_sni(const uint8_t* p, std::size_t n) noexcept {
  if (n < 2 || be16(p) != n - 2) return false;
  std::size_t i = 2;
  bool got_host = false;
  while (i < n) {
    if (n - i < 3) return false;
    const uint8_t type = p[i];
    const std::size_t len = be16(p + i + 1);
    i += 3;
    if (len > n - i) return false;
    if (type == 0) {
      if (got_host || len == 0 || len > kMaxHostName) return false;
      std::size_t label = 0;
      for (std::size_t k = 0; k < len; ++k) {
        uint8_t c = p[i + k];
        if (c == '.') {
          if (label == 0) return false;  // leading dot or empty label
          label = 0;
        } else {
          const bool alnum =
              (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
          if (!alnum && c != '-' && c != '_') return false;
          if (++label > 63) return false;
          if (c >= 'A' && c <= 'Z') c = static_cast<uint8_t>(c - 'A' + 'a');
        }
        sni_[k] = c;
      }
      if (label == 0) return false;  // trailing dot
      sni_len_ = static_cast<uint8_t>(len);
      got_host = true;
    }
    i += len;
  }
  return true;
}

// RFC 7301 §3.1: ProtocolNameList protocol_name_list<2..2^16-1>; names are non-empty.
bool TlsClientHelloParser::parse_alpn(const uint8_t* p, std::size_t n) noexcept {
  if (n < 2 || be16(p) != n - 2 || n - 2 < 2) return false;
  for (std::size_t i = 2; i < n;) {
    const std::size_t len = p[i];
    if (len == 0 || len > n - i - 1) return false;
    i += 1 + len;
  }
  std::memcpy(alpn_.data(), p + 2, n - 2);
  alpn_len_ = static_cast<uint16_t>(n - 2);
  return true;
}

// RFC 8446 §4.2.1: ProtocolVersion versions<2..254>.
bool TlsClientHelloParser::parse_versions(const uint8_t* p, std::size_t n) noexcept {
  if (n < 3 || p[0] != n - 1 || (p[0] & 1) != 0) return false;
  for (std::size_t i = 1; i + 1 < n; i += 2) {
    if (be16(p + i) == 0x0304) tls13_ = true;
  }
  return true;
}

std::size_t TlsClientHelloParser::alpn_count() const noexcept {
  if (!complete()) return 0;
  std::size_t count = 0;
  for (std::size_t i = 0; i < alpn_len_; i += 1 + alpn_[i]) ++count;
  return count;
}

std::string_view TlsClientHelloParser::alpn(std::size_t idx) const noexcept {
  if (!complete()) return {};
  for (std::size_t i = 0; i < alpn_len_; i += 1 + alpn_[i]) {
    if (idx-- == 0) return {reinterpret_cast<const char*>(alpn_.data() + i + 1), alpn_[i]};
  }
  return {};
}

}  // namespace dc::inspect
