// ClientHello / ServerHello / EncryptedExtensions field extraction for the passive decryptor.
#include "inspect/tls/handshake.hpp"

#include <cstring>

namespace dc::inspect::tls {
namespace {

// SHA-256("HelloRetryRequest"), the ServerHello random of an HRR (RFC 8446 §4.1.3).
constexpr uint8_t kHrrRandom[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

constexpr uint16_t kExtAlpn = 16;
constexpr uint16_t kExtSupportedVersions = 43;

// A bounds-checked cursor: every read fails (and stays failed) past the end.
struct Cursor {
  std::span<const uint8_t> b;
  std::size_t at = 0;
  bool ok = true;
  bool need(std::size_t n) noexcept {
    if (!ok || b.size() - at < n) ok = false;
    return ok;
  }
  uint32_t u8() noexcept { return need(1) ? b[at++] : 0; }
  uint32_t u16() noexcept {
    if (!need(2)) return 0;
    at += 2;
    return uint32_t(b[at - 2]) << 8 | b[at - 1];
  }
  std::span<const uint8_t> take(std::size_t n) noexcept {
    if (!need(n)) return {};
    at += n;
    return b.subspan(at - n, n);
  }
};

// ALPN extension_data (RFC 7301 §3.1) in a server message: exactly one protocol name.
bool read_alpn(std::span<const uint8_t> data, ServerHelloInfo& out) noexcept {
  Cursor c{data};
  const uint32_t list = c.u16();
  const uint32_t n = c.u8();
  auto name = c.take(n);
  if (!c.ok || list != n + 1 || n == 0 || c.at != data.size()) return false;
  out.alpn_len = uint8_t(std::min<std::size_t>(n, kMaxAlpn));
  std::memcpy(out.alpn.data(), name.data(), out.alpn_len);
  return true;
}

// Walks an extension block; for each extension calls f(type, data) which returns false on error.
template <class F>
bool for_each_extension(Cursor& c, F&& f) noexcept {
  if (c.at == c.b.size()) return true;  // extensions are optional in TLS 1.2
  const uint32_t total = c.u16();
  auto exts = c.take(total);
  if (!c.ok || c.at != c.b.size()) return false;
  Cursor e{exts};
  while (e.ok && e.at < exts.size()) {
    const uint16_t type = uint16_t(e.u16());
    auto data = e.take(e.u16());
    if (!e.ok || !f(type, data)) return false;
  }
  return e.ok;
}

}  // namespace

bool parse_client_hello(std::span<const uint8_t> body, ClientHelloInfo& out) noexcept {
  Cursor c{body};
  c.u16();  // legacy_version
  auto random = c.take(kRandomLen);
  c.take(c.u8());  // legacy_session_id
  const uint32_t suites_len = c.u16();
  auto suites = c.take(suites_len);
  if (!c.ok || suites_len % 2 != 0 || suites_len == 0) return false;
  std::memcpy(out.random.data(), random.data(), kRandomLen);
  out.suite_count = 0;
  for (std::size_t i = 0; i + 1 < suites.size() && out.suite_count < kMaxOfferedSuites; i += 2) {
    out.suites[out.suite_count++] = uint16_t(suites[i] << 8 | suites[i + 1]);
  }
  return true;
}

bool parse_server_hello(std::span<const uint8_t> body, ServerHelloInfo& out) noexcept {
  Cursor c{body};
  out.version = uint16_t(c.u16());
  auto random = c.take(kRandomLen);
  c.take(c.u8());  // legacy_session_id_echo
  out.suite = uint16_t(c.u16());
  c.u8();  // legacy_compression_method
  if (!c.ok) return false;
  std::memcpy(out.random.data(), random.data(), kRandomLen);
  out.hello_retry = std::memcmp(random.data(), kHrrRandom, sizeof kHrrRandom) == 0;
  out.alpn_len = 0;
  return for_each_extension(c, [&](uint16_t type, std::span<const uint8_t> data) {
    if (type == kExtSupportedVersions) {
      if (data.size() != 2) return false;  // ServerHello: one selected_version (§4.2.1)
      out.version = uint16_t(data[0] << 8 | data[1]);
    } else if (type == kExtAlpn) {
      return read_alpn(data, out);
    }
    return true;
  });
}

bool parse_encrypted_extensions(std::span<const uint8_t> body, ServerHelloInfo& out) noexcept {
  Cursor c{body};
  if (body.empty()) return false;
  return for_each_extension(c, [&](uint16_t type, std::span<const uint8_t> data) {
    return type != kExtAlpn || read_alpn(data, out);
  });
}

}  // namespace dc::inspect::tls
