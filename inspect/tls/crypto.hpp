#pragma once
// TLS record cryptography on OpenSSL 3 EVP (no hand-written primitives): the AEAD suites the
// decryptor supports, the key derivations a passive decryptor needs (TLS 1.3 HKDF-Expand-Label,
// RFC 8446 §7.1; TLS 1.2 key block, RFC 5246 §6.3) and the per-direction record opener.
//
// Threads: one Crypto per worker (it holds fetched EVP_CIPHER/EVP_KDF objects and reusable KDF
// contexts, so it is not shared between threads). RecordCipher belongs to one flow direction.
// Cost: key derivation runs when keys are installed or change (handshake -> application,
// KeyUpdate), never per record; opening a record is one EVP AEAD pass over it.
#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "base/result.hpp"

namespace dc::inspect::tls {

enum class Aead : uint8_t { kAes128Gcm, kAes256Gcm, kChaCha20Poly1305 };
enum class Hash : uint8_t { kSha256, kSha384 };

// A cipher suite the decryptor can open (RFC 8446 §B.4; RFC 5288, 5289, 7905).
struct SuiteInfo {
  uint16_t id;
  bool tls13;
  Aead aead;
  Hash hash;
  uint8_t key_len;       // 16 or 32
  uint8_t fixed_iv_len;  // 1.3 and 1.2 ChaCha: 12; 1.2 GCM: 4 (salt)
  uint8_t explicit_len;  // 1.2 GCM: 8 (nonce_explicit in the record); else 0
  const char* name;
};
// The suite with IANA value `id`, or nullptr when it is not an AEAD suite we decrypt.
const SuiteInfo* find_suite(uint16_t id) noexcept;
inline constexpr std::size_t hash_len(Hash h) noexcept { return h == Hash::kSha256 ? 32 : 48; }

inline constexpr std::size_t kTagLen = 16;
inline constexpr std::size_t kNonceLen = 12;
inline constexpr std::size_t kMaxKeyLen = 32;

class Crypto {
 public:
  static Result<std::unique_ptr<Crypto>> create();
  ~Crypto();
  Crypto(const Crypto&) = delete;
  Crypto& operator=(const Crypto&) = delete;

  const EVP_CIPHER* cipher(Aead a) const noexcept { return ciphers_[std::size_t(a)]; }
  // HKDF-Expand-Label(secret, label, "", out.size()) with the suite hash (RFC 8446 §7.1).
  bool expand_label(Hash h, std::span<const uint8_t> secret, std::string_view label,
                    std::span<uint8_t> out) noexcept;
  // key_block = PRF(master, "key expansion", server_random || client_random) (RFC 5246 §6.3).
  bool tls12_key_block(Hash h, std::span<const uint8_t> master,
                       std::span<const uint8_t> server_random,
                       std::span<const uint8_t> client_random, std::span<uint8_t> out) noexcept;

 private:
  Crypto() = default;
  std::array<EVP_CIPHER*, 3> ciphers_{};
  EVP_KDF_CTX* hkdf_ = nullptr;
  EVP_KDF_CTX* prf_ = nullptr;
};

// Outcome of opening one protected record.
enum class OpenStatus : uint8_t { kOk, kAuthFailure, kMalformed, kNoKey };

// One direction's current key: cipher, key, IV and sequence number (RFC 8446 §5.3;
// RFC 5246 §6.1). The EVP_CIPHER_CTX is created at the first set_key() of the flow (off the
// per-record path: when keys are installed) and reused for every later key of the direction;
// per record only the nonce is set. reset() wipes the key material and frees the context.
class RecordCipher {
 public:
  RecordCipher() = default;
  ~RecordCipher() { reset(); }
  RecordCipher(const RecordCipher&) = delete;
  RecordCipher& operator=(const RecordCipher&) = delete;

  // Installs key and IV (iv.size() == suite.fixed_iv_len); sequence number 0. False on an EVP
  // failure (allocation), the direction then has no key.
  bool set_key(const Crypto& c, const SuiteInfo& s, std::span<const uint8_t> key,
               std::span<const uint8_t> iv) noexcept;
  bool ready() const noexcept { return ready_; }
  // Forgets that a key is set (a key change whose new secret is not known yet); keeps the context.
  void invalidate() noexcept { ready_ = false; }
  uint64_t seq() const noexcept { return seq_; }
  void reset() noexcept;

  // TLS 1.3: `hdr` is the 5-byte record header (the AAD), `body` ciphertext||tag. Writes the
  // TLSInnerPlaintext to out (may alias body), strips the zero padding and sets *type to the
  // inner content type and *len to the content length. Nothing in `out` may be used unless kOk
  // (the tag is checked last, pitfall 15). Consumes a sequence number only on kOk.
  OpenStatus open13(const uint8_t* hdr, const uint8_t* body, std::size_t body_len, uint8_t* out,
                    uint8_t* type, std::size_t* len) noexcept;
  // TLS 1.2 AEAD: AAD = seq || type || version || plaintext length (RFC 5246 §6.2.3.3); GCM
  // nonce = salt || nonce_explicit (RFC 5288 §3), ChaCha nonce = iv XOR seq (RFC 7905 §2).
  // The plaintext is written at out + explicit nonce length (out may alias body); *data points
  // at it, *len is its length.
  OpenStatus open12(const uint8_t* hdr, const uint8_t* body, std::size_t body_len, uint8_t* out,
                    const uint8_t** data, std::size_t* len) noexcept;

  // Streaming form of the same, for a record whose bytes arrive in pieces (no reassembly copy):
  // begin13/begin12 (nonce and AAD of the next sequence number), update() over the ciphertext in
  // order (out may equal in), finish(tag): true when authentic, which consumes the sequence
  // number. Until finish() returns true the output must not be used.
  bool begin13(const uint8_t* hdr) noexcept;
  bool begin12(const uint8_t* hdr, const uint8_t* explicit_nonce, std::size_t plain_len) noexcept;
  bool update(const uint8_t* in, std::size_t n, uint8_t* out) noexcept;
  bool finish(const uint8_t* tag) noexcept;
  uint8_t explicit_len() const noexcept { return explicit_len_; }
  // TLSInnerPlaintext (RFC 8446 §5.2): strips zero padding, yields the real type and length.
  static OpenStatus inner13(uint8_t* plain, std::size_t n, uint8_t* type,
                            std::size_t* len) noexcept;

 private:
  void seq_nonce(uint8_t* nonce) const noexcept;

  EVP_CIPHER_CTX* ctx_ = nullptr;
  const EVP_CIPHER* cipher_ = nullptr;
  std::array<uint8_t, kNonceLen> iv_{};
  uint64_t seq_ = 0;
  uint8_t explicit_len_ = 0;
  bool ready_ = false;
};

}  // namespace dc::inspect::tls
