#pragma once
// Hashing, keyed hashing and Ed25519 signing for the audit trail (OpenSSL 3 EVP).
// Threads: every function is re-entrant; a SigningKey / VerifyKey may be shared read-only.
// Control-plane / writer-thread code: functions allocate and return dc::Result.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;  // NOLINT: forward declaration of the OpenSSL type

namespace dc::audit {

std::string base64_encode(std::span<const std::uint8_t> bytes);
// Strict standard base64 (with padding); returns an error on any other character.
Result<std::string> base64_decode(std::string_view text);

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// An Ed25519 private key (RFC 8032, "pure" Ed25519: the message is signed as is, no prehash).
class SigningKey {
 public:
  static Result<SigningKey> generate();
  static Result<SigningKey> from_pem(std::string_view pem);  // PKCS#8 PEM
  static Result<SigningKey> load(const std::string& path);

  Result<std::string> sign(std::string_view message) const;  // 64 raw bytes
  std::string private_pem() const;                           // PKCS#8 PEM
  std::string public_pem() const;                            // SubjectPublicKeyInfo PEM
  // First 16 hex digits of SHA-256 over the raw 32-byte public key: names the key in checkpoints.
  std::string key_id() const;

 private:
  explicit SigningKey(PkeyPtr key) : key_(std::move(key)) {}
  PkeyPtr key_;
};

class VerifyKey {
 public:
  static Result<VerifyKey> from_pem(std::string_view pem);  // public PEM (or a private one)
  static Result<VerifyKey> load(const std::string& path);

  bool verify(std::string_view message, std::string_view signature) const;
  std::string key_id() const;

 private:
  explicit VerifyKey(PkeyPtr key) : key_(std::move(key)) {}
  PkeyPtr key_;
};

// Writes PREFIX.key (mode 0600, PKCS#8 PEM) and PREFIX.pub (PEM). Refuses to overwrite either file
// (O_EXCL), so an operator can never silently replace the key that sealed an existing log.
Result<std::string> write_new_keypair(const std::string& prefix);  // returns the key id

}  // namespace dc::audit
