// The key intake's syntactic check of NSS key log lines (appliance/key_line.hpp).
#include "appliance/key_line.hpp"

#include <string.h>  // explicit_bzero (glibc)

#include "base/hash.hpp"

namespace dc::appliance {
namespace {

struct LabelInfo {
  std::string_view name;
  KeyLabel label;
  bool tls13;  // secret is 32 or 48 bytes (suite hash); otherwise exactly 48 (master secret)
};

constexpr LabelInfo kLabels[] = {
    {"CLIENT_RANDOM", KeyLabel::kClientRandom, false},
    {"CLIENT_EARLY_TRAFFIC_SECRET", KeyLabel::kClientEarlyTrafficSecret, true},
    {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", KeyLabel::kClientHandshakeTrafficSecret, true},
    {"SERVER_HANDSHAKE_TRAFFIC_SECRET", KeyLabel::kServerHandshakeTrafficSecret, true},
    {"CLIENT_TRAFFIC_SECRET_0", KeyLabel::kClientTrafficSecret0, true},
    {"SERVER_TRAFFIC_SECRET_0", KeyLabel::kServerTrafficSecret0, true},
    {"EXPORTER_SECRET", KeyLabel::kExporterSecret, true},
    {"EARLY_EXPORTER_SECRET", KeyLabel::kEarlyExporterSecret, true},
};

// Valid key log labels that carry nothing the decryption step uses: OpenSSL's KeyUpdate lines
// (the generation is derived from *_SECRET_0 instead), legacy RSA pre-master lines, ECH.
constexpr std::string_view kIgnoredLabels[] = {"CLIENT_TRAFFIC_SECRET_N", "SERVER_TRAFFIC_SECRET_N",
                                               "RSA", "ECH_SECRET", "ECH_CONFIG"};

}  // namespace

const char* key_label_name(KeyLabel l) noexcept {
  for (const auto& li : kLabels)
    if (li.label == l) return li.name.data();
  return "?";
}

const char* key_line_status_name(KeyLineStatus s) noexcept {
  switch (s) {
    case KeyLineStatus::kAccepted:
      return "accepted";
    case KeyLineStatus::kIgnored:
      return "ignored";
    case KeyLineStatus::kBadLabel:
      return "unknown label";
    case KeyLineStatus::kBadFields:
      return "not three space-separated fields";
    case KeyLineStatus::kBadRandom:
      return "client random is not 64 hex digits";
    case KeyLineStatus::kBadSecret:
      return "secret is not hex of the label's length";
  }
  return "?";
}

KeyLineStatus parse_key_line(std::string_view line, KeyLine& out) noexcept {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty() || line.front() == '#') return KeyLineStatus::kIgnored;
  std::size_t a = line.find(' ');
  std::string_view label = line.substr(0, a);
  const LabelInfo* info = nullptr;
  for (const auto& li : kLabels)
    if (li.name == label) info = &li;
  if (info == nullptr) {
    for (auto ign : kIgnoredLabels)
      if (ign == label) return KeyLineStatus::kIgnored;
    return KeyLineStatus::kBadLabel;
  }
  if (a == std::string_view::npos) return KeyLineStatus::kBadFields;
  std::size_t b = line.find(' ', a + 1);
  if (b == std::string_view::npos || line.find(' ', b + 1) != std::string_view::npos)
    return KeyLineStatus::kBadFields;
  std::string_view random = line.substr(a + 1, b - a - 1);
  std::string_view secret = line.substr(b + 1);
  KeyLine k;
  if (random.size() != 2 * kClientRandomBytes || !base::from_hex(random, k.client_random)) {
    wipe_key_line(k);
    return KeyLineStatus::kBadRandom;
  }
  bool len_ok = info->tls13 ? (secret.size() == 64 || secret.size() == 96) : secret.size() == 96;
  if (!len_ok || !base::from_hex(secret, k.secret)) {
    wipe_key_line(k);
    return KeyLineStatus::kBadSecret;
  }
  k.label = info->label;
  k.secret_len = static_cast<uint8_t>(secret.size() / 2);
  out = k;
  wipe_key_line(k);
  return KeyLineStatus::kAccepted;
}

void wipe_bytes(void* p, std::size_t n) noexcept { explicit_bzero(p, n); }

void wipe_key_line(KeyLine& k) noexcept { explicit_bzero(&k, sizeof k); }

}  // namespace dc::appliance
