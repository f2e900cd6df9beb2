// Tests for inspect/protocol/http.hpp: request heads fed whole, split at every byte offset and byte
// by byte must give the same answer.
#include "inspect/protocol/http.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dc::inspect {
namespace {

using S = HttpStatus;

struct Case {
  std::string name;
  std::string input;
  HttpStatus want;
  std::string method = "", host = "", path = "";
  uint16_t port = 0;
  bool conflict = false;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"get_origin_form",
               "GET /upload/a.csv?x=1 HTTP/1.1\r\nHost: Files.Example.COM\r\nUser-Agent: t\r\n\r\n",
               S::kDone, "GET", "files.example.com", "/upload/a.csv?x=1"});
  c.push_back(
      {"post_with_port_and_body_after",
       "POST /api HTTP/1.1\r\nhOsT:   api.partner.example:8443  \r\nContent-Length: 3\r\n\r\nabc",
       S::kDone, "POST", "api.partner.example", "/api", 8443});
  c.push_back({"http10_without_host", "GET / HTTP/1.0\r\n\r\n", S::kDone, "GET", "", "/"});
  c.push_back({"bare_lf_lines", "GET /x HTTP/1.1\nHost: a.example\n\n", S::kDone, "GET",
               "a.example", "/x"});
  c.push_back({"absolute_form_wins",
               "GET http://Proxy.Target.example:8080/p?q HTTP/1.1\r\n"
               "Host: proxy.target.example:8080\r\n\r\n",
               S::kDone, "GET", "proxy.target.example", "/p?q", 8080});
  c.push_back({"absolute_form_conflicting_host",
               "GET https://real.example/ HTTP/1.1\r\n"
               "Host: whitelisted.example\r\n\r\n",
               S::kDone, "GET", "real.example", "/", 0, true});
  c.push_back({"absolute_form_no_path", "GET http://a.example HTTP/1.1\r\nHost: a.example\r\n\r\n",
               S::kDone, "GET", "a.example", "/"});
  c.push_back({"connect_authority_form",
               "CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\n", S::kDone,
               "CONNECT", "db.example", "", 5432});
  c.push_back({"options_asterisk", "OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n", S::kDone,
               "OPTIONS", "a.example", "*"});
  c.push_back({"ipv6_literal_host", "GET / HTTP/1.1\r\nHost: [2001:DB8::1]:81\r\n\r\n", S::kDone,
               "GET", "[2001:db8::1]", "/", 81});
  c.push_back({"trailing_dot_host", "GET / HTTP/1.1\r\nHost: a.example.\r\n\r\n", S::kDone, "GET",
               "a.example", "/"});
  c.push_back({"extension_method", "MKWORKSPACE /w HTTP/1.1\r\nHost: h\r\n\r\n", S::kDone,
               "MKWORKSPACE", "h", "/w"});
  // Not HTTP, rejected early.
  c.push_back({"tls_record", std::string("\x16\x03\x01\x02\x00", 5), S::kNotHttp});
  c.push_back({"lowercase_method", "get / HTTP/1.1\r\n", S::kNotHttp});
  c.push_back({"ssh_banner", "SSH-2.0-OpenSSH_9.2\r\n", S::kNotHttp});
  c.push_back({"rtsp", "DESCRIBE rtsp://cam/ RTSP/1.0\r\n\r\n", S::kNotHttp});
  c.push_back({"method_too_long", "ABCDEFGHIJKLMNOPQRSTUVWXYZ / HTTP/1.1\r\n", S::kNotHttp});
  c.push_back({"http2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", S::kHttp2Preface});
  // Malformed / ambiguous: fail closed.
  c.push_back({"duplicate_host",
               "GET / HTTP/1.1\r\nHost: good.example\r\nHost: evil.example\r\n\r\n",
               S::kMalformed});
  c.push_back(
      {"space_before_colon", "GET / HTTP/1.1\r\nHost : evil.example\r\n\r\n", S::kMalformed});
  c.push_back(
      {"obs_fold", "GET / HTTP/1.1\r\nHost: a.example\r\nX: a\r\n b\r\n\r\n", S::kMalformed});
  c.push_back({"missing_host_11", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", S::kMalformed});
  c.push_back({"userinfo_in_target",
               "GET http://good.example@evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n", S::kMalformed});
  c.push_back(
      {"nul_in_host", std::string("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 29), S::kMalformed});
  c.push_back({"percent_in_host", "GET / HTTP/1.1\r\nHost: ev%69l.example\r\n\r\n", S::kMalformed});
  c.push_back({"bad_port", "GET / HTTP/1.1\r\nHost: a.example:99999\r\n\r\n", S::kMalformed});
  c.push_back({"cr_without_lf", "GET / HTTP/1.1\rHost: a\r\n\r\n", S::kMalformed});
  c.push_back({"http_1_2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", S::kMalformed});
  c.push_back({"ftp_absolute", "GET ftp://a.example/ HTTP/1.1\r\nHost: a\r\n\r\n", S::kMalformed});
  c.push_back({"connect_without_port", "CONNECT db.example HTTP/1.1\r\nHost: db.example\r\n\r\n",
               S::kMalformed});
  c.push_back({"double_space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", S::kMalformed});
  c.push_back({"fragment_in_target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", S::kMalformed});
  c.push_back(
      {"whitespace_after_request_line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", S::kMalformed});
  c.push_back({"truncated", "GET /a HTTP/1.1\r\nHost: a.example\r\n", S::kNeedMore});
  c.push_back({"too_large",
               "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(17000, 'a') + "\r\n\r\n",
               S::kTooLarge});
  return c;
}

struct Outcome {
  HttpStatus status;
  std::string method, host, path;
  uint16_t port;
  bool conflict;
};

Outcome run_split(const std::string& s, std::vector<std::size_t> cuts) {
  HttpRequestParser p;
  std::size_t prev = 0;
  cuts.push_back(s.size());
  const auto* d = reinterpret_cast<const uint8_t*>(s.data());
  for (std::size_t cut : cuts) {
    p.feed(std::span<const uint8_t>(d + prev, cut - prev));
    prev = cut;
  }
  return {p.status(), std::string(p.method()), std::string(p.host()), std::string(p.path()),
          p.port(),   p.host_conflict()};
}

class HttpTable : public ::testing::TestWithParam<Case> {};

TEST_P(HttpTable, SameResultWholeSplitAndByteByByte) {
  const Case& tc = GetParam();
  auto check = [&](const Outcome& o, const std::string& how) {
    EXPECT_STREQ(http_status_name(o.status), http_status_name(tc.want)) << how;
    EXPECT_EQ(o.method, tc.method) << how;
    EXPECT_EQ(o.host, tc.host) << how;
    EXPECT_EQ(o.path, tc.path) << how;
    EXPECT_EQ(o.port, tc.port) << how;
    EXPECT_EQ(o.conflict, tc.conflict) << how;
  };
  check(run_split(tc.input, {}), "whole");
  const std::size_t max_cut = std::min<std::size_t>(tc.input.size(), 400);
  for (std::size_t cut = 0; cut <= max_cut; ++cut) {
    check(run_split(tc.input, {cut}), "split at " + std::to_string(cut));
    if (HasFailure()) return;
  }
  std::vector<std::size_t> every(tc.input.size());
  for (std::size_t i = 0; i < every.size(); ++i) every[i] = i;
  check(run_split(tc.input, every), "byte by byte");
}

INSTANTIATE_TEST_SUITE_P(Cases, HttpTable, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Http, HeadBytesMarksStartOfBody) {
  const std::string req = "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
  HttpRequestParser p;
  const std::string all = req + "hello";
  EXPECT_EQ(p.feed({reinterpret_cast<const uint8_t*>(all.data()), all.size()}), S::kDone);
  EXPECT_EQ(p.head_bytes(), req.size());
  EXPECT_EQ(p.version_minor(), 1);
}

TEST(Http, LongPathIsTruncatedNotRejected) {
  const std::string req = "GET /" + std::string(3000, 'p') + " HTTP/1.1\r\nHost: a.example\r\n\r\n";
  HttpRequestParser p;
  EXPECT_EQ(p.feed({reinterpret_cast<const uint8_t*>(req.data()), req.size()}), S::kDone);
  EXPECT_TRUE(p.path_truncated());
  EXPECT_EQ(p.path().size(), kMaxStoredTarget);
  EXPECT_EQ(p.host(), "a.example");
}

TEST(Http, NotHttpAtFirstByte) {
  HttpRequestParser p;
  const uint8_t b = 0x16;
  EXPECT_EQ(p.feed({&b, 1}), S::kNotHttp);
  EXPECT_EQ(p.head_bytes(), 1u);
}

}  // namespace
}  // namespace dc::inspect
