#pragma once
// Passive TLS decryption of one TCP connection with escrowed keys: follows the two in-order byte
// streams (after the reorderer), frames records across segments, reads the hellos, installs the
// keys of the key log (TLS 1.3 traffic secrets or the TLS 1.2 master secret), follows the key
// schedule (1.3: handshake keys -> Finished -> application keys -> KeyUpdate; 1.2: CCS) and hands
// the decrypted application data of each direction to a sink, record by record. The original
// bytes are never modified: this works on a copy of the stream.
//
// Conditions (named, per direction, sticky once they stop a direction): no key (yet), record
// authentication failure, unsupported version / suite / feature, malformed record / handshake.
//
// Keys arriving late: when a protected record needs a key the session does not have, the
// direction *blocks* at the start of that record (condition kNoKey): it consumes nothing more and
// next_offset(d) is the stream offset of that record. Once install_keys() supplies the key, the
// caller feeds that direction again from next_offset(d) (the bytes it held), and decryption
// continues from that very record.
//
// Threads: one Session per flow, used by the worker owning the flow; the Crypto is that worker's.
// Memory: fixed, ~2 x 22 KiB (a record buffer of 2^14 + 2048 + 5 bytes and a handshake prefix
// per direction), no allocation per record. A protected record that arrives in pieces is
// decrypted piece by piece into the record buffer (no reassembly copy) and released only once
// its tag verified; one that arrives whole is decrypted straight from the input. The first key
// installed in a direction creates its EVP_CIPHER_CTX (OpenSSL allocates there, off the per-record
// path); every later key of the direction reuses it. Secrets are wiped (OPENSSL_cleanse) by reset()
// and the destructor.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "inspect/tls/crypto.hpp"
#include "inspect/tls/handshake.hpp"
#include "inspect/tls/key_store.hpp"

namespace dc::inspect::tls {

enum class Direction : uint8_t { kClientToServer = 0, kServerToClient = 1 };

enum class Condition : uint8_t {
  kNone,
  kNoKey,               // a protected record needs a key not installed (yet): direction blocked
  kAuthFailure,         // a record failed AEAD authentication with an escrowed key
  kUnsupportedVersion,  // SSL 3.0 / TLS 1.0 / 1.1 or an unknown version
  kUnsupportedSuite,    // not an AEAD suite we decrypt (CBC, CCM, NULL, ...)
  kUnsupportedFeature,  // 0-RTT early data, TLS 1.2 renegotiation, heartbeat
  kMalformedRecord,     // record framing or protected content invalid (not TLS, bad length...)
  kMalformedHandshake,  // a hello that does not parse, HRR randoms that differ, ...
};
const char* condition_name(Condition c) noexcept;

enum class Phase : uint8_t {
  kPlain,        // hellos in the clear
  kHandshake,    // TLS 1.3 handshake traffic keys
  kApplication,  // TLS 1.3 application keys (any generation) / TLS 1.2 after ChangeCipherSpec
  kClosed,       // close_notify or a fatal alert seen: the direction ended
  kStopped,      // a condition stopped decryption of this direction
};
const char* phase_name(Phase p) noexcept;

// Receives decrypted application data, in stream order, one authenticated record at a time.
class PlaintextSink {
 public:
  virtual void on_plaintext(Direction d, std::span<const uint8_t> data) noexcept = 0;

 protected:
  ~PlaintextSink() = default;
};

struct SessionCounters {
  uint64_t records = 0;          // records framed (both directions)
  uint64_t decrypted = 0;        // protected records that authenticated
  uint64_t plaintext_bytes = 0;  // application data bytes handed to the sink
  uint64_t key_updates = 0;      // TLS 1.3 KeyUpdates followed
  uint64_t ccs_dropped = 0;      // TLS 1.3 middlebox-compatibility CCS records
  uint64_t ignored_bytes = 0;    // bytes fed to a blocked, closed or stopped direction
};

inline constexpr std::size_t kMaxRecordBody = 16384 + 2048;  // RFC 5246 §6.2.3

class Session {
 public:
  explicit Session(Crypto& crypto) noexcept : crypto_(&crypto) {}
  ~Session() { reset(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Feeds the next in-order bytes of direction d. Decrypted application data goes to `sink`.
  // Returns the condition of the direction after these bytes (kNone while all is well).
  Condition feed(Direction d, std::span<const uint8_t> bytes, PlaintextSink& sink) noexcept;
  // Installs the escrowed secrets for this connection. False (nothing installed) until the
  // ClientHello was seen or when keys.client_random is not this connection's. Unblocks the
  // directions waiting for these keys (see the header comment).
  bool install_keys(const KeySet& keys) noexcept;
  // Forgets everything (wiping secrets and keys); the session can track a new connection.
  void reset() noexcept;

  bool has_client_random() const noexcept { return have_client_hello_; }
  const ClientRandom& client_random() const noexcept { return hello_.random; }
  std::span<const uint16_t> offered_suites() const noexcept {
    return {hello_.suites.data(), hello_.suite_count};
  }
  uint16_t version() const noexcept { return version_; }  // 0x0303, 0x0304; 0 before ServerHello
  const SuiteInfo* suite() const noexcept { return suite_; }
  uint16_t suite_id() const noexcept { return server_.suite; }
  std::string_view alpn() const noexcept { return {server_.alpn.data(), server_.alpn_len}; }
  bool keys_installed() const noexcept { return keys_.present != 0; }

  Phase phase(Direction d) const noexcept { return dir(d).phase; }
  bool blocked(Direction d) const noexcept { return dir(d).blocked; }
  Condition condition(Direction d) const noexcept { return dir(d).condition; }
  uint64_t next_offset(Direction d) const noexcept { return dir(d).offset; }
  // SHA-256 of the key log line whose secret protects direction d now (TLS 1.2: CLIENT_RANDOM;
  // 1.3: the traffic secret of the current phase; KeyUpdates derive from it), or nullptr.
  const LineHash* key_line_hash(Direction d) const noexcept;
  const SessionCounters& counters() const noexcept { return counters_; }

 private:
  struct Dir {
    std::array<uint8_t, 5> hdr{};
    uint8_t hdr_have = 0;
    uint32_t body_have = 0;
    uint64_t offset = 0;     // stream offset of the next byte to consume
    uint64_t rec_start = 0;  // stream offset of the current record's header
    Phase phase = Phase::kPlain;
    Condition condition = Condition::kNone;
    bool blocked = false;
    bool update_pending = false;  // KeyUpdate or Finished ends this record: switch after it
    bool streaming = false;       // the current protected record is decrypted as it arrives
    uint8_t generation = 0;       // TLS 1.3 application secret generation
    int8_t key_slot = -1;         // KeySet slot of the secret in use (evidence)
    std::array<uint8_t, kMaxSecretLen> app_secret{};  // TLS 1.3 current application secret
    RecordCipher cipher;
    HandshakeReader hs;
    std::array<uint8_t, kMaxRecordBody> body{};
  };
  Dir& dir(Direction d) noexcept { return dirs_[std::size_t(d)]; }
  const Dir& dir(Direction d) const noexcept { return dirs_[std::size_t(d)]; }

  std::size_t consume(Direction d, const uint8_t* p, std::size_t n) noexcept;
  bool on_header(Direction d) noexcept;
  void on_record(Direction d, const uint8_t* body, std::size_t len) noexcept;
  void on_plain_record(Direction d, const uint8_t* body, std::size_t len) noexcept;
  void on_protected_record(Direction d, const uint8_t* body, std::size_t len) noexcept;
  bool begin_stream(Direction d) noexcept;
  std::size_t stream_body(Direction d, const uint8_t* p, std::size_t n) noexcept;
  void finish_stream(Direction d) noexcept;
  void opened(Direction d, OpenStatus st, uint8_t type, const uint8_t* data,
              std::size_t n) noexcept;
  void on_content(Direction d, uint8_t type, const uint8_t* data, std::size_t len) noexcept;
  bool on_handshake_message(Direction d, const HandshakeMessage& m) noexcept;
  bool on_server_hello(const HandshakeMessage& m) noexcept;
  void after_record(Direction d) noexcept;
  bool needs_key(Direction d, uint8_t type) const noexcept;
  void enter_phase(Direction d, Phase p) noexcept;
  bool setup_key(Direction d) noexcept;
  bool setup_tls13(Direction d, std::span<const uint8_t> secret) noexcept;
  bool setup_tls12(Direction d) noexcept;
  void stop(Direction d, Condition c) noexcept;
  void block(Direction d) noexcept;

  Crypto* crypto_;
  PlaintextSink* sink_ = nullptr;  // valid during feed()
  std::array<Dir, 2> dirs_{};
  KeySet keys_{};
  ClientHelloInfo hello_{};
  ServerHelloInfo server_{};
  const SuiteInfo* suite_ = nullptr;
  uint16_t version_ = 0;
  bool have_client_hello_ = false;
  bool have_server_hello_ = false;
  SessionCounters counters_{};
};

}  // namespace dc::inspect::tls
