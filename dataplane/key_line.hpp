#pragma once
// One escrowed NSS key log line (SSLKEYLOGFILE format) on its way from the key intake thread to
// the workers: the entry parsed by inspect/tls (label, client random, secret, SHA-256 of the
// line for evidence), padded for a DPDK ring slot. The intake checks lines with that same parser,
// so live keys and `replay --keylog` keys are one format with one line hash.
// No DPDK header: the entry is a plain fixed-size value that can be copied into a ring slot.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "inspect/tls/keylog.hpp"

namespace dc::dataplane {

using inspect::tls::key_label_name;
using inspect::tls::KeyLabel;

inline constexpr std::size_t kClientRandomBytes = inspect::tls::kRandomLen;
inline constexpr std::size_t kMaxSecretBytes = inspect::tls::kMaxSecretLen;

// A parsed line: fixed size, trivially copyable (it travels through a DPDK ring by value).
// Holds a secret: whoever copies it wipes the copy when done (wipe_key_line).
struct alignas(4) KeyLine {
  inspect::tls::KeyLogEntry entry;
};
static_assert(sizeof(KeyLine) % 4 == 0);  // rte_ring_*_elem element sizes are multiples of 4

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

// Checks one line (without its line end; a trailing CR is tolerated) with the decryptor's parser
// (inspect::tls::parse_keylog_line); a rejected line's status names the faulty field. `out` is
// written only when the status is kAccepted. Control plane (the parser may allocate an error).
KeyLineStatus parse_key_line(std::string_view line, KeyLine& out);

// Overwrites the line's secret and random (explicit_bzero: not optimised away).
void wipe_key_line(KeyLine& k) noexcept;
void wipe_bytes(void* p, std::size_t n) noexcept;

}  // namespace dc::dataplane
