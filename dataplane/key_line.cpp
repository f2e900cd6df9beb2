// Key log lines for the key hand-off (dataplane/key_line.hpp): checked and parsed with the
// decryptor's own parser; the status of a rejected line comes from a field-by-field check.
#include "dataplane/key_line.hpp"

#include <string.h>  // explicit_bzero (glibc)

namespace dc::dataplane {
namespace {

// Valid key log labels that carry nothing the decryption step uses: OpenSSL's KeyUpdate lines
// (the generation is derived from *_SECRET_0 instead), legacy RSA pre-master lines, ECH.
constexpr std::string_view kIgnoredLabels[] = {"CLIENT_TRAFFIC_SECRET_N", "SERVER_TRAFFIC_SECRET_N",
                                               "RSA", "ECH_SECRET", "ECH_CONFIG"};

bool is_hex(std::string_view s) noexcept {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

// Which field of a line the parser rejected (the parser's message is for people; the intake
// counts and logs a status). Only called for lines the parser rejected.
KeyLineStatus classify(std::string_view line) noexcept {
  const std::size_t a = line.find(' ');
  const std::string_view label = line.substr(0, a);
  for (auto ign : kIgnoredLabels)
    if (ign == label) return KeyLineStatus::kIgnored;
  bool known = false;
  for (std::size_t i = 0; i < inspect::tls::kKeyLabelCount; ++i)
    known |= label == key_label_name(static_cast<KeyLabel>(i));
  if (!known) return KeyLineStatus::kBadLabel;
  if (a == std::string_view::npos) return KeyLineStatus::kBadFields;
  const std::size_t b = line.find(' ', a + 1);
  if (b == std::string_view::npos || line.find(' ', b + 1) != std::string_view::npos)
    return KeyLineStatus::kBadFields;
  const std::string_view random = line.substr(a + 1, b - a - 1);
  if (random.size() != 2 * kClientRandomBytes || !is_hex(random)) return KeyLineStatus::kBadRandom;
  return KeyLineStatus::kBadSecret;
}

}  // namespace

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

KeyLineStatus parse_key_line(std::string_view line, KeyLine& out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto r = inspect::tls::parse_keylog_line(line);
  if (!r) return classify(line);
  if (!r.value().has_value()) return KeyLineStatus::kIgnored;  // blank or comment
  inspect::tls::KeyLogEntry& e = *r.value();
  const KeyLabel l = e.label;
  if (l == KeyLabel::kClientTrafficN || l == KeyLabel::kServerTrafficN) {
    e.wipe();
    return KeyLineStatus::kIgnored;
  }
  out.entry = e;
  e.wipe();
  return KeyLineStatus::kAccepted;
}

void wipe_bytes(void* p, std::size_t n) noexcept { explicit_bzero(p, n); }

void wipe_key_line(KeyLine& k) noexcept { explicit_bzero(&k, sizeof k); }

}  // namespace dc::dataplane
