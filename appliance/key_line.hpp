#pragma once
// One NSS key log line (SSLKEYLOGFILE format), checked for syntax only: the key intake's entry
// type and its small, self-contained syntactic check. The decryption library (inspect/tls) has its
// own full parser; this check only keeps garbage off the hand-off and can be replaced by it.
// No DPDK header: the entry is a plain fixed-size value that can be copied into a ring slot.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dc::appliance {

// The labels the intake forwards (RFC 9850 §2; NSS "Key Log Format").
enum class KeyLabel : uint8_t {
  kClientRandom,                  // TLS <= 1.2: 48-byte master secret
  kClientEarlyTrafficSecret,      // TLS 1.3 0-RTT
  kClientHandshakeTrafficSecret,  // TLS 1.3
  kServerHandshakeTrafficSecret,
  kClientTrafficSecret0,
  kServerTrafficSecret0,
  kExporterSecret,
  kEarlyExporterSecret,
};
const char* key_label_name(KeyLabel l) noexcept;

inline constexpr std::size_t kClientRandomBytes = 32;
inline constexpr std::size_t kMaxSecretBytes = 48;  // SHA-384 suites; the TLS 1.2 master secret

// A parsed line: fixed size, trivially copyable (it travels through a DPDK ring by value).
// Holds a secret: whoever copies it wipes the copy when done (wipe_key_line).
struct KeyLine {
  KeyLabel label = KeyLabel::kClientRandom;
  uint8_t secret_len = 0;  // 32 or 48 (TLS 1.3 by suite hash); 48 for CLIENT_RANDOM
  uint8_t client_random[kClientRandomBytes] = {};
  uint8_t secret[kMaxSecretBytes] = {};
  uint8_t pad_[2] = {};  // the size is a multiple of 4, as rte_ring_*_elem requires
};
static_assert(sizeof(KeyLine) % 4 == 0);

enum class KeyLineStatus : uint8_t {
  kAccepted,   // `out` holds the line
  kIgnored,    // comment, blank, or a valid label the decryption step does not use
               // (CLIENT_TRAFFIC_SECRET_N / SERVER_TRAFFIC_SECRET_N, RSA, ECH_*)
  kBadLabel,   // not a key log label
  kBadFields,  // not exactly three fields separated by single spaces
  kBadRandom,  // the client random is not 64 hex digits
  kBadSecret,  // the secret is not hex of the label's length
};
const char* key_line_status_name(KeyLineStatus s) noexcept;

// Checks one line (without its line end; a trailing CR is tolerated). Never allocates; `out` is
// written only when the status is kAccepted. Cost: one pass over the line.
KeyLineStatus parse_key_line(std::string_view line, KeyLine& out) noexcept;

// Overwrites the line's secret and random (explicit_bzero: not optimised away).
void wipe_key_line(KeyLine& k) noexcept;
void wipe_bytes(void* p, std::size_t n) noexcept;

}  // namespace dc::appliance
