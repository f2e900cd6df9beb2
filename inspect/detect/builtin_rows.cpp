// The built-in detector table: one row per detector (docs/detectors.md is the prose version),
// the shared digit/letter triggers their tokens come from, and the shared negative keywords.
#include <span>

#include "inspect/detect/judges.hpp"
#include "inspect/detect/table.hpp"

namespace dc::inspect {
namespace {

// Before a letter-led token: start of stream, a byte that is not [0-9A-Za-z], or a letter that
// follows a possible GBK lead byte (0x81-0xFE), i.e. a GBK trail byte (detectors.md §3.1).
#define DC_TOKEN_START "(?:^|[^0-9A-Za-z]|[\\x81-\\xfe][A-Za-z])"

// Digit detectors do not get one bounded-repeat pattern per length: on digit-heavy payloads
// (order numbers, timestamps) those cost ~10x the rest of the database in streaming mode
// (performance.md: "long bounded repeats are expensive in streaming mode"). Instead two cheap
// triggers fire once per digit run that reaches 11 digits, and once per "ddd[d][ -]dd" group
// start; the scanner reads the maximal run / group and offers it to every digit row.
// The leading [^0-9] makes the boundary before the token part of the pattern; GBK trail bytes
// (0x40..0xFE) are never digits, so 證 (D7 43) before an ID does not hide it (§3.1).
constexpr SharedTrigger kDigitTriggers[] = {
    {"(?:^|[^0-9])[0-9]{11}", 11, Extractor::kDigitRun},
    {"(?:^|[^0-9])[0-9]{3}[ -][0-9]{2}", 6, Extractor::kDigitGroups},
    {"(?:^|[^0-9])[0-9]{4}[ -][0-9]{2}", 7, Extractor::kDigitGroups},
};

// Letter-led documents (passport, permits, HKID, Taiwan ID): two triggers, 1 or 2 letters + 6
// digits at a token start; the scanner reads the whole token (more digits, "(c)") and offers it
// to each letter row. Twenty per-format patterns with bounded repeats cost ~5x more.
constexpr SharedTrigger kLetterTriggers[] = {
    {DC_TOKEN_START "[A-Z][0-9]{6}", 7, Extractor::kLetterToken},
    {DC_TOKEN_START "[A-Z]{2}[0-9]{6}", 8, Extractor::kLetterToken},
};

// GB 32100 USCC with at least one letter: [0-9A-HJ-NPQRTUWY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}
// (registration authority + type, region, org code + check) minus the all-digit strings, written
// by the position of the first letter: in the first two characters, or k digits into the last
// ten (k = 0..9). Hyperscan has no look-ahead, hence the alternation.
#define DC_USCC_L1 "[A-HJ-NPQRTUWY]"
#define DC_USCC_C1 "[0-9A-HJ-NPQRTUWY]"
#define DC_USCC_L2 "[A-HJ-NPQRTUWXY]"
#define DC_USCC_C2 "[0-9A-HJ-NPQRTUWXY]"
#define DC_USCC_WITH_LETTER                                                  \
  "(?:(?:" DC_USCC_L1 DC_USCC_C1 "|[0-9]" DC_USCC_L1 ")[0-9]{6}" DC_USCC_C2  \
  "{10}|[0-9]{8}(?:" DC_USCC_L2 DC_USCC_C2 "{9}|[0-9]" DC_USCC_L2 DC_USCC_C2 \
  "{8}|[0-9]{2}" DC_USCC_L2 DC_USCC_C2 "{7}|[0-9]{3}" DC_USCC_L2 DC_USCC_C2  \
  "{6}|[0-9]{4}" DC_USCC_L2 DC_USCC_C2 "{5}|[0-9]{5}" DC_USCC_L2 DC_USCC_C2  \
  "{4}|[0-9]{6}" DC_USCC_L2 DC_USCC_C2 "{3}|[0-9]{7}" DC_USCC_L2 DC_USCC_C2  \
  "{2}|[0-9]{8}" DC_USCC_L2 DC_USCC_C2 "|[0-9]{9}" DC_USCC_L2 "))"

constexpr std::string_view kNegatives[] = {
    "订单号",   "订单编号", "单号",     "流水号",    "交易号",   "序列号",
    "訂單號",   "orderId",  "order_id", "orderNo",   "order_no", "traceId",
    "trace_id", "tracking", "serialNo", "serial_no", "txnId",    "transactionId"};

using B = Boundary;
using E = Extractor;
using S = SharedTokens;

// ---- Digit rows: tokens from kDigitTriggers ----------------------------------------------------

void add_id_rows(std::vector<DetectorRow>& v) {
  v.push_back({
      .name = "cn_resident_id",
      .title = "PRC resident identity number (GB 11643-1999)",
      .validator_doc = "maximal digit run of 17 digits + check (0-9/X); province 11-15/21-23/31-37/"
                       "41-46/50-54/61-65/71/81-83 or leading 9; real date 1800..today; ISO 7064 "
                       "MOD 11-2",
      .confidence_doc = "likely; very_likely with a keyword within proximity; -2 after a negative "
                        "keyword",
      .shared = S::kDigits,
      .token_judge = &judges::kResidentId,
      .filter = {.lengths = bit(18), .digit_counts = bits(17, 18)},
      .keywords = {"身份证", "身份證", "身分證", "证件号", "證件號", "公民身份号码", "居民身份证",
                   "idcard", "id_card", "idNo", "idNumber", "sfzh", "zjhm", "certNo", "cert_no"},
      .negatives = true,
  });
  // USCC: a token start and 18 characters of the GB 32100 alphabets, at least one of them a
  // letter. All-digit codes come from the digit-run trigger (and kMixedToken turned them away
  // when this pattern matched them; on digit-heavy traffic, 19-digit order numbers after a
  // quote, that was a quarter of all matches). Requiring the token start keeps the pattern
  // quiet inside long digit runs (measured ~3x faster than the bare 18-character class).
  v.push_back({
      .name = "cn_uscc",
      .title = "Unified Social Credit Code (GB 32100-2015)",
      .validator_doc = "alphabet without I O S V Z; GB 32100 MOD 31 check; embedded GB 11714 "
                       "org-code check; rejected when the value is a valid resident ID (the ID "
                       "interpretation wins)",
      .confidence_doc = "likely; very_likely with a keyword; check failures (Fujian pilot codes) "
                        "possible only with a keyword",
      .shared = S::kDigits,
      .token_judge = &judges::kUscc,
      .filter = {.lengths = bit(18), .digit_counts = bit(18)},
      .patterns = {{DC_TOKEN_START DC_USCC_WITH_LETTER, 18, E::kMixedToken, B::kAlnum,
                    &judges::kUscc}},
      .keywords = {"统一社会信用代码", "統一社會信用代碼", "信用代码", "纳税人识别号", "税号",
                   "uscc", "creditCode", "credit_code", "taxNo", "tax_no"},
      .negatives = true,
  });
}

void add_card_and_mobile_rows(std::vector<DetectorRow>& v) {
  v.push_back({
      .name = "bank_card",
      .title = "China UnionPay card number (ISO/IEC 7812, prefix 62, 16-19 digits)",
      .validator_doc = "maximal digit run or 4-4-4-4(-3) group; prefix 62 and length 16-19; Luhn; "
                       "published test numbers downgraded; an 18-digit value that is a valid "
                       "resident ID is left to cn_resident_id",
      .confidence_doc = "likely; very_likely with a keyword; test numbers very_unlikely; Luhn "
                        "failure possible only with a keyword (old domestic BINs)",
      .shared = S::kDigits,
      .token_judge = &judges::kUnionPay,
      .filter = {.digit_counts = bits(16, 63),
                 .first_min = '6',
                 .first_max = '6',
                 .second_min = '2',
                 .second_max = '2'},
      .keywords = {"银行卡", "銀行卡", "卡号", "卡號", "储蓄卡", "借记卡", "信用卡", "开户行",
                   "账号", "银联", "UnionPay", "cardNo", "card_no", "bankCard", "bank_card",
                   "acctNo"},
      .negatives = true,
  });
  v.push_back({
      .name = "payment_card",
      .title = "International payment card (Visa, Mastercard, Amex, Discover, JCB, Diners)",
      .validator_doc = "maximal digit run or digit groups; IIN prefix and length per brand; Luhn; "
                       "published test numbers downgraded; UnionPay (62) belongs to bank_card; "
                       "an 18-digit value that is a valid resident ID is left to cn_resident_id",
      .confidence_doc = "likely; very_likely with a keyword; test numbers very_unlikely",
      .shared = S::kDigits,
      .token_judge = &judges::kPaymentCard,
      .filter = {.digit_counts = bits(13, 63), .first_min = '2', .first_max = '6'},
      .keywords = {"信用卡", "卡号", "卡號", "credit card", "creditcard", "card number", "cardNo",
                   "card_no", "cvv", "expiry", "exp_date", "Visa", "Mastercard", "Amex"},
      .negatives = true,
  });
  v.push_back({
      .name = "cn_mobile",
      .title = "PRC mobile number (11 digits, optional +86 / 0086)",
      .validator_doc = "maximal digit run of 11 (or 3-4-4 group); a +86 / 0086 prefix is part of "
                       "the token; allocated network prefix",
      .confidence_doc = "possible; likely with a keyword or a +86/0086 prefix; very_likely with "
                        "both",
      .shared = S::kDigits,
      .token_judge = &judges::kMobile,
      // 13 and 15: "+86"/"0086" glued to the number arrive in the same digit run.
      .filter = {.digit_counts = bit(11) | bit(13) | bit(15)},
      .lead_in = LeadIn::kCnCountryCode,
      .keywords = {"手机", "手機", "电话", "電話", "联系方式", "mobile", "phone", "telephone",
                   "sjh", "lxdh", "sjhm"},
      .negatives = true,
  });
}

// ---- Letter rows: tokens from kLetterTriggers --------------------------------------------------

void add_letter_rows(std::vector<DetectorRow>& v) {
  v.push_back({
      .name = "cn_passport",
      .title = "PRC / HKSAR / MSAR passport number; ICAO 9303 MRZ (CHN)",
      .validator_doc = "letter token; E/G/K+8d, E+letter(not I/O)+7d, DE/SE/PE/MA+7d; MRZ line 2: "
                       "three ICAO 9303 check digits",
      .confidence_doc = "unlikely; possible with a keyword; very_likely for an MRZ whose check "
                        "digits pass",
      .shared = S::kLetters,
      .token_judge = &judges::kPassport,
      .filter = {.lengths = bit(9)},
      .patterns = {{"[A-Z0-9<]{9}[0-9]CHN[0-9]{6}[0-9][MF<][0-9]{6}[0-9]", 28, E::kFixed, B::kNone,
                    &judges::kMrz}},
      .keywords = {"护照", "護照", "passport", "passportNo", "hzhm", "P<CHN"},
  });
  v.push_back({
      .name = "hkmo_permit",
      .title = "Exit-entry permit for Hong Kong and Macao / Home-Return Permit",
      .validator_doc = "letter token; C+8d or C+letter+7d (往来港澳通行证), H/M+8d or +10d "
                       "(回乡证); no check digit",
      .confidence_doc = "unlikely; possible with a keyword",
      .shared = S::kLetters,
      .token_judge = &judges::kHkmoPermit,
      .filter = {.lengths = bit(9) | bit(11)},
      .keywords = {"港澳通行证", "往来港澳", "回乡证", "回鄉證", "来往内地通行证", "通行证号",
                   "通行證"},
  });
  v.push_back({
      .name = "tw_permit",
      .title = "Mainland residents' permit to Taiwan (大陆居民往来台湾通行证)",
      .validator_doc = "letter token; L+8 digits; no check digit",
      .confidence_doc = "unlikely; possible with a keyword",
      .shared = S::kLetters,
      .token_judge = &judges::kTwPermit,
      .filter = {.lengths = bit(9)},
      .keywords = {"往来台湾", "台湾通行证", "通行证号"},
  });
  v.push_back({
      .name = "hkid",
      .title = "Hong Kong identity card number",
      .validator_doc = "letter token; 1-2 letters + 6 digits + check (0-9/A), optionally in "
                       "parentheses; mod 11 with a space worth 36",
      .confidence_doc = "likely with the (c) form, possible without; one step higher with a "
                        "keyword",
      .shared = S::kLetters,
      .token_judge = &judges::kHkid,
      .filter = {.lengths = bits(8, 11)},
      .keywords = {"香港身份证", "香港身份證", "身份證", "HKID", "identity card"},
  });
  v.push_back({
      .name = "tw_id",
      .title = "Taiwan national identification number",
      .validator_doc = "letter token; letter + 1/2 + 8 digits; weighted mod 10",
      .confidence_doc = "likely; very_likely with a keyword",
      .shared = S::kLetters,
      .token_judge = &judges::kTwId,
      .filter = {.lengths = bit(10)},
      .keywords = {"身分證", "身分证", "統一編號", "国民身分证", "National ID"},
  });
}

// ---- Rows with patterns of their own -----------------------------------------------------------

void add_pattern_rows(std::vector<DetectorRow>& v) {
  v.push_back({
      .name = "email",
      .title = "E-mail address",
      .validator_doc = "local part <= 64 of [A-Za-z0-9._%+-]; domain labels 1-63, no "
                       "leading/trailing '-'; alphabetic TLD 2-24",
      .confidence_doc = "likely; role accounts (noreply, admin, postmaster, ...) unlikely",
      .patterns = {{"[A-Za-z0-9._%+\\-]@[A-Za-z0-9]", 0, E::kEmail, B::kNone, &judges::kEmail}},
  });
  v.push_back({
      .name = "cn_coordinates",
      .title = "Decimal coordinates inside China (lat,lon or lon,lat)",
      .validator_doc = ">= 4 decimals; one reading inside lat 3.8..53.6 N, lon 73.4..135.1 E",
      .confidence_doc = "possible; likely with a keyword (lat, lng, 经度, 纬度, 坐标, 轨迹)",
      .patterns = {{"[0-9]\\.[0-9]{4,10} {0,2}, {0,2}[0-9]{1,3}\\.[0-9]{4}", 0, E::kCoordinates,
                    B::kNone, &judges::kCoordinates}},
      .keywords = {"经度", "纬度", "經度", "緯度", "坐标", "座標", "轨迹", "定位", "latitude",
                   "longitude", "lat", "lng", "lon", "coordinates", "gps"},
  });
  // "CCkkXXXX" and the paper format "CCkk XXXX" (ISO 13616-1 §5); the extractor reads the
  // country's length. Country codes are checked by iban_length(): a 49-way alternation of
  // two-letter literals measured ~2x slower for the whole database (short literals flood the
  // literal matcher), a token start + classes does not.
  v.push_back({
      .name = "iban",
      .title = "International Bank Account Number (ISO 13616)",
      .validator_doc = "letter boundary; country length table; optional single spaces between "
                       "groups of 4; ISO 7064 MOD 97-10",
      .confidence_doc = "likely; very_likely with a keyword",
      .patterns = {{DC_TOKEN_START "[A-Z]{2}[0-9]{2}[A-Z0-9]{4}", 8, E::kIban, B::kAlnum,
                    &judges::kIban},
                   {DC_TOKEN_START "[A-Z]{2}[0-9]{2} [A-Z0-9]{4}", 9, E::kIban, B::kAlnum,
                    &judges::kIban}},
      .keywords = {"IBAN", "SWIFT", "BIC", "beneficiary", "国际银行账号", "收款账户"},
  });
}

// us_ssn and medical_keywords come last: the row order is the detector order of
// compile_builtins() and of `scan --list`, kept as it was.
void add_ssn_and_medical_rows(std::vector<DetectorRow>& v) {
  v.push_back({
      .name = "us_ssn",
      .title = "US Social Security Number (AAA-GG-SSSS)",
      .validator_doc = "3-2-4 digit group with '-'; area not 000/666/9xx, group not 00, serial "
                       "not 0000; SSA blacklist",
      .confidence_doc = "unlikely; likely with a keyword",
      .shared = S::kDigits,
      .token_judge = &judges::kSsn,
      .filter = {.lengths = bit(11), .digit_counts = bit(9)},
      .keywords = {"SSN", "social security", "social_security"},
      .negatives = true,
  });
  constexpr Confidence P = Confidence::kPossible;
  v.push_back({
      .name = "medical_keywords",
      .title = "Medical and health terms (GB/T 39725 classes), HL7 v2 and VCF headers",
      .validator_doc = "the keyword itself is the finding (UTF-8, GBK and JSON \\u forms)",
      .confidence_doc = "possible per term; very_likely for an HL7 v2 MSH header or a VCF header",
      .keyword_findings = {{"病案号", P},
                           {"住院号", P},
                           {"门诊号", P},
                           {"就诊卡号", P},
                           {"医保卡号", P},
                           {"病历", P},
                           {"病歷", P},
                           {"病史", P},
                           {"主诉", P},
                           {"现病史", P},
                           {"既往史", P},
                           {"过敏史", P},
                           {"诊断", P},
                           {"診斷", P},
                           {"出院小结", P},
                           {"入院记录", P},
                           {"医嘱", P},
                           {"处方", P},
                           {"检验报告", P},
                           {"检查报告", P},
                           {"影像报告", P},
                           {"病理", P},
                           {"基因组", P},
                           {"测序", P},
                           {"diagnosis", P},
                           {"prescription", P},
                           {"discharge summary", P},
                           {"medical record", P},
                           {"MSH|^~\\&", Confidence::kVeryLikely},
                           {"##fileformat=VCFv4", Confidence::kVeryLikely}},
  });
}

}  // namespace

std::span<const SharedTrigger> shared_triggers(SharedTokens kind) noexcept {
  switch (kind) {
    case SharedTokens::kDigits:
      return kDigitTriggers;
    case SharedTokens::kLetters:
      return kLetterTriggers;
    case SharedTokens::kNone:
      break;
  }
  return {};
}

std::span<const std::string_view> negative_keywords() noexcept { return kNegatives; }

std::vector<DetectorRow> builtin_rows() {
  std::vector<DetectorRow> v;
  add_id_rows(v);
  add_card_and_mobile_rows(v);
  add_letter_rows(v);
  add_pattern_rows(v);
  add_ssn_and_medical_rows(v);
  return v;
}

}  // namespace dc::inspect
