#pragma once
// Person keys for customs accounting (docs/accounting.md): normalising a person-key finding's
// value (worker side: pure, no allocation) and its keyed digest (ledger side: HMAC-SHA256 with
// OpenSSL EVP, truncated to 128 bits), and the site's accounting key file.
#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "audit/person_store.hpp"
#include "base/result.hpp"
#include "policy/accounting.hpp"

namespace dc::audit {

inline constexpr std::size_t kPersonKeyMax = 32;  // longest normalised key kept
using AccountingKey = std::array<uint8_t, 32>;

// Normalises `value` of kind `kind` into `out`; returns its length, 0 when it is not a key of
// that kind once normalised (the detector validated it; this only removes formatting):
//   resident ID: 18 characters, the check character upper-case X;
//   mobile: the 11 digits, without a +86 / 0086 / 86 prefix, spaces or dashes;
//   bank card: the digits; passport / permit and custom keys: upper-case, no spaces or dashes.
std::size_t normalise_person_key(policy::PersonKeyKind kind, std::span<const uint8_t> value,
                                 std::span<uint8_t, kPersonKeyMax> out) noexcept;

// The first 16 bytes of HMAC-SHA256(key, kind || 0x00 || normalised). Empty on an OpenSSL error.
// Sets the HMAC up for this one digest (PersonDigester below, for many).
Result<PersonDigest> person_digest(const AccountingKey& key, policy::PersonKeyKind kind,
                                   std::span<const uint8_t> normalised);

// person_digest() under one key for many persons: the HMAC is fetched and keyed once. OpenSSL 3's
// one-shot EVP_Q_mac looks "HMAC" and "SHA256" up in the provider store (under its lock) and
// makes and frees a context on every call; the ledger digests every claim. Each digest here
// restarts the keyed context (EVP_MAC_init with no key keeps the key, OpenSSL 3.0 and later;
// ledger_test `PersonKeys.DigesterMatchesTheOneShotDigest` checks a reused digester against a
// fresh one per digest, and the known answer).
// Not thread-safe: one per ledger thread.
class PersonDigester {
 public:
  explicit PersonDigester(const AccountingKey& key);
  ~PersonDigester();
  PersonDigester(const PersonDigester&) = delete;
  PersonDigester& operator=(const PersonDigester&) = delete;
  // The same digest as person_digest(key, kind, normalised); an error when OpenSSL fails (also
  // when the HMAC could not be set up at construction).
  Result<PersonDigest> digest(policy::PersonKeyKind kind, std::span<const uint8_t> normalised);

 private:
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* keyed_ = nullptr;  // initialised with the key; null when that failed
};

// The accounting key: 32 random bytes in a file (mode 0600), the same on every appliance of a
// site (their counts are shared). `keygen` refuses to overwrite an existing file.
Result<void> write_accounting_key(const std::string& path);
Result<AccountingKey> load_accounting_key(const std::string& path);
// For replay and tests without a key file: SHA-256("datacustoms accounting test key"). Digests
// made with it are not secret; replay says so when it uses it.
AccountingKey test_accounting_key();

}  // namespace dc::audit
