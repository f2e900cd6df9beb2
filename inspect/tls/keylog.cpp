// NSS key log line parsing (RFC 9850 §2): label, client random and secret, with exact errors.
#include "inspect/tls/keylog.hpp"

#include <openssl/crypto.h>

#include <string>

#include "base/hash.hpp"

namespace dc::inspect::tls {
namespace {

struct LabelName {
  std::string_view text;
  KeyLabel label;
};
constexpr LabelName kLabels[] = {
    {"CLIENT_RANDOM", KeyLabel::kClientRandom},
    {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", KeyLabel::kClientHandshakeTraffic},
    {"SERVER_HANDSHAKE_TRAFFIC_SECRET", KeyLabel::kServerHandshakeTraffic},
    {"CLIENT_TRAFFIC_SECRET_0", KeyLabel::kClientTraffic0},
    {"SERVER_TRAFFIC_SECRET_0", KeyLabel::kServerTraffic0},
    {"CLIENT_EARLY_TRAFFIC_SECRET", KeyLabel::kClientEarlyTraffic},
    {"EXPORTER_SECRET", KeyLabel::kExporter},
    {"EARLY_EXPORTER_SECRET", KeyLabel::kEarlyExporter},
    {"CLIENT_TRAFFIC_SECRET_N", KeyLabel::kClientTrafficN},
    {"SERVER_TRAFFIC_SECRET_N", KeyLabel::kServerTrafficN},
};

Error invalid(std::string message) { return make_error(ErrorCode::kInvalid, std::move(message)); }

// Splits "a b c" at single spaces into exactly three fields.
bool split3(std::string_view line, std::string_view f[3]) noexcept {
  for (int i = 0; i < 2; ++i) {
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) return false;
    f[i] = line.substr(0, sp);
    line.remove_prefix(sp + 1);
  }
  f[2] = line;
  return f[2].find(' ') == std::string_view::npos;
}

}  // namespace

const char* key_label_name(KeyLabel l) noexcept {
  for (const auto& n : kLabels) {
    if (n.label == l) return n.text.data();
  }
  return "?";
}

bool key_label_used(KeyLabel l) noexcept {
  switch (l) {
    case KeyLabel::kClientRandom:
    case KeyLabel::kClientHandshakeTraffic:
    case KeyLabel::kServerHandshakeTraffic:
    case KeyLabel::kClientTraffic0:
    case KeyLabel::kServerTraffic0:
      return true;
    default:
      return false;
  }
}

void KeyLogEntry::wipe() noexcept {
  OPENSSL_cleanse(secret.data(), secret.size());
  secret_len = 0;
}

Result<std::optional<KeyLogEntry>> parse_keylog_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.empty() || line.front() == '#') return std::optional<KeyLogEntry>{};
  std::string_view f[3];
  if (!split3(line, f)) {
    return invalid(
        "key log line needs three fields separated by single spaces: LABEL "
        "CLIENT_RANDOM SECRET");
  }
  if (f[0] == "RSA") {
    return invalid(
        "RSA key log lines (pre-master secret keyed by RSA ciphertext) are not "
        "supported: use a TLS library that logs CLIENT_RANDOM");
  }
  KeyLogEntry e;
  bool known = false;
  for (const auto& n : kLabels) {
    if (n.text == f[0]) {
      e.label = n.label;
      known = true;
    }
  }
  if (!known) return invalid("unknown key log label \"" + std::string(f[0].substr(0, 64)) + "\"");
  if (f[1].size() != 2 * kRandomLen || !base::from_hex(f[1], e.client_random.data())) {
    return invalid("client random must be 64 hex digits (32 bytes)");
  }
  const std::size_t n = f[2].size() / 2;
  const bool tls12 = e.label == KeyLabel::kClientRandom;
  if (tls12 ? f[2].size() != 96 : (f[2].size() != 64 && f[2].size() != 96)) {
    return invalid(tls12 ? "CLIENT_RANDOM secret must be 96 hex digits (48-byte master secret)"
                         : "TLS 1.3 secret must be 64 or 96 hex digits (32 or 48 bytes)");
  }
  if (!base::from_hex(f[2], e.secret.data())) {
    e.wipe();
    return invalid("secret is not hex");
  }
  e.secret_len = uint8_t(n);
  e.line_hash = base::sha256(line);
  return std::optional<KeyLogEntry>{e};
}

}  // namespace dc::inspect::tls
