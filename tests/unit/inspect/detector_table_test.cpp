// The detector table: detectors added through rows alone (a test-only judge + row, compiled,
// scanned, found, validated, masked), the table's own checks, judges by name, and
// check_custom_pattern() (the policy compiler's pattern check).
#include <gtest/gtest.h>
#include <hs/hs.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "inspect/detect/detectors.hpp"
#include "inspect/detect/judges.hpp"
#include "inspect/detect/scanner.hpp"
#include "inspect/detect/table.hpp"

namespace dc::inspect {
namespace {

struct Got {
  std::string detector;
  uint64_t offset;
  uint16_t length;
  Confidence confidence;
  std::string masked, value;
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

// Streams `pieces` through one stream of `db` and closes it. Backward keywords only, so that
// findings arrive in order and a keyword raises only the value after it.
std::vector<Got> scan_pieces(const std::shared_ptr<const DetectorDb>& db,
                             const std::vector<std::string>& pieces) {
  StreamOptions backward_only;
  backward_only.forward_window = 0;
  CollectSink sink;
  sink.db = db.get();
  auto scratch = Scratch::create(db);
  EXPECT_TRUE(scratch.has_value());
  auto pool = StreamPool::create(db, 1, backward_only);
  EXPECT_TRUE(pool.has_value());
  Stream* s = (*pool)->acquire();
  for (const auto& p : pieces) EXPECT_EQ(scan(*s, *scratch, as_bytes(p), sink), ScanStatus::kOk);
  EXPECT_EQ(close(*s, *scratch, sink), ScanStatus::kOk);
  (*pool)->release(s);
  return sink.got;
}

// ---- A test-only detector: employee numbers "EMP" + 6 digits + a mod-10 check digit ----------
// (weights 1..6 over the digits; a made-up rule, so nothing in the built-in table knows it).

bool emp_check_ok(Bytes t) noexcept {
  if (t.size() != 10 || t[0] != 'E' || t[1] != 'M' || t[2] != 'P') return false;
  unsigned sum = 0;
  for (size_t i = 3; i < 9; ++i) {
    if (!is_digit(t[i])) return false;
    sum += static_cast<unsigned>(t[i] - '0') * static_cast<unsigned>(i - 2);
  }
  return is_digit(t[9]) && static_cast<unsigned>(t[9] - '0') == sum % 10;
}

Grade check_emp(Bytes t, CivilDate, Evaluation* e) noexcept {
  if (!emp_check_ok(t)) return Grade::kReject;
  set_value(e, t.data(), t.size());
  return Grade::kValid;
}

const Judge kEmpJudge{"", check_emp, mask_ends,
                      3,  1,         Confidences{Confidence::kUnlikely, Confidence::kLikely}};

// A check digit after "EMP123456": returns the full valid number.
std::string emp(const std::string& six) {
  for (char c = '0'; c <= '9'; ++c) {
    std::string v = "EMP" + six + c;
    if (emp_check_ok(as_bytes(v))) return v;
  }
  return "";
}

DetectorRow emp_row() {
  return {
      .name = "test_employee_no",
      .title = "Employee number (test-only row)",
      .validator_doc = "EMP + 6 digits + weighted mod-10 check digit",
      .confidence_doc = "unlikely; likely with a keyword",
      .patterns = {{"EMP[0-9]{7}", 10, Extractor::kFixed, Boundary::kAlnum, &kEmpJudge}},
      .keywords = {"工号", "employeeNo"},
  };
}

TEST(DetectorTable, DetectorAddedThroughOneRow) {
  DetectorTable table = DetectorTable::builtins();
  ASSERT_TRUE(table.add(emp_row()));
  std::vector<DetectorSpec> specs(2);
  specs[0].name = "test_employee_no";
  specs[1].name = "cn_resident_id";
  std::vector<PatternError> errors;
  auto db = DetectorDb::compile(specs, &errors, table);
  ASSERT_TRUE(db.has_value()) << (errors.empty() ? "" : errors[0].message);

  const std::string good = emp("123456"), other = emp("654321");
  ASSERT_FALSE(good.empty());
  std::string bad = good;
  bad[9] = bad[9] == '0' ? '1' : '0';  // wrong check digit
  auto got = scan_pieces(*db, {"a " + good.substr(0, 5),
                               good.substr(5) + " b " + bad + " xEMP1234560 工号: " + other + "."});
  auto emp_found = [&] {
    std::vector<Got> r;
    for (const auto& g : got)
      if (g.detector == "test_employee_no") r.push_back(g);
    return r;
  }();
  ASSERT_EQ(emp_found.size(), 2u);  // the bad check digit and the glued token are rejected
  EXPECT_EQ(emp_found[0].offset, 2u);
  EXPECT_EQ(emp_found[0].length, 10u);
  EXPECT_EQ(emp_found[0].confidence, Confidence::kUnlikely);
  EXPECT_EQ(emp_found[0].value, good);
  EXPECT_EQ(emp_found[0].masked, "EMP******" + good.substr(9));
  EXPECT_EQ(emp_found[1].value, other);
  EXPECT_EQ(emp_found[1].confidence, Confidence::kLikely);  // keyword 工号 before it

  // The built-in table itself does not know the row.
  EXPECT_FALSE(DetectorDb::compile(specs, &errors).has_value());
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].message.find("test_employee_no"), std::string::npos);
}

// A row fed by the shared digit triggers: the filter and judge come from the row, resolve() is
// not told about it. "Loyalty numbers": 12 digits starting with 88, Luhn.
TEST(DetectorTable, SharedDigitRowFilteredAndJudged) {
  DetectorTable table = DetectorTable::builtins();
  ASSERT_TRUE(table.add({
      .name = "test_loyalty",
      .title = "Loyalty number (test-only row)",
      .validator_doc = "12 digits, prefix 88, Luhn",
      .confidence_doc = "likely; very_likely with a keyword",
      .shared = SharedTokens::kDigits,
      .token_judge = &judges::kLuhn,
      .filter = {.lengths = bit(12) | bit(14),
                 .digit_counts = bit(12),
                 .first_min = '8',
                 .first_max = '8',
                 .second_min = '8',
                 .second_max = '8'},
      .keywords = {"loyalty"},
  }));
  std::vector<DetectorSpec> specs(1);
  specs[0].name = "test_loyalty";
  auto db = DetectorDb::compile(specs, nullptr, table);
  ASSERT_TRUE(db.has_value());
  // 880000000006 passes Luhn; 880000000007 does not; 870000000008 has the wrong prefix (and
  // passes Luhn); a 13-digit run is the wrong length; "8800 0000 0006" is a digit group.
  std::string luhn12 = "88000000000";
  for (char c = '0'; c <= '9'; ++c)
    if (luhn_valid(as_bytes(luhn12 + c))) {
      luhn12 += c;
      break;
    }
  ASSERT_EQ(luhn12.size(), 12u);
  std::string wrong_prefix = "87000000000";
  for (char c = '0'; c <= '9'; ++c)
    if (luhn_valid(as_bytes(wrong_prefix + c))) {
      wrong_prefix += c;
      break;
    }
  std::string bad_luhn = luhn12;
  bad_luhn[11] = bad_luhn[11] == '9' ? '0' : static_cast<char>(bad_luhn[11] + 1);
  const std::string grouped = luhn12.substr(0, 4) + " " + luhn12.substr(4, 4) + " " +
                              luhn12.substr(8, 4);  // 14 bytes, 12 digits
  auto got = scan_pieces(*db, {"no " + luhn12 + " ; " + bad_luhn + " ; " + wrong_prefix + " ; 1" +
                               luhn12 + " ; loyalty " + grouped + " ;"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].offset, 3u);
  EXPECT_EQ(got[0].value, luhn12);
  EXPECT_EQ(got[0].confidence, Confidence::kLikely);
  EXPECT_EQ(got[0].masked, "880******" + luhn12.substr(9));  // 6+4 is too much of 12: 3+3
  EXPECT_EQ(got[1].length, 14u);
  EXPECT_EQ(got[1].value, luhn12);
  EXPECT_EQ(got[1].confidence, Confidence::kVeryLikely);
}

TEST(DetectorTable, RefusesBadRows) {
  DetectorTable table = DetectorTable::builtins();
  const size_t n = table.rows().size();
  EXPECT_FALSE(table.add({.name = "cn_resident_id"}));  // duplicate name
  EXPECT_FALSE(table.add({.name = ""}));
  EXPECT_FALSE(table.add({.name = "no_judge", .shared = SharedTokens::kDigits}));
  EXPECT_FALSE(
      table.add({.name = "no_pattern_judge",
                 .patterns = {{"X[0-9]{4}", 5, Extractor::kFixed, Boundary::kAlnum, nullptr}}}));
  EXPECT_EQ(table.rows().size(), n);
  // The built-in table: every row has a unique name, a judge for every pattern and shared token.
  for (const auto& row : DetectorTable::builtins().rows()) {
    SCOPED_TRACE(std::string(row.name));
    EXPECT_EQ(DetectorTable::builtins().find(row.name), &row);
    EXPECT_EQ(row.shared != SharedTokens::kNone, row.token_judge != nullptr);
    for (const auto& p : row.patterns) EXPECT_NE(p.judge, nullptr);
  }
}

TEST(TokenFilter, LengthDigitAndPrefixMasks) {
  const TokenFilter any;
  EXPECT_TRUE(any.accepts(as_bytes("x"), 0));
  const TokenFilter f{.lengths = bits(16, 19),
                      .digit_counts = bit(16) | bit(19),
                      .first_min = '6',
                      .first_max = '6',
                      .second_min = '2',
                      .second_max = '2'};
  EXPECT_TRUE(f.accepts(as_bytes("6200000000000000"), 16));
  EXPECT_FALSE(f.accepts(as_bytes("6300000000000000"), 16));
  EXPECT_FALSE(f.accepts(as_bytes("62000000000000000"), 17));
  EXPECT_FALSE(f.accepts(as_bytes("620000000000000"), 15));
  EXPECT_EQ(bits(0, 63), TokenFilter::kAny);
  EXPECT_EQ(bits(2, 3), 0b1100u);
}

TEST(Judges, NamesAndEvaluate) {
  const auto& names = validator_names();
  const std::vector<std::string_view> want = {
      "none", "luhn",  "gb11643",   "gb32100", "iban",
      "hkid", "tw_id", "cn_mobile", "email",   "icao9303_passport"};
  EXPECT_EQ(names, want);
  for (auto n : names) EXPECT_NE(judges::by_name(n), nullptr) << n;
  EXPECT_EQ(judges::by_name(""), &judges::kNone);
  EXPECT_EQ(judges::by_name("md5"), nullptr);

  Evaluation e;
  evaluate(judges::kMobile, as_bytes("+86 138-0013-8000"), kNoDateLimit, &e);
  ASSERT_TRUE(e.accept);
  EXPECT_EQ(e.base, Confidence::kLikely);  // the +86 variant
  EXPECT_EQ(std::string(e.masked), "138****8000");
  evaluate(judges::kUscc, as_bytes("91350211M0000XUF46"), kNoDateLimit, &e);
  ASSERT_TRUE(e.accept);
  EXPECT_TRUE(e.keyword_required);  // Fujian pilot code: GB 32100 check fails
  evaluate(judges::kSsn, as_bytes("078-05-1120"), kNoDateLimit, &e);
  EXPECT_FALSE(e.accept);  // SSA blacklist (Woolworth wallet card)
  evaluate(judges::kSsn, as_bytes("123-45-6789"), kNoDateLimit, &e);
  ASSERT_TRUE(e.accept);
  EXPECT_EQ(std::string(e.masked), "***-**-6789");
}

// settle() copies a flow's Hyperscan stream to find end-of-data matches only when the database
// can have some (DetectorDb::eod_matches()): which patterns can is Hyperscan's own answer.
TEST(EodMatches, OnlyPatternsThatWaitForTheEndOfDataNeedTheProbe) {
  EXPECT_TRUE(custom_pattern_matches_at_eod("EMP-[0-9]{6}\\b"));  // "\b" at the end of data
  EXPECT_TRUE(custom_pattern_matches_at_eod("ref [0-9]+$"));
  EXPECT_FALSE(custom_pattern_matches_at_eod("LC[0-9]+"));
  EXPECT_FALSE(custom_pattern_matches_at_eod("测绘成果\\s?\\(涉密\\)"));
  EXPECT_FALSE(custom_pattern_matches_at_eod("ref $", true));  // a literal '$'
  EXPECT_TRUE(custom_pattern_matches_at_eod("(abc"));  // Hyperscan cannot tell: assume it can
  auto db_of = [](std::vector<std::string> patterns, bool literal) {
    DetectorSpec s;
    s.name = "custom";
    s.builtin = false;
    for (auto& p : patterns) s.patterns.push_back({p, literal});
    DetectorSpec id;
    id.name = "cn_resident_id";
    return DetectorDb::compile({id, s}, nullptr).value();
  };
  EXPECT_FALSE(DetectorDb::compile_builtins().value()->eod_matches());
  EXPECT_FALSE(db_of({"军事禁区", "工艺参数"}, true)->eod_matches());
  EXPECT_FALSE(db_of({"LC[0-9]+", "测绘成果\\s?\\(涉密\\)"}, false)->eod_matches());
  EXPECT_TRUE(db_of({"LC[0-9]+", "EMP-[0-9]{6}\\b"}, false)->eod_matches());
  // The built-in side of that answer: no trigger, row pattern or keyword form waits for the end
  // of data (they are compiled without SOM, with kBuiltinFlags or the keyword flags).
  auto eod = [](const std::string& expr, unsigned flags) {
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_expression_info(expr.c_str(), flags, &info, &err) != HS_SUCCESS) {
      hs_free_compile_error(err);
      return true;
    }
    const bool r = info->matches_at_eod != 0;
    std::free(info);
    return r;
  };
  for (auto kind : {SharedTokens::kDigits, SharedTokens::kLetters})
    for (const auto& t : shared_triggers(kind))
      EXPECT_FALSE(eod(std::string(t.expression), kBuiltinFlags)) << t.expression;
  for (const auto& row : DetectorTable::builtins().rows()) {
    for (const auto& p : row.patterns)
      EXPECT_FALSE(eod(std::string(p.expression), kBuiltinFlags)) << p.expression;
    for (auto kw : row.keywords)
      for (const auto& f : keyword_forms(kw)) EXPECT_FALSE(eod(f.expression, f.flags)) << kw;
  }
}

TEST(CheckCustomPattern, SameRulesAsTheDatabase) {
  EXPECT_TRUE(check_custom_pattern("EMP-[0-9]{6}\\b").has_value());
  EXPECT_TRUE(check_custom_pattern("lit(eral", true).has_value());  // escaped byte for byte
  auto bad = check_custom_pattern("(abc");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);
  EXPECT_NE(bad.error().message.find("parenthes"), std::string::npos) << bad.error().message;
  auto bounds = check_custom_pattern("a{2,1}");
  EXPECT_FALSE(bounds.has_value());
  auto empty = check_custom_pattern("");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().message, "empty pattern");
  // The message is Hyperscan's own, the one DetectorDb::compile() reports for the pattern.
  DetectorSpec s;
  s.name = "x";
  s.builtin = false;
  s.patterns = {{"(abc"}};
  std::vector<PatternError> errors;
  EXPECT_FALSE(DetectorDb::compile({s}, &errors).has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, bad.error().message);
}

// Patterns that parse but do not compile ("a*" matches the empty buffer) are found by the one
// compile of the whole set and then named one by one, with the patterns that compile left out.
TEST(CheckCustomPattern, OneCompileThenEachFailingOneNamed) {
  EXPECT_TRUE(check_custom_patterns({"EMP-[0-9]{6}\\b", "ok[0-9]+"}).empty());
  auto bad = check_custom_patterns({"ok[0-9]+", "a*", "(abc", "fine"});
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].first, 1u);
  EXPECT_NE(bad[0].second.find("empty buffer"), std::string::npos) << bad[0].second;
  EXPECT_EQ(bad[1].first, 2u);
  EXPECT_NE(bad[1].second.find("parenthes"), std::string::npos) << bad[1].second;
  // custom_pattern_info() only parses: "a*" passes it; DetectorDb::compile() still names it.
  EXPECT_TRUE(custom_pattern_info("a*").has_value());
  EXPECT_FALSE(custom_pattern_info("(abc").has_value());
  EXPECT_FALSE(custom_pattern_info("lit(eral", true).value());
  EXPECT_TRUE(custom_pattern_info("EMP-[0-9]{6}\\b").value());
  DetectorSpec s;
  s.name = "x";
  s.builtin = false;
  s.patterns = {{"ok[0-9]+"}, {"a*"}};
  std::vector<PatternError> errors;
  EXPECT_FALSE(DetectorDb::compile({s}, &errors).has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].pattern_index, 1u);
  EXPECT_NE(errors[0].message.find("empty buffer"), std::string::npos) << errors[0].message;
}

}  // namespace
}  // namespace dc::inspect
