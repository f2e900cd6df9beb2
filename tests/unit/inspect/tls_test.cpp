// Tests for inspect/protocol/tls.hpp: ClientHellos built here in TLS 1.2 and TLS 1.3 shapes, fed
// whole, split at every byte offset, byte by byte and across many small records.
#include "inspect/protocol/tls.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dc::inspect {
namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, std::size_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put24(Bytes& b, std::size_t v) {
  b.push_back(static_cast<uint8_t>(v >> 16));
  put16(b, v & 0xffff);
}

struct Ext {
  uint16_t type;
  Bytes body;
};

Ext sni_ext(const std::string& host) {
  Bytes b;
  put16(b, host.size() + 3);
  b.push_back(0);  // host_name
  put16(b, host.size());
  b.insert(b.end(), host.begin(), host.end());
  return {0x0000, b};
}
Ext alpn_ext(const std::vector<std::string>& protos) {
  Bytes list;
  for (const auto& p : protos) {
    list.push_back(static_cast<uint8_t>(p.size()));
    list.insert(list.end(), p.begin(), p.end());
  }
  Bytes b;
  put16(b, list.size());
  b.insert(b.end(), list.begin(), list.end());
  return {0x0010, b};
}
Ext versions_ext() { return {0x002b, {6, 0x7a, 0x7a, 0x03, 0x04, 0x03, 0x03}}; }
Ext opaque_ext(uint16_t type, std::size_t n, uint8_t fill = 0x33) { return {type, Bytes(n, fill)}; }

// A ClientHello handshake message (RFC 8446 §4.1.2). `exts_present` false = SSL 3.0 style.
Bytes client_hello(const std::vector<Ext>& exts, std::size_t session_id = 32,
                   std::size_t suites = 16, bool exts_present = true) {
  Bytes body;
  put16(body, 0x0303);
  for (int i = 0; i < 32; ++i) body.push_back(static_cast<uint8_t>(i * 7));
  body.push_back(static_cast<uint8_t>(session_id));
  body.insert(body.end(), session_id, 0xee);
  put16(body, suites * 2);
  for (std::size_t i = 0; i < suites; ++i) put16(body, 0x1301 + i);
  body.push_back(1);
  body.push_back(0);
  if (exts_present) {
    Bytes e;
    for (const Ext& x : exts) {
      put16(e, x.type);
      put16(e, x.body.size());
      e.insert(e.end(), x.body.begin(), x.body.end());
    }
    put16(body, e.size());
    body.insert(body.end(), e.begin(), e.end());
  }
  Bytes hs = {1};
  put24(hs, body.size());
  hs.insert(hs.end(), body.begin(), body.end());
  return hs;
}

// Wraps a handshake message in records of at most `max_record` body bytes (RFC 8446 §5.1).
Bytes records(const Bytes& hs, std::size_t max_record = 16384, uint8_t version_minor = 1) {
  Bytes out;
  for (std::size_t off = 0; off < hs.size(); off += max_record) {
    const std::size_t n = std::min(max_record, hs.size() - off);
    out.push_back(22);
    out.push_back(3);
    out.push_back(version_minor);
    put16(out, n);
    out.insert(out.end(), hs.begin() + off, hs.begin() + off + n);
  }
  return out;
}

Bytes tls12_hello(const std::string& host) {
  return client_hello({sni_ext(host),
                       opaque_ext(0x000b, 2, 1),
                       opaque_ext(0x000a, 10),
                       opaque_ext(0x0023, 0),
                       opaque_ext(0x000d, 30),
                       alpn_ext({"h2", "http/1.1"}),
                       opaque_ext(0x0017, 0),
                       {0xff01, {0}}},
                      0, 24);
}

Bytes tls13_hello(const std::string& host, bool ech = false) {
  std::vector<Ext> e = {opaque_ext(0x0a0a, 0),
                        sni_ext(host),
                        opaque_ext(0x0017, 0),
                        opaque_ext(0x000a, 12),
                        versions_ext(),
                        // X25519MLKEM768 + X25519 key shares: a ~1.3 KB ClientHello
                        opaque_ext(0x0033, 1258),
                        {0x002d, {1, 1}},
                        alpn_ext({"h2"}),
                        opaque_ext(0x001b, 3)};
  if (ech) e.push_back(opaque_ext(0xfe0d, 200, 0x42));
  e.push_back(opaque_ext(0x0015, 100, 0));  // padding
  return client_hello(e);
}

struct Case {
  std::string name;
  Bytes stream;
  TlsStatus want;
  std::string sni = "";
  std::string alpn0 = "";
  bool tls13 = false;
};

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"tls12_sni_alpn", records(tls12_hello("www.Example.COM")), TlsStatus::kSni,
               "www.example.com", "h2"});
  c.push_back({"tls13_sni_pq_keyshare", records(tls13_hello("api.partner.example")),
               TlsStatus::kSni, "api.partner.example", "h2", true});
  c.push_back({"tls13_many_small_records", records(tls13_hello("api.partner.example"), 61),
               TlsStatus::kSni, "api.partner.example", "h2", true});
  c.push_back(
      {"tls13_one_byte_records", records(tls12_hello("a.b"), 1), TlsStatus::kSni, "a.b", "h2"});
  c.push_back({"ech_reports_outer_name", records(tls13_hello("public.cdn.example", true)),
               TlsStatus::kEch, "public.cdn.example", "h2", true});
  c.push_back({"legacy_esni", records(client_hello({sni_ext("x.example"), opaque_ext(0xffce, 40)})),
               TlsStatus::kEch, "x.example"});
  c.push_back({"no_sni", records(client_hello({alpn_ext({"http/1.1"}), opaque_ext(0x000d, 8)})),
               TlsStatus::kNoSni, "", "http/1.1"});
  c.push_back(
      {"no_extensions_ssl3_style", records(client_hello({}, 0, 4, false)), TlsStatus::kNoSni});
  c.push_back({"empty_extension_block", records(client_hello({})), TlsStatus::kNoSni});
  c.push_back({"sni_non_host_type_only", records(client_hello({{0x0000, {0, 4, 7, 0, 1, 'x'}}})),
               TlsStatus::kNoSni});
  c.push_back(
      {"max_length_name",
       records(client_hello({sni_ext(std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                                     std::string(63, 'c') + "." + std::string(63, 'd'))})),
       TlsStatus::kSni,
       std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
           std::string(63, 'd')});
  // Not TLS at all.
  c.push_back({"http_request", Bytes{'G', 'E', 'T', ' ', '/'}, TlsStatus::kNotTls});
  c.push_back({"ssh_banner", Bytes{'S', 'S', 'H', '-', '2'}, TlsStatus::kNotTls});
  c.push_back({"sslv2_hello", Bytes{0x80, 0x2e, 0x01, 0x00, 0x02}, TlsStatus::kNotTls});
  c.push_back({"bad_record_major", Bytes{22, 4, 1, 0, 10}, TlsStatus::kNotTls});
  // Malformed TLS.
  c.push_back(
      {"trailing_dot", records(client_hello({sni_ext("evil.example.")})), TlsStatus::kMalformed});
  c.push_back({"nul_in_name",
               records(client_hello({sni_ext(std::string("ok.example\0.evil", 16))})),
               TlsStatus::kMalformed});
  c.push_back(
      {"space_in_name", records(client_hello({sni_ext("ok .example")})), TlsStatus::kMalformed});
  c.push_back(
      {"empty_label", records(client_hello({sni_ext("a..example")})), TlsStatus::kMalformed});
  c.push_back({"label_over_63", records(client_hello({sni_ext(std::string(64, 'a') + ".x")})),
               TlsStatus::kMalformed});
  c.push_back({"two_sni_extensions",
               records(client_hello({sni_ext("good.example"), sni_ext("evil.example")})),
               TlsStatus::kMalformed});
  c.push_back({"two_host_names_in_one_list",
               records(client_hello({{0x0000, {0, 8, 0, 0, 1, 'a', 0, 0, 1, 'b'}}})),
               TlsStatus::kMalformed});
  c.push_back(
      {"empty_sni_extension", records(client_hello({{0x0000, {}}})), TlsStatus::kMalformed});
  c.push_back({"empty_alpn_name", records(client_hello({{0x0010, {0, 3, 0, 1, 'x'}}})),
               TlsStatus::kMalformed});
  {
    Bytes hs = client_hello({sni_ext("a.example")});
    hs[hs.size() - 15] += 1;  // server_name extension length now overruns the message
    c.push_back({"extension_overruns_message", records(hs), TlsStatus::kMalformed});
  }
  {
    Bytes hs = client_hello({sni_ext("a.example")});
    hs.push_back(0);  // one byte after the extensions block
    hs[3] += 1;
    c.push_back({"extensions_block_short_of_message", records(hs), TlsStatus::kMalformed});
  }
  {
    Bytes hs = client_hello({sni_ext("a.example")});
    hs[0] = 2;  // ServerHello
    c.push_back({"server_hello", records(hs), TlsStatus::kMalformed});
  }
  c.push_back({"zero_length_record", Bytes{22, 3, 1, 0, 0}, TlsStatus::kMalformed});
  c.push_back({"record_over_2_14", Bytes{22, 3, 1, 0x40, 0x01}, TlsStatus::kMalformed});
  {
    Bytes s = records(tls12_hello("a.example"), 40);
    s[45] = 21;  // second record is an alert in the middle of the ClientHello
    c.push_back({"interleaved_alert_record", s, TlsStatus::kMalformed});
  }
  c.push_back({"too_large", records(client_hello({sni_ext("a.example"), opaque_ext(0x15, 17000)})),
               TlsStatus::kTooLarge});
  {
    Bytes s = records(tls13_hello("cut.example"));
    s.pop_back();
    c.push_back({"truncated_last_byte", s, TlsStatus::kNeedMore});
  }
  c.push_back({"truncated_in_header", Bytes{22, 3, 1, 0}, TlsStatus::kNeedMore});
  return c;
}

struct Outcome {
  TlsStatus status;
  std::string sni, alpn0;
  bool tls13;
};

Outcome run_split(const Bytes& s, std::vector<std::size_t> cuts) {
  TlsClientHelloParser p;
  std::size_t prev = 0;
  cuts.push_back(s.size());
  for (std::size_t cut : cuts) {
    p.feed(std::span<const uint8_t>(s.data() + prev, cut - prev));
    prev = cut;
  }
  return {p.status(), std::string(p.sni()), std::string(p.alpn(0)), p.offers_tls13()};
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class TlsTable : public ::testing::TestWithParam<Case> {};

TEST_P(TlsTable, SameResultWholeSplitAndByteByByte) {
  const Case& tc = GetParam();
  auto check = [&](const Outcome& o, const std::string& how) {
    EXPECT_STREQ(tls_status_name(o.status), tls_status_name(tc.want)) << how;
    EXPECT_EQ(o.sni, tc.sni) << how;
    if (tc.want == TlsStatus::kSni || tc.want == TlsStatus::kNoSni || tc.want == TlsStatus::kEch) {
      EXPECT_EQ(o.alpn0, tc.alpn0) << how;
      EXPECT_EQ(o.tls13, tc.tls13) << how;
    }
  };
  check(run_split(tc.stream, {}), "whole");
  for (std::size_t cut = 0; cut <= tc.stream.size(); ++cut) {
    check(run_split(tc.stream, {cut}), "split at " + std::to_string(cut));
    if (HasFailure()) return;
  }
  std::vector<std::size_t> every(tc.stream.size());
  for (std::size_t i = 0; i < every.size(); ++i) every[i] = i;
  check(run_split(tc.stream, every), "byte by byte");
}

INSTANTIATE_TEST_SUITE_P(Cases, TlsTable, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Tls, ConsumedStopsAtEndOfClientHelloAndLaterBytesAreIgnored) {
  Bytes s = records(tls12_hello("a.example"));
  const std::size_t hello_len = s.size();
  s.insert(s.end(), {23, 3, 3, 0, 5, 1, 2, 3, 4, 5});  // application data after it
  TlsClientHelloParser p;
  EXPECT_EQ(p.feed(s), TlsStatus::kSni);
  EXPECT_EQ(p.consumed(), hello_len);
  EXPECT_EQ(p.feed(Bytes{0xff, 0xff}), TlsStatus::kSni);
  EXPECT_EQ(p.alpn_count(), 2u);
  EXPECT_EQ(p.alpn(1), "http/1.1");
  EXPECT_EQ(p.alpn(2), "");
  EXPECT_EQ(p.legacy_version(), 0x0303);
  p.reset();
  EXPECT_EQ(p.status(), TlsStatus::kNeedMore);
  EXPECT_EQ(p.sni(), "");
}

TEST(Tls, NotTlsIsReportedAtTheFirstByte) {
  TlsClientHelloParser p;
  EXPECT_EQ(p.feed(Bytes{'P'}), TlsStatus::kNotTls);
}

}  // namespace
}  // namespace dc::inspect
