// Declarations: Ed25519 verification of approver signatures and approver public keys (OpenSSL 3
// EVP, pure Ed25519 as audit/crypto does; the policy module cannot use dc_audit, which needs it).
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

#include "base/file.hpp"
#include "policy/declarations.hpp"

namespace dc::policy {

namespace {
struct PkeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct MdFree {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Result<std::string> raw_of_pem(const std::string& pem) {
  auto read = [&](bool priv) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return Pkey(priv ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                     : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  };
  Pkey key = read(false);
  if (!key) key = read(true);
  if (!key) return make_error("not a PEM public key");
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519)
    return make_error("the key is not an Ed25519 key");
  std::string raw(32, '\0');
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(raw.data()), &len) !=
          1 ||
      len != 32)
    return make_error("cannot read the raw public key");
  return raw;
}
}  // namespace

std::string encode_base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

Result<std::string> decode_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0)
    return make_error("base64: length is not a multiple of 4");
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || (c == '=' && i + 2 >= text.size());
    if (!ok) return make_error("base64: invalid character");
  }
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return make_error("base64: invalid encoding");
  std::size_t len = static_cast<std::size_t>(n);  // padding decodes as zero bytes: drop them
  if (text.back() == '=') --len;
  if (text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

bool ed25519_verify(std::string_view raw_key, std::string_view message,
                    std::string_view signature) noexcept {
  if (raw_key.size() != 32 || signature.size() != 64) return false;
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                       reinterpret_cast<const unsigned char*>(raw_key.data()), 32));
  std::unique_ptr<EVP_MD_CTX, MdFree> ctx(EVP_MD_CTX_new());
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

Result<std::string> load_public_key(std::string_view value, const std::string& base_dir) {
  if (value.empty()) return make_error("empty");
  if (value.size() == 44 && value.back() == '=') {  // base64 of 32 bytes
    auto raw = decode_base64(value);
    if (!raw || raw->size() != 32) return make_error("not the base64 of a raw 32-byte Ed25519 key");
    return *raw;
  }
  std::string path(value);
  if (path.front() != '/') path = base_dir + "/" + path;
  auto pem = base::read_file(path, {.max_bytes = base::kMaxKeyBytes});
  if (!pem) return make_error(pem.error().message);
  auto raw = raw_of_pem(*pem);
  if (!raw) return make_error(path + ": " + raw.error().message);
  return raw;
}

}  // namespace dc::policy
