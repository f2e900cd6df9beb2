// dc_tls_capture: makes a real TLS connection in-process (OpenSSL) and writes it as a pcap plus
// the client's NSS key log, for replay tests and manual checks (tcpdump, tshark -o
// tls.keylog_file:...). Usage:
//   dc_tls_capture OUT.pcap OUT.keys [--tls12] [--suite NAME] [--mss N] [--alpn P]
//                  [--client-data TEXT] [--server-data TEXT] [--key-update]
//                  [--client-file F] [--server-file F] [--max-fragment N]
//                  [--client-ip A] [--server-ip A] [--client-port N] [--server-port N]
//                  [--start-ns T] [--after-update-file F]  (client data after --key-update)
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/tls_pcap.hpp"
#include "tests/support/tls_session.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s OUT.pcap OUT.keys [--tls12] [--suite NAME] [--mss N] [--alpn P] "
                 "[--client-data TEXT] [--server-data TEXT] [--key-update] [--client-file F] "
                 "[--server-file F] [--max-fragment N] [--client-ip A] [--server-ip A] "
                 "[--client-port N] [--server-port N] [--start-ns T]\n",
                 argv[0]);
    return 2;
  }
  dc::test::TlsSessionOptions o;
  dc::test::PcapOptions p;
  std::string client = "GET / HTTP/1.1\r\nHost: test.invalid\r\n\r\n",
              server = "HTTP/1.1 200 OK\r\n\r\n", after_update;
  bool key_update = false, suite_set = false;
  std::string suite;
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--tls12") {
      o.tls13 = false;
    } else if (a == "--key-update") {
      key_update = true;
    } else if (a == "--suite" && has_value) {
      suite = argv[++i];
      suite_set = true;
    } else if (a == "--mss" && has_value) {
      p.mss = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--alpn" && has_value) {
      o.alpn = argv[++i];
    } else if (a == "--client-data" && has_value) {
      client = argv[++i];
    } else if (a == "--server-data" && has_value) {
      server = argv[++i];
    } else if ((a == "--client-file" || a == "--server-file" || a == "--after-update-file") &&
               has_value) {
      std::ifstream in(argv[++i], std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      if (!in) {
        std::fprintf(stderr, "cannot read %s\n", argv[i]);
        return 2;
      }
      (a == "--client-file" ? client : a == "--server-file" ? server : after_update) = text.str();
    } else if (a == "--max-fragment" && has_value) {
      o.max_fragment = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--client-ip" && has_value) {
      p.client_ip = argv[++i];
    } else if (a == "--server-ip" && has_value) {
      p.server_ip = argv[++i];
    } else if (a == "--client-port" && has_value) {
      p.client_port = static_cast<uint16_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--server-port" && has_value) {
      p.server_port = static_cast<uint16_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--start-ns" && has_value) {
      p.start_ns = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "unknown or incomplete option %s\n", a.c_str());
      return 2;
    }
  }
  if (suite_set) (o.tls13 ? o.ciphersuites : o.cipher_list) = suite;
  using S = dc::test::TlsStep;
  o.steps = {{S::kClientWrite, client}, {S::kServerWrite, server}};
  if (key_update && o.tls13) {
    o.steps.push_back({S::kClientKeyUpdate, "", true});
    o.steps.push_back({S::kClientWrite, after_update.empty() ? client : after_update});
    o.steps.push_back({S::kServerWrite, server});
  }
  auto t = dc::test::make_tls_session(o);
  if (!t) {
    std::fprintf(stderr, "%s\n", t.error().str().c_str());
    return 1;
  }
  if (auto r = dc::test::write_tls_pcap(*t, p, argv[1]); !r) {
    std::fprintf(stderr, "%s\n", r.error().str().c_str());
    return 1;
  }
  std::ofstream keys(argv[2], std::ios::trunc);
  keys << t->keylog;
  return keys ? 0 : 1;
}
