#include "inspect/detect/detectors.hpp"

#include <iconv.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <tuple>

namespace dc::inspect {
namespace {

// ---- The built-in catalogue (docs/detectors.md is the prose version of this table) ---------

struct BuiltinPattern {
  const char* expression;
  uint16_t length;  // fixed length in bytes; 0 = variable (extractor finds the token)
  Extractor extractor;
  Validator validator;
  Boundary boundary;
};

struct BuiltinDef {
  std::string_view name;
  std::string_view title;
  std::string_view validator_doc;
  std::string_view confidence_doc;
  std::vector<BuiltinPattern> patterns;
  std::vector<std::string> keywords;
  bool negatives;  // uses the shared negative keyword list
  std::vector<std::pair<std::string, Confidence>> keyword_findings;
  Validator digits = Validator::kNone;   // applied to digit-run / digit-group tokens
  Validator letters = Validator::kNone;  // applied to letter tokens
};

// Digit detectors do not get one bounded-repeat pattern per length: on digit-heavy payloads
// (order numbers, timestamps) those cost ~10x the rest of the database in streaming mode
// (performance.md: "long bounded repeats are expensive in streaming mode"). Instead two cheap
// triggers fire once per digit run that reaches 11 digits, and once per "ddd[d][ -]dd" group
// start; the scanner reads the maximal run / group and offers it to every digit detector.
// The leading [^0-9] makes the boundary before the token part of the pattern; GBK trail bytes
// (0x40..0xFE) are never digits, so 證 (D7 43) before an ID does not hide it (§3.1).
struct DigitTrigger {
  const char* expression;
  uint16_t length;  // digits (and separator) after the leading non-digit: start = end - length
  Extractor extractor;
};
constexpr DigitTrigger kDigitTriggers[] = {
    {"(?:^|[^0-9])[0-9]{11}", 11, Extractor::kDigitRun},
    {"(?:^|[^0-9])[0-9]{3}[ -][0-9]{2}", 6, Extractor::kDigitGroups},
    {"(?:^|[^0-9])[0-9]{4}[ -][0-9]{2}", 7, Extractor::kDigitGroups},
};

// Before a letter-led token: start of stream, a byte that is not [0-9A-Za-z], or a letter that
// follows a possible GBK lead byte (0x81-0xFE), i.e. a GBK trail byte (detectors.md §3.1).
#define DC_TOKEN_START "(?:^|[^0-9A-Za-z]|[\\x81-\\xfe][A-Za-z])"

// Letter-led documents (passport, permits, HKID, Taiwan ID): two triggers, 1 or 2 letters + 6
// digits at a token start; the scanner reads the whole token (more digits, "(c)") and offers it
// to each letter detector. Twenty per-format patterns with bounded repeats cost ~5x more.
constexpr DigitTrigger kLetterTriggers[] = {
    {DC_TOKEN_START "[A-Z][0-9]{6}", 7, Extractor::kLetterToken},
    {DC_TOKEN_START "[A-Z]{2}[0-9]{6}", 8, Extractor::kLetterToken},
};

// USCC: a token start and 18 characters of the GB 32100 alphabets. All-digit codes are left to
// the digit-run trigger (the scanner skips them here). Requiring the token start keeps the
// pattern quiet inside long digit runs (measured ~3x faster than the bare 18-character class).
std::vector<BuiltinPattern> uscc_patterns() {
  return {{DC_TOKEN_START "[0-9A-HJ-NPQRTUWY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}", 18,
           Extractor::kUsccToken, Validator::kUscc, Boundary::kAlnum}};
}

// Shared negative context: order / waybill / serial / trace numbers (detectors.md §2.1, §2.2).
const std::vector<std::string>& negative_keywords() {
  static const std::vector<std::string> k = {
      "订单号",   "订单编号", "单号",     "流水号",    "交易号",   "序列号",
      "訂單號",   "orderId",  "order_id", "orderNo",   "order_no", "traceId",
      "trace_id", "tracking", "serialNo", "serial_no", "txnId",    "transactionId"};
  return k;
}

const std::vector<BuiltinDef>& catalogue() {
  using E = Extractor;
  using V = Validator;
  using B = Boundary;
  static const std::vector<BuiltinDef> k = [] {
    std::vector<BuiltinDef> v;
    // Digit detectors share the digit-run triggers (see kDigitTriggers): their `patterns` stay
    // empty and `digits` names the validator applied to every maximal digit run / digit group.
    v.push_back({"cn_resident_id",
                 "PRC resident identity number (GB 11643-1999)",
                 "maximal digit run of 17 digits + check (0-9/X); province 11-15/21-23/31-37/41-46/"
                 "50-54/61-65/71/81-83 or leading 9; real date 1800..today; ISO 7064 MOD 11-2",
                 "likely; very_likely with a keyword within proximity; -2 after a negative keyword",
                 {},
                 {"身份证", "身份證", "身分證", "证件号", "證件號", "公民身份号码", "居民身份证",
                  "idcard", "id_card", "idNo", "idNumber", "sfzh", "zjhm", "certNo", "cert_no"},
                 true,
                 {},
                 V::kResidentId});
    v.push_back(
        {"cn_uscc",
         "Unified Social Credit Code (GB 32100-2015)",
         "alphabet without I O S V Z; GB 32100 MOD 31 check; embedded GB 11714 org-code check; "
         "rejected when the value is a valid resident ID (the ID interpretation wins)",
         "likely; very_likely with a keyword; check failures (Fujian pilot codes) possible only "
         "with a keyword",
         uscc_patterns(),
         {"统一社会信用代码", "統一社會信用代碼", "信用代码", "纳税人识别号", "税号", "uscc",
          "creditCode", "credit_code", "taxNo", "tax_no"},
         true,
         {},
         V::kUscc});
    v.push_back(
        {"bank_card",
         "China UnionPay card number (ISO/IEC 7812, prefix 62, 16-19 digits)",
         "maximal digit run or 4-4-4-4(-3) group; prefix 62 and length 16-19; Luhn; published "
         "test numbers downgraded; an 18-digit value that is a valid resident ID is left to "
         "cn_resident_id",
         "likely; very_likely with a keyword; test numbers very_unlikely; Luhn failure possible "
         "only with a keyword (old domestic BINs)",
         {},
         {"银行卡", "銀行卡", "卡号", "卡號", "储蓄卡", "借记卡", "信用卡", "开户行", "账号",
          "银联", "UnionPay", "cardNo", "card_no", "bankCard", "bank_card", "acctNo"},
         true,
         {},
         V::kUnionPay});
    v.push_back(
        {"payment_card",
         "International payment card (Visa, Mastercard, Amex, Discover, JCB, Diners)",
         "maximal digit run or digit groups; IIN prefix and length per brand; Luhn; published "
         "test numbers downgraded; UnionPay (62) belongs to bank_card",
         "likely; very_likely with a keyword; test numbers very_unlikely",
         {},
         {"信用卡", "卡号", "卡號", "credit card", "creditcard", "card number", "cardNo", "card_no",
          "cvv", "expiry", "exp_date", "Visa", "Mastercard", "Amex"},
         true,
         {},
         V::kPaymentCard});
    v.push_back(
        {"cn_mobile",
         "PRC mobile number (11 digits, optional +86 / 0086)",
         "maximal digit run of 11 (or 3-4-4 group); a +86 / 0086 prefix is part of the token; "
         "allocated network prefix",
         "possible; likely with a keyword or a +86/0086 prefix; very_likely with both",
         {},
         {"手机", "手機", "电话", "電話", "联系方式", "mobile", "phone", "telephone", "sjh", "lxdh",
          "sjhm"},
         true,
         {},
         V::kMobile});
    // Letter-led documents share the letter-token triggers (kLetterTriggers).
    v.push_back(
        {"cn_passport",
         "PRC / HKSAR / MSAR passport number; ICAO 9303 MRZ (CHN)",
         "letter token; E/G/K+8d, E+letter(not I/O)+7d, DE/SE/PE/MA+7d; MRZ line 2: three "
         "ICAO 9303 check digits",
         "unlikely; possible with a keyword; very_likely for an MRZ whose check digits pass",
         {{"[A-Z0-9<]{9}[0-9]CHN[0-9]{6}[0-9][MF<][0-9]{6}[0-9]", 28, E::kFixed, V::kMrz,
           B::kNone}},
         {"护照", "護照", "passport", "passportNo", "hzhm", "P<CHN"},
         false,
         {},
         V::kNone,
         V::kPassport});
    v.push_back(
        {"hkmo_permit",
         "Exit-entry permit for Hong Kong and Macao / Home-Return Permit",
         "letter token; C+8d or C+letter+7d (往来港澳通行证), H/M+8d or +10d (回乡证); "
         "no check digit",
         "unlikely; possible with a keyword",
         {},
         {"港澳通行证", "往来港澳", "回乡证", "回鄉證", "来往内地通行证", "通行证号", "通行證"},
         false,
         {},
         V::kNone,
         V::kHkmoPermit});
    v.push_back({"tw_permit",
                 "Mainland residents' permit to Taiwan (大陆居民往来台湾通行证)",
                 "letter token; L+8 digits; no check digit",
                 "unlikely; possible with a keyword",
                 {},
                 {"往来台湾", "台湾通行证", "通行证号"},
                 false,
                 {},
                 V::kNone,
                 V::kTwPermit});
    v.push_back({"hkid",
                 "Hong Kong identity card number",
                 "letter token; 1-2 letters + 6 digits + check (0-9/A), optionally in parentheses; "
                 "mod 11 with a space worth 36",
                 "likely with the (c) form, possible without; one step higher with a keyword",
                 {},
                 {"香港身份证", "香港身份證", "身份證", "HKID", "identity card"},
                 false,
                 {},
                 V::kNone,
                 V::kHkid});
    v.push_back({"tw_id",
                 "Taiwan national identification number",
                 "letter token; letter + 1/2 + 8 digits; weighted mod 10",
                 "likely; very_likely with a keyword",
                 {},
                 {"身分證", "身分证", "統一編號", "国民身分证", "National ID"},
                 false,
                 {},
                 V::kNone,
                 V::kTwId});
    v.push_back(
        {"email",
         "E-mail address",
         "local part <= 64 of [A-Za-z0-9._%+-]; domain labels 1-63, no leading/trailing '-'; "
         "alphabetic TLD 2-24",
         "likely; role accounts (noreply, admin, postmaster, ...) unlikely",
         {{"[A-Za-z0-9._%+\\-]@[A-Za-z0-9]", 0, E::kEmail, V::kEmail, B::kNone}},
         {},
         false,
         {}});
    v.push_back({"cn_coordinates",
                 "Decimal coordinates inside China (lat,lon or lon,lat)",
                 ">= 4 decimals; one reading inside lat 3.8..53.6 N, lon 73.4..135.1 E",
                 "possible; likely with a keyword (lat, lng, 经度, 纬度, 坐标, 轨迹)",
                 {{"[0-9]\\.[0-9]{4,10} {0,2}, {0,2}[0-9]{1,3}\\.[0-9]{4}", 0, E::kCoordinates,
                   V::kCoordinates, B::kNone}},
                 {"经度", "纬度", "經度", "緯度", "坐标", "座標", "轨迹", "定位", "latitude",
                  "longitude", "lat", "lng", "lon", "coordinates", "gps"},
                 false,
                 {}});
    v.push_back(
        {"iban",
         "International Bank Account Number (ISO 13616)",
         "letter boundary; country length table; optional single spaces between groups of 4; "
         "ISO 7064 MOD 97-10",
         "likely; very_likely with a keyword",
         {{"", 8, E::kIban, V::kIban, B::kAlnum}, {"", 9, E::kIban, V::kIban, B::kAlnum}},
         {"IBAN", "SWIFT", "BIC", "beneficiary", "国际银行账号", "收款账户"},
         false,
         {}});
    v.push_back({"us_ssn",
                 "US Social Security Number (AAA-GG-SSSS)",
                 "3-2-4 digit group with '-'; area not 000/666/9xx, group not 00, serial not 0000; "
                 "SSA blacklist",
                 "unlikely; likely with a keyword",
                 {},
                 {"SSN", "social security", "social_security"},
                 true,
                 {},
                 V::kSsn});
    v.push_back({"medical_keywords",
                 "Medical and health terms (GB/T 39725 classes), HL7 v2 and VCF headers",
                 "the keyword itself is the finding (UTF-8, GBK and JSON \\u forms)",
                 "possible per term; very_likely for an HL7 v2 MSH header or a VCF header",
                 {},
                 {},
                 false,
                 {{"病案号", Confidence::kPossible},
                  {"住院号", Confidence::kPossible},
                  {"门诊号", Confidence::kPossible},
                  {"就诊卡号", Confidence::kPossible},
                  {"医保卡号", Confidence::kPossible},
                  {"病历", Confidence::kPossible},
                  {"病歷", Confidence::kPossible},
                  {"病史", Confidence::kPossible},
                  {"主诉", Confidence::kPossible},
                  {"现病史", Confidence::kPossible},
                  {"既往史", Confidence::kPossible},
                  {"过敏史", Confidence::kPossible},
                  {"诊断", Confidence::kPossible},
                  {"診斷", Confidence::kPossible},
                  {"出院小结", Confidence::kPossible},
                  {"入院记录", Confidence::kPossible},
                  {"医嘱", Confidence::kPossible},
                  {"处方", Confidence::kPossible},
                  {"检验报告", Confidence::kPossible},
                  {"检查报告", Confidence::kPossible},
                  {"影像报告", Confidence::kPossible},
                  {"病理", Confidence::kPossible},
                  {"基因组", Confidence::kPossible},
                  {"测序", Confidence::kPossible},
                  {"diagnosis", Confidence::kPossible},
                  {"prescription", Confidence::kPossible},
                  {"discharge summary", Confidence::kPossible},
                  {"medical record", Confidence::kPossible},
                  {"MSH|^~\\&", Confidence::kVeryLikely},
                  {"##fileformat=VCFv4", Confidence::kVeryLikely}}});
    return v;
  }();
  return k;
}

const BuiltinDef* find_builtin(std::string_view name) {
  for (const auto& d : catalogue())
    if (d.name == name) return &d;
  return nullptr;
}

std::string iban_expression(uint16_t length) {
  // length 8: "CCkkXXXX"; length 9: "CCkk XXXX" (paper format, ISO 13616-1 §5).
  // Country codes are checked by the validator (iban_length()): a 49-way alternation of
  // two-letter literals measured ~2x slower for the whole database (short literals flood the
  // literal matcher), a token start + classes does not.
  return std::string(DC_TOKEN_START) +
         (length == 8 ? "[A-Z]{2}[0-9]{2}[A-Z0-9]{4}" : "[A-Z]{2}[0-9]{2} [A-Z0-9]{4}");
}

std::string expression_of(const BuiltinPattern& p) {
  return p.extractor == Extractor::kIban ? iban_expression(p.length) : std::string(p.expression);
}

// Every byte as \xHH: keywords and literal custom patterns are matched byte for byte.
std::string escape_literal(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 4);
  char buf[5];
  for (unsigned char c : s) {
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  }
  return out;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

// JSON \uXXXX form of a UTF-8 string (Python json.dumps ensure_ascii default, §3.2). BMP only.
std::optional<std::string> json_escaped(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    unsigned cp = 0, n = 0;
    if (c < 0x80)
      cp = c, n = 1;
    else if ((c & 0xE0) == 0xC0)
      cp = c & 0x1F, n = 2;
    else if ((c & 0xF0) == 0xE0)
      cp = c & 0x0F, n = 3;
    else
      return std::nullopt;
    if (i + n > s.size()) return std::nullopt;
    for (unsigned k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n;
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      out += buf;
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> utf8_to_gbk(std::string_view utf8) {
  iconv_t cd = iconv_open("GBK", "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string out(utf8.size() * 2 + 4, '\0');
  char* in = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size();
  char* o = out.data();
  size_t o_left = out.size();
  size_t r = iconv(cd, &in, &in_left, &o, &o_left);
  iconv_close(cd);
  if (r == static_cast<size_t>(-1) || in_left != 0) return std::nullopt;
  out.resize(out.size() - o_left);
  return out;
}

const std::vector<std::string_view>& builtin_detector_names() {
  static const std::vector<std::string_view> k = [] {
    std::vector<std::string_view> v;
    for (const auto& d : catalogue()) v.push_back(d.name);
    return v;
  }();
  return k;
}

const std::vector<std::string_view>& validator_names() {
  static const std::vector<std::string_view> k = {
      "none", "luhn",  "gb11643",   "gb32100", "iban",
      "hkid", "tw_id", "cn_mobile", "email",   "icao9303_passport"};
  return k;
}

namespace {
std::optional<Validator> validator_by_name(std::string_view n) {
  if (n.empty() || n == "none") return Validator::kNone;
  if (n == "luhn") return Validator::kLuhn;
  if (n == "gb11643") return Validator::kResidentId;
  if (n == "gb32100") return Validator::kUscc;
  if (n == "iban") return Validator::kIban;
  if (n == "hkid") return Validator::kHkid;
  if (n == "tw_id") return Validator::kTwId;
  if (n == "cn_mobile") return Validator::kMobile;
  if (n == "email") return Validator::kEmail;
  if (n == "icao9303_passport") return Validator::kPassport;
  return std::nullopt;
}
}  // namespace

std::optional<BuiltinDescription> describe_builtin(std::string_view name) {
  const BuiltinDef* d = find_builtin(name);
  if (!d) return std::nullopt;
  BuiltinDescription r;
  r.name = d->name;
  r.title = d->title;
  r.validator = d->validator_doc;
  r.confidence = d->confidence_doc;
  for (const auto& p : d->patterns) r.patterns.push_back(expression_of(p));
  if (d->digits != Validator::kNone)
    for (const auto& t : kDigitTriggers)
      r.patterns.push_back(std::string(t.expression) + "  (shared digit trigger)");
  if (d->letters != Validator::kNone)
    for (const auto& t : kLetterTriggers)
      r.patterns.push_back(std::string(t.expression) + "  (shared letter trigger)");
  r.keywords = d->keywords;
  for (const auto& [kw, c] : d->keyword_findings) r.keywords.push_back(kw);
  if (d->negatives) r.negative_keywords = negative_keywords();
  return r;
}

// ---- compile() -------------------------------------------------------------------------------

struct DetectorDbBuilder {
  DetectorDb& db;
  std::vector<std::string> exprs;
  std::vector<unsigned> flags;
  // For attributing a failure of the combined compile: (detector, pattern index or kNoPattern).
  std::vector<std::pair<size_t, size_t>> origin;

  void add(const PatternInfo& info, std::string expr, unsigned f, size_t det, size_t pat) {
    db.patterns_.push_back(info);
    exprs.push_back(std::move(expr));
    flags.push_back(f);
    origin.emplace_back(det, pat);
  }

  // One keyword in every byte form we scan for: UTF-8, GBK, JSON \u (§3.1-3.2). ASCII keywords
  // are caseless ("idCard" == "IDCARD"); the others are matched byte for byte.
  std::map<std::pair<Role, std::string>, uint16_t> keyword_groups;

  void add_keyword(uint16_t det, const std::string& kw, Role role, Confidence c) {
    if (kw.empty()) return;
    if (role != Role::kKeywordFinding) {
      // Same keyword, same sign, another detector: join its group, compile nothing new.
      auto key = std::make_pair(role, is_ascii(kw) ? lower(kw) : kw);
      auto it = keyword_groups.find(key);
      if (it != keyword_groups.end()) {
        auto& g = db.groups_[it->second];
        if (std::find(g.begin(), g.end(), det) == g.end()) g.push_back(det);
        return;
      }
      keyword_groups.emplace(key, static_cast<uint16_t>(db.groups_.size()));
    }
    PatternInfo info;
    info.detector = det;
    info.role = role;
    info.fixed_confidence = c;
    info.text = static_cast<uint16_t>(db.texts_.size());
    info.group = static_cast<uint16_t>(db.groups_.size());
    db.groups_.push_back({det});
    db.texts_.push_back(kw);
    auto push = [&](const std::string& bytes, unsigned f) {
      info.length = static_cast<uint16_t>(bytes.size());
      add(info, escape_literal(bytes), f, det, kNoPattern);
    };
    if (is_ascii(kw)) {
      push(kw, HS_FLAG_CASELESS);
      return;
    }
    push(kw, 0);
    if (auto g = utf8_to_gbk(kw); g && *g != kw) push(*g, 0);
    if (auto j = json_escaped(kw)) push(*j, HS_FLAG_CASELESS);
  }
};

int DetectorDb::find(std::string_view name) const noexcept {
  for (size_t i = 0; i < detectors_.size(); ++i)
    if (detectors_[i].name == name) return static_cast<int>(i);
  return -1;
}

Result<std::shared_ptr<const DetectorDb>> DetectorDb::compile(
    const std::vector<DetectorSpec>& specs, std::vector<PatternError>* errors) {
  std::vector<PatternError> errs;
  std::shared_ptr<DetectorDb> db(new DetectorDb());
  DetectorDbBuilder b{*db, {}, {}, {}, {}};
  bool any_som = false;
  std::vector<uint16_t> digit_detectors, letter_detectors;
  if (specs.size() > 0xFFFF) return make_error("too many detectors");

  for (size_t di = 0; di < specs.size(); ++di) {
    const DetectorSpec& s = specs[di];
    const auto det = static_cast<uint16_t>(di);
    DetectorInfo info{s.name, s.builtin, s.proximity};
    if (s.builtin) {
      const BuiltinDef* def = find_builtin(s.name);
      if (!def) {
        std::string known;
        for (auto n : builtin_detector_names())
          known += (known.empty() ? "" : ", ") + std::string(n);
        errs.push_back({di, kNoPattern,
                        "unknown built-in detector \"" + s.name + "\" (known: " + known + ")"});
        db->detectors_.push_back(info);
        continue;
      }
      info.proximity = 300;  // Purview's patternsProximity (detectors.md §2.1)
      info.digits = def->digits;
      info.letters = def->letters;
      db->detectors_.push_back(info);
      if (def->digits != Validator::kNone) digit_detectors.push_back(det);
      if (def->letters != Validator::kNone) letter_detectors.push_back(det);
      for (size_t pi = 0; pi < def->patterns.size(); ++pi) {
        const BuiltinPattern& p = def->patterns[pi];
        PatternInfo pinfo;
        pinfo.detector = det;
        pinfo.role = Role::kCandidate;
        pinfo.extractor = p.extractor;
        pinfo.validator = p.validator;
        pinfo.boundary = p.boundary;
        pinfo.length = p.length;
        b.add(pinfo, expression_of(p), 0, di, pi);
      }
      for (const auto& kw : def->keywords)
        b.add_keyword(det, kw, Role::kKeyword, Confidence::kPossible);
      if (def->negatives)
        for (const auto& kw : negative_keywords())
          b.add_keyword(det, kw, Role::kNegativeKeyword, Confidence::kPossible);
      for (const auto& [kw, c] : def->keyword_findings)
        b.add_keyword(det, kw, Role::kKeywordFinding, c);
      if (!def->keywords.empty()) db->max_proximity_ = std::max(db->max_proximity_, info.proximity);
      continue;
    }

    // Custom detector.
    db->detectors_.push_back(info);
    auto val = validator_by_name(s.validator);
    if (!val) {
      std::string known;
      for (auto n : validator_names()) known += (known.empty() ? "" : ", ") + std::string(n);
      errs.push_back(
          {di, kNoPattern, "unknown validator \"" + s.validator + "\" (known: " + known + ")"});
    }
    if (s.patterns.empty())
      errs.push_back({di, kNoPattern, "custom detector \"" + s.name + "\" has no patterns"});
    for (size_t pi = 0; pi < s.patterns.size(); ++pi) {
      const PatternSpec& ps = s.patterns[pi];
      std::string expr = ps.literal ? escape_literal(ps.expression) : ps.expression;
      if (expr.empty()) {
        errs.push_back({di, pi, "empty pattern"});
        continue;
      }
      // Custom patterns have no fixed length: ask Hyperscan for the start (SOM). Compile alone
      // first so that an error names its own pattern (style.md: every error, with its location).
      const unsigned f = HS_FLAG_SOM_LEFTMOST;
      hs_database_t* one = nullptr;
      hs_compile_error_t* ce = nullptr;
      if (hs_compile(expr.c_str(), f, HS_MODE_STREAM | HS_MODE_SOM_HORIZON_LARGE, nullptr, &one,
                     &ce) != HS_SUCCESS) {
        errs.push_back({di, pi, ce && ce->message ? ce->message : "pattern does not compile"});
        hs_free_compile_error(ce);
        continue;
      }
      hs_free_database(one);
      any_som = true;
      PatternInfo pinfo;
      pinfo.detector = det;
      pinfo.extractor = Extractor::kSom;
      pinfo.validator = val.value_or(Validator::kNone);
      pinfo.boundary = Boundary::kToken;
      b.add(pinfo, std::move(expr), f, di, pi);
    }
    for (const auto& kw : s.keywords) b.add_keyword(det, kw, Role::kKeyword, Confidence::kPossible);
    for (const auto& kw : s.negative_keywords)
      b.add_keyword(det, kw, Role::kNegativeKeyword, Confidence::kPossible);
    if (!s.keywords.empty()) db->max_proximity_ = std::max(db->max_proximity_, s.proximity);
  }

  auto add_triggers = [&](const std::vector<uint16_t>& dets, std::span<const DigitTrigger> triggers,
                          Boundary boundary) {
    if (dets.empty()) return;
    PatternInfo pinfo;
    pinfo.role = Role::kCandidate;
    pinfo.boundary = boundary;
    pinfo.detector = dets.front();
    pinfo.group = static_cast<uint16_t>(db->groups_.size());
    db->groups_.push_back(dets);
    for (const auto& t : triggers) {
      pinfo.extractor = t.extractor;
      pinfo.length = t.length;
      b.add(pinfo, t.expression, 0, dets.front(), kNoPattern);
    }
  };
  add_triggers(digit_detectors, kDigitTriggers, Boundary::kDigits);
  add_triggers(letter_detectors, kLetterTriggers, Boundary::kAlnum);
  if (errs.empty() && b.exprs.empty()) errs.push_back({0, kNoPattern, "no detectors to compile"});
  if (errs.empty()) {
    std::vector<const char*> ptrs;
    std::vector<unsigned> ids;
    for (size_t i = 0; i < b.exprs.size(); ++i) {
      ptrs.push_back(b.exprs[i].c_str());
      ids.push_back(static_cast<unsigned>(i));
    }
    hs_database_t* raw = nullptr;
    hs_compile_error_t* ce = nullptr;
    const unsigned mode = HS_MODE_STREAM | (any_som ? HS_MODE_SOM_HORIZON_LARGE : 0);
    if (hs_compile_multi(ptrs.data(), b.flags.data(), ids.data(),
                         static_cast<unsigned>(ptrs.size()), mode, nullptr, &raw,
                         &ce) != HS_SUCCESS) {
      size_t det = 0, pat = kNoPattern;
      if (ce && ce->expression >= 0 && static_cast<size_t>(ce->expression) < b.origin.size())
        std::tie(det, pat) = b.origin[ce->expression];
      errs.push_back(
          {det, pat,
           std::string("database: ") + (ce && ce->message ? ce->message : "compile failed")});
      hs_free_compile_error(ce);
    } else {
      db->db_.reset(raw);
      if (hs_stream_size(raw, &db->stream_size_) != HS_SUCCESS)
        errs.push_back({0, kNoPattern, "hs_stream_size failed"});
    }
  }
  if (!errs.empty()) {
    std::string msg =
        std::to_string(errs.size()) + " detector error(s); first: " + errs.front().message;
    if (errors) *errors = std::move(errs);
    return make_error(std::move(msg));
  }
  return std::shared_ptr<const DetectorDb>(std::move(db));
}

Result<std::shared_ptr<const DetectorDb>> DetectorDb::compile_builtins() {
  std::vector<DetectorSpec> specs;
  for (auto n : builtin_detector_names()) {
    DetectorSpec s;
    s.name = std::string(n);
    specs.push_back(std::move(s));
  }
  return compile(specs, nullptr);
}

// ---- evaluate(): validator + confidence rules -----------------------------------------------

namespace {

using C = Confidence;

void set_value(Evaluation* e, const uint8_t* v, size_t n) noexcept {
  e->value_len = static_cast<uint8_t>(std::min<size_t>(n, sizeof e->value));
  std::memcpy(e->value, v, e->value_len);
}

// head + '*'... + tail of the normalised value; never more than a third of it in clear for short
// values. PCI DSS 3.4 allows first 6 / last 4 of a PAN; we use the same for IDs.
void mask_keep(Evaluation* e, size_t head, size_t tail) noexcept {
  const size_t n = e->value_len;
  if ((head + tail) * 3 > n * 2) {
    head = n / 4;
    tail = n / 4;
  }
  size_t k = 0;
  for (size_t i = 0; i < n && k + 1 < sizeof e->masked; ++i)
    e->masked[k++] = (i < head || i >= n - tail) ? static_cast<char>(e->value[i]) : '*';
  e->masked[k] = '\0';
}

void accept(Evaluation* e, C base, C with_kw, bool keyword_required = false) noexcept {
  e->accept = true;
  e->base = base;
  e->with_keyword = with_kw;
  e->keyword_required = keyword_required;
}

// Copies the token without separators (' ', '-', '(' , ')').
size_t strip(Bytes t, uint8_t* out, size_t cap, bool upper) noexcept {
  size_t n = 0;
  for (uint8_t b : t) {
    if (b == ' ' || b == '-' || b == '(' || b == ')') continue;
    if (n == cap) return cap + 1;
    out[n++] = upper && b >= 'a' && b <= 'z' ? static_cast<uint8_t>(b - 32) : b;
  }
  return n;
}

bool is_role_account(Bytes local) noexcept {
  static constexpr std::string_view kRoles[] = {
      "noreply", "no-reply", "donotreply", "admin", "postmaster", "webmaster",
      "support", "info",     "hostmaster", "abuse", "root",       "mailer-daemon"};
  for (auto r : kRoles) {
    if (r.size() != local.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < r.size() && eq; ++i) {
      uint8_t c = local[i];
      if (c >= 'A' && c <= 'Z') c += 32;
      eq = c == static_cast<uint8_t>(r[i]);
    }
    if (eq) return true;
  }
  return false;
}

}  // namespace

void evaluate(Validator v, Bytes t, CivilDate today, Evaluation* e) noexcept {
  // Candidates are mostly rejected: reset only the fields that decide, not the value buffers.
  e->accept = false;
  e->keyword_required = false;
  e->value_len = 0;
  e->masked[0] = '\0';
  uint8_t buf[64];
  switch (v) {
    case Validator::kResidentId: {
      size_t n = strip(t, buf, sizeof buf, true);
      if (n != 18 || validate_cn_resident_id(Bytes(buf, n), today) != Check::kValid) return;
      set_value(e, buf, n);
      mask_keep(e, 6, 4);
      accept(e, C::kLikely, C::kVeryLikely);
      return;
    }
    case Validator::kUscc: {
      if (t.size() != 18) return;
      // GB 11643 first: an all-digit 18-character value that is a valid ID is a person, not a
      // company (detectors.md §2.3 "prefer the ID interpretation").
      if (validate_cn_resident_id(t, today) == Check::kValid) return;
      Check c = validate_uscc(t);
      if (c != Check::kValid && c != Check::kChecksum && c != Check::kOrgCode) return;
      set_value(e, t.data(), t.size());
      mask_keep(e, 6, 4);
      if (c == Check::kValid) accept(e, C::kLikely, C::kVeryLikely);
      // Early pilot codes (Fujian) fail GB 32100 but exist: keep them, keyword-gated.
      else if (c == Check::kChecksum || c == Check::kOrgCode)
        accept(e, C::kPossible, C::kPossible, true);
      return;
    }
    case Validator::kUnionPay:
    case Validator::kPaymentCard:
    case Validator::kLuhn: {
      size_t n = strip(t, buf, sizeof buf, false);
      if (n < 12 || n > 19) return;
      Bytes d(buf, n);
      if (v == Validator::kLuhn) {
        if (!luhn_valid(d)) return;
        set_value(e, buf, n);
        mask_keep(e, 6, 4);
        accept(e, C::kLikely, C::kVeryLikely);
        return;
      }
      CardCheck cc = validate_card(d);
      const bool unionpay = cc.brand == CardBrand::kUnionPay;
      if ((v == Validator::kUnionPay) != unionpay || cc.brand == CardBrand::kNone) return;
      if (unionpay && n == 18 && validate_cn_resident_id(d, today) == Check::kValid) return;
      if (cc.check != Check::kValid && !(cc.check == Check::kChecksum && unionpay)) return;
      set_value(e, buf, n);
      mask_keep(e, 6, 4);
      if (cc.check == Check::kValid) {
        if (cc.test_number)
          accept(e, C::kVeryUnlikely, C::kVeryUnlikely);
        else
          accept(e, C::kLikely, C::kVeryLikely);
      } else if (cc.check == Check::kChecksum && unionpay) {
        // Pre-2002 domestic BINs do not all follow Luhn (detectors.md §2.4): keyword-gated.
        accept(e, C::kPossible, C::kPossible, true);
      }
      return;
    }
    case Validator::kMobile: {
      uint8_t out[11];
      if (validate_cn_mobile(t, out) != Check::kValid) return;
      set_value(e, out, 11);
      mask_keep(e, 3, 4);
      const bool intl = !t.empty() && (t[0] == '+' || t[0] == '0');
      if (intl)
        accept(e, C::kLikely, C::kVeryLikely);
      else
        accept(e, C::kPossible, C::kLikely);
      return;
    }
    case Validator::kPassport:
      if (validate_cn_passport(t) != Check::kValid) return;
      set_value(e, t.data(), t.size());
      mask_keep(e, 2, 2);
      accept(e, C::kUnlikely, C::kPossible);
      return;
    case Validator::kMrz: {
      if (validate_mrz_td3_chn(t) != Check::kValid) return;
      size_t n = 0;
      while (n < 9 && t[n] != '<') ++n;  // document number, '<'-padded
      set_value(e, t.data(), n);
      mask_keep(e, 2, 2);
      accept(e, C::kVeryLikely, C::kVeryLikely);
      return;
    }
    case Validator::kHkmoPermit:
    case Validator::kTwPermit: {
      Check c = v == Validator::kHkmoPermit ? validate_hkmo_permit(t) : validate_tw_permit(t);
      if (c != Check::kValid) return;
      set_value(e, t.data(), t.size());
      mask_keep(e, 2, 2);
      accept(e, C::kUnlikely, C::kPossible);
      return;
    }
    case Validator::kHkid: {
      if (validate_hkid(t) != Check::kValid) return;
      size_t n = strip(t, buf, sizeof buf, false);
      set_value(e, buf, n);
      mask_keep(e, 2, 1);
      const bool paren = !t.empty() && t.back() == ')';
      if (paren)
        accept(e, C::kLikely, C::kVeryLikely);
      else
        accept(e, C::kPossible, C::kLikely);
      return;
    }
    case Validator::kTwId:
      if (validate_tw_id(t) != Check::kValid) return;
      set_value(e, t.data(), t.size());
      mask_keep(e, 2, 3);
      accept(e, C::kLikely, C::kVeryLikely);
      return;
    case Validator::kEmail: {
      if (validate_email(t) != Check::kValid) return;
      size_t n = std::min(t.size(), sizeof e->value);
      for (size_t i = 0; i < n; ++i) {
        uint8_t c = t[i];
        e->value[i] = c >= 'A' && c <= 'Z' ? static_cast<uint8_t>(c + 32) : c;
      }
      e->value_len = static_cast<uint8_t>(n);
      size_t at = 0;
      while (at < t.size() && t[at] != '@') ++at;
      // "z***@example.com.cn": first character of the local part, then the domain.
      size_t k = 0;
      e->masked[k++] = static_cast<char>(t[0]);
      for (const char* s = "***"; *s; ++s) e->masked[k++] = *s;
      for (size_t i = at; i < t.size() && k + 1 < sizeof e->masked; ++i)
        e->masked[k++] = static_cast<char>(t[i]);
      e->masked[k] = '\0';
      if (is_role_account(t.first(at)))
        accept(e, C::kUnlikely, C::kUnlikely);
      else
        accept(e, C::kLikely, C::kLikely);
      return;
    }
    case Validator::kCoordinates: {
      if (validate_cn_coordinates(t) != Check::kValid) return;
      size_t n = strip(t, buf, sizeof buf, false);
      if (n > sizeof buf) return;
      set_value(e, buf, n);
      // "39.9***,116.4***": one decimal (about 11 km) in clear.
      size_t k = 0;
      int after_dot = -1;
      for (size_t i = 0; i < n && k + 4 < sizeof e->masked; ++i) {
        uint8_t c = buf[i];
        if (c == '.')
          after_dot = 0;
        else if (c == ',')
          after_dot = -1;
        else if (after_dot >= 0 && ++after_dot > 1) {
          if (after_dot == 2)
            for (int s = 0; s < 3; ++s) e->masked[k++] = '*';
          continue;
        }
        e->masked[k++] = static_cast<char>(c);
      }
      e->masked[k] = '\0';
      accept(e, C::kPossible, C::kLikely);
      return;
    }
    case Validator::kIban: {
      if (validate_iban(t) != Check::kValid) return;
      size_t n = strip(t, buf, sizeof buf, false);
      set_value(e, buf, n);
      mask_keep(e, 4, 4);
      accept(e, C::kLikely, C::kVeryLikely);
      return;
    }
    case Validator::kSsn:
      if (validate_us_ssn(t) != Check::kValid) return;
      set_value(e, t.data(), t.size());
      std::memcpy(e->masked, "***-**-", 7);
      std::memcpy(e->masked + 7, t.data() + 7, 4);
      e->masked[11] = '\0';
      accept(e, C::kUnlikely, C::kLikely);
      return;
    case Validator::kNone: {
      set_value(e, t.data(), t.size());
      mask_keep(e, 2, 2);
      accept(e, C::kPossible, C::kLikely);
      return;
    }
  }
}

}  // namespace dc::inspect
