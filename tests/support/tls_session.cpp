// In-process OpenSSL client/server on memory BIOs, recording the wire bytes and the key log.
#include "tests/support/tls_session.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

namespace dc::test {
namespace {

struct Free {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Free>;

Error fail(const std::string& what) {
  char buf[256] = "";
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  return make_error(what + ": " + buf);
}

// One RSA key and self-signed certificate per process (RSA for the ECDHE-RSA suites).
struct Identity {
  Ptr<EVP_PKEY> key;
  Ptr<X509> cert;
};
const Identity* identity() {
  static const Identity* id = [] {
    auto* i = new Identity;
    i->key.reset(EVP_RSA_gen(2048));
    i->cert.reset(X509_new());
    X509* x = i->cert.get();
    if (!i->key || !x) return i;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, i->key.get());
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("test.invalid"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, i->key.get(), EVP_sha256()) == 0) i->cert.reset();
    return i;
  }();
  return id;
}

void keylog_cb(const SSL* ssl, const char* line) {
  auto* t = static_cast<TlsTranscript*>(SSL_get_app_data(ssl));
  t->keylog += line;
  t->keylog += '\n';
}

int alpn_select(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  if (inlen < 2) return SSL_TLSEXT_ERR_NOACK;
  *out = in + 1;  // the client's first protocol
  *outlen = in[0];
  return SSL_TLSEXT_ERR_OK;
}

class Pair {
 public:
  Pair(const TlsSessionOptions& o, TlsTranscript& t) : o_(o), t_(t) {}
  Result<void> run();

 private:
  Result<void> setup();
  Result<SSL_CTX*> make_ctx(bool server);
  void flush(bool from_client);
  Result<void> drain(bool client);
  Result<void> handshake();
  Result<void> step(const TlsStep& s);

  const TlsSessionOptions& o_;
  TlsTranscript& t_;
  Ptr<SSL_CTX> cctx_, sctx_;
  Ptr<SSL> c_, s_;
  std::string c_got_, s_got_;
};

Result<SSL_CTX*> Pair::make_ctx(bool server) {
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!ctx) return fail("SSL_CTX_new");
  const int v = o_.tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx, v);
  SSL_CTX_set_max_proto_version(ctx, v);
  const bool ok = o_.tls13 ? SSL_CTX_set_ciphersuites(ctx, o_.ciphersuites.c_str()) == 1
                           : SSL_CTX_set_cipher_list(ctx, o_.cipher_list.c_str()) == 1;
  if (!ok) {
    SSL_CTX_free(ctx);
    return fail("cipher selection");
  }
  if (o_.max_fragment) SSL_CTX_set_max_send_fragment(ctx, long(o_.max_fragment));
  return ctx;
}

Result<void> Pair::setup() {
  const Identity* id = identity();
  if (!id->key || !id->cert) return fail("test certificate");
  auto cctx = make_ctx(false);
  if (!cctx) return cctx.error();
  cctx_.reset(*cctx);
  auto sctx = make_ctx(true);
  if (!sctx) return sctx.error();
  sctx_.reset(*sctx);
  if (SSL_CTX_use_certificate(sctx_.get(), id->cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(sctx_.get(), id->key.get()) != 1) {
    return fail("server certificate");
  }
  SSL_CTX_set_keylog_callback(cctx_.get(), keylog_cb);
  if (!o_.alpn.empty()) {
    std::string wire(1, char(o_.alpn.size()));
    wire += o_.alpn;
    SSL_CTX_set_alpn_protos(cctx_.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                            unsigned(wire.size()));
    SSL_CTX_set_alpn_select_cb(sctx_.get(), alpn_select, nullptr);
  }
  if (o_.hello_retry) {
    SSL_CTX_set1_groups_list(cctx_.get(), "P-256:X25519");  // key share for P-256 only
    SSL_CTX_set1_groups_list(sctx_.get(), "X25519");
  }
  c_.reset(SSL_new(cctx_.get()));
  s_.reset(SSL_new(sctx_.get()));
  if (!c_ || !s_) return fail("SSL_new");
  SSL_set_app_data(c_.get(), &t_);
  SSL_set_connect_state(c_.get());
  SSL_set_accept_state(s_.get());
  SSL_set_bio(c_.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  SSL_set_bio(s_.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  return {};
}

// Moves what one side wrote to the other side's input, recording it as one chunk.
void Pair::flush(bool from_client) {
  BIO* out = SSL_get_wbio(from_client ? c_.get() : s_.get());
  BIO* in = SSL_get_rbio(from_client ? s_.get() : c_.get());
  std::string bytes;
  char buf[4096];
  int n;
  while ((n = BIO_read(out, buf, sizeof buf)) > 0) bytes.append(buf, std::size_t(n));
  if (bytes.empty()) return;
  BIO_write(in, bytes.data(), int(bytes.size()));
  t_.chunks.push_back({from_client, std::move(bytes)});
}

// Reads everything available on one side (processing KeyUpdates and tickets), then sends
// whatever that side wrote in reaction.
Result<void> Pair::drain(bool client) {
  SSL* ssl = client ? c_.get() : s_.get();
  char buf[16384];
  int n;
  while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) {
    (client ? c_got_ : s_got_).append(buf, std::size_t(n));
  }
  const int err = SSL_get_error(ssl, n);
  if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_ZERO_RETURN) return fail("SSL_read");
  flush(client);
  return {};
}

Result<void> Pair::handshake() {
  for (int round = 0; round < 16; ++round) {
    const int rc = SSL_do_handshake(c_.get());
    flush(true);
    const int rs = SSL_do_handshake(s_.get());
    flush(false);
    if (rc == 1 && rs == 1) return drain(true);  // client reads the tickets
  }
  return fail("handshake did not complete");
}

Result<void> Pair::step(const TlsStep& s) {
  const bool client = s.kind == TlsStep::kClientWrite || s.kind == TlsStep::kClientKeyUpdate;
  SSL* ssl = client ? c_.get() : s_.get();
  if (s.kind == TlsStep::kClientWrite || s.kind == TlsStep::kServerWrite) {
    if (SSL_write(ssl, s.data.data(), int(s.data.size())) != int(s.data.size())) {
      return fail("SSL_write");
    }
    (client ? t_.client_sent : t_.server_sent) += s.data;
  } else {
    const int type = s.update_requested ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED;
    if (SSL_key_update(ssl, type) != 1 || SSL_do_handshake(ssl) != 1) return fail("key update");
  }
  flush(client);
  auto r = drain(!client);  // the peer reads (and answers an update_requested)
  if (!r) return r;
  return drain(client);
}

Result<void> Pair::run() {
  if (auto r = setup(); !r) return r;
  if (auto r = handshake(); !r) return r;
  for (const auto& s : o_.steps) {
    if (auto r = step(s); !r) return r;
  }
  if (o_.close) {
    SSL_shutdown(c_.get());
    flush(true);
    if (auto r = drain(false); !r) return r;
    SSL_shutdown(s_.get());
    flush(false);
    if (auto r = drain(true); !r) return r;
  }
  if (s_got_ != t_.client_sent || c_got_ != t_.server_sent) {
    return make_error("peers disagree on the application data");
  }
  return {};
}

}  // namespace

std::string TlsTranscript::stream(bool from_client) const {
  std::string s;
  for (const auto& c : chunks) {
    if (c.from_client == from_client) s += c.bytes;
  }
  return s;
}

Result<TlsTranscript> make_tls_session(const TlsSessionOptions& opt) {
  TlsTranscript t;
  Pair p(opt, t);
  if (auto r = p.run(); !r) return r.error();
  return t;
}

}  // namespace dc::test
