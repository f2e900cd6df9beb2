// Basic authentication of the metrics endpoint against an htpasswd-style file
// (appliance/metrics_auth.hpp).
#include "appliance/metrics_auth.hpp"

#include <crypt.h>
#include <strings.h>

#include <cstring>
#include <memory>
#include <string_view>

#include "base/file.hpp"

namespace dc::appliance {
namespace {

// crypt(3) of `password` with the salt and parameters of `hash`; "" when libcrypt refuses it.
std::string crypt_with(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on the server thread's stack
  std::memset(data.get(), 0, sizeof *data);
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof *data);
  if (out == nullptr || out[0] == '*') return {};
  return out;
}

bool same(const std::string& a, const std::string& b) {  // constant time for equal lengths
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with optional '=' padding; false on any other character.
bool b64_decode(std::string_view in, std::string& out) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = b64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return true;
}

}  // namespace

Result<BasicAuth> BasicAuth::load(const std::string& path) {
  auto text = base::read_file(path, {.max_bytes = base::kMaxKeyBytes});
  if (!text) return text.error();
  BasicAuth a;
  std::string_view rest = *text;
  for (int line = 1; !rest.empty(); ++line) {
    auto nl = rest.find('\n');
    std::string_view l = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty() || l.front() == '#') continue;
    auto colon = l.find(':');
    std::string where = path + ":" + std::to_string(line) + ": ";
    if (colon == 0 || colon == std::string_view::npos || colon + 1 == l.size())
      return make_error(where + "expected user:hash");
    std::string hash(l.substr(colon + 1));
    if (hash.front() != '$' || crypt_with("probe", hash).empty())
      return make_error(where +
                        "the hash is not a crypt(3) scheme libcrypt verifies; make it "
                        "with `htpasswd -nB USER` or `openssl passwd -6`");
    a.entries_.emplace_back(std::string(l.substr(0, colon)), std::move(hash));
  }
  if (a.entries_.empty()) return make_error(path + ": no user:hash line");
  return a;
}

bool BasicAuth::allows(const char* authorization) const {
  if (authorization == nullptr) return false;
  std::string_view h = authorization;
  if (h.size() < 6 || strncasecmp(h.data(), "Basic ", 6) != 0) return false;
  h.remove_prefix(6);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  std::string creds;
  if (h.size() > 1024 || !b64_decode(h, creds)) return false;
  auto colon = creds.find(':');
  if (colon == std::string::npos) return false;
  std::string user = creds.substr(0, colon), password = creds.substr(colon + 1);
  for (const auto& [u, hash] : entries_)
    if (u == user) return same(crypt_with(password, hash), hash);
  return false;
}

}  // namespace dc::appliance
