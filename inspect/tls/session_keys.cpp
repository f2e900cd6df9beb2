// Session: the key schedule. Which key protects which record of each direction (RFC 8446 §2,
// §4.4.4, §4.6.3, §7; RFC 5246 §6.3, §7.1), installing escrowed secrets and deriving the keys.
#include <openssl/crypto.h>

#include <cstring>

#include "inspect/tls/session.hpp"

namespace dc::inspect::tls {
namespace {

constexpr Direction kC2s = Direction::kClientToServer;
constexpr Direction kS2c = Direction::kServerToClient;

// Key material wiped when the function that derived it returns.
template <std::size_t N>
struct Scrubbed {
  std::array<uint8_t, N> b{};
  ~Scrubbed() { OPENSSL_cleanse(b.data(), N); }
};

}  // namespace

bool Session::on_handshake_message(Direction d, const HandshakeMessage& m) noexcept {
  Dir& s = dir(d);
  if (s.phase == Phase::kPlain) {
    if (d == kC2s && m.type == kHsClientHello) {
      ClientHelloInfo ch;
      if (!parse_client_hello(m.body, ch)) return stop(d, Condition::kMalformedHandshake), false;
      // A second ClientHello (after HelloRetryRequest) keeps the random (RFC 8446 §4.1.2).
      if (have_client_hello_ && ch.random != hello_.random) {
        return stop(d, Condition::kMalformedHandshake), false;
      }
      hello_ = ch;
      have_client_hello_ = true;
    } else if (d == kS2c && m.type == kHsServerHello) {
      return on_server_hello(m);
    }
    return true;  // Certificate, ServerKeyExchange, ... (TLS 1.2 plaintext flight): not needed
  }
  if (version_ == 0x0304) {
    if (s.phase == Phase::kHandshake && m.type == kHsFinished) {
      s.update_pending = true;  // application keys from the next record (RFC 8446 §7.2)
    } else if (s.phase == Phase::kHandshake && d == kS2c && m.type == kHsEncryptedExtensions) {
      if (!parse_encrypted_extensions(m.body, server_)) {
        return stop(d, Condition::kMalformedHandshake), false;
      }
    } else if (s.phase == Phase::kApplication && m.type == kHsKeyUpdate) {
      // request_update is 0 or 1 (RFC 8446 §4.6.3); either way the sender's keys change.
      if (m.length != 1 || m.body[0] > 1) return stop(d, Condition::kMalformedHandshake), false;
      s.update_pending = true;
    } else if (m.type == kHsClientHello || m.type == kHsServerHello ||
               m.type == kHsEndOfEarlyData) {
      return stop(d, Condition::kMalformedHandshake), false;
    }
    return true;
  }
  if (m.type == kHsHelloRequest || m.type == kHsClientHello) {
    return stop(d, Condition::kUnsupportedFeature), false;  // TLS 1.2 renegotiation
  }
  return true;
}

bool Session::on_server_hello(const HandshakeMessage& m) noexcept {
  ServerHelloInfo sh;
  if (!have_client_hello_ || have_server_hello_ || m.truncated() ||
      !parse_server_hello(m.body, sh)) {
    return stop(kS2c, Condition::kMalformedHandshake), false;
  }
  if (sh.hello_retry) {
    // HelloRetryRequest: no keys from it; the real ServerHello follows (RFC 8446 §4.1.4).
    if (sh.version != 0x0304) return stop(kS2c, Condition::kMalformedHandshake), false;
    return true;
  }
  server_ = sh;
  have_server_hello_ = true;
  if (sh.version != 0x0304 && sh.version != 0x0303) {
    stop(kC2s, Condition::kUnsupportedVersion);
    return stop(kS2c, Condition::kUnsupportedVersion), false;
  }
  version_ = sh.version;
  suite_ = find_suite(sh.suite);
  if (!suite_ || suite_->tls13 != (version_ == 0x0304)) {
    stop(kC2s, Condition::kUnsupportedSuite);
    return stop(kS2c, Condition::kUnsupportedSuite), false;
  }
  if (version_ == 0x0304) {
    dir(kS2c).update_pending = true;  // handshake keys right after the ServerHello record
    Dir& c = dir(kC2s);
    if (c.phase == Phase::kPlain) enter_phase(kC2s, Phase::kHandshake);
  }
  return true;
}

void Session::after_record(Direction d) noexcept {
  Dir& s = dir(d);
  if (!s.update_pending) return;
  s.update_pending = false;
  // A key change happens on a record boundary (RFC 8446 §5.1).
  if (!s.hs.idle()) return stop(d, Condition::kMalformedHandshake);
  if (s.phase == Phase::kPlain) return enter_phase(d, Phase::kHandshake);
  if (s.phase == Phase::kHandshake) return enter_phase(d, Phase::kApplication);
  // KeyUpdate: secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length).
  const std::size_t hl = hash_len(suite_->hash);
  Scrubbed<kMaxSecretLen> next;
  if (!crypto_->expand_label(suite_->hash, {s.app_secret.data(), hl}, "traffic upd",
                             {next.b.data(), hl})) {
    s.cipher.invalidate();
    return;
  }
  std::memcpy(s.app_secret.data(), next.b.data(), hl);
  ++s.generation;
  ++counters_.key_updates;
  if (!setup_tls13(d, {s.app_secret.data(), hl})) s.cipher.invalidate();
}

void Session::enter_phase(Direction d, Phase p) noexcept {
  Dir& s = dir(d);
  s.phase = p;
  s.generation = 0;
  s.cipher.invalidate();
  s.key_slot = -1;
  setup_key(d);  // without the secret yet, the next protected record blocks the direction
}

// Sets the key of the current phase from the installed secrets; false if they are missing.
bool Session::setup_key(Direction d) noexcept {
  Dir& s = dir(d);
  if (!suite_ || s.generation != 0) return false;
  if (version_ == 0x0303) return s.phase == Phase::kApplication && setup_tls12(d);
  KeyLabel label;
  if (s.phase == Phase::kHandshake) {
    label = d == kC2s ? KeyLabel::kClientHandshakeTraffic : KeyLabel::kServerHandshakeTraffic;
  } else if (s.phase == Phase::kApplication) {
    label = d == kC2s ? KeyLabel::kClientTraffic0 : KeyLabel::kServerTraffic0;
  } else {
    return false;
  }
  const KeySet::Secret* sec = keys_.get(label);
  if (!sec) return false;
  const std::size_t hl = hash_len(suite_->hash);
  // A secret of the wrong length for the suite cannot be this connection's: a failed key.
  if (sec->len != hl) return stop(d, Condition::kAuthFailure), false;
  s.key_slot = int8_t(KeySet::slot_of(label));
  if (s.phase == Phase::kApplication) std::memcpy(s.app_secret.data(), sec->bytes.data(), hl);
  return setup_tls13(d, {sec->bytes.data(), hl});
}

bool Session::setup_tls13(Direction d, std::span<const uint8_t> secret) noexcept {
  // write_key / write_iv = HKDF-Expand-Label(secret, "key"/"iv", "", len) (RFC 8446 §7.3).
  Scrubbed<kMaxKeyLen> key;
  Scrubbed<kNonceLen> iv;
  const std::span<uint8_t> k{key.b.data(), suite_->key_len};
  return crypto_->expand_label(suite_->hash, secret, "key", k) &&
         crypto_->expand_label(suite_->hash, secret, "iv", iv.b) &&
         dir(d).cipher.set_key(*crypto_, *suite_, k, iv.b);
}

bool Session::setup_tls12(Direction d) noexcept {
  const KeySet::Secret* master = keys_.get(KeyLabel::kClientRandom);
  if (!master || !have_server_hello_) return false;
  // key_block = client_write_key | server_write_key | client_write_IV | server_write_IV
  // (AEAD suites have no MAC keys; RFC 5246 §6.3).
  const std::size_t kl = suite_->key_len, il = suite_->fixed_iv_len;
  Scrubbed<2 * kMaxKeyLen + 2 * kNonceLen> block;
  const std::span<uint8_t> kb{block.b.data(), 2 * kl + 2 * il};
  if (!crypto_->tls12_key_block(suite_->hash, {master->bytes.data(), master->len}, server_.random,
                                hello_.random, kb)) {
    return false;
  }
  const bool c = d == kC2s;
  dir(d).key_slot = int8_t(KeySet::slot_of(KeyLabel::kClientRandom));
  return dir(d).cipher.set_key(*crypto_, *suite_, kb.subspan(c ? 0 : kl, kl),
                               kb.subspan(2 * kl + (c ? 0 : il), il));
}

bool Session::install_keys(const KeySet& keys) noexcept {
  if (!have_client_hello_ || keys.client_random != hello_.random) return false;
  keys_.client_random = keys.client_random;
  for (std::size_t i = 0; i < keys.secrets.size(); ++i) {
    if ((keys.present >> i & 1) == 0) continue;
    keys_.secrets[i] = keys.secrets[i];
    keys_.present |= uint8_t(1u << i);
  }
  for (Direction d : {kC2s, kS2c}) {
    Dir& s = dir(d);
    const bool keyed = s.phase == Phase::kHandshake || s.phase == Phase::kApplication;
    if (keyed && !s.cipher.ready() && setup_key(d) && s.blocked) {
      s.blocked = false;
      s.condition = Condition::kNone;
    }
  }
  return true;
}

const LineHash* Session::key_line_hash(Direction d) const noexcept {
  const Dir& s = dir(d);
  if (s.key_slot < 0) return nullptr;
  return &keys_.secrets[std::size_t(s.key_slot)].line_hash;
}

}  // namespace dc::inspect::tls
