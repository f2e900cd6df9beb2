#pragma once
// NSS key log (SSLKEYLOGFILE) lines: one parsed secret per line, as escrowed by an exporter's TLS
// library (RFC 9850 §2; NSS "Key Log Format"). Control plane (key intake thread, replay): may
// allocate for error messages; the parsed entry itself is a fixed-size value.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/result.hpp"

namespace dc::inspect::tls {

inline constexpr std::size_t kRandomLen = 32;     // ClientHello.random
inline constexpr std::size_t kMaxSecretLen = 48;  // SHA-384 suites; TLS 1.2 master secret

using ClientRandom = std::array<uint8_t, kRandomLen>;
using LineHash = std::array<uint8_t, 32>;  // SHA-256 of the key log line (evidence, never secret)

// The labels a passive decryptor may meet (RFC 9850 §2.1-2.3). kClientTrafficN/kServerTrafficN
// are OpenSSL's non-standard "*_TRAFFIC_SECRET_N" lines (logged after each KeyUpdate): accepted
// and ignored, since updates are derived from *_TRAFFIC_SECRET_0 ("traffic upd").
enum class KeyLabel : uint8_t {
  kClientRandom,            // TLS <=1.2 master secret (48 bytes)
  kClientHandshakeTraffic,  // TLS 1.3 client_handshake_traffic_secret
  kServerHandshakeTraffic,  // TLS 1.3 server_handshake_traffic_secret
  kClientTraffic0,          // TLS 1.3 client_application_traffic_secret_0
  kServerTraffic0,          // TLS 1.3 server_application_traffic_secret_0
  kClientEarlyTraffic,      // TLS 1.3 0-RTT (not decrypted: 0-RTT is unsupported)
  kExporter,                // not needed for decryption
  kEarlyExporter,           // not needed for decryption
  kClientTrafficN,          // OpenSSL-only, ignored
  kServerTrafficN,          // OpenSSL-only, ignored
};
inline constexpr std::size_t kKeyLabelCount = 10;
const char* key_label_name(KeyLabel l) noexcept;
// True for the labels the decryptor uses (CLIENT_RANDOM and the four 1.3 traffic secrets).
bool key_label_used(KeyLabel l) noexcept;

struct KeyLogEntry {
  KeyLabel label = KeyLabel::kClientRandom;
  ClientRandom client_random{};
  std::array<uint8_t, kMaxSecretLen> secret{};
  uint8_t secret_len = 0;
  LineHash line_hash{};  // SHA-256 of the line without its line end

  // Overwrites the secret with OPENSSL_cleanse (the entry may live on a stack or in a queue).
  void wipe() noexcept;
};

// Parses one line ("LABEL <64 hex> <hex secret>", upper or lower case hex, trailing CR/LF
// tolerated). Returns std::nullopt for a blank line or a '#' comment. Errors (ErrorCode::kInvalid)
// name the field: "unknown label", "client random must be 64 hex digits", "secret ... bytes", ...
// An `RSA` line (legacy pre-master keyed by encrypted bytes, not a client random) is kInvalid
// with its own message: it cannot be matched to a ClientHello.
Result<std::optional<KeyLogEntry>> parse_keylog_line(std::string_view line);

}  // namespace dc::inspect::tls
