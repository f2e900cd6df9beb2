// Streaming scanner + built-in detector catalogue: split values, boundaries, proximity, GBK,
// pool exhaustion, custom detector errors, and every built-in detector on realistic text.
#include "inspect/detect/scanner.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "inspect/detect/detectors.hpp"
#include "inspect/detect/validators.hpp"

namespace dc::inspect {
namespace {

constexpr CivilDate kToday{2025, 6, 1};
const std::string kId = "11010519491231002X";

struct Got {
  std::string detector;
  uint64_t offset;
  uint16_t length;
  Confidence confidence;
  std::string masked;
  std::string value;
};

struct CollectSink : FindingSink {
  const DetectorDb* db = nullptr;
  std::vector<Got> got;
  void on_finding(const Finding& f) noexcept override {
    got.push_back({db->detector(f.detector).name, f.offset, f.length, f.confidence, f.masked,
                   std::string(reinterpret_cast<const char*>(f.value), f.value_len)});
  }
  std::vector<Got> of(const std::string& det) const {
    std::vector<Got> r;
    for (const auto& g : got)
      if (g.detector == det) r.push_back(g);
    return r;
  }
};

std::shared_ptr<const DetectorDb> builtins() {
  static const auto db = [] {
    auto r = DetectorDb::compile_builtins();
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r.value();
  }();
  return db;
}

Bytes bytes(const std::string& s) { return as_bytes(s); }

// Feeds `pieces` as successive scan() calls of one stream, then close().
CollectSink scan_pieces(const std::vector<std::string>& pieces, StreamOptions opt = {},
                        std::shared_ptr<const DetectorDb> db = builtins()) {
  CollectSink sink;
  sink.db = db.get();
  auto scratch = Scratch::create(db);
  EXPECT_TRUE(scratch.has_value());
  scratch->set_today(kToday);
  auto pool = StreamPool::create(db, 1, opt);
  EXPECT_TRUE(pool.has_value());
  Stream* s = (*pool)->acquire();
  EXPECT_NE(s, nullptr);
  for (const auto& p : pieces) EXPECT_EQ(scan(*s, *scratch, bytes(p), sink), ScanStatus::kOk);
  EXPECT_EQ(close(*s, *scratch, sink), ScanStatus::kOk);
  (*pool)->release(s);
  return sink;
}

CollectSink scan_text(const std::string& text) { return scan_pieces({text}); }

TEST(Scanner, CatalogueCompiles) {
  auto db = builtins();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->detector_count(), builtin_detector_names().size());
  EXPECT_GT(db->pattern_count(), 100u);  // candidates + keyword forms
  EXPECT_GT(db->stream_size(), 0u);
  for (auto n : builtin_detector_names()) EXPECT_TRUE(describe_builtin(n).has_value()) << n;
}

TEST(Scanner, IdSplitAtEveryOffsetIsFoundOnce) {
  const std::string pre = "{\"name\":\"x\",\"v\":\"", post = "\"}";
  const std::string text = pre + kId + post;
  for (size_t k = 1; k <= 18; ++k) {
    SCOPED_TRACE(k);
    const size_t cut = pre.size() + k;
    auto sink = scan_pieces({text.substr(0, cut), text.substr(cut)});
    auto ids = sink.of("cn_resident_id");
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_EQ(ids[0].offset, pre.size());
    EXPECT_EQ(ids[0].length, 18);
    EXPECT_EQ(ids[0].value, kId);
    EXPECT_EQ(ids[0].masked, "110105********002X");
    EXPECT_TRUE(sink.of("cn_uscc").empty());  // the ID interpretation wins
  }
}

TEST(Scanner, OneBytePieces) {
  const std::string text = "phone 13800138000, id " + kId + ", mail zhang.san@example.com.cn.";
  std::vector<std::string> pieces;
  for (char c : text) pieces.emplace_back(1, c);
  auto sink = scan_pieces(pieces);
  EXPECT_EQ(sink.of("cn_resident_id").size(), 1u);
  EXPECT_EQ(sink.of("cn_mobile").size(), 1u);
  ASSERT_EQ(sink.of("email").size(), 1u);
  EXPECT_EQ(sink.of("email")[0].value, "zhang.san@example.com.cn");
}

TEST(Scanner, ValueEndingExactlyAtSegmentEnd) {
  // The boundary byte after the value arrives in a later segment, or never (close()).
  auto a = scan_pieces({"id:" + kId, "", "x"});
  EXPECT_EQ(a.of("cn_resident_id").size(), 1u);
  auto b = scan_pieces({"id:" + kId});
  EXPECT_EQ(b.of("cn_resident_id").size(), 1u);
  auto c = scan_pieces({"id:" + kId, "7"});  // continues as a 19-digit run: not an ID
  EXPECT_TRUE(c.of("cn_resident_id").empty());
}

TEST(Scanner, TokensAtStreamStartAndEnd) {
  struct Case {
    std::string text;
    const char* detector;
  };
  const std::vector<Case> kCases = {
      {kId, "cn_resident_id"},           {"A123456(3)", "hkid"},
      {"91310115MA1K3BTP2B", "cn_uscc"}, {"GB82WEST12345698765432", "iban"},
      {"138-0013-8000", "cn_mobile"},    {"zhang.san@example.com.cn", "email"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.text);
    auto got = scan_text(c.text).of(c.detector);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].offset, 0u);
    EXPECT_EQ(got[0].length, c.text.size());
  }
}

TEST(Scanner, LookalikesAndLongRunsAreNotReported) {
  const std::vector<std::string> kTexts = {
      "{\"v\":\"110105194912310021\"}",                  // checksum
      "{\"v\":\"110105194902300020\"}",                  // 30 Feb
      "{\"v\":\"1234567" + kId.substr(0, 17) + "89\"}",  // ID inside a 26-digit run
      "{\"v\":\"1234567" + kId + "\"}",                  // ID at the end of a longer run
      "{\"ts\":1700000000000}",                          // epoch milliseconds, not a mobile
      "{\"v\":\"12345678901\"}",                         // prefix 12
      "{\"v\":\"6200000000000006\"}",                    // Luhn failure without a keyword
      "{\"v\":\"4111111111111112\"}",
      "{\"v\":\"000-536-90-4399\"}",               // an SSN shape inside a longer digit group
      "{\"v\":\"1234 6222 0212 3456 7890 128\"}",  // a card inside a longer group
      "{\"v\":\"" + kId + "7\"}",                  // "...002X7"
  };
  for (const auto& t : kTexts) {
    SCOPED_TRACE(t);
    auto sink = scan_text(t);
    for (const auto& g : sink.got) ADD_FAILURE() << g.detector << " " << g.masked;
  }
}

TEST(Scanner, KeywordProximityRaisesConfidence) {
  struct Case {
    std::string text;
    Confidence want;
  };
  const std::string pad(400, ' ');
  const std::vector<Case> kCases = {
      {"{\"x\":\"" + kId + "\"}", Confidence::kLikely},
      {"{\"idCard\":\"" + kId + "\"}", Confidence::kVeryLikely},
      {"身份证号码：" + kId, Confidence::kVeryLikely},
      {"\xc9\xed\xb7\xdd\xd6\xa4: " + kId, Confidence::kVeryLikely},  // 身份证 in GBK
      {"\\u8EAB\\u4EFD\\u8BC1: " + kId, Confidence::kVeryLikely},     // JSON \u escapes
      {kId + " (居民身份证)", Confidence::kVeryLikely},               // keyword after the value
      {"身份证" + pad + kId, Confidence::kLikely},                    // beyond 300 bytes
      {kId + pad + "身份证", Confidence::kLikely},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.text.substr(0, 60));
    auto ids = scan_text(c.text).of("cn_resident_id");
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_EQ(ids[0].confidence, c.want);
  }
}

TEST(Scanner, ForwardKeywordAcrossSegmentsAndWithoutWindow) {
  auto a = scan_pieces({"v=" + kId + " ", "...", " 身份证"});
  ASSERT_EQ(a.of("cn_resident_id").size(), 1u);
  EXPECT_EQ(a.of("cn_resident_id")[0].confidence, Confidence::kVeryLikely);
  StreamOptions no_hold;
  no_hold.forward_window = 0;
  auto b = scan_pieces({"v=" + kId + " 身份证"}, no_hold);
  ASSERT_EQ(b.of("cn_resident_id").size(), 1u);
  EXPECT_EQ(b.of("cn_resident_id")[0].confidence, Confidence::kLikely);
}

TEST(Scanner, NegativeKeywordLowersConfidence) {
  struct Case {
    std::string text;
    Confidence want;
  };
  const std::vector<Case> kCases = {
      {"{\"orderId\":\"" + kId + "\"}", Confidence::kUnlikely},
      {"订单号：" + kId, Confidence::kUnlikely},
      {"订单号：A, 身份证：" + kId, Confidence::kVeryLikely},  // the nearer positive label wins
      {"{\"orderId\":\"1\",\"remark\":\"" + std::string(40, '.') + "\",\"v\":\"" + kId + "\"}",
       Confidence::kLikely},  // a negative label further than 32 bytes away does not count
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.text);
    auto ids = scan_text(c.text).of("cn_resident_id");
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_EQ(ids[0].confidence, c.want);
  }
}

TEST(Scanner, GbkTrailByteBeforeId) {
  // 證 = D7 43 in GBK: the byte before the ID is 'C'. \b would miss it; the validator does not.
  auto a = scan_text("\xd7\x43" + kId);
  ASSERT_EQ(a.of("cn_resident_id").size(), 1u);
  EXPECT_EQ(a.of("cn_resident_id")[0].offset, 2u);
  // 身份證 in GBK (c9 ed b7 dd d7 43) is also a keyword.
  auto b = scan_text("\xc9\xed\xb7\xdd\xd7\x43" + kId);
  ASSERT_EQ(b.of("cn_resident_id").size(), 1u);
  EXPECT_EQ(b.of("cn_resident_id")[0].confidence, Confidence::kVeryLikely);
  // Letter-led tokens after a GBK trail letter; an ASCII letter before them is a longer word.
  struct Case {
    std::string text;
    const char* detector;
    size_t found;
  };
  const std::vector<Case> kCases = {
      {"\xd7\x43"
       "A123456(3)",
       "hkid", 1},
      {"xA123456(3)", "hkid", 0},
      {"\xd7\x43"
       "91310115MA1K3BTP2B",
       "cn_uscc", 1},
      {"x91310115MA1K3BTP2B", "cn_uscc", 0},
      {"\xd7\x43"
       "A123456789",
       "tw_id", 1},
      {"\xd7\x43"
       "13800138000",
       "cn_mobile", 1},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(scan_text(c.text).of(c.detector).size(), c.found);
  }
}

TEST(Scanner, PoolExhaustionIsReported) {
  auto pool = StreamPool::create(builtins(), 2);
  ASSERT_TRUE(pool.has_value());
  Stream* a = (*pool)->acquire();
  Stream* b = (*pool)->acquire();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ((*pool)->acquire(), nullptr);
  EXPECT_EQ((*pool)->exhausted(), 1u);
  EXPECT_EQ((*pool)->in_use(), 2u);
  (*pool)->release(a);
  Stream* c = (*pool)->acquire();
  EXPECT_NE(c, nullptr);
  EXPECT_GT((*pool)->bytes_per_stream(), sizeof(Stream));
}

TEST(Scanner, RecycledStreamStartsClean) {
  auto db = builtins();
  auto scratch = Scratch::create(db);
  ASSERT_TRUE(scratch.has_value());
  auto pool = StreamPool::create(db, 1);
  ASSERT_TRUE(pool.has_value());
  CollectSink sink;
  sink.db = db.get();
  Stream* s = (*pool)->acquire();
  // Released mid-value without close(): nothing of it may leak into the next flow.
  EXPECT_EQ(scan(*s, *scratch, bytes("x" + kId.substr(0, 10)), sink), ScanStatus::kOk);
  (*pool)->release(s);
  s = (*pool)->acquire();
  EXPECT_EQ(scan(*s, *scratch, bytes(kId.substr(10) + " " + kId + " "), sink), ScanStatus::kOk);
  EXPECT_EQ(close(*s, *scratch, sink), ScanStatus::kOk);
  EXPECT_EQ(scan(*s, *scratch, bytes("x"), sink), ScanStatus::kClosed);
  ASSERT_EQ(sink.of("cn_resident_id").size(), 1u);
  EXPECT_EQ(sink.of("cn_resident_id")[0].offset, 9u);
}

TEST(Scanner, ScratchForAnotherDatabaseIsRefused) {
  DetectorSpec email;
  email.name = "email";
  auto other = DetectorDb::compile({email}, nullptr);
  ASSERT_TRUE(other.has_value());
  auto scratch = Scratch::create(other.value());
  auto pool = StreamPool::create(builtins(), 1);
  CollectSink sink;
  Stream* s = (*pool)->acquire();
  EXPECT_EQ(scan(*s, *scratch, bytes("a"), sink), ScanStatus::kScratchMismatch);
}

// Every built-in detector: valid vectors are found inside JSON and CSV, invalid ones are not.
struct DetectorCase {
  const char* detector;
  std::vector<std::string> valid, invalid;
};

const std::vector<DetectorCase>& detector_cases() {
  static const std::vector<DetectorCase> k = {
      {"cn_resident_id",
       {"11010519491231002X", "440524188001010014", "360426199101010071", "34052419800101001X",
        "51010420000229221X", "810000199001011230", "911560198506150010"},
       {"110105194912310021", "110105194902300020", "000000199001010018", "110105209901010012",
        "1101051949123100", "510104200102292213", "99010119900101001X"}},
      {"cn_uscc",
       {"91110000600037341L", "91310000631696382C", "121200004013590816", "91310115MA1K3BTP2B",
        "91350100M000100Y43", "9144030071526726XG", "92340602MA2UK33127"},
       {"91110000600037341N", "92340603MA2UK33127", "91350100M000100Y4Z", "9111000060003IOZSV"}},
      {"bank_card",
       {"6200000000000005", "6205500000000000004", "6222021234567890128", "6217000010012345677",
        "6214831234567896", "6222 0212 3456 7890 128"},
       {"6200000000000006", "6200000000000", "1234567812345678"}},
      {"payment_card",
       {"4111111111111111", "5555555555554444", "2223003122003222", "378282246310005",
        "6011111111111117", "3530111333300000", "4111 1111 1111 1111"},
       {"4111111111111112", "378282246310006", "6200000000000005"}},
      {"cn_mobile",
       {"13800138000", "+8619912345678", "16612345678", "19212345678", "17012345678",
        "138-0013-8000", "0086 13800138000"},
       {"12345678901", "14012345678", "1380013800", "19412345678", "15412345678", "8613800138000"}},
      {"cn_passport",
       {"E12345678", "EA1234567", "G12345678", "DE1234567", "SE1234567", "PE1234567", "K12345678",
        "MA1234567", "E123456782CHN7408122F1204159"},
       {"EI1234567", "E1234567", "X12345678", "E123456789", "E123456781CHN7408122F1204159"}},
      {"hkmo_permit",
       {"C12345678", "CA1234567", "H1234567801", "M87654321"},
       {"W12345678", "H1234567", "CI1234567"}},
      {"tw_permit", {"L12345678"}, {"L1234567", "L123456789"}},
      {"hkid",
       {"A123456(3)", "CA182361(1)", "K034178(9)", "G123456(A)", "AB987654(3)", "Z683365(A)"},
       {"A123456(4)", "K034178(2)", "CA182361(A)", "A12345(6)"}},
      {"tw_id",
       {"A123456789", "F131104093", "A223456781", "B123456780"},
       {"A123456788", "A323456789", "B123456789"}},
      {"email", {"zhang.san@example.com.cn", "x+tag@mail.example.org"}, {"a@b", "foo@-bar.com"}},
      {"cn_coordinates",
       {"39.9042,116.4074", "31.2304, 121.4737", "118.4330,31.3525", "16.8326,112.3385"},
       {"35.6762,139.6503", "1.3521,103.8198", "51.5074,-0.1278", "39.904,116.407"}},
      {"iban",
       {"GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00",
        "FR14 2004 1010 0505 0001 3M02 606", "NL91ABNA0417164300", "CH9300762011623852957"},
       {"GB82 WEST 1234 5698 7654 31", "DE89 3704 0044 0532 0130 01", "GB82 WEST 1234 5698 7654",
        "CH93 0076 2011 6238 5295 8"}},
      {"us_ssn",
       {"536-90-4399", "123-45-6789", "001-01-0001"},
       {"000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000", "078-05-1120"}},
      {"medical_keywords", {"病历", "出院小结", "MSH|^~\\&|HIS|"}, {"病", "历史"}},
  };
  return k;
}

TEST(Scanner, EveryBuiltinDetectorHasCases) {
  for (auto n : builtin_detector_names()) {
    bool found = false;
    for (const auto& c : detector_cases()) found |= c.detector == n;
    EXPECT_TRUE(found) << n;
  }
}

TEST(Scanner, BuiltinDetectorsOnRealisticText) {
  // No keywords in the wrappers: base confidence only.
  auto json = [](const std::string& v) {
    return "[{\"seq\":1,\"note\":\"ok\",\"value\":\"" + v + "\",\"ts\":\"2024-05-01T10:00:00Z\"}]";
  };
  auto csv = [](const std::string& v) { return "seq,note,value,ts\n1,ok," + v + ",2024-05-01\n"; };
  for (const auto& c : detector_cases()) {
    for (const auto& v : c.valid) {
      for (const auto& text : {json(v), csv(v)}) {
        SCOPED_TRACE(std::string(c.detector) + " valid: " + text);
        auto got = scan_text(text).of(c.detector);
        ASSERT_EQ(got.size(), 1u);
        EXPECT_EQ(got[0].offset, text.find(v));
        if (std::string(c.detector) != "medical_keywords") {
          EXPECT_EQ(got[0].length, v.size());
        }
        if (std::string(c.detector) != "medical_keywords") {  // a term is not a personal value
          EXPECT_EQ(std::string(got[0].masked).find(v), std::string::npos) << "unmasked";
        }
      }
    }
    for (const auto& v : c.invalid) {
      for (const auto& text : {json(v), csv(v)}) {
        SCOPED_TRACE(std::string(c.detector) + " invalid: " + text);
        EXPECT_TRUE(scan_text(text).of(c.detector).empty());
      }
    }
  }
}

// An 18-digit number that is both a valid resident ID and a Luhn-valid number in an
// international card range (Discover 65 = Xinjiang, JCB 3528-3589 = Fujian) is one person's ID:
// reported by cn_resident_id only, as bank_card already does for UnionPay (issue 13).
TEST(Scanner, ResidentIdInACardRangeIsCountedOnce) {
  for (const std::string prefix : {"65010219900101", "35280119900101"}) {
    std::string id;
    for (int seq = 0; seq < 1000 && id.empty(); ++seq) {
      char body[32];
      std::snprintf(body, sizeof body, "%s%03d", prefix.c_str(), seq);
      const std::string cand =
          body + std::string(1, gb11643_check_char(bytes(std::string(body) + "0")));
      if (cand.back() != 'X' && luhn_valid(bytes(cand))) id = cand;
    }
    ASSERT_FALSE(id.empty()) << prefix;
    SCOPED_TRACE(id);
    ASSERT_EQ(validate_card(bytes(id)).check, Check::kValid);
    const std::string text = "[{\"seq\":1,\"value\":\"" + id + "\"}]";
    CollectSink got = scan_text(text);
    EXPECT_EQ(got.of("cn_resident_id").size(), 1u);
    EXPECT_TRUE(got.of("payment_card").empty());
  }
}

// The USCC pattern fires only on codes with a letter: an all-digit code (legal when its check
// character is a digit) is the digit-run trigger's token, and the pattern's match on a 19-digit
// order number after a quote was a quarter of all matches on order JSON (performance.md,
// "scanner, session 10"). Counts the pattern's own Hyperscan matches.
TEST(Scanner, UsccPatternFiresOnlyWithALetter) {
  auto db = builtins();
  ASSERT_TRUE(db);
  const int uscc = db->find("cn_uscc");
  ASSERT_GE(uscc, 0);
  unsigned id = 0;
  size_t n_patterns = 0;
  for (unsigned i = 0; i < db->pattern_count(); ++i) {
    const PatternInfo& p = db->pattern(i);
    if (p.detector == uscc && p.role == Role::kCandidate && p.extractor == Extractor::kMixedToken)
      id = i, ++n_patterns;
  }
  ASSERT_EQ(n_patterns, 1u);
  struct Count {
    unsigned id;
    unsigned n = 0;
  };
  hs_scratch_t* scratch = nullptr;
  ASSERT_EQ(hs_alloc_scratch(db->hs(), &scratch), HS_SUCCESS);
  auto matches = [&](const std::string& text) {
    Count c{id};
    auto on = [](unsigned i, unsigned long long, unsigned long long, unsigned, void* ctx) {
      auto* k = static_cast<Count*>(ctx);
      if (i == k->id) ++k->n;
      return 0;
    };
    hs_stream_t* s = nullptr;
    EXPECT_EQ(hs_open_stream(db->hs(), 0, &s), HS_SUCCESS);
    EXPECT_EQ(
        hs_scan_stream(s, text.data(), static_cast<unsigned>(text.size()), 0, scratch, on, &c),
        HS_SUCCESS);
    EXPECT_EQ(hs_close_stream(s, scratch, on, &c), HS_SUCCESS);
    return c.n;
  };
  const std::string pre = "{\"orderId\":\"", post = "\"}";
  EXPECT_EQ(matches(pre + "1234567890123456789" + post), 0u);
  EXPECT_EQ(matches(pre + "121200004013590816" + post), 0u);  // all-digit USCC: digit run
  EXPECT_EQ(scan_text(pre + "121200004013590816" + post).of("cn_uscc").size(), 1u);
  // One letter at each position its alphabet allows (positions 3-8 are the region code).
  const std::string digits = "913101150000000000";
  for (size_t k = 0; k < digits.size(); ++k) {
    if (k >= 2 && k < 8) continue;
    std::string code = digits;
    code[k] = 'M';
    SCOPED_TRACE(code);
    EXPECT_EQ(matches(pre + code + post), 1u);
  }
  EXPECT_EQ(matches(pre + "91310115MA1K3BTP2B" + post), 1u);
  EXPECT_EQ(matches(pre + "91310115MA1K3BTP2" + post), 0u);  // 17 characters
  hs_free_scratch(scratch);
}

TEST(Scanner, ConfidenceRulesPerDetector) {
  struct Case {
    std::string text;
    const char* detector;
    Confidence want;
  };
  const std::vector<Case> kCases = {
      {"card 6200000000000005", "bank_card", Confidence::kVeryUnlikely},  // test number
      {"银行卡号 6222021234567890128", "bank_card", Confidence::kVeryLikely},
      {"卡号 6200000000000006", "bank_card", Confidence::kPossible},  // Luhn fail + keyword
      {"tel 13800138000", "cn_mobile", Confidence::kPossible},
      {"手机号 13800138000", "cn_mobile", Confidence::kLikely},
      {"+86 13800138000", "cn_mobile", Confidence::kLikely},
      {"E12345678", "cn_passport", Confidence::kUnlikely},
      {"护照号码 E12345678", "cn_passport", Confidence::kPossible},
      {"税号 91350211M0000XUF46", "cn_uscc", Confidence::kPossible},  // Fujian pilot code
      {"A1234563", "hkid", Confidence::kPossible},
      {"noreply@example.com", "email", Confidence::kUnlikely},
      {"\"pos\":\"31.2304,121.4737\"", "cn_coordinates", Confidence::kPossible},
      {"坐标 31.2304,121.4737", "cn_coordinates", Confidence::kLikely},
      {"SSN 536-90-4399", "us_ssn", Confidence::kLikely},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.text);
    auto got = scan_text(c.text).of(c.detector);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].confidence, c.want);
  }
  // Without a keyword the Fujian code is not reported at all.
  EXPECT_TRUE(scan_text("x 91350211M0000XUF46").of("cn_uscc").empty());
}

TEST(Scanner, ScanBufferHelper) {
  CollectSink sink;
  sink.db = builtins().get();
  auto n = scan_buffer(builtins(), bytes("a " + kId + " b"), sink, kToday);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n.value(), sink.got.size());
  EXPECT_EQ(sink.of("cn_resident_id").size(), 1u);
}

TEST(Scanner, TodayBoundsBirthDates) {
  std::string born_2025 = "11010520250601001";  // born on "today"
  born_2025 += gb11643_check_char(as_bytes(born_2025 + "0"));
  CollectSink a, b;
  a.db = b.db = builtins().get();
  ASSERT_TRUE(
      scan_buffer(builtins(), bytes(" " + born_2025), a, CivilDate{2025, 6, 1}).has_value());
  ASSERT_TRUE(
      scan_buffer(builtins(), bytes(" " + born_2025), b, CivilDate{2025, 5, 31}).has_value());
  EXPECT_EQ(a.of("cn_resident_id").size(), 1u);
  EXPECT_TRUE(b.of("cn_resident_id").empty());
}

// ---- settle(): nothing leaves unjudged ---------------------------------------------------

// One flow driven like the gateway: scan a segment, settle, "forward", next segment ...
struct Flow {
  std::shared_ptr<const DetectorDb> db;
  Scratch scratch;
  std::unique_ptr<StreamPool> pool;
  Stream* s = nullptr;
  CollectSink sink;

  explicit Flow(StreamOptions opt = {}, std::shared_ptr<const DetectorDb> d = builtins())
      : db(std::move(d)), scratch(Scratch::create(db).value()) {
    scratch.set_today(kToday);
    pool = std::move(StreamPool::create(db, 1, opt).value());
    s = pool->acquire();
    sink.db = db.get();
  }
  ~Flow() { pool->release(s); }
  // Findings reported by this scan() call.
  size_t scan_seg(const std::string& seg) {
    const size_t before = sink.got.size();
    EXPECT_EQ(scan(*s, scratch, bytes(seg), sink), ScanStatus::kOk);
    return sink.got.size() - before;
  }
  // Findings reported by this settle() call.
  size_t settle_now() {
    const size_t before = sink.got.size();
    EXPECT_EQ(settle(*s, scratch, sink), ScanStatus::kOk);
    return sink.got.size() - before;
  }
  size_t close_now() {
    const size_t before = sink.got.size();
    EXPECT_EQ(close(*s, scratch, sink), ScanStatus::kOk);
    return sink.got.size() - before;
  }
};

StreamOptions window(int64_t w) {
  StreamOptions o;
  o.forward_window = w;
  return o;
}

TEST(Settle, IdEndingExactlyAtSegmentEndIsReportedOnce) {
  const std::string kDigitId = "440524188001010014";  // + '7': a 19-digit run, Luhn fails
  struct Case {
    std::string id, next;  // next == "": nothing more, then close()
  };
  const std::vector<Case> kCases = {
      {kId, "\"}"},    {kId, "7\"}"},                      // "...002X7": not a token
      {kId, ""},       {kDigitId, ","}, {kDigitId, "7,"},  // 19-digit run: would not be an ID
      {kDigitId, "7"}, {kDigitId, ""},  {kDigitId, "X,"},  // a letter: still the same ID
  };
  for (int64_t w : {0, -1}) {
    for (const auto& c : kCases) {
      SCOPED_TRACE("window " + std::to_string(w) + ": " + c.id + " | " + c.next);
      Flow f(window(w));
      const std::string seg1 = "{\"v\":\"" + c.id;
      EXPECT_EQ(f.scan_seg(seg1), 0u);  // the boundary byte has not arrived
      ASSERT_EQ(f.settle_now(), 1u);
      const auto ids = f.sink.of("cn_resident_id");
      ASSERT_EQ(ids.size(), 1u);
      EXPECT_EQ(ids[0].offset, 6u);
      EXPECT_EQ(ids[0].length, 18u);
      EXPECT_EQ(ids[0].value, c.id);
      EXPECT_EQ(f.settle_now(), 0u);  // settle twice: reported once
      if (!c.next.empty()) {
        EXPECT_EQ(f.scan_seg(c.next), 0u);
        EXPECT_EQ(f.settle_now(), 0u);
      }
      EXPECT_EQ(f.close_now(), 0u);
      EXPECT_EQ(f.sink.got.size(), 1u);  // over the whole stream, every detector
      EXPECT_EQ(f.s->stats().findings, 1u);
      EXPECT_EQ(f.s->stats().settled, 1u);
      EXPECT_EQ(f.s->stats().candidates_dropped, 0u);
    }
  }
}

TEST(Settle, IncompleteValueWaitsForTheNextSegment) {
  struct Case {
    std::string id;
    size_t cut;
  };
  const std::vector<Case> kCases = {
      {kId, 17}, {kId, 10}, {kId, 1}, {"440524188001010014", 17}, {"440524188001010014", 11}};
  for (int64_t w : {0, -1}) {
    for (const auto& c : kCases) {
      SCOPED_TRACE("window " + std::to_string(w) + ": " + c.id + " cut " + std::to_string(c.cut));
      Flow f(window(w));
      EXPECT_EQ(f.scan_seg("id=" + c.id.substr(0, c.cut)), 0u);
      EXPECT_EQ(f.settle_now(), 0u);  // not valid even if the stream ended here
      // The gateway (window 0) sees it from the next scan(); with a hold window, settle() emits it.
      const size_t next = f.scan_seg(c.id.substr(c.cut) + "&x=1");
      EXPECT_EQ(next, w == 0 ? 1u : 0u);
      EXPECT_EQ(next + f.settle_now(), 1u);
      EXPECT_EQ(f.close_now(), 0u);
      ASSERT_EQ(f.sink.of("cn_resident_id").size(), 1u);
      EXPECT_EQ(f.sink.of("cn_resident_id")[0].offset, 3u);
      EXPECT_EQ(f.sink.got.size(), 1u);
    }
  }
}

TEST(Settle, EveryBuiltinValueAtTheEndOfASegment) {
  const std::string prefix = "seq,note,value\n1,ok,";
  for (int64_t w : {0, -1}) {
    for (const auto& c : detector_cases()) {
      for (const auto& v : c.valid) {
        SCOPED_TRACE("window " + std::to_string(w) + ": " + c.detector + " valid " + v);
        Flow f(window(w));
        f.scan_seg(prefix + v);
        f.settle_now();
        // Everything about the value is known before the segment may leave.
        auto got = f.sink.of(c.detector);
        ASSERT_EQ(got.size(), 1u);
        EXPECT_EQ(got[0].offset, prefix.size());
        if (std::string(c.detector) != "medical_keywords") {
          EXPECT_EQ(got[0].length, v.size());
        }
        f.scan_seg(",2024-05-01\n");
        f.settle_now();
        f.close_now();
        EXPECT_EQ(f.sink.of(c.detector).size(), 1u);  // no double count
      }
      for (const auto& v : c.invalid) {
        SCOPED_TRACE("window " + std::to_string(w) + ": " + c.detector + " invalid " + v);
        Flow f(window(w));
        f.scan_seg(prefix + v);
        f.settle_now();
        EXPECT_TRUE(f.sink.of(c.detector).empty());
      }
    }
  }
}

TEST(Settle, IdleStreamReportsNothing) {
  Flow f;
  EXPECT_EQ(f.settle_now(), 0u);  // nothing scanned yet
  EXPECT_EQ(f.scan_seg("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0u);
  EXPECT_EQ(f.settle_now(), 0u);
  EXPECT_EQ(f.settle_now(), 0u);
  EXPECT_EQ(f.close_now(), 0u);
  EXPECT_EQ(f.s->stats().settled, 0u);
  // Closed: refused like scan().
  EXPECT_EQ(settle(*f.s, f.scratch, f.sink), ScanStatus::kClosed);
}

TEST(Settle, ScratchForAnotherDatabaseIsRefused) {
  DetectorSpec email;
  email.name = "email";
  auto other = DetectorDb::compile({email}, nullptr);
  ASSERT_TRUE(other.has_value());
  auto scratch = Scratch::create(other.value());
  Flow f;
  f.scan_seg("a@example.com");
  EXPECT_EQ(settle(*f.s, *scratch, f.sink), ScanStatus::kScratchMismatch);
  EXPECT_TRUE(f.sink.got.empty());
}

TEST(Settle, HeldFindingsAreEmittedOnce) {
  // Default window: a keyword-less ID whose boundary has arrived is held for a forward keyword.
  Flow f;
  EXPECT_EQ(f.scan_seg("v=" + kId + " "), 0u);
  ASSERT_EQ(f.settle_now(), 1u);
  EXPECT_EQ(f.sink.got[0].confidence, Confidence::kLikely);
  // The keyword after it no longer upgrades it (already reported), nor re-emits it.
  EXPECT_EQ(f.scan_seg(" 身份证"), 0u);
  EXPECT_EQ(f.settle_now(), 0u);
  EXPECT_EQ(f.close_now(), 0u);
  EXPECT_EQ(f.sink.got.size(), 1u);
}

TEST(Settle, KeywordRequiredValueStaysHeldForAForwardKeyword) {
  // A Fujian pilot USCC is reported only with a keyword: not reportable at settle time, but a
  // keyword right after it (next segment) still makes it a finding.
  Flow f;
  EXPECT_EQ(f.scan_seg("x 91350211M0000XUF46 "), 0u);
  EXPECT_EQ(f.settle_now(), 0u);
  EXPECT_EQ(f.scan_seg("(税号)"), 1u);
  EXPECT_EQ(f.settle_now(), 0u);
  EXPECT_EQ(f.close_now(), 0u);
  ASSERT_EQ(f.sink.of("cn_uscc").size(), 1u);
  EXPECT_EQ(f.sink.of("cn_uscc")[0].confidence, Confidence::kPossible);
}

TEST(Settle, LongerTokenAfterSettleIsNotReportedAgain) {
  // The accepted fail-closed cost: the value is reported in its end-of-segment form.
  struct Case {
    std::string seg1, seg2;
    const char* detector;
    std::string value;  // as reported by settle()
  };
  const std::vector<Case> kCases = {
      {"mail a@b.co", "m.cn ok", "email", "a@b.co"},
      {"tel 13800138000", "5 ok", "cn_mobile", "13800138000"},     // becomes a 12-digit run
      {"tel 138-0013-8000", "-1 ok", "cn_mobile", "13800138000"},  // grows another group
      {"k NL91ABNA0417164300", "7 ok", "iban", "NL91ABNA0417164300"},
  };
  for (int64_t w : {0, -1}) {
    for (const auto& c : kCases) {
      SCOPED_TRACE(c.seg1 + " | " + c.seg2);
      Flow f(window(w));
      f.scan_seg(c.seg1);
      EXPECT_EQ(f.settle_now(), 1u);
      ASSERT_EQ(f.sink.of(c.detector).size(), 1u);
      EXPECT_EQ(f.sink.of(c.detector)[0].value, c.value);
      f.scan_seg(c.seg2);
      f.settle_now();
      f.close_now();
      EXPECT_EQ(f.sink.got.size(), 1u);
    }
  }
}

TEST(Settle, OneBytePiecesSettledAfterEveryByte) {
  const std::string text = "phone 13800138000, id " + kId + ", mail zhang.san@example.com.cn.";
  for (int64_t w : {0, -1}) {
    SCOPED_TRACE(w);
    Flow f(window(w));
    for (char c : text) {
      f.scan_seg(std::string(1, c));
      f.settle_now();
    }
    f.close_now();
    EXPECT_EQ(f.sink.of("cn_resident_id").size(), 1u);
    EXPECT_EQ(f.sink.of("cn_mobile").size(), 1u);
    // Settled after every byte: the address is reported as soon as it could end there.
    ASSERT_EQ(f.sink.of("email").size(), 1u);
    EXPECT_EQ(f.sink.of("email")[0].value, "zhang.san@example.co");
    EXPECT_EQ(f.sink.got.size(), 3u);
  }
}

// ---- Custom detectors and compile diagnostics ----------------------------------------------

TEST(DetectorDb, ReportsEveryError) {
  std::vector<DetectorSpec> specs(4);
  specs[0].name = "cn_resident_id";
  specs[1].name = "nope";  // unknown built-in
  specs[2].name = "employee";
  specs[2].builtin = false;
  specs[2].patterns = {{"EMP-[0-9]{6}"}, {"(abc"}, {"a{2,1}"}, {"lit(eral", true}};
  specs[3].name = "bad_validator";
  specs[3].builtin = false;
  specs[3].validator = "md5";
  specs[3].patterns = {{"X[0-9]+"}};
  std::vector<PatternError> errors;
  auto r = DetectorDb::compile(specs, &errors);
  ASSERT_FALSE(r.has_value());
  struct Want {
    size_t det, pat;
  };
  const Want kWant[] = {{1, kNoPattern}, {2, 1}, {2, 2}, {3, kNoPattern}};
  ASSERT_EQ(errors.size(), std::size(kWant));
  for (size_t i = 0; i < errors.size(); ++i) {
    SCOPED_TRACE(errors[i].message);
    EXPECT_EQ(errors[i].detector_index, kWant[i].det);
    EXPECT_EQ(errors[i].pattern_index, kWant[i].pat);
    EXPECT_FALSE(errors[i].message.empty());
  }
  EXPECT_NE(errors[0].message.find("cn_resident_id"), std::string::npos);  // lists known names
}

TEST(DetectorDb, CustomDetectorWithKeywordsAndValidator) {
  std::vector<DetectorSpec> specs(2);
  specs[0].name = "employee";
  specs[0].builtin = false;
  specs[0].patterns = {{"EMP-[0-9]{6}"}};
  specs[0].keywords = {"工号"};
  specs[1].name = "loyalty";
  specs[1].builtin = false;
  specs[1].patterns = {{"LC[0-9]{16}"}};
  specs[1].validator = "none";
  std::vector<PatternError> errors;
  auto db = DetectorDb::compile(specs, &errors);
  ASSERT_TRUE(db.has_value()) << (errors.empty() ? "" : errors[0].message);
  {
    StreamOptions backward_only;  // the keyword after the first value would otherwise raise it
    backward_only.forward_window = 0;
    auto sink = scan_pieces({"员工 EMP-0012", "34 and xEMP-999999 / 工号 EMP-123456"},
                            backward_only, db.value());
    auto got = sink.of("employee");
    ASSERT_EQ(got.size(), 2u);  // "xEMP-..." continues a word: rejected
    EXPECT_EQ(got[0].offset, 7u);
    EXPECT_EQ(got[0].length, 10u);
    EXPECT_EQ(got[0].confidence, Confidence::kPossible);
    EXPECT_EQ(got[1].confidence, Confidence::kLikely);
  }
  // "gb11643" as a custom validator.
  DetectorSpec id;
  id.name = "staff_id";
  id.builtin = false;
  id.patterns = {{"[0-9]{17}[0-9X]"}};
  id.validator = "gb11643";
  auto db2 = DetectorDb::compile({id}, &errors);
  ASSERT_TRUE(db2.has_value());
  auto sink = scan_pieces({"S:" + kId + " S:110105194912310021 S:1" + kId}, {}, db2.value());
  EXPECT_EQ(sink.of("staff_id").size(), 1u);
}

TEST(Settle, CustomPatternsWaitingForMoreBytes) {
  std::vector<DetectorSpec> specs(2);
  specs[0].name = "employee";  // "\b": Hyperscan itself waits for the next byte or end of data
  specs[0].builtin = false;
  specs[0].patterns = {{"EMP-[0-9]{6}\\b"}};
  specs[1].name = "loyalty";  // unbounded: a new match at every further digit
  specs[1].builtin = false;
  specs[1].patterns = {{"LC[0-9]+"}};
  specs[1].validator = "none";
  std::vector<PatternError> errors;
  auto db = DetectorDb::compile(specs, &errors);
  ASSERT_TRUE(db.has_value()) << (errors.empty() ? "" : errors[0].message);
  struct Case {
    std::string seg1, seg2;
    const char* detector;
    size_t settled;  // reported by the first settle()
  };
  const std::vector<Case> kCases = {
      {"id EMP-123456", " ok", "employee", 1},  {"id EMP-123456", "", "employee", 1},
      {"id EMP-123456", "7 ok", "employee", 1}, {"id EMP-12345", "6 ok", "employee", 0},
      {"no LC1234", "5678 ok", "loyalty", 1},   {"no LC1234", "", "loyalty", 1},
      {"no LC", "1234 ok", "loyalty", 0},
  };
  for (int64_t w : {0, -1}) {
    for (const auto& c : kCases) {
      SCOPED_TRACE(c.seg1 + " | " + c.seg2);
      Flow f(window(w), db.value());
      f.scan_seg(c.seg1);
      EXPECT_EQ(f.settle_now(), c.settled);
      EXPECT_EQ(f.settle_now(), 0u);
      if (!c.seg2.empty()) f.scan_seg(c.seg2);
      f.settle_now();
      f.close_now();
      EXPECT_EQ(f.sink.of(c.detector).size(), 1u);
      EXPECT_EQ(f.sink.got.size(), 1u);
    }
  }
}

}  // namespace
}  // namespace dc::inspect
