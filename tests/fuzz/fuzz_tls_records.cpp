// libFuzzer target for inspect/tls (record layer, handshake tracking, key schedule, decryption).
//
// Two real connections are made once at start-up with OpenSSL (tests/support/tls_session: TLS 1.3
// AES-128-GCM with KeyUpdates, TLS 1.2 ChaCha20-Poly1305; small records). Byte 0 of the input picks
// the connection and a split seed; the rest is a list of 4-byte edits (24-bit position in the
// transcript, XOR mask) applied to the recorded bytes. The session is fed the edited transcript,
// with the connection's escrowed keys installed once its ClientHello is seen. Invariants:
//  - decrypted data is always a prefix of what the peer really sent (AEAD: an edit can only stop
//    a direction, never change the plaintext), and all of it when nothing was edited;
//  - fed whole or cut at pseudo-random points, the outputs and conditions are identical.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "inspect/tls/key_store.hpp"
#include "inspect/tls/session.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/support/tls_session.hpp"

using namespace dc::inspect::tls;

namespace {

struct Conn {
  dc::test::TlsTranscript t;
  std::unique_ptr<KeyStore> keys;
};

struct World {
  std::unique_ptr<Crypto> crypto;
  Conn conns[2];
  std::unique_ptr<Session> session;
};

Conn make_conn(bool tls13) {
  dc::test::TlsSessionOptions o;
  o.tls13 = tls13;
  o.ciphersuites = "TLS_AES_128_GCM_SHA256";
  o.cipher_list = "ECDHE-RSA-CHACHA20-POLY1305";
  o.max_fragment = 512;
  using S = dc::test::TlsStep;
  o.steps = {{S::kClientWrite, std::string(1500, 'a')}, {S::kServerWrite, "ok"}};
  if (tls13) {
    o.steps.push_back({S::kClientKeyUpdate, "", true});
    o.steps.push_back({S::kClientWrite, "after update"});
    o.steps.push_back({S::kServerWrite, "server after update"});
  }
  auto r = dc::test::make_tls_session(o);
  CHECK(r.has_value());
  Conn c{std::move(*r), nullptr};
  auto ks = KeyStore::create(4, 1000);
  CHECK(ks.has_value());
  c.keys = std::move(*ks);
  std::istringstream in(c.t.keylog);
  std::string line;
  while (std::getline(in, line)) {
    auto e = parse_keylog_line(line);
    CHECK(e.has_value());
    if (e->has_value()) (void)c.keys->insert(**e, 0);
  }
  return c;
}

World& world() {
  static World* w = [] {
    auto* x = new World;
    auto c = Crypto::create();
    CHECK(c.has_value());
    x->crypto = std::move(*c);
    x->conns[0] = make_conn(true);
    x->conns[1] = make_conn(false);
    x->session = std::make_unique<Session>(*x->crypto);
    return x;
  }();
  return *w;
}

struct Collect : PlaintextSink {
  std::string out[2];
  void on_plaintext(Direction d, std::span<const uint8_t> b) noexcept override {
    out[int(d)].append(reinterpret_cast<const char*>(b.data()), b.size());
  }
};

struct Outcome {
  std::string out[2];
  Condition cond[2];
  Phase phase[2];
  uint64_t offset[2];
};

Outcome run(const Conn& c, const std::vector<dc::test::TlsChunk>& chunks, uint32_t seed) {
  Session& s = *world().session;
  s.reset();
  Collect sink;
  bool installed = false;
  for (const auto& ch : chunks) {
    const auto* p = reinterpret_cast<const uint8_t*>(ch.bytes.data());
    std::size_t left = ch.bytes.size();
    while (left > 0) {
      std::size_t n = left;
      if (seed != 0) {
        seed = seed * 1103515245u + 12345u;
        n = std::min<std::size_t>(left, 1 + (seed >> 16) % 700);
      }
      s.feed(ch.from_client ? Direction::kClientToServer : Direction::kServerToClient, {p, n},
             sink);
      p += n;
      left -= n;
      if (!installed && s.has_client_random()) {
        if (const KeySet* k = c.keys->lookup(s.client_random(), 1)) installed = s.install_keys(*k);
      }
    }
  }
  Outcome o;
  for (int d = 0; d < 2; ++d) {
    o.out[d] = std::move(sink.out[d]);
    o.cond[d] = s.condition(Direction(d));
    o.phase[d] = s.phase(Direction(d));
    o.offset[d] = s.next_offset(Direction(d));
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* in, std::size_t size) {
  if (size < 1) return 0;
  const Conn& c = world().conns[in[0] & 1];
  std::vector<dc::test::TlsChunk> chunks = c.t.chunks;
  std::size_t total = 0;
  for (const auto& ch : chunks) total += ch.bytes.size();
  const std::size_t edits = (size - 1) / 4;
  for (std::size_t e = 0; e < edits; ++e) {
    const uint8_t* p = in + 1 + 4 * e;
    std::size_t pos = (std::size_t(p[0]) << 16 | std::size_t(p[1]) << 8 | p[2]) % total;
    for (auto& ch : chunks) {
      if (pos < ch.bytes.size()) {
        ch.bytes[pos] = char(ch.bytes[pos] ^ p[3]);
        break;
      }
      pos -= ch.bytes.size();
    }
  }
  const Outcome whole = run(c, chunks, 0);
  const Outcome split = run(c, chunks, 1 + (in[0] >> 1));
  const std::string* sent[2] = {&c.t.client_sent, &c.t.server_sent};
  bool edited = false;
  for (std::size_t i = 0; i < chunks.size(); ++i) edited |= chunks[i].bytes != c.t.chunks[i].bytes;
  for (int d = 0; d < 2; ++d) {
    CHECK(whole.out[d] == split.out[d]);
    CHECK(whole.cond[d] == split.cond[d]);
    CHECK(whole.phase[d] == split.phase[d]);
    CHECK(whole.offset[d] == split.offset[d]);
    CHECK(sent[d]->compare(0, whole.out[d].size(), whole.out[d]) == 0);
    if (!edited) {
      CHECK(whole.out[d] == *sent[d]);
      CHECK(whole.cond[d] == Condition::kNone);
    }
  }
  return 0;
}
