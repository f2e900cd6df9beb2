// OpenSSL 3 EVP building blocks of the decryptor: suite table, HKDF-Expand-Label, TLS 1.2 key
// block (TLS1-PRF) and the AEAD record opener.
#include "inspect/tls/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cstring>

namespace dc::inspect::tls {
namespace {

constexpr SuiteInfo kSuites[] = {
    {0x1301, true, Aead::kAes128Gcm, Hash::kSha256, 16, 12, 0, "TLS_AES_128_GCM_SHA256"},
    {0x1302, true, Aead::kAes256Gcm, Hash::kSha384, 32, 12, 0, "TLS_AES_256_GCM_SHA384"},
    {0x1303, true, Aead::kChaCha20Poly1305, Hash::kSha256, 32, 12, 0,
     "TLS_CHACHA20_POLY1305_SHA256"},
    {0x009C, false, Aead::kAes128Gcm, Hash::kSha256, 16, 4, 8, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009D, false, Aead::kAes256Gcm, Hash::kSha384, 32, 4, 8, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
    {0x009E, false, Aead::kAes128Gcm, Hash::kSha256, 16, 4, 8,
     "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009F, false, Aead::kAes256Gcm, Hash::kSha384, 32, 4, 8,
     "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xC02B, false, Aead::kAes128Gcm, Hash::kSha256, 16, 4, 8,
     "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xC02C, false, Aead::kAes256Gcm, Hash::kSha384, 32, 4, 8,
     "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xC02F, false, Aead::kAes128Gcm, Hash::kSha256, 16, 4, 8,
     "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0xC030, false, Aead::kAes256Gcm, Hash::kSha384, 32, 4, 8,
     "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xCCA8, false, Aead::kChaCha20Poly1305, Hash::kSha256, 32, 12, 0,
     "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xCCA9, false, Aead::kChaCha20Poly1305, Hash::kSha256, 32, 12, 0,
     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xCCAA, false, Aead::kChaCha20Poly1305, Hash::kSha256, 32, 12, 0,
     "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
};

char* md_name(Hash h) noexcept {
  return const_cast<char*>(h == Hash::kSha256 ? "SHA256" : "SHA384");
}

EVP_KDF_CTX* new_kdf(const char* name) noexcept {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, name, nullptr);
  EVP_KDF_CTX* ctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);  // the context keeps its own reference
  return ctx;
}

}  // namespace

const SuiteInfo* find_suite(uint16_t id) noexcept {
  for (const auto& s : kSuites) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

Result<std::unique_ptr<Crypto>> Crypto::create() {
  std::unique_ptr<Crypto> c(new Crypto());
  const char* names[] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
  for (std::size_t i = 0; i < 3; ++i) {
    c->ciphers_[i] = EVP_CIPHER_fetch(nullptr, names[i], nullptr);
    if (!c->ciphers_[i]) {
      return make_error(ErrorCode::kUnavailable, std::string("OpenSSL has no ") + names[i]);
    }
  }
  c->hkdf_ = new_kdf("HKDF");
  c->prf_ = new_kdf("TLS1-PRF");
  if (!c->hkdf_ || !c->prf_) {
    return make_error(ErrorCode::kUnavailable, "OpenSSL has no HKDF or TLS1-PRF KDF");
  }
  return c;
}

Crypto::~Crypto() {
  for (EVP_CIPHER* c : ciphers_) EVP_CIPHER_free(c);
  EVP_KDF_CTX_free(hkdf_);
  EVP_KDF_CTX_free(prf_);
}

bool Crypto::expand_label(Hash h, std::span<const uint8_t> secret, std::string_view label,
                          std::span<uint8_t> out) noexcept {
  // HkdfLabel (RFC 8446 §7.1): length(2) || len("tls13 " label)(1) || "tls13 " label || 0 (ctx).
  if (label.size() > 32 || out.size() > 255) return false;
  uint8_t info[2 + 1 + 6 + 32 + 1];
  std::size_t n = 0;
  info[n++] = 0;
  info[n++] = uint8_t(out.size());
  info[n++] = uint8_t(6 + label.size());
  std::memcpy(info + n, "tls13 ", 6);
  n += 6;
  std::memcpy(info + n, label.data(), label.size());
  n += label.size();
  info[n++] = 0;
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, md_name(h), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(secret.data()),
                                        secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n), OSSL_PARAM_construct_end()};
  EVP_KDF_CTX_reset(hkdf_);  // drops the previous key (cleansed by the provider)
  return EVP_KDF_derive(hkdf_, out.data(), out.size(), params) == 1;
}

bool Crypto::tls12_key_block(Hash h, std::span<const uint8_t> master,
                             std::span<const uint8_t> server_random,
                             std::span<const uint8_t> client_random,
                             std::span<uint8_t> out) noexcept {
  // Several seed parameters are concatenated in order (EVP_KDF-TLS1_PRF(7)).
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, md_name(h), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, const_cast<uint8_t*>(master.data()),
                                        master.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, const_cast<char*>("key expansion"),
                                        13),
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_SEED, const_cast<uint8_t*>(server_random.data()), server_random.size()),
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_SEED, const_cast<uint8_t*>(client_random.data()), client_random.size()),
      OSSL_PARAM_construct_end()};
  EVP_KDF_CTX_reset(prf_);
  return EVP_KDF_derive(prf_, out.data(), out.size(), params) == 1;
}

bool RecordCipher::set_key(const Crypto& c, const SuiteInfo& s, std::span<const uint8_t> key,
                           std::span<const uint8_t> iv) noexcept {
  ready_ = false;
  const EVP_CIPHER* cipher = c.cipher(s.aead);
  if (!ctx_) ctx_ = EVP_CIPHER_CTX_new();
  if (!ctx_ || key.size() != s.key_len || iv.size() != s.fixed_iv_len) return false;
  if (cipher != cipher_) {
    // A new cipher (first key, or another suite): the provider context is (re)created here.
    if (EVP_DecryptInit_ex(ctx_, cipher, nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_IVLEN, int(kNonceLen), nullptr) != 1) {
      cipher_ = nullptr;
      return false;
    }
    cipher_ = cipher;
  }
  if (EVP_DecryptInit_ex(ctx_, nullptr, nullptr, key.data(), nullptr) != 1) return false;
  iv_.fill(0);
  std::memcpy(iv_.data(), iv.data(), iv.size());
  explicit_len_ = s.explicit_len;
  seq_ = 0;
  ready_ = true;
  return true;
}

void RecordCipher::reset() noexcept {
  EVP_CIPHER_CTX_free(ctx_);  // the providers clear their key schedules on free
  ctx_ = nullptr;
  cipher_ = nullptr;
  OPENSSL_cleanse(iv_.data(), iv_.size());
  seq_ = 0;
  explicit_len_ = 0;
  ready_ = false;
}

void RecordCipher::seq_nonce(uint8_t* nonce) const noexcept {
  std::memcpy(nonce, iv_.data(), kNonceLen);
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= uint8_t(seq_ >> (8 * i));
}

bool RecordCipher::begin13(const uint8_t* hdr) noexcept {
  if (!ready_) return false;
  uint8_t nonce[kNonceLen];
  seq_nonce(nonce);
  int len = 0;
  return EVP_DecryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce) == 1 &&
         EVP_DecryptUpdate(ctx_, nullptr, &len, hdr, 5) == 1;
}

bool RecordCipher::begin12(const uint8_t* hdr, const uint8_t* explicit_nonce,
                           std::size_t plain_len) noexcept {
  if (!ready_) return false;
  uint8_t nonce[kNonceLen];
  if (explicit_len_ != 0) {
    std::memcpy(nonce, iv_.data(), 4);
    std::memcpy(nonce + 4, explicit_nonce, 8);
  } else {
    seq_nonce(nonce);
  }
  uint8_t aad[13];
  for (int i = 0; i < 8; ++i) aad[i] = uint8_t(seq_ >> (56 - 8 * i));
  aad[8] = hdr[0];
  aad[9] = hdr[1];
  aad[10] = hdr[2];
  aad[11] = uint8_t(plain_len >> 8);
  aad[12] = uint8_t(plain_len);
  int len = 0;
  return EVP_DecryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce) == 1 &&
         EVP_DecryptUpdate(ctx_, nullptr, &len, aad, int(sizeof aad)) == 1;
}

bool RecordCipher::update(const uint8_t* in, std::size_t n, uint8_t* out) noexcept {
  int len = 0;
  // GCM and ChaCha20-Poly1305 are stream modes in OpenSSL: all n bytes come out at once.
  return n == 0 || (EVP_DecryptUpdate(ctx_, out, &len, in, int(n)) == 1 && std::size_t(len) == n);
}

bool RecordCipher::finish(const uint8_t* tag) noexcept {
  uint8_t t[kTagLen];
  std::memcpy(t, tag, kTagLen);
  int fin = 0;
  uint8_t none[16];
  const bool ok = EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, int(kTagLen), t) == 1 &&
                  EVP_DecryptFinal_ex(ctx_, none, &fin) == 1;  // the tag is checked here
  if (ok) ++seq_;
  return ok;
}

OpenStatus RecordCipher::inner13(uint8_t* plain, std::size_t n, uint8_t* type,
                                 std::size_t* len) noexcept {
  while (n > 0 && plain[n - 1] == 0) --n;     // zero padding (RFC 8446 §5.4)
  if (n == 0) return OpenStatus::kMalformed;  // no content type: unexpected_message
  *type = plain[n - 1];
  *len = n - 1;
  return OpenStatus::kOk;
}

OpenStatus RecordCipher::open13(const uint8_t* hdr, const uint8_t* body, std::size_t body_len,
                                uint8_t* out, uint8_t* type, std::size_t* len) noexcept {
  if (!ready_) return OpenStatus::kNoKey;
  if (body_len < kTagLen + 1) return OpenStatus::kMalformed;
  const std::size_t ct = body_len - kTagLen;
  uint8_t tag[kTagLen];  // copied first: `out` may alias `body`
  std::memcpy(tag, body + ct, kTagLen);
  if (!begin13(hdr) || !update(body, ct, out)) return OpenStatus::kMalformed;
  if (!finish(tag)) return OpenStatus::kAuthFailure;
  return inner13(out, ct, type, len);
}

OpenStatus RecordCipher::open12(const uint8_t* hdr, const uint8_t* body, std::size_t body_len,
                                uint8_t* out, const uint8_t** data, std::size_t* len) noexcept {
  if (!ready_) return OpenStatus::kNoKey;
  if (body_len < explicit_len_ + kTagLen) return OpenStatus::kMalformed;
  const std::size_t plain = body_len - explicit_len_ - kTagLen;
  uint8_t tag[kTagLen];
  std::memcpy(tag, body + explicit_len_ + plain, kTagLen);
  // Same offset for in and out: EVP refuses partially overlapping buffers.
  uint8_t* dst = out + explicit_len_;
  if (!begin12(hdr, body, plain) || !update(body + explicit_len_, plain, dst)) {
    return OpenStatus::kMalformed;
  }
  if (!finish(tag)) return OpenStatus::kAuthFailure;
  *data = dst;
  *len = plain;
  return OpenStatus::kOk;
}

}  // namespace dc::inspect::tls
