// Tests for the inspect/decode building blocks on their own: the buddy arena, each text decoder
// (every split offset gives the same output), the multipart splitter, and the decompressors
// with their limits (bombs, memory caps, corrupt data).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <string>

#include "inspect/decode/body.hpp"
#include "inspect/decode/codec.hpp"
#include "inspect/decode/http_flow.hpp"
#include "inspect/decode/multipart.hpp"
#include "inspect/decode/text.hpp"
#include "inspect/decode/text_util.hpp"
#include "inspect/detect/detectors.hpp"
#include "inspect/detect/keyword_forms.hpp"
#include "tests/unit/inspect/decode_fixture.hpp"

namespace dc::inspect::decoding {
namespace {

using namespace testing;

// Memory per inspected flow with the decoding layer: fixed, whatever the traffic (codec state
// comes from the worker's arena and is returned at the end of each body).
// 4.5 KiB: 4 KiB of framing state plus, per direction, the request's Host (keep-alive requests must
// name the admitted server, dataplane/decode_scan.cpp).
TEST(DecodeMemory, PerFlowStateIsFixedAndSmall) { EXPECT_LE(sizeof(HttpFlowDecoder), 4608u); }

TEST(DecodeNames, EveryAnomalyAndConditionHasItsOwnName) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < kHttpAnomalyCount; ++i) {
    const auto a = static_cast<HttpAnomaly>(i);
    EXPECT_TRUE(names.insert(http_anomaly_name(a)).second) << i;
    EXPECT_EQ(http_anomaly_is_ambiguous(a), a != HttpAnomaly::kBareLf);
  }
  for (std::size_t i = 0; i < kDecodeConditionCount; ++i) {
    EXPECT_TRUE(names.insert(decode_condition_name(static_cast<DecodeCondition>(i))).second) << i;
  }
  EXPECT_EQ(names.count("unknown"), 0u);
  EXPECT_EQ(condition_class(DecodeCondition::kRatioLimit), ConditionClass::kUninspected);
  EXPECT_EQ(condition_class(DecodeCondition::kDecoderMemory), ConditionClass::kUninspected);
  EXPECT_EQ(condition_class(DecodeCondition::kTunnel), ConditionClass::kOpaque);
  char buf[8];
  const Path p = Path{}.child(LayerKind::kRequestBody).child(LayerKind::kMultipart, 12);
  EXPECT_EQ(p.format(buf, sizeof buf), std::string("http.request.body > multipart[12]").size());
  EXPECT_STREQ(buf, "http.re");  // truncated to fit, NUL-terminated
}

// ---- arena ------------------------------------------------------------------------------------

TEST(DecoderArena, SplitsMergesAndRefusesBeyondCapacity) {
  auto a = DecoderArena::create(1 << 20);
  ASSERT_TRUE(a.has_value());
  DecoderArena& arena = **a;
  EXPECT_EQ(arena.capacity(), 1u << 20);
  void* p = arena.alloc(7160);   // zlib's inflate state
  void* q = arena.alloc(32768);  // its window
  ASSERT_NE(p, nullptr);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(arena.block_size(p), 8192u);
  EXPECT_EQ(arena.in_use(), 8192u + 32768u);
  EXPECT_EQ(arena.alloc(2u << 20), nullptr);
  EXPECT_EQ(arena.failures(), 1u);
  arena.free(p);
  arena.free(q);
  EXPECT_EQ(arena.in_use(), 0u);
  void* whole = arena.alloc(1 << 20);  // everything merged back into one block
  EXPECT_NE(whole, nullptr);
  arena.free(whole);
}

TEST(DecoderArena, RandomAllocFreeKeepsBlocksDisjoint) {
  auto a = DecoderArena::create(4 << 20);
  ASSERT_TRUE(a.has_value());
  std::mt19937 rng(11);
  std::vector<std::pair<uint8_t*, std::size_t>> live;
  for (int i = 0; i < 20000; ++i) {
    if (live.empty() || rng() % 3 != 0) {
      const std::size_t n = 1 + rng() % 70000;
      auto* p = static_cast<uint8_t*>((*a)->alloc(n));
      if (p == nullptr) continue;
      std::memset(p, static_cast<int>(live.size() & 0xff), n);
      live.push_back({p, n});
    } else {
      const std::size_t k = rng() % live.size();
      const auto [p, n] = live[k];
      for (std::size_t j = 0; j < n; j += 97) ASSERT_EQ(p[j], p[0]) << "block overwritten";
      (*a)->free(p);
      live.erase(live.begin() + static_cast<long>(k));
    }
  }
  for (auto [p, n] : live) (*a)->free(p);
  EXPECT_EQ((*a)->in_use(), 0u);
}

TEST(Lease, CapsOneDecoder) {
  auto a = DecoderArena::create(1 << 20);
  ASSERT_TRUE(a.has_value());
  Lease l{a->get(), 0, 40960, false};
  void* p = l.alloc(7160);
  void* q = l.alloc(32768);
  EXPECT_NE(p, nullptr);
  EXPECT_NE(q, nullptr);
  EXPECT_EQ(l.alloc(1), nullptr);
  EXPECT_TRUE(l.refused);
  l.free(p);
  l.free(q);
  EXPECT_EQ(l.used, 0u);
}

// ---- text decoders: each split gives the same output ------------------------------------------

template <class D>
std::string run_decoder(D& d, const std::string& in, std::size_t cut) {
  std::string out;
  ByteOut o{&out, [](void* p, std::span<const uint8_t> b) noexcept {
              static_cast<std::string*>(p)->append(reinterpret_cast<const char*>(b.data()),
                                                   b.size());
            }};
  cut = std::min(cut, in.size());
  d.feed(bytes(in.substr(0, cut)), o);
  d.feed(bytes(in.substr(cut)), o);
  if constexpr (requires { d.finish(o); }) d.finish(o);
  return out;
}

template <class D, class Begin>
void expect_all_splits(Begin begin, const std::string& in, const std::string& want) {
  for (std::size_t cut = 0; cut <= in.size(); ++cut) {
    D d;
    begin(d);
    ASSERT_EQ(run_decoder(d, in, cut), want) << "cut " << cut << " of " << in;
  }
}

TEST(TextDecoders, Percent) {
  auto form = [](PercentDecoder& d) { d.begin(PercentDecoder::Mode::kForm); };
  auto target = [](PercentDecoder& d) { d.begin(PercentDecoder::Mode::kTarget); };
  expect_all_splits<PercentDecoder>(form, "a=%31%3d+%E4%b8%AD&b=%G1%2",
                                    "a=1= \xe4\xb8\xad&b=%G1%2");
  expect_all_splits<PercentDecoder>(form, "%%41%", "%A%");
  expect_all_splits<PercentDecoder>(target, "/a+b?c+d=%20", "/a+b?c d= ");
}

TEST(TextDecoders, JsonStrings) {
  auto b = [](JsonDecoder& d) { d.begin(); };
  expect_all_splits<JsonDecoder>(b, R"({"a":"\u0031\u0030\"\\\/\n","k\u00e9":1})",
                                 "{\"a\":\"10\"\\/\n\",\"k\xc3\xa9\":1}");
  expect_all_splits<JsonDecoder>(b, R"(["\ud83d\ude00","\uDE00","\uD83D","\u12g","\x"])",
                                 "[\"\xf0\x9f\x98\x80\",\"\xef\xbf\xbd\",\"\xef\xbf\xbd\","
                                 "\"\\u12g\",\"\\x\"]");
  expect_all_splits<JsonDecoder>(b, "\"\\u00", "\"\\u00");  // truncated escape kept at finish
  JsonDecoder d;
  d.begin();
  run_decoder(d, R"(["\uD800\uD800\uDC00"])", 99);
  EXPECT_EQ(d.take_lone_surrogates(), 1u);
}

TEST(TextDecoders, Base64ContentTransferEncoding) {
  auto b = [](Base64Decoder& d) { d.begin(); };
  const std::string plain = "name,id\r\nli,11010519491231002X\r\n\xff\x00z";
  std::string enc = base64(plain);
  enc.insert(8, "\r\n").insert(30, " \t");
  expect_all_splits<Base64Decoder>(b, enc, plain);
}

TEST(TextDecoders, QuotedPrintable) {
  auto b = [](QuotedPrintableDecoder& d) { d.begin(); };
  expect_all_splits<QuotedPrintableDecoder>(
      b, "1101051949=\r\n12310=\n02X =3D=3d=E4=B8=AD a=zz ==41 end=",
      "11010519491231002X ==\xe4\xb8\xad a=zz =A end=");
}

TEST(TextDecoders, Base64Runs) {
  auto b = [](Base64RunDecoder& d) { d.begin(); };
  const std::string id = "11010519491231002X";
  // >= 16 characters decode; shorter runs and other text are skipped; runs end with '\n'.
  expect_all_splits<Base64RunDecoder>(
      b, "x " + base64("id:" + id) + " QUJDRA== " + base64("\xfb\xff" + id, true) + ".",
      "id:" + id + "\n\xfb\xff" + id + "\n");
  expect_all_splits<Base64RunDecoder>(b, "0123456789abcde", "");  // 15: not a run
}

// skip_plain_runs (64 bytes at a time, runs carried across blocks; short runs and long runs of
// digits only passed over) against a byte loop, for every block alignment of the runs.
TEST(Base64Runs, SkipPlainRunsMatchesAByteLoop) {
  std::mt19937 rng(11);
  const char alphabet[] = "0123456789aZ+/-_ .\",";
  for (int t = 0; t < 40000; ++t) {
    // Some longer than a segment: the AVX-512 search takes 8 blocks (512 bytes) at a time.
    std::string s(t % 8 == 0 ? rng() % 1700 : rng() % 300, ' ');
    const std::size_t bias = rng() % 4 == 0 ? 80 : rng() % 8 + 1;  // longer runs: higher bias
    const std::size_t letters = rng() % 3;  // 0: digits only, else some letters and symbols
    for (char& c : s) {
      if (rng() % (bias + 1) == 0) {
        c = alphabet[16 + rng() % 4];
      } else {
        c = letters != 0 && rng() % (8 * letters) == 0 ? alphabet[10 + rng() % 6]
                                                       : alphabet[rng() % 10];
      }
    }
    std::size_t want = s.size(), start = 0;
    bool nd = false;
    for (std::size_t i = 0; i <= s.size(); ++i) {
      const bool b64 = i < s.size() && base64_value(static_cast<uint8_t>(s[i])) >= 0;
      if (b64) {
        if (i == 0 || base64_value(static_cast<uint8_t>(s[i - 1])) < 0) start = i, nd = false;
        nd = nd || s[i] < '0' || s[i] > '9';
        continue;
      }
      const bool in_run = i > 0 && base64_value(static_cast<uint8_t>(s[i - 1])) >= 0;
      if (in_run && (i == s.size() || (i - start >= Base64RunDecoder::kMinRun && nd))) {
        want = start;
        break;
      }
    }
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    ASSERT_EQ(skip_plain_runs(p, s.size()), want) << s;
    std::size_t len = 0;
    while (len < s.size() && base64_value(static_cast<uint8_t>(s[len])) >= 0) ++len;
    ASSERT_EQ(base64_run_length(p, s.size()), len) << s;
    for (unsigned isa = 0; isa < 3; ++isa) {  // every instruction set this CPU has
      if ((text_detail::base64_scan_isas() >> isa & 1u) == 0) continue;
      ASSERT_EQ(text_detail::skip_plain_runs_on(isa, p, s.size()), want) << isa << " " << s;
      ASSERT_EQ(text_detail::base64_run_length_on(isa, p, s.size()), len) << isa << " " << s;
    }
  }
}

// The identity scans of the JSON and form views (64 bytes at a time) against byte loops.
TEST(TextScans, StopAndParityAndFindEitherMatchByteLoops) {
  std::mt19937 rng(12);
  const char alphabet[] = "ab\"\\%+";
  for (int t = 0; t < 20000; ++t) {
    std::string s(rng() % 300, ' ');
    const unsigned sparse = rng() % 200 + 2;
    for (char& c : s) c = rng() % sparse == 0 ? alphabet[2 + rng() % 4] : alphabet[rng() % 2];
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    const std::size_t bs = std::min(s.find('\\'), s.size());
    unsigned quotes = 0;
    ASSERT_EQ(text_detail::stop_and_parity(p, s.size(), '\\', '"', quotes), bs) << s;
    ASSERT_EQ(quotes, static_cast<unsigned>(std::count(s.begin(), s.begin() + bs, '"'))) << s;
    const std::size_t either = std::min(s.find_first_of("%+"), s.size());
    ASSERT_EQ(text_detail::find_either(p, s.size(), '%', '+'), either) << s;
    for (unsigned isa = 0; isa < 3; ++isa) {  // every instruction set this CPU has
      if ((text_detail::base64_scan_isas() >> isa & 1u) == 0) continue;
      unsigned q = 0;
      ASSERT_EQ(text_detail::stop_and_parity_on(isa, p, s.size(), '\\', '"', q), bs) << isa;
      ASSERT_EQ(q, quotes) << isa << " " << s;
      ASSERT_EQ(text_detail::find_either_on(isa, p, s.size(), '%', '+'), either) << isa;
    }
  }
}

// The decoding of base64 text as Base64RunDecoder does it (from the run's first character).
std::string unbase64(const std::string& run) {
  std::string out;
  uint32_t acc = 0, bits = 0;
  for (const char c : run) {
    acc = (acc << 6) | static_cast<uint32_t>(base64_value(static_cast<uint8_t>(c)));
    bits += 6;
    if (bits >= 8) bits -= 8, out += static_cast<char>(acc >> bits), acc &= (1u << bits) - 1;
  }
  return out;
}

TEST(Base64Runs, DigitOnlyRunsAreNotDecoded) {
  auto b = [](Base64RunDecoder& d) { d.begin(); };
  // Order ids, timestamps and numbers in clear: nothing, not even the '\n' of a run.
  expect_all_splits<Base64RunDecoder>(
      b, "{\"orderId\":1234567890123456789,\"t\":\"17012345678901234\"} 4111111111111111", "");
  // A run that starts with digits and goes on with letters: decoded from its start, the bytes of
  // its leading digits but the last two left out (they cannot hold a 3-byte ASCII value).
  for (const std::string digits : {"1234567890123456", "12345678901234567", "123", ""}) {
    const std::string run = digits + base64("id:11010519491231002X");
    const std::string full = unbase64(run);
    const std::size_t lead = digits.size() * 6 / 8;  // bytes decoded from digits only
    const std::string want = full.substr(lead > 2 ? lead - 2 : 0) + "\n";
    SCOPED_TRACE(run);
    expect_all_splits<Base64RunDecoder>(b, "x " + run + " y", run.size() >= 16 ? want : "");
  }
}

// Why digit-only runs can be skipped (text.hpp): four digits decode to a first byte of
// 0xD3..0xF7, so every 3 consecutive decoded bytes of digit-only text hold a non-ASCII byte; and
// the base64 of every built-in detector's values and keywords (each byte form, each alignment)
// holds a non-digit and decodes to the value.
TEST(Base64Runs, DigitOnlyRunsHideNoDetectableValue) {
  for (int q = 0; q < 10000; ++q) {
    char quad[5];
    std::snprintf(quad, sizeof quad, "%04d", q);
    const std::string out = unbase64(quad);
    ASSERT_GE(static_cast<uint8_t>(out[0]), 0xD3) << quad;
    ASSERT_LE(static_cast<uint8_t>(out[0]), 0xF7) << quad;
  }
  std::vector<std::string> values = {"11010519491231002X",
                                     "440524188001010014",
                                     "91110000600037341L",
                                     "6222021234567890128",
                                     "4111111111111111",
                                     "378282246310005",
                                     "GB82WEST12345698765432",
                                     "536-90-4399",
                                     "A123456(3)",
                                     "A123456789",
                                     "E12345678",
                                     "H1234567801",
                                     "13800138000",
                                     "+8619912345678",
                                     "li.si@example.cn",
                                     "39.9042,116.4074"};
  const auto ids = valid_resident_ids();
  values.insert(values.end(), ids.begin(), ids.end());
  for (const std::string_view name : builtin_detector_names()) {
    const auto d = describe_builtin(name);
    ASSERT_TRUE(d.has_value()) << name;
    for (const auto* list : {&d->keywords, &d->negative_keywords}) {
      for (const std::string& kw : *list) {
        values.push_back(kw);  // UTF-8 (the JSON-escaped form is ASCII)
        if (const auto gbk = utf8_to_gbk(kw)) values.push_back(*gbk);
      }
    }
  }
  ASSERT_GT(values.size(), 100u);
  for (const std::string& v : values) {
    for (const std::string pad : {"", "a", "ab"}) {
      const std::string enc = base64(pad + v);
      ASSERT_NE(enc.find_first_not_of("0123456789"), std::string::npos) << v;
      std::string out;
      Base64RunDecoder d;
      d.begin();
      const std::string text = "{\"blob\":\"" + enc + "\"}";
      ByteOut o{&out, [](void* p, std::span<const uint8_t> b) noexcept {
                  static_cast<std::string*>(p)->append(reinterpret_cast<const char*>(b.data()),
                                                       b.size());
                }};
      d.feed(bytes(text), o);
      d.finish(o);
      // Shorter runs are not decoded at all (digits or not): values of fewer than 12 bytes.
      if (std::min(enc.find('='), enc.size()) >= Base64RunDecoder::kMinRun)
        EXPECT_NE(out.find(v), std::string::npos) << "pad " << pad.size() << " " << v;
    }
  }
}

// ---- multipart -------------------------------------------------------------------------------

struct Parts : PartHandler {
  std::string log;
  void part_begin(uint16_t i, const PartHead& h) noexcept override {
    const PartEncoding e = h.enc;
    log += "[" + std::to_string(i) + ":" + std::to_string(static_cast<int>(e)) + "]";
  }
  void part_data(std::span<const uint8_t> b) noexcept override {
    log.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  void part_end() noexcept override { log += "[end]"; }
};

TEST(Multipart, BoundaryParameter) {
  char b[80];
  const std::string v1 = "multipart/form-data; charset=x; Boundary=\"a b;c\"";
  EXPECT_EQ(std::string(b, multipart_boundary(v1.data(), v1.size(), b)), "a b;c");
  const std::string v2 = "multipart/mixed;boundary=--xyz;x=1";
  EXPECT_EQ(std::string(b, multipart_boundary(v2.data(), v2.size(), b)), "--xyz");
  const std::string v3 = "multipart/mixed; xboundary=1";
  EXPECT_EQ(multipart_boundary(v3.data(), v3.size(), b), 0u);
  const std::string v4 = "multipart/mixed; boundary=" + std::string(71, 'a');
  EXPECT_EQ(multipart_boundary(v4.data(), v4.size(), b), 0u);
}

TEST(Multipart, PartsAtEverySplit) {
  // The boundary "aab" makes the KMP fallback matter ("\r\n--aaab" inside a part).
  const std::string body =
      "preamble\r\n--aab\r\nContent-Transfer-Encoding: BASE64\r\n\r\nQUJD\r\n--aab  \r\n"
      "\r\nx\r\n--aaab\r\n-\r\n--a\r\n--aab\r\ncontent-transfer-encoding: quoted-printable\r\n\r\n"
      "q\r\n--aab--\r\n--aab\r\nignored";
  const std::string want = "[1:1]QUJD[end][2:0]x\r\n--aaab\r\n-\r\n--a[end][3:2]q[end]";
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    MultipartDecoder m;
    m.begin("aab", 3);
    Parts p;
    m.feed(bytes(body.substr(0, cut)), p);
    m.feed(bytes(body.substr(cut)), p);
    m.finish(p);
    ASSERT_EQ(p.log, want) << cut;
    EXPECT_FALSE(m.malformed());
  }
}

TEST(Multipart, MissingCloseDelimiterIsMalformed) {
  MultipartDecoder m;
  m.begin("b", 1);
  Parts p;
  m.feed(bytes("--b\r\n\r\nabc\r\n--"), p);
  m.finish(p);
  EXPECT_EQ(p.log, "[1:0]abc\r\n--[end]");
  EXPECT_TRUE(m.malformed());
}

// ---- decompression through the body chain: limits -----------------------------------------------

struct BodyRun {
  RecordSink sink;
  DirOutput dir_output;
};

BodyRun decode_body(DecodeWorker& w, const BodySpec& spec, const std::string& body,
                    std::size_t piece) {
  BodyRun r;
  auto d = std::make_unique<BodyDecoder>();
  d->begin(spec, w, r.sink, r.dir_output);
  for (std::size_t i = 0; i < body.size(); i += piece)
    d->feed(bytes(body.substr(i, piece)), w, r.sink);
  d->finish(w, r.sink);
  return r;
}

BodySpec spec_of(std::initializer_list<Coding> codings) {
  BodySpec s;
  s.root = LayerKind::kResponseBody;
  for (Coding c : codings) s.codings[s.n_codings++] = c;
  return s;
}

TEST(Decompression, RatioBombStopsWithACondition) {
  const std::string bomb =
      deflate_with(std::string(50u << 20, '0'), 31, 9);  // 50 MiB of zeros, ~50 KB
  auto w = worker();
  for (std::size_t piece : {bomb.size(), std::size_t{1000}, std::size_t{7}}) {
    BodyRun r = decode_body(*w, spec_of({Coding::kGzip}), bomb, piece);
    EXPECT_TRUE(r.sink.has("condition ratio_limit @ http.response.body > gzip")) << piece;
    EXPECT_LT(r.sink.at("http.response.body > gzip").size(), (4u << 20)) << piece;
    EXPECT_EQ(w->arena().in_use(), 0u);
  }
}

TEST(Decompression, OutputLimitIsExactForEverySplit) {
  DecodeLimits lim;
  lim.max_output = 100000;
  lim.max_ratio = 1u << 30;
  auto w = worker(lim);
  std::string text;
  for (int i = 0; text.size() < 300000; ++i) text += "row " + std::to_string(i * 7919) + "\n";
  const std::string z = gzip(text);
  for (std::size_t piece : {z.size(), std::size_t{333}, std::size_t{1}}) {
    BodyRun r = decode_body(*w, spec_of({Coding::kGzip}), z, piece);
    EXPECT_TRUE(r.sink.has("condition output_limit @ http.response.body > gzip"));
    EXPECT_EQ(r.sink.at("http.response.body > gzip"), text.substr(0, 100000) + "|");
    EXPECT_EQ(r.dir_output.layer[0], 100000u);
  }
}

TEST(Decompression, BrotliBeyondTheDecoderMemoryCapFailsClosed) {
  DecodeLimits lim;
  lim.decoder_memory = 256 * 1024;  // a 4 MiB-window stream needs more
  auto w = worker(lim);
  std::string text;
  std::mt19937 rng(5);
  for (int i = 0; i < 3000000; ++i) text += static_cast<char>('a' + rng() % 26);
  BodyRun r = decode_body(*w, spec_of({Coding::kBrotli}), brotli(text, 22), 4096);
  EXPECT_TRUE(r.sink.has("condition decoder_memory @ http.response.body > br"));
  EXPECT_EQ(w->arena().in_use(), 0u);
  // A small body decodes within the same cap (libbrotli sizes its ring buffer to the data).
  BodyRun small = decode_body(*w, spec_of({Coding::kBrotli}), brotli("hello"), 2);
  EXPECT_EQ(small.sink.at("http.response.body > br"), "hello|");
}

TEST(Decompression, ArenaExhaustionIsADecoderMemoryCondition) {
  DecodeLimits lim;
  lim.arena_bytes = 64 * 1024;  // room for one 40 KiB inflate, not two
  auto w = worker(lim);
  RecordSink sink;
  DirOutput out1, out2;
  auto a = std::make_unique<BodyDecoder>();
  auto b = std::make_unique<BodyDecoder>();
  std::string text;
  for (int i = 0; text.size() < 100000; ++i) text += std::to_string(i * 31337) + " ";
  const std::string z = gzip(text);
  a->begin(spec_of({Coding::kGzip}), *w, sink, out1);
  b->begin(spec_of({Coding::kGzip}), *w, sink, out2);
  a->feed(bytes(z.substr(0, z.size() / 2)), *w, sink);  // state + 32 KiB window in use
  b->feed(bytes(z.substr(0, z.size() / 2)), *w, sink);
  EXPECT_TRUE(sink.has("condition decoder_memory @ http.response.body > gzip"));
  a->finish(*w, sink);
  b->finish(*w, sink);
  EXPECT_EQ(w->arena().in_use(), 0u);
  EXPECT_GT(w->arena().peak(), 0u);
}

TEST(Decompression, GzipInsideGzipAndEveryPiece) {
  const std::string text = "id 11010519491231002X end";
  auto w = worker();
  for (std::size_t piece = 1; piece < 40; ++piece) {
    BodyRun r = decode_body(*w, spec_of({Coding::kGzip, Coding::kGzip}), gzip(gzip(text)), piece);
    EXPECT_EQ(r.sink.at("http.response.body > gzip > gzip"), text + "|");
  }
}

}  // namespace
}  // namespace dc::inspect::decoding
