#pragma once
// Test support: a real TLS connection made in-process with OpenSSL (client and server on memory
// BIOs, self-signed certificate generated on the fly), recorded as the bytes each side wrote, in
// wire order, plus the client's NSS key log. For the decryption tests, the fuzzer, the benchmark
// and capture generators. Not product code (links libssl).
#include <cstddef>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace dc::test {

// One action after the handshake.
struct TlsStep {
  enum Kind { kClientWrite, kServerWrite, kClientKeyUpdate, kServerKeyUpdate } kind;
  std::string data;               // for writes: one SSL_write (several records when long)
  bool update_requested = false;  // for KeyUpdates: update_requested (peer answers) or not
};

struct TlsSessionOptions {
  bool tls13 = true;
  std::string ciphersuites = "TLS_AES_128_GCM_SHA256";      // TLS 1.3 (SSL_CTX_set_ciphersuites)
  std::string cipher_list = "ECDHE-RSA-AES128-GCM-SHA256";  // TLS 1.2 (SSL_CTX_set_cipher_list)
  std::size_t max_fragment = 0;  // > 0: SSL_CTX_set_max_send_fragment (512..16384)
  bool hello_retry = false;      // TLS 1.3: force a HelloRetryRequest (client shares P-256 first)
  std::string alpn;              // offered by the client and selected by the server when set
  std::vector<TlsStep> steps;
  bool close = true;  // both sides send close_notify at the end
};

struct TlsChunk {
  bool from_client;
  std::string bytes;  // everything one side wrote in one go (one or more records)
};

struct TlsTranscript {
  std::vector<TlsChunk> chunks;  // wire order
  std::string keylog;            // the client's key log lines (SSL_CTX_set_keylog_callback)
  std::string client_sent;       // application data the client wrote (and the server read)
  std::string server_sent;       // application data the server wrote (and the client read)
  std::string stream(bool from_client) const;  // one direction's bytes, concatenated
};

// Runs the connection. Error when OpenSSL refuses a step or the peers disagree on the data.
Result<TlsTranscript> make_tls_session(const TlsSessionOptions& opt);

}  // namespace dc::test
