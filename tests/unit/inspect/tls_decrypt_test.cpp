// Passive decryption of real TLS 1.2 / 1.3 connections (made in-process by OpenSSL,
// tests/support/tls_session) from their key log: every suite we support, KeyUpdates, HRR,
// records split across feeds and several per feed, late keys, wrong keys, tampering.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <random>
#include <sstream>
#include <string>

#include "inspect/tls/key_store.hpp"
#include "inspect/tls/session.hpp"
#include "tests/support/tls_pcap.hpp"
#include "tests/support/tls_session.hpp"

namespace dc::inspect::tls {
namespace {

using test::TlsStep;
constexpr Direction kC2s = Direction::kClientToServer;
constexpr Direction kS2c = Direction::kServerToClient;

struct Collect : PlaintextSink {
  std::string out[2];
  void on_plaintext(Direction d, std::span<const uint8_t> b) noexcept override {
    out[int(d)].append(reinterpret_cast<const char*>(b.data()), b.size());
  }
};

Crypto& crypto() {
  static std::unique_ptr<Crypto> c = [] {
    auto r = Crypto::create();
    return r ? std::move(*r) : nullptr;
  }();
  return *c;
}

std::unique_ptr<KeyStore> store_from(const std::string& keylog) {
  auto s = KeyStore::create(16, 1'000'000'000);
  std::istringstream in(keylog);
  std::string line;
  while (std::getline(in, line)) {
    auto e = parse_keylog_line(line);
    EXPECT_TRUE(e.has_value()) << line;
    if (e && e->has_value()) (void)(*s)->insert(**e, 0);
  }
  return std::move(*s);
}

// Plaintext comparison that reports sizes and the first difference, not megabytes of bytes.
::testing::AssertionResult same(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return ::testing::AssertionFailure()
         << "got " << got.size() << " bytes, want " << want.size() << ", first difference at " << i;
}

enum class Split { kWhole, kBytes, kRandom };

struct Tracker {
  std::unique_ptr<Session> session = std::make_unique<Session>(crypto());
  Collect sink;
};

// Feeds the transcript chunk by chunk in wire order, each chunk cut as `split` says; installs the
// keys from `store` (if any) as soon as the ClientHello random is known, like the pipeline.
void replay(Tracker& r, const test::TlsTranscript& t, KeyStore* store, Split split,
            uint32_t seed = 1) {
  std::mt19937 rng(seed);
  bool installed = false;
  for (const auto& c : t.chunks) {
    const auto* p = reinterpret_cast<const uint8_t*>(c.bytes.data());
    std::size_t left = c.bytes.size();
    while (left > 0) {
      std::size_t n = left;
      if (split == Split::kBytes) n = 1;
      if (split == Split::kRandom) n = std::min<std::size_t>(left, 1 + rng() % 1500);
      r.session->feed(c.from_client ? kC2s : kS2c, {p, n}, r.sink);
      p += n;
      left -= n;
      if (store && !installed && r.session->has_client_random()) {
        const KeySet* k = store->lookup(r.session->client_random(), 1);
        if (k) installed = r.session->install_keys(*k);
      }
    }
  }
}

test::TlsTranscript make(const test::TlsSessionOptions& o) {
  auto t = test::make_tls_session(o);
  EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().str());
  return t ? std::move(*t) : test::TlsTranscript{};
}

std::string pattern(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = char(seed + i * 31 + i / 7);
  return s;
}

// A conversation with big writes (several records per chunk) and KeyUpdates both ways, with and
// without update_requested (TLS 1.3 only).
std::vector<TlsStep> conversation(bool key_updates) {
  std::vector<TlsStep> s;
  s.push_back(
      {TlsStep::kClientWrite, "POST /upload HTTP/1.1\r\nHost: x\r\n\r\n" + pattern(40000, 1)});
  s.push_back({TlsStep::kServerWrite, "HTTP/1.1 200 OK\r\n\r\n" + pattern(20000, 2)});
  if (key_updates) {
    s.push_back({TlsStep::kClientKeyUpdate, "", true});
    s.push_back({TlsStep::kClientWrite, "after client update (requested)"});
    s.push_back({TlsStep::kServerWrite, pattern(3000, 3)});
    s.push_back({TlsStep::kServerKeyUpdate, "", false});
    s.push_back({TlsStep::kServerWrite, "after server update (not requested)"});
    s.push_back({TlsStep::kClientKeyUpdate, "", false});
    s.push_back({TlsStep::kClientWrite, pattern(17000, 4)});
  }
  return s;
}

struct SuiteCase {
  bool tls13;
  const char* name;  // OpenSSL name
  uint16_t id;
};

class TlsDecryptSuites : public ::testing::TestWithParam<SuiteCase> {};

TEST_P(TlsDecryptSuites, DecryptsBothDirectionsWhateverTheSplit) {
  const SuiteCase& sc = GetParam();
  test::TlsSessionOptions o;
  o.tls13 = sc.tls13;
  (sc.tls13 ? o.ciphersuites : o.cipher_list) = sc.name;
  o.steps = conversation(sc.tls13);
  const auto t = make(o);
  auto store = store_from(t.keylog);
  for (Split split : {Split::kWhole, Split::kBytes, Split::kRandom}) {
    Tracker r;
    replay(r, t, store.get(), split, 7);
    SCOPED_TRACE(int(split));
    EXPECT_EQ(r.session->version(), sc.tls13 ? 0x0304 : 0x0303);
    EXPECT_EQ(r.session->suite_id(), sc.id);
    EXPECT_TRUE(same(r.sink.out[0], t.client_sent));
    EXPECT_TRUE(same(r.sink.out[1], t.server_sent));
    for (Direction d : {kC2s, kS2c}) {
      EXPECT_EQ(r.session->condition(d), Condition::kNone);
      EXPECT_EQ(r.session->phase(d), Phase::kClosed);  // close_notify seen
      EXPECT_NE(r.session->key_line_hash(d), nullptr);
    }
    EXPECT_EQ(r.session->counters().key_updates, sc.tls13 ? 4u : 0u);  // 2 client + 2 server
    EXPECT_EQ(r.session->counters().plaintext_bytes, t.client_sent.size() + t.server_sent.size());
  }
}

INSTANTIATE_TEST_SUITE_P(Suites, TlsDecryptSuites,
                         ::testing::Values(SuiteCase{true, "TLS_AES_128_GCM_SHA256", 0x1301},
                                           SuiteCase{true, "TLS_AES_256_GCM_SHA384", 0x1302},
                                           SuiteCase{true, "TLS_CHACHA20_POLY1305_SHA256", 0x1303},
                                           SuiteCase{false, "ECDHE-RSA-AES128-GCM-SHA256", 0xC02F},
                                           SuiteCase{false, "ECDHE-RSA-AES256-GCM-SHA384", 0xC030},
                                           SuiteCase{false, "ECDHE-RSA-CHACHA20-POLY1305",
                                                     0xCCA8}));

TEST(TlsDecrypt, SmallRecordsManyPerSegment) {
  for (bool tls13 : {true, false}) {
    test::TlsSessionOptions o;
    o.tls13 = tls13;
    o.max_fragment = 512;
    o.steps = conversation(tls13);
    const auto t = make(o);
    auto store = store_from(t.keylog);
    Tracker r;
    replay(r, t, store.get(), Split::kRandom, 3);
    EXPECT_TRUE(same(r.sink.out[0], t.client_sent));
    EXPECT_TRUE(same(r.sink.out[1], t.server_sent));
    EXPECT_GT(r.session->counters().decrypted, 100u);
  }
}

TEST(TlsDecrypt, HelloRetryRequestAndAlpn) {
  test::TlsSessionOptions o;
  o.hello_retry = true;
  o.alpn = "h2";
  o.steps = conversation(false);
  const auto t = make(o);
  auto store = store_from(t.keylog);
  Tracker r;
  replay(r, t, store.get(), Split::kRandom, 5);
  EXPECT_TRUE(same(r.sink.out[0], t.client_sent));
  EXPECT_TRUE(same(r.sink.out[1], t.server_sent));
  EXPECT_EQ(r.session->alpn(), "h2");  // from EncryptedExtensions
  o.tls13 = false;
  o.hello_retry = false;
  const auto t12 = make(o);
  auto store12 = store_from(t12.keylog);
  Tracker r12;
  replay(r12, t12, store12.get(), Split::kWhole);
  EXPECT_EQ(r12.session->alpn(), "h2");  // from the ServerHello
  EXPECT_TRUE(same(r12.sink.out[0], t12.client_sent));
}

TEST(TlsDecrypt, NoKeyBlocksWithoutPlaintext) {
  for (bool tls13 : {true, false}) {
    test::TlsSessionOptions o;
    o.tls13 = tls13;
    o.steps = conversation(false);
    const auto t = make(o);
    Tracker r;
    replay(r, t, nullptr, Split::kRandom, 9);
    EXPECT_TRUE(r.sink.out[0].empty());
    EXPECT_TRUE(r.sink.out[1].empty());
    for (Direction d : {kC2s, kS2c}) {
      EXPECT_TRUE(r.session->blocked(d));
      EXPECT_EQ(r.session->condition(d), Condition::kNoKey);
      EXPECT_LT(r.session->next_offset(d), t.stream(d == kC2s).size());
    }
    EXPECT_EQ(r.session->counters().decrypted, 0u);
  }
}

// Keys arrive after all the traffic: install them, then feed each direction again from
// next_offset() (the bytes the pipeline held), and everything decrypts.
TEST(TlsDecrypt, LateKeysResumeFromTheHeldRecord) {
  for (bool tls13 : {true, false}) {
    test::TlsSessionOptions o;
    o.tls13 = tls13;
    o.steps = conversation(tls13);
    const auto t = make(o);
    Tracker r;
    replay(r, t, nullptr, Split::kWhole);
    auto store = store_from(t.keylog);
    const KeySet* k = store->lookup(r.session->client_random(), 1);
    ASSERT_NE(k, nullptr);
    ASSERT_TRUE(r.session->install_keys(*k));
    for (Direction d : {kC2s, kS2c}) {
      ASSERT_FALSE(r.session->blocked(d));
      const std::string s = t.stream(d == kC2s);
      const std::size_t from = r.session->next_offset(d);
      const auto* p = reinterpret_cast<const uint8_t*>(s.data());
      for (std::size_t i = from; i < s.size(); i += 1000) {
        r.session->feed(d, {p + i, std::min<std::size_t>(1000, s.size() - i)}, r.sink);
      }
    }
    EXPECT_TRUE(same(r.sink.out[0], t.client_sent));
    EXPECT_TRUE(same(r.sink.out[1], t.server_sent));
    EXPECT_EQ(r.session->condition(kC2s), Condition::kNone);
  }
}

std::string corrupt_secrets(const std::string& keylog) {
  std::istringstream in(keylog);
  std::string line, out;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') line.back() = line.back() == '0' ? '1' : '0';
    out += line + "\n";
  }
  return out;
}

TEST(TlsDecrypt, WrongKeyIsAnAuthenticationFailure) {
  for (bool tls13 : {true, false}) {
    test::TlsSessionOptions o;
    o.tls13 = tls13;
    o.steps = conversation(false);
    const auto t = make(o);
    auto store = store_from(corrupt_secrets(t.keylog));
    Tracker r;
    replay(r, t, store.get(), Split::kRandom, 11);
    EXPECT_TRUE(r.sink.out[0].empty());
    EXPECT_TRUE(r.sink.out[1].empty());
    for (Direction d : {kC2s, kS2c}) {
      EXPECT_EQ(r.session->condition(d), Condition::kAuthFailure);
      EXPECT_EQ(r.session->phase(d), Phase::kStopped);
    }
  }
}

// One flipped ciphertext byte in the client's application data: that record and everything
// after it in that direction are withheld; what came before and the other direction decrypt.
TEST(TlsDecrypt, TamperedRecordStopsItsDirection) {
  for (bool tls13 : {true, false}) {
    test::TlsSessionOptions o;
    o.tls13 = tls13;
    o.steps = {{TlsStep::kClientWrite, "first"},
               {TlsStep::kServerWrite, "reply"},
               {TlsStep::kClientWrite, pattern(30000, 9)}};
    auto t = make(o);
    auto store = store_from(t.keylog);
    // The last client chunk before the close is the 30000-byte write: flip a byte inside it.
    test::TlsChunk* last = nullptr;
    for (auto& c : t.chunks) {
      if (c.from_client && c.bytes.size() > 20000) last = &c;
    }
    ASSERT_NE(last, nullptr);
    last->bytes[100] ^= 0x40;
    Tracker r;
    replay(r, t, store.get(), Split::kRandom, 13);
    EXPECT_EQ(r.session->condition(kC2s), Condition::kAuthFailure);
    EXPECT_EQ(r.sink.out[0], "first");
    EXPECT_TRUE(same(r.sink.out[1], t.server_sent));
    EXPECT_EQ(r.session->condition(kS2c), Condition::kNone);
  }
}

TEST(TlsDecrypt, KeysForAnotherConnectionAreRefused) {
  test::TlsSessionOptions o;
  const auto a = make(o);
  const auto b = make(o);
  auto store_b = store_from(b.keylog);
  Tracker r;
  replay(r, a, nullptr, Split::kWhole);
  const KeySet* kb = store_b->lookup(r.session->client_random(), 1);
  EXPECT_EQ(kb, nullptr);  // keyed by the ClientHello random
  Tracker rb;
  replay(rb, b, nullptr, Split::kWhole);
  const KeySet* k = store_b->lookup(rb.session->client_random(), 1);
  ASSERT_NE(k, nullptr);
  EXPECT_FALSE(r.session->install_keys(*k));
  EXPECT_FALSE(r.session->keys_installed());
}

TEST(TlsDecrypt, NotTlsAndUnsupportedSuite) {
  Tracker r;
  const std::string http = "GET / HTTP/1.1\r\n\r\n";
  r.session->feed(kC2s, {reinterpret_cast<const uint8_t*>(http.data()), http.size()}, r.sink);
  EXPECT_EQ(r.session->condition(kC2s), Condition::kMalformedRecord);

  test::TlsSessionOptions o;
  o.tls13 = false;
  o.cipher_list = "ECDHE-RSA-AES128-SHA256";  // CBC: not decrypted
  const auto t = make(o);
  auto store = store_from(t.keylog);
  Tracker u;
  replay(u, t, store.get(), Split::kWhole);
  EXPECT_EQ(u.session->condition(kC2s), Condition::kUnsupportedSuite);
  EXPECT_EQ(u.session->condition(kS2c), Condition::kUnsupportedSuite);
  EXPECT_TRUE(u.sink.out[0].empty());
}

TEST(TlsDecrypt, ResetForgetsTheConnection) {
  test::TlsSessionOptions o;
  o.steps = conversation(false);
  const auto t = make(o);
  auto store = store_from(t.keylog);
  Tracker r;
  replay(r, t, store.get(), Split::kWhole);
  ASSERT_TRUE(same(r.sink.out[0], t.client_sent));
  r.session->reset();
  EXPECT_FALSE(r.session->has_client_random());
  EXPECT_FALSE(r.session->keys_installed());
  EXPECT_EQ(r.session->phase(kC2s), Phase::kPlain);
  r.sink = Collect{};
  replay(r, t, store.get(), Split::kRandom, 2);
  EXPECT_TRUE(same(r.sink.out[0], t.client_sent));
  EXPECT_TRUE(same(r.sink.out[1], t.server_sent));
}

// The capture writer (dc_tls_capture) round trip: read the pcap back with libpcap, take the TCP
// payloads by direction and decrypt them with the key log.
TEST(TlsDecrypt, PcapWriterRoundTrip) {
  test::TlsSessionOptions o;
  o.steps = conversation(true);
  const auto t = make(o);
  test::PcapOptions po;
  po.mss = 700;
  const std::string path = "/tmp/dc-tls-pcap-" + std::to_string(getpid()) + ".pcap";
  ASSERT_TRUE(test::write_tls_pcap(t, po, path).has_value());
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* pc =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  ASSERT_NE(pc, nullptr) << err;
  auto store = store_from(t.keylog);
  Tracker r;
  bool installed = false;
  int packets = 0;
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(pc, &h, &d) == 1) {
    ++packets;
    ASSERT_EQ(h->caplen, h->len);
    const std::size_t ip_len = std::size_t(d[16]) << 8 | d[17];
    const std::size_t payload = ip_len - 40;
    const bool from_client = (std::size_t(d[34]) << 8 | d[35]) == po.client_port;
    if (payload == 0) continue;
    r.session->feed(from_client ? kC2s : kS2c, {d + 54, payload}, r.sink);
    if (!installed && r.session->has_client_random()) {
      installed = r.session->install_keys(*store->lookup(r.session->client_random(), 1));
    }
  }
  pcap_close(pc);
  unlink(path.c_str());
  EXPECT_GT(packets, 100);
  EXPECT_TRUE(same(r.sink.out[0], t.client_sent));
  EXPECT_TRUE(same(r.sink.out[1], t.server_sent));
}

}  // namespace
}  // namespace dc::inspect::tls
