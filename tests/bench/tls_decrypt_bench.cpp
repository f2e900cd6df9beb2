// Passive TLS decryption throughput per core (inspect/tls Session): a real OpenSSL connection
// whose client uploads 4 MiB in 16 KiB records, replayed through a Session with its escrowed
// keys (framing, handshake tracking, key derivation, AEAD open, sink). Compare with
//   openssl speed -evp aes-128-gcm -bytes 16384 -seconds 3
// (docs/architecture.md "TLS decryption with escrowed keys" has the figures of the last run).
#include <benchmark/benchmark.h>

#include <memory>
#include <sstream>

#include "inspect/tls/key_store.hpp"
#include "inspect/tls/session.hpp"
#include "tests/support/tls_session.hpp"

namespace {

using namespace dc::inspect::tls;

struct Count : PlaintextSink {
  std::size_t bytes = 0;
  void on_plaintext(Direction, std::span<const uint8_t> b) noexcept override { bytes += b.size(); }
};

// seg: bytes per feed() (1460 = one TCP segment of a 1500-byte MTU; 0 = whole writes, so every
// record is opened straight from the input without the reassembly copy).
void BM_DecryptUpload(benchmark::State& state, bool tls13, const char* suite, std::size_t seg) {
  dc::test::TlsSessionOptions o;
  o.tls13 = tls13;
  (tls13 ? o.ciphersuites : o.cipher_list) = suite;
  o.steps = {{dc::test::TlsStep::kClientWrite, std::string(4 << 20, 'x')}};
  auto t = dc::test::make_tls_session(o);
  auto crypto = Crypto::create();
  auto store = KeyStore::create(4, 1'000'000'000);
  if (!t || !crypto || !store) {
    state.SkipWithError("setup failed");
    return;
  }
  std::istringstream in(t->keylog);
  std::string line;
  while (std::getline(in, line)) {
    auto e = parse_keylog_line(line);
    if (e && e->has_value()) (void)(*store)->insert(**e, 0);
  }
  auto session = std::make_unique<Session>(**crypto);
  Count sink;
  for (auto _ : state) {
    session->reset();
    bool installed = false;
    for (const auto& c : t->chunks) {
      const auto* p = reinterpret_cast<const uint8_t*>(c.bytes.data());
      const Direction d = c.from_client ? Direction::kClientToServer : Direction::kServerToClient;
      for (std::size_t i = 0; i < c.bytes.size(); i += seg ? seg : c.bytes.size()) {
        session->feed(d, {p + i, std::min(c.bytes.size() - i, seg ? seg : c.bytes.size())}, sink);
      }
      if (!installed && session->has_client_random()) {
        installed = session->install_keys(*(*store)->lookup(session->client_random(), 1));
      }
    }
  }
  if (sink.bytes != state.iterations() * t->client_sent.size()) {
    state.SkipWithError("plaintext mismatch");
  }
  state.SetBytesProcessed(int64_t(state.iterations() * t->client_sent.size()));
}

BENCHMARK_CAPTURE(BM_DecryptUpload, tls13_aes128gcm_whole, true, "TLS_AES_128_GCM_SHA256", 0)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecryptUpload, tls13_aes128gcm_seg1460, true, "TLS_AES_128_GCM_SHA256", 1460)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecryptUpload, tls13_aes256gcm_seg1460, true, "TLS_AES_256_GCM_SHA384", 1460)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecryptUpload, tls13_chacha20_seg1460, true, "TLS_CHACHA20_POLY1305_SHA256",
                  1460)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecryptUpload, tls12_aes128gcm_seg1460, false, "ECDHE-RSA-AES128-GCM-SHA256",
                  1460)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
