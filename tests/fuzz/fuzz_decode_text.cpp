// libFuzzer target for inspect/decode's content decoders: percent (form and target), JSON
// strings, base64, quoted-printable, base64 runs (also nested once), the multipart splitter, HTML
// character references and XML text. Byte 0 picks the decoder and a piece size; every decoder
// must give the same output whole, in pieces and byte by byte, and never more output than its
// bounds allow. Where a decoder offers identity_prefix(), the pieces skip those bytes past it
// as the body decoder does, which must not change the output either.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "inspect/decode/multipart.hpp"
#include "inspect/decode/text.hpp"
#include "inspect/decode/xml_text.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace dc::inspect::decoding;

namespace {

ByteOut to(std::string& s) {
  return ByteOut{&s, [](void* p, std::span<const uint8_t> b) noexcept {
                   static_cast<std::string*>(p)->append(reinterpret_cast<const char*>(b.data()),
                                                        b.size());
                 }};
}

struct Parts : PartHandler {
  std::string log;
  bool open = false;
  void part_begin(uint16_t i, const PartHead& h) noexcept override {
    const PartEncoding e = h.enc;
    CHECK(!open);
    open = true;
    log += "[" + std::to_string(i) + ":" + std::to_string(static_cast<int>(e)) + "]";
  }
  void part_data(std::span<const uint8_t> b) noexcept override {
    CHECK(open);
    log.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  void part_end() noexcept override {
    CHECK(open);
    open = false;
    log += "[end]";
  }
};

std::string decode(unsigned which, std::string_view d, std::size_t piece) {
  std::string out;
  auto pieces = [&](auto&& fn) {
    for (std::size_t i = 0; i < d.size(); i += piece) {
      const std::string_view p = d.substr(i, piece);
      fn(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(p.data()), p.size()));
    }
  };
  switch (which) {
    case 0:
    case 1: {
      PercentDecoder x;
      x.begin(which == 0 ? PercentDecoder::Mode::kForm : PercentDecoder::Mode::kTarget);
      pieces([&](auto s) { x.feed(s, to(out)); });
      x.finish(to(out));
      CHECK(out.size() <= d.size());
      break;
    }
    case 2: {
      JsonDecoder x;
      x.begin();
      pieces([&](auto s) { x.feed(s, to(out)); });
      x.finish(to(out));
      CHECK(out.size() <= d.size() * 3 + 3);  // U+FFFD (3 bytes) at most per input byte
      break;
    }
    case 3: {
      Base64Decoder x;
      x.begin();
      pieces([&](auto s) { x.feed(s, to(out)); });
      CHECK(out.size() <= d.size() * 3 / 4 + 1);
      break;
    }
    case 4: {
      QuotedPrintableDecoder x;
      x.begin();
      pieces([&](auto s) { x.feed(s, to(out)); });
      x.finish(to(out));
      CHECK(out.size() <= d.size());
      break;
    }
    case 5: {
      Base64RunDecoder x;
      x.begin();
      pieces([&](auto s) { x.feed(s, to(out)); });
      x.finish(to(out));
      CHECK(out.size() <= d.size());
      break;
    }
    case 7: {
      // HTML character references; bytes identity_prefix() names are copied, not fed.
      EntityDecoder x;
      x.begin();
      pieces([&](auto s) {
        const std::size_t n = piece == 1 ? 0 : x.identity_prefix(s);
        CHECK(n <= s.size());
        out.append(reinterpret_cast<const char*>(s.data()), n);
        x.feed(s.subspan(n), to(out));
      });
      x.finish(to(out));
      CHECK(out.size() <= d.size());  // every reference is at least as long as its UTF-8
      break;
    }
    case 8: {
      XmlTextDecoder x;
      x.begin();
      pieces([&](auto s) { x.feed(s, to(out)); });
      x.finish(to(out));
      CHECK(out.size() <= d.size());  // a separator stands for a tag of 3 or more bytes
      break;
    }
    case 9: {
      // Base64 runs with the nested search: the second level decodes what the first decoded.
      Base64RunDecoder x;
      x.begin();
      std::string nested;
      pieces([&](auto s) { x.feed(s, to(out), to(nested)); });
      x.finish(to(out), to(nested));
      CHECK(out.size() <= d.size());
      CHECK(nested.size() <= out.size());
      out += '|' + nested;
      break;
    }
    default: {
      // The first line is the boundary (up to 70 bytes), the rest the body.
      const std::size_t nl = d.find('\n');
      const std::string_view b = d.substr(0, nl == std::string_view::npos ? 0 : nl);
      if (b.empty() || b.size() > MultipartDecoder::kMaxBoundary) return "";
      d = d.substr(nl + 1);
      MultipartDecoder m;
      m.begin(b.data(), b.size());
      Parts p;
      pieces([&](auto s) { m.feed(s, p); });
      m.finish(p);
      CHECK(!p.open);
      out = p.log + (m.malformed() ? "!" : "");
      break;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* in, std::size_t size) {
  if (size < 1) return 0;
  const unsigned which = in[0] % 10;
  const std::string_view d(reinterpret_cast<const char*>(in + 1), size - 1);
  const std::string whole = decode(which, d, d.size() + 1);
  CHECK(decode(which, d, 1 + in[0] / 10) == whole);
  CHECK(decode(which, d, 1) == whole);
  return 0;
}
