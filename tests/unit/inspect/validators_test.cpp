// Validators, driven by tests/data/test-vectors.txt (a copy of the reference vectors) (parsed at
// test time) plus our own rows per detector (detectors.md §2.2-§2.15 and edge cases).
#include "inspect/detect/validators.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "inspect/detect/detectors.hpp"

namespace dc::inspect {
namespace {

constexpr CivilDate kToday{2025, 6, 1};

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

// test-vectors.txt: "=== Section ===" headers, then one row per line.
std::map<std::string, std::vector<std::string>> load_vectors() {
  std::ifstream in(DC_SOURCE_DIR "/tests/data/test-vectors.txt");
  std::map<std::string, std::vector<std::string>> out;
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.rfind("=== ", 0) == 0) {
      section = line.substr(4, line.find(" ===", 4) - 4);
      continue;
    }
    if (!section.empty() && !trim(line).empty()) out[section].push_back(line);
  }
  return out;
}

const std::map<std::string, std::vector<std::string>>& vectors() {
  static const auto v = load_vectors();
  return v;
}

// "VALUE   (True, 'reason') ..." -> value (may contain single spaces, e.g. grouped IBANs), ok,
// reason.
struct Row {
  std::string value;
  bool ok = false;
  std::string reason;
  std::string tail;  // text after the closing parenthesis
};
Row parse_tuple_row(const std::string& line) {
  Row r;
  size_t p = line.find("(True,");
  if (p == std::string::npos) p = line.find("(False,");
  EXPECT_NE(p, std::string::npos) << line;
  if (p == std::string::npos) return r;
  r.value = trim(line.substr(0, p));
  r.ok = line.compare(p, 6, "(True,") == 0;
  size_t q1 = line.find('\'', p), q2 = line.find('\'', q1 + 1);
  r.reason = line.substr(q1 + 1, q2 - q1 - 1);
  r.tail = trim(line.substr(line.find(')', q2) + 1));
  return r;
}

std::string after(const std::string& s, const std::string& key) {
  size_t p = s.find(key);
  if (p == std::string::npos) return "";
  std::istringstream is(s.substr(p + key.size()));
  std::string tok;
  is >> tok;
  return tok;
}

const std::vector<std::string>& section(const std::string& name) {
  static const std::vector<std::string> kEmpty;
  auto it = vectors().find(name);
  EXPECT_NE(it, vectors().end()) << "section missing from test-vectors.txt: " << name;
  return it == vectors().end() ? kEmpty : it->second;
}

TEST(TestVectors, FileIsReadable) { ASSERT_GE(vectors().size(), 10u); }

TEST(TestVectors, ResidentId) {
  size_t rows = 0;
  for (const auto& line : section("PRC resident ID")) {
    Row r = parse_tuple_row(line);
    SCOPED_TRACE(line);
    Check c = validate_cn_resident_id(as_bytes(r.value), kToday);
    EXPECT_EQ(c == Check::kValid, r.ok) << to_string(c);
    if (r.reason == "checksum") {
      EXPECT_EQ(c, Check::kChecksum);
    }
    if (r.reason == "province") {
      EXPECT_EQ(c, Check::kRegion);
    }
    if (r.reason == "date" || r.reason == "date-range") {
      EXPECT_EQ(c, Check::kDate);
    }
    if (r.reason == "format") {
      EXPECT_TRUE(c == Check::kFormat || c == Check::kLength);
    }
    std::string want = after(r.tail, "expected-check:");
    if (want.size() == 1 && want != "-") {
      EXPECT_EQ(gb11643_check_char(as_bytes(r.value)), want[0]);
    }
    ++rows;
  }
  EXPECT_GE(rows, 15u);
}

TEST(TestVectors, Uscc) {
  size_t rows = 0;
  for (const auto& line : section("USCC")) {
    SCOPED_TRACE(line);
    if (line.rfind("org-code check for ", 0) == 0) {
      // "org-code check for 60003734 -> 1 ..."
      std::string body = after(line, "for "), want = after(line, "-> ");
      EXPECT_EQ(gb11714_check_char(as_bytes(body)), want[0]);
      ++rows;
      continue;
    }
    Row r = parse_tuple_row(line);
    Check c = validate_uscc(as_bytes(r.value));
    EXPECT_EQ(c == Check::kValid, r.ok) << to_string(c);
    if (r.reason == "checksum") {
      EXPECT_EQ(c, Check::kChecksum);
    }
    if (r.reason == "format") {
      EXPECT_EQ(c, Check::kFormat);
    }
    std::string want = after(r.tail, "computed-check:");
    if (want.size() == 1 && want != "-") {
      EXPECT_EQ(gb32100_check_char(as_bytes(r.value)), want[0]);
    }
    ++rows;
  }
  EXPECT_GE(rows, 10u);
}

TEST(TestVectors, PaymentCards) {
  const std::map<std::string, CardBrand> kBrand = {
      {"None", CardBrand::kNone}, {"UnionPay", CardBrand::kUnionPay},
      {"Visa", CardBrand::kVisa}, {"Mastercard", CardBrand::kMastercard},
      {"Amex", CardBrand::kAmex}, {"Discover", CardBrand::kDiscover},
      {"JCB", CardBrand::kJcb},   {"Diners", CardBrand::kDiners}};
  size_t rows = 0;
  for (const auto& line : section("Payment cards (Luhn + brand)")) {
    SCOPED_TRACE(line);
    std::istringstream is(line);
    std::string pan;
    is >> pan;
    const bool luhn = after(line, "luhn=") == "True";
    const std::string brand = after(line, "brand=");
    ASSERT_TRUE(kBrand.count(brand)) << brand;
    EXPECT_EQ(luhn_valid(as_bytes(pan)), luhn);
    EXPECT_EQ(card_brand(as_bytes(pan)), kBrand.at(brand));
    CardCheck cc = validate_card(as_bytes(pan));
    EXPECT_EQ(cc.check == Check::kValid, luhn && kBrand.at(brand) != CardBrand::kNone);
    ++rows;
  }
  EXPECT_GE(rows, 12u);
}

template <class F>
size_t run_tuple_section(const std::string& name, F validate) {
  size_t rows = 0;
  for (const auto& line : section(name)) {
    SCOPED_TRACE(line);
    if (line.rfind("computed:", 0) == 0) continue;  // handled by the caller
    Row r = parse_tuple_row(line);
    Check c = validate(as_bytes(r.value));
    EXPECT_EQ(c == Check::kValid, r.ok) << to_string(c);
    ++rows;
  }
  return rows;
}

TEST(TestVectors, Iban) { EXPECT_GE(run_tuple_section("IBAN", validate_iban), 8u); }
TEST(TestVectors, Ssn) { EXPECT_GE(run_tuple_section("US SSN", validate_us_ssn), 9u); }
TEST(TestVectors, TaiwanId) { EXPECT_GE(run_tuple_section("Taiwan ID", validate_tw_id), 6u); }

TEST(TestVectors, Hkid) {
  EXPECT_GE(run_tuple_section("HKID", validate_hkid), 8u);
  // "computed: G123456 -> A ; AB987654 -> 3 ; Z683365 -> A"
  size_t computed = 0;
  for (const auto& line : section("HKID")) {
    if (line.rfind("computed:", 0) != 0) continue;
    std::istringstream is(line.substr(9));
    std::string body, arrow, check, semi;
    while (is >> body >> arrow >> check) {
      SCOPED_TRACE(body);
      EXPECT_EQ(validate_hkid(as_bytes(body + "(" + check + ")")), Check::kValid);
      EXPECT_EQ(validate_hkid(as_bytes(body + check)), Check::kValid);
      ++computed;
      is >> semi;
    }
  }
  EXPECT_EQ(computed, 3u);
}

TEST(TestVectors, Icao9303) {
  size_t rows = 0;
  for (const auto& line : section("ICAO 9303 MRZ check digits")) {
    SCOPED_TRACE(line);
    std::istringstream is(line);
    std::string field, arrow;
    int want = -2;
    is >> field >> arrow >> want;
    EXPECT_EQ(icao9303_check_digit(as_bytes(field)), want);
    ++rows;
  }
  EXPECT_GE(rows, 6u);
}

TEST(TestVectors, PassportsAndPermits) {
  size_t rows = 0;
  for (const auto& line : section("PRC passport / permits")) {
    SCOPED_TRACE(line);
    std::istringstream is(line);
    std::string v;
    is >> v;
    if (line.find("passport=") != std::string::npos) {
      EXPECT_EQ(validate_cn_passport(as_bytes(v)) == Check::kValid,
                after(line, "passport=") == "True");
    } else {
      // {'mainland_to_HKMO_permit (...)': B, 'HKMO_home_return_permit (...)': B,
      // 'TW_compatriot...': B,
      //  'mainland_to_TW_permit (...)': B}
      auto flag = [&](const std::string& key) {
        size_t p = line.find(key);
        EXPECT_NE(p, std::string::npos) << key;
        size_t c = line.find("': ", p);
        return line.compare(c + 3, 4, "True") == 0;
      };
      const bool hkmo = flag("mainland_to_HKMO_permit") || flag("HKMO_home_return_permit");
      EXPECT_EQ(validate_hkmo_permit(as_bytes(v)) == Check::kValid, hkmo);
      EXPECT_EQ(validate_tw_permit(as_bytes(v)) == Check::kValid, flag("mainland_to_TW_permit"));
      // The 8-digit Taiwan compatriot permit is not a built-in detector (see docs/detectors.md).
    }
    ++rows;
  }
  EXPECT_GE(rows, 20u);
}

TEST(TestVectors, Mobile) {
  size_t rows = 0;
  for (const auto& line : section("Mobile")) {
    SCOPED_TRACE(line);
    std::istringstream is(line);
    std::string v, ok;
    is >> v >> ok;
    EXPECT_EQ(validate_cn_mobile(as_bytes(v)) == Check::kValid, ok == "True");
    ++rows;
  }
  EXPECT_GE(rows, 10u);
}

TEST(TestVectors, Coordinates) {
  size_t rows = 0;
  for (const auto& line : section("Coordinates")) {
    SCOPED_TRACE(line);
    std::istringstream is(line);
    std::string lat, lon;
    is >> lat >> lon;
    // The file prints Python floats (118.433); our detector wants >= 4 decimals: pad them.
    auto pad = [](std::string s) {
      size_t dot = s.find('.');
      while (s.size() - dot - 1 < 4) s += '0';
      return s;
    };
    const std::string pair = pad(lat) + "," + pad(lon);
    bool mainland = false;
    Check c = validate_cn_coordinates(as_bytes(pair), &mainland);
    EXPECT_EQ(c == Check::kValid, after(line, "in-bbox:") == "True") << pair;
    EXPECT_EQ(c == Check::kValid && mainland, after(line, "mainland-only:") == "True") << pair;
    ++rows;
  }
  EXPECT_GE(rows, 7u);
}

TEST(TestVectors, KeywordGbkForms) {
  size_t rows = 0;
  for (const auto& line : section("Keyword encodings")) {
    SCOPED_TRACE(line);
    std::string kw = trim(line.substr(0, line.find('|')));
    size_t g = line.find("| gbk ");
    std::istringstream is(line.substr(g + 6, line.find('|', g + 1) - g - 6));
    std::string want, hex;
    while (is >> hex) want += static_cast<char>(std::stoi(hex, nullptr, 16));
    auto gbk = utf8_to_gbk(kw);
    ASSERT_TRUE(gbk.has_value());
    EXPECT_EQ(*gbk, want);
    ++rows;
  }
  EXPECT_GE(rows, 8u);
}

// ---- Our own rows ------------------------------------------------------------------------

struct Case {
  const char* value;
  Check want;
};

TEST(ResidentId, OwnRows) {
  const Case kCases[] = {
      {"11010519491231002x", Check::kValid},  // lower-case x accepted
      {"440524188001010014", Check::kValid},  // 1880: GB 11643's own example
      {"810000199001011230", Check::kValid},  // HK residence permit
      {"911560198506150010", Check::kValid},  // foreign PR, leading 9
      {"110105194912310021", Check::kChecksum},
      {"110105194902300020", Check::kDate},  // 30 Feb
      {"000000199001010018", Check::kRegion},
      {"110105209901010012", Check::kDate},    // after today
      {"110105179901010012", Check::kDate},    // before 1800
      {"720105199001010012", Check::kRegion},  // 72 is not allocated
      {"1101051949123100", Check::kLength},
      {"11010519491231002Y", Check::kFormat},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(validate_cn_resident_id(as_bytes(c.value), kToday), c.want);
  }
  // "today" is a parameter: a birth date on today's date is valid, one day later is not.
  std::string born = "11010520250601001";
  born += gb11643_check_char(as_bytes(born + "0"));
  EXPECT_EQ(validate_cn_resident_id(as_bytes(born), CivilDate{2025, 6, 1}), Check::kValid);
  EXPECT_EQ(validate_cn_resident_id(as_bytes(born), CivilDate{2025, 5, 31}), Check::kDate);
}

// The 2023 foreign permanent-residence card: 9, the issuing province, a nationality code, then
// the citizen layout. Every number below has a correct MOD 11-2 check character, so only the
// prefix decides (issue 13: any number starting with 9 used to pass).
TEST(ResidentId, PermanentResidenceCardPrefix) {
  auto with_check = [](std::string body17) {
    return body17 + gb11643_check_char(as_bytes(body17 + "0"));
  };
  const Case kCases[] = {
      {"91184019800101001", Check::kValid},   // Beijing, 840 United States
      {"93125019800101001", Check::kValid},   // Shanghai, 250 France
      {"94439219800101001", Check::kValid},   // Guangdong, 392 Japan
      {"99010119900101001", Check::kRegion},  // 99 is no province
      {"90010119900101001", Check::kRegion},  // 90 is no province
      {"97184019800101001", Check::kRegion},  // 71 Taiwan issues no such card
      {"91100019800101001", Check::kRegion},  // nationality 000
      {"91115619800101001", Check::kRegion},  // 156 is China
      {"91199919800101001", Check::kRegion},  // 999 is no country code
  };
  for (const auto& c : kCases) {
    const std::string id = with_check(c.value);
    SCOPED_TRACE(id);
    EXPECT_EQ(validate_cn_resident_id(as_bytes(id), kToday), c.want);
  }
}

TEST(Uscc, OwnRows) {
  const Case kCases[] = {
      {"9144030071526726XG", Check::kValid},
      {"92340602MA2UK33127", Check::kValid},
      {"92340603MA2UK33127", Check::kChecksum},
      {"91350211M0000XUF46", Check::kChecksum},  // Fujian pilot code, exists in the wild
      {"9111000060003IOZSV", Check::kFormat},
      {"91110000600037341", Check::kLength},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(validate_uscc(as_bytes(c.value)), c.want);
  }
}

TEST(Cards, OwnRows) {
  struct CardCase {
    const char* pan;
    Check want;
    CardBrand brand;
    bool test;
  };
  const CardCase kCases[] = {
      {"6200000000000005", Check::kValid, CardBrand::kUnionPay, true},
      {"6222021234567890128", Check::kValid, CardBrand::kUnionPay, false},
      {"6217000010012345677", Check::kValid, CardBrand::kUnionPay, false},
      {"6214831234567896", Check::kValid, CardBrand::kUnionPay, false},
      {"4111111111111111", Check::kValid, CardBrand::kVisa, true},
      {"2223003122003222", Check::kValid, CardBrand::kMastercard, true},
      {"6200000000000006", Check::kChecksum, CardBrand::kUnionPay, false},
      {"6200000000000", Check::kRegion, CardBrand::kNone, false},  // 13 digits: no UnionPay
      {"1234567812345678", Check::kRegion, CardBrand::kNone, false},
      {"5555555555554", Check::kRegion, CardBrand::kNone, false},  // Mastercard is 16 only
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.pan);
    CardCheck r = validate_card(as_bytes(c.pan));
    EXPECT_EQ(r.check, c.want);
    EXPECT_EQ(r.brand, c.brand);
    EXPECT_EQ(r.test_number, c.test);
  }
}

TEST(Mobile, OwnRows) {
  const Case kCases[] = {
      {"+86 13800138000", Check::kValid}, {"0086-13800138000", Check::kValid},
      {"138-0013-8000", Check::kValid},   {"138 0013 8000", Check::kValid},
      {"138-0013 8000", Check::kFormat},  {"19412345678", Check::kRegion},
      {"1380013800", Check::kLength},     {"14512345678", Check::kValid},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(validate_cn_mobile(as_bytes(c.value)), c.want);
  }
  uint8_t out[11];
  ASSERT_EQ(validate_cn_mobile(as_bytes("+8619912345678"), out), Check::kValid);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), 11), "19912345678");
}

TEST(Mrz, SpecimenAndChn) {
  // ICAO 9303 specimen check digits recombined into a CHN line-2 prefix.
  EXPECT_EQ(validate_mrz_td3_chn(as_bytes("E123456782CHN7408122F1204159")), Check::kValid);
  EXPECT_EQ(validate_mrz_td3_chn(as_bytes("E123456781CHN7408122F1204159")), Check::kChecksum);
  EXPECT_EQ(validate_mrz_td3_chn(as_bytes("E123456782UTO7408122F1204159")), Check::kFormat);
}

TEST(Email, OwnRows) {
  const Case kCases[] = {
      {"zhang.san@example.com.cn", Check::kValid},
      {"a@b", Check::kFormat},
      {"foo@-bar.com", Check::kFormat},
      {"a@b.c", Check::kFormat},
      {".a@b.com", Check::kFormat},
      {"a@b..com", Check::kFormat},
      {"x+tag@mail.example.org", Check::kValid},
      {"a@b@c.com", Check::kFormat},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(validate_email(as_bytes(c.value)), c.want);
  }
}

TEST(Coordinates, OwnRows) {
  const Case kCases[] = {
      {"116.4074,39.9042", Check::kValid},    // lng,lat (GeoJSON / AMap order)
      {"39.9042 , 116.4074", Check::kValid},  // spaces around the comma
      {"39.904,116.4074", Check::kFormat},    // 3 decimals: prices, versions
      {"51.5074,-0.1278", Check::kOutOfRange}, {"1.2345,2.3456", Check::kOutOfRange},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(validate_cn_coordinates(as_bytes(c.value)), c.want);
  }
}

TEST(Iban, OwnRows) {
  const Case kCases[] = {
      {"GB82WEST12345698765432", Check::kValid},
      {"CH9300762011623852957", Check::kValid},  // the correct Swiss sample
      {"GB82  WEST12345698765432", Check::kFormat},
      {"XX82WEST12345698765432", Check::kRegion},
      {"DE8937040044053201300", Check::kLength},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(validate_iban(as_bytes(c.value)), c.want);
  }
}

TEST(Dates, ParseCivilDate) {
  CivilDate d;
  EXPECT_TRUE(parse_civil_date("2024-02-29", &d));
  EXPECT_EQ(d, (CivilDate{2024, 2, 29}));
  EXPECT_FALSE(parse_civil_date("2023-02-29", &d));
  EXPECT_FALSE(parse_civil_date("2023-2-28", &d));
  EXPECT_TRUE(dc::base::valid_date(2000, 2, 29));
  EXPECT_FALSE(dc::base::valid_date(1900, 2, 29));
}

TEST(Boundaries, GbkTrailLetters) {
  // 證 in GBK is D7 43: the 'C' before a digit run is a trail byte, not part of the token.
  EXPECT_TRUE(digit_boundary_ok('C', '"'));
  EXPECT_FALSE(digit_boundary_ok('1', kNoByte));
  EXPECT_FALSE(digit_boundary_ok(kNoByte, '0'));
  EXPECT_TRUE(alnum_boundary_ok(0xD7, 'C', kNoByte));  // GBK trail byte before a letter token
  EXPECT_FALSE(alnum_boundary_ok('x', 'C', kNoByte));  // ASCII word
  EXPECT_FALSE(alnum_boundary_ok(' ', ' ', 'Z'));
}

TEST(Confidence, ShiftClamps) {
  EXPECT_EQ(shift(Confidence::kLikely, 1), Confidence::kVeryLikely);
  EXPECT_EQ(shift(Confidence::kVeryLikely, 3), Confidence::kVeryLikely);
  EXPECT_EQ(shift(Confidence::kUnlikely, -2), Confidence::kVeryUnlikely);
  Confidence c;
  EXPECT_TRUE(parse_confidence("possible", &c));
  EXPECT_EQ(c, Confidence::kPossible);
  EXPECT_FALSE(parse_confidence("maybe", &c));
}

}  // namespace
}  // namespace dc::inspect
