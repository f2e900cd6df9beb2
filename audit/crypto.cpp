// Base64 and Ed25519 signing/verification keys for audit checkpoints (OpenSSL EVP).
#include "audit/crypto.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "base/file.hpp"
#include "base/hash.hpp"

namespace dc::audit {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const noexcept { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

struct BioDeleter {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// A key file: bounded read (keys are small; /dev/zero or a directory is a clear error), then PEM.
template <class Key>
Result<Key> load_pem_file(const std::string& path) {
  auto text = base::read_file(path, {.max_bytes = base::kMaxKeyBytes});
  if (!text) return text.error();
  auto key = Key::from_pem(*text);
  if (!key) return make_error(path + ": " + key.error().message);
  return key;
}

std::string raw_public_key_id(EVP_PKEY* key) {
  std::array<std::uint8_t, 32> raw{};
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &len) != 1) return "";
  return base::sha256_hex(std::string_view(reinterpret_cast<const char*>(raw.data()), len))
      .substr(0, 16);
}

Result<void> write_exclusive(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return make_error(path + ": already exists (refusing to overwrite)");
    return make_error(path + ": cannot create: " + std::strerror(errno));
  }
  // The umask may have widened or narrowed the mode; the private key must be exactly 0600.
  bool ok = ::fchmod(fd, mode) == 0;
  std::size_t off = 0;
  while (ok && off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      ok = false;
    else
      off += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return make_error(path + ": write failed: " + std::strerror(saved));
  }
  return {};
}

}  // namespace

void PkeyDeleter::operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return make_error("base64: length is not a multiple of 4");
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return make_error("base64: invalid character");
  }
  std::string out(3 * text.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return make_error("base64: invalid encoding");
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  std::size_t len = static_cast<std::size_t>(n);
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

// --- SigningKey ---------------------------------------------------------------------------------

Result<SigningKey> SigningKey::generate() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1)
    return make_error("Ed25519 key generation failed");
  return SigningKey(PkeyPtr(raw));
}

Result<SigningKey> SigningKey::from_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return make_error("not a PEM private key");
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519)
    return make_error("private key is not Ed25519");
  return SigningKey(std::move(key));
}

Result<SigningKey> SigningKey::load(const std::string& path) {
  return load_pem_file<SigningKey>(path);
}

Result<std::string> SigningKey::sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  // Ed25519 in OpenSSL is one-shot only: md must be NULL and DigestSign is called once.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    return make_error("Ed25519 signing failed");
  sig.resize(len);
  return sig;
}

std::string SigningKey::private_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bio_to_string(bio.get());
}

std::string SigningKey::public_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  return bio_to_string(bio.get());
}

std::string SigningKey::key_id() const { return raw_public_key_id(key_.get()); }

// --- VerifyKey ----------------------------------------------------------------------------------

Result<VerifyKey> VerifyKey::from_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    BioPtr again(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    key.reset(PEM_read_bio_PrivateKey(again.get(), nullptr, nullptr, nullptr));
  }
  if (!key) return make_error("not a PEM public key");
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519)
    return make_error("public key is not Ed25519");
  return VerifyKey(std::move(key));
}

Result<VerifyKey> VerifyKey::load(const std::string& path) {
  return load_pem_file<VerifyKey>(path);
}

bool VerifyKey::verify(std::string_view message, std::string_view signature) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

std::string VerifyKey::key_id() const { return raw_public_key_id(key_.get()); }

Result<std::string> write_new_keypair(const std::string& prefix) {
  const std::string key_path = prefix + ".key";
  const std::string pub_path = prefix + ".pub";
  // Check both first so that a refusal leaves nothing half-written behind.
  for (const auto& p : {key_path, pub_path}) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0)
      return make_error(p + ": already exists (refusing to overwrite)");
  }
  auto key = SigningKey::generate();
  if (!key) return key.error();
  if (auto r = write_exclusive(key_path, key->private_pem(), 0600); !r) return r.error();
  if (auto r = write_exclusive(pub_path, key->public_pem(), 0644); !r) {
    ::unlink(key_path.c_str());
    return r.error();
  }
  return key->key_id();
}

}  // namespace dc::audit
