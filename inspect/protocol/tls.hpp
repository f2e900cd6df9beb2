#pragma once
// Incremental TLS ClientHello parser: extracts the server name (RFC 6066 §3 server_name), the
// ALPN list (RFC 7301) and whether TLS 1.3 / Encrypted Client Hello are offered, from the
// client-to-server byte stream as it arrives in order (after the Reorderer).
//
// Why streaming instead of buffering the ClientHello: a buffer big enough for the whole message
// (16 KiB) per flow would dwarf the rest of the flow state. The parser walks the record layer
// (RFC 8446 §5.1) and the ClientHello fields (§4.1.2) as a state machine that skips what it does
// not need and copies only the extensions it reads; state is ~800 bytes, fixed.
// Bounds: a record body is at most 2^14 bytes (RFC 8446 §5.1, else kMalformed); the ClientHello
// body at most kMaxClientHello = 16 KiB (real ones are 0.5-2 KiB, post-quantum key shares
// included; a bigger one is kTooLarge and the caller applies its fail-closed policy).
//
// Threads: one parser per flow direction, used by the worker owning the flow. No allocation,
// no exceptions; feed() costs O(bytes fed) with a small constant (skipped fields cost nothing
// per byte). Reusable after reset().
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace dc::inspect {

enum class TlsStatus : uint8_t {
  kNeedMore,   // ClientHello not complete yet: feed more bytes
  kSni,        // complete; sni() is the host name
  kNoSni,      // complete; no server_name host_name in it
  kEch,        // complete; Encrypted Client Hello offered (sni() is the *outer*, public name)
  kNotTls,     // the stream does not start with a TLS handshake record
  kMalformed,  // TLS, but a length, field or name is invalid (treat as evasion / fail closed)
  kTooLarge,   // ClientHello longer than kMaxClientHello
};

const char* tls_status_name(TlsStatus s) noexcept;

inline constexpr std::size_t kMaxClientHello = 16384;  // ClientHello body bytes
inline constexpr std::size_t kMaxHostName = 255;       // RFC 6066 §3 / RFC 1035 limit
inline constexpr std::size_t kMaxAlpnList = 256;       // stored ALPN list bytes; longer: ignored

class TlsClientHelloParser {
 public:
  // Feeds the next in-order bytes of the client-to-server stream. Returns the status; once it
  // is no longer kNeedMore it stays fixed and further bytes are ignored.
  TlsStatus feed(std::span<const uint8_t> bytes) noexcept;
  TlsStatus status() const noexcept { return status_; }
  void reset() noexcept { *this = TlsClientHelloParser{}; }

  // Lower-cased host name (DNS names are case-insensitive, RFC 4343). Empty when absent and
  // until the whole ClientHello was validated (kSni / kEch): a name read from a message that
  // later turns out malformed (e.g. a second server_name) must never be trusted.
  std::string_view sni() const noexcept {
    if (!complete()) return {};
    return {reinterpret_cast<const char*>(sni_.data()), sni_len_};
  }
  bool complete() const noexcept {
    return status_ == TlsStatus::kSni || status_ == TlsStatus::kNoSni || status_ == TlsStatus::kEch;
  }
  bool ech() const noexcept { return ech_; }
  bool offers_tls13() const noexcept { return tls13_; }  // supported_versions has 0x0304
  uint16_t legacy_version() const noexcept { return legacy_version_; }
  // ALPN protocol names in the client's order (none if absent, longer than kMaxAlpnList, or
  // the ClientHello is not complete()).
  std::size_t alpn_count() const noexcept;
  std::string_view alpn(std::size_t i) const noexcept;
  // Bytes of the stream consumed up to the end of the ClientHello (valid once complete).
  uint32_t consumed() const noexcept { return consumed_; }

 private:
  enum class St : uint8_t {
    kHsHeader,
    kVersion,
    kSessionIdLen,
    kCipherLen,
    kCompLen,
    kExtsLen,
    kExtHeader,
    kExtBody,
    kEnd
  };
  std::size_t hs_bytes(const uint8_t* p, std::size_t n) noexcept;
  void on_field() noexcept;
  void on_ext_header(const uint8_t* f) noexcept;
  void next_extension() noexcept;
  void expect(St s, uint32_t n) noexcept;
  void skip(uint32_t n) noexcept;
  void finish() noexcept;
  void fail(TlsStatus s) noexcept { status_ = s; }
  bool parse_sni(const uint8_t* p, std::size_t n) noexcept;
  bool parse_alpn(const uint8_t* p, std::size_t n) noexcept;
  bool parse_versions(const uint8_t* p, std::size_t n) noexcept;

  std::array<uint8_t, 5> rec_hdr_{};
  std::array<uint8_t, 264> fld_{};  // largest collected field: server_name ext (2+1+2+255)
  std::array<uint8_t, kMaxHostName> sni_{};
  std::array<uint8_t, kMaxAlpnList> alpn_{};
  uint32_t rec_left_ = 0;  // body bytes left in the current record
  uint32_t hs_left_ = 0;   // ClientHello body bytes not consumed yet
  uint32_t need_ = 4;      // bytes to collect into fld_ for the current field
  uint32_t have_ = 0;
  uint32_t skip_ = 0;  // bytes to skip before collecting
  uint32_t consumed_ = 0;
  uint16_t ext_type_ = 0;
  uint16_t legacy_version_ = 0;
  uint16_t alpn_len_ = 0;
  uint8_t rec_hdr_have_ = 0;
  uint8_t sni_len_ = 0;
  St st_ = St::kHsHeader;
  TlsStatus status_ = TlsStatus::kNeedMore;
  bool ech_ = false, tls13_ = false;
  bool seen_sni_ = false, seen_alpn_ = false, seen_versions_ = false;
};

}  // namespace dc::inspect
