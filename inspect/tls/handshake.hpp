#pragma once
// TLS handshake messages as the passive decryptor needs them: a per-direction reassembler of
// handshake messages across records (RFC 8446 §5.1: messages span records, records hold several
// messages) that keeps only a bounded prefix of each message, and parsers for the fields that
// steer decryption: ClientHello random and offered suites, ServerHello version (including
// supported_versions, RFC 8446 §4.2.1), suite and random, HelloRetryRequest, ALPN.
//
// Threads: owned by one flow direction. No allocation; fixed size.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "inspect/tls/keylog.hpp"

namespace dc::inspect::tls {

// Handshake message types used here (RFC 8446 §4; RFC 5246 §7.4).
enum HandshakeType : uint8_t {
  kHsHelloRequest = 0,
  kHsClientHello = 1,
  kHsServerHello = 2,
  kHsNewSessionTicket = 4,
  kHsEndOfEarlyData = 5,
  kHsEncryptedExtensions = 8,
  kHsFinished = 20,
  kHsKeyUpdate = 24,
};

inline constexpr std::size_t kHandshakePrefix = 4096;  // kept bytes of a message body
inline constexpr std::size_t kMaxAlpn = 32;
inline constexpr std::size_t kMaxOfferedSuites = 64;

struct HandshakeMessage {
  uint8_t type;
  uint32_t length;                // full body length
  std::span<const uint8_t> body;  // the first min(length, kHandshakePrefix) bytes
  bool truncated() const noexcept { return body.size() < length; }
};

class HandshakeReader {
 public:
  // Feeds the content of one handshake record; calls on_msg(const HandshakeMessage&) for each
  // message completed, in order. on_msg returns false to stop reading (the rest is dropped).
  template <class F>
  void feed(std::span<const uint8_t> bytes, F&& on_msg) noexcept;
  // True between messages (a key change must happen here, RFC 8446 §5.1).
  bool idle() const noexcept { return hdr_have_ == 0; }
  void reset() noexcept {
    hdr_have_ = 0;
    have_ = 0;
  }

 private:
  std::array<uint8_t, 4> hdr_{};
  std::array<uint8_t, kHandshakePrefix> body_{};
  uint32_t len_ = 0, have_ = 0;
  uint8_t hdr_have_ = 0;
};

struct ClientHelloInfo {
  ClientRandom random{};
  std::array<uint16_t, kMaxOfferedSuites> suites{};  // offered, in order (first 64)
  uint8_t suite_count = 0;
};
// RFC 8446 §4.1.2 / RFC 5246 §7.4.1.2. False when the body is too short for its fields.
bool parse_client_hello(std::span<const uint8_t> body, ClientHelloInfo& out) noexcept;

struct ServerHelloInfo {
  ClientRandom random{};  // server random
  uint16_t version = 0;   // 0x0304 when supported_versions says so, else legacy_version
  uint16_t suite = 0;
  bool hello_retry = false;  // HelloRetryRequest (RFC 8446 §4.1.3 special random)
  std::array<char, kMaxAlpn> alpn{};
  uint8_t alpn_len = 0;
};
// RFC 8446 §4.1.3 / RFC 5246 §7.4.1.3; reads supported_versions and ALPN. False if malformed.
bool parse_server_hello(std::span<const uint8_t> body, ServerHelloInfo& out) noexcept;
// TLS 1.3 EncryptedExtensions (RFC 8446 §4.3.1): the ALPN protocol chosen, if any.
bool parse_encrypted_extensions(std::span<const uint8_t> body, ServerHelloInfo& out) noexcept;

template <class F>
void HandshakeReader::feed(std::span<const uint8_t> bytes, F&& on_msg) noexcept {
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (hdr_have_ < 4) {
      hdr_[hdr_have_++] = bytes[i++];
      if (hdr_have_ < 4) continue;
      len_ = uint32_t(hdr_[1]) << 16 | uint32_t(hdr_[2]) << 8 | hdr_[3];
      have_ = 0;
    }
    const std::size_t take = std::min<std::size_t>(bytes.size() - i, len_ - have_);
    if (have_ < kHandshakePrefix) {
      const std::size_t keep = std::min<std::size_t>(take, kHandshakePrefix - have_);
      std::copy_n(bytes.data() + i, keep, body_.data() + have_);
    }
    have_ += uint32_t(take);
    i += take;
    if (have_ == len_) {
      hdr_have_ = 0;
      const HandshakeMessage m{
          hdr_[0], len_, {body_.data(), std::min<std::size_t>(len_, kHandshakePrefix)}};
      if (!on_msg(m)) return;
    }
  }
}

}  // namespace dc::inspect::tls
