// Person keys for customs accounting: normalisation, keyed digests (OpenSSL EVP_MAC), the
// accounting key file.
#include "audit/ledger_keys.hpp"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file.hpp"
#include "base/hash.hpp"

namespace dc::audit {

namespace {

using policy::PersonKeyKind;

bool is_digit(uint8_t c) noexcept { return c >= '0' && c <= '9'; }
uint8_t upper(uint8_t c) noexcept { return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c; }

std::size_t digits_of(std::span<const uint8_t> v, std::span<uint8_t, kPersonKeyMax> out) noexcept {
  std::size_t n = 0;
  for (uint8_t c : v) {
    if (!is_digit(c)) continue;
    if (n == out.size()) return 0;
    out[n++] = c;
  }
  return n;
}

std::size_t mobile(std::span<const uint8_t> v, std::span<uint8_t, kPersonKeyMax> out) noexcept {
  std::size_t n = digits_of(v, out);
  // +86 138..., 0086 138..., 86 138...: the country code goes; the number is the last 11 digits.
  std::size_t skip = 0;
  if (n == 15 && out[0] == '0' && out[1] == '0' && out[2] == '8' && out[3] == '6') skip = 4;
  if (n == 13 && out[0] == '8' && out[1] == '6') skip = 2;
  if (n - skip != 11) return 0;
  std::memmove(out.data(), out.data() + skip, 11);
  return 11;
}

std::size_t text_key(std::span<const uint8_t> v, std::span<uint8_t, kPersonKeyMax> out) noexcept {
  std::size_t n = 0;
  for (uint8_t c : v) {
    if (c == ' ' || c == '-' || c == '\t') continue;
    if (n == out.size()) return 0;
    out[n++] = upper(c);
  }
  return n;
}

}  // namespace

std::size_t normalise_person_key(PersonKeyKind kind, std::span<const uint8_t> value,
                                 std::span<uint8_t, kPersonKeyMax> out) noexcept {
  switch (kind) {
    case PersonKeyKind::kResidentId: {
      std::size_t n = text_key(value, out);
      if (n != 18) return 0;
      for (std::size_t i = 0; i < 17; ++i)
        if (!is_digit(out[i])) return 0;
      return (is_digit(out[17]) || out[17] == 'X') ? 18 : 0;
    }
    case PersonKeyKind::kMobile:
      return mobile(value, out);
    case PersonKeyKind::kBankCard:
      return digits_of(value, out);
    case PersonKeyKind::kPassport:
    case PersonKeyKind::kOther:
      return text_key(value, out);
    default:
      return 0;
  }
}

// One digester per call (the ledger keeps one: PersonDigester).
Result<PersonDigest> person_digest(const AccountingKey& key, PersonKeyKind kind,
                                   std::span<const uint8_t> normalised) {
  PersonDigester digester(key);
  return digester.digest(kind, normalised);
}

PersonDigester::PersonDigester(const AccountingKey& key) {
  mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac_ != nullptr) keyed_ = EVP_MAC_CTX_new(mac_);
  if (keyed_ == nullptr) return;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  if (EVP_MAC_init(keyed_, key.data(), key.size(), params) != 1) {
    EVP_MAC_CTX_free(keyed_);
    keyed_ = nullptr;
  }
}

PersonDigester::~PersonDigester() {
  EVP_MAC_CTX_free(keyed_);  // clears the keyed state
  EVP_MAC_free(mac_);
}

Result<PersonDigest> PersonDigester::digest(PersonKeyKind kind,
                                            std::span<const uint8_t> normalised) {
  uint8_t msg[2 + kPersonKeyMax];
  if (normalised.size() > kPersonKeyMax) return make_error("person key too long");
  msg[0] = static_cast<uint8_t>(kind);
  msg[1] = 0;
  std::memcpy(msg + 2, normalised.data(), normalised.size());
  uint8_t mac[32];
  std::size_t len = 0;
  if (keyed_ == nullptr || EVP_MAC_init(keyed_, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(keyed_, msg, 2 + normalised.size()) != 1 ||
      EVP_MAC_final(keyed_, mac, &len, sizeof mac) != 1 || len != sizeof mac)
    return make_error(ErrorCode::kUnavailable, "HMAC-SHA256 of a person key failed (OpenSSL)");
  PersonDigest d;
  std::memcpy(d.data(), mac, d.size());
  return d;
}

Result<void> write_accounting_key(const std::string& path) {
  AccountingKey k;
  if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1)
    return make_error(ErrorCode::kUnavailable, "no random bytes for the accounting key (OpenSSL)");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("cannot create " + path + ": " + std::strerror(errno));
  const bool ok =
      ::write(fd, k.data(), k.size()) == static_cast<ssize_t>(k.size()) && ::fsync(fd) == 0;
  ::close(fd);
  k.fill(0);
  if (!ok) {
    ::unlink(path.c_str());
    return make_error("cannot write " + path);
  }
  return {};
}

Result<AccountingKey> load_accounting_key(const std::string& path) {
  auto bytes = base::read_file(path, {.max_bytes = 64});
  if (!bytes) return make_error("accounting key " + path + ": " + bytes.error().message);
  if (bytes->size() != 32)
    return make_error("accounting key " + path +
                      " must hold exactly 32 bytes (datacustoms "
                      "accounting keygen)");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    return make_error("accounting key " + path + " is readable by group or others (chmod 600)");
  AccountingKey k;
  std::memcpy(k.data(), bytes->data(), k.size());
  std::fill(bytes->begin(), bytes->end(), '\0');
  return k;
}

AccountingKey test_accounting_key() {
  return base::sha256(std::string_view("datacustoms accounting test key"));
}

}  // namespace dc::audit
