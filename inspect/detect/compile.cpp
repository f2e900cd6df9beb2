// DetectorDb::compile(): detector specs + the detector table -> one streaming Hyperscan database
// and the per-pattern / per-detector lookup tables the scanner reads. Control plane only.
#include <algorithm>
#include <map>
#include <tuple>

#include "inspect/detect/db_cache.hpp"
#include "inspect/detect/detectors.hpp"
#include "inspect/detect/judges.hpp"

namespace dc::inspect {

struct DetectorDbBuilder {
  DetectorDbBuilder(DetectorDb& d, const DetectorTable& t, std::vector<PatternError>& e)
      : db(d), table(t), errs(e) {}
  DetectorDb& db;
  const DetectorTable& table;
  std::vector<PatternError>& errs;
  std::vector<std::string> exprs;
  std::vector<unsigned> flags;
  // For attributing a failure of the combined compile: (detector, pattern index or kNoPattern).
  std::vector<std::pair<size_t, size_t>> origin;
  // (role, keyword key) -> group: a keyword shared by several detectors is compiled once.
  std::map<std::pair<Role, std::string>, uint16_t> keyword_groups;
  std::vector<uint16_t> digit_members, letter_members;  // rows fed by the shared triggers
  bool any_som = false;

  void add(const PatternInfo& info, std::string expr, unsigned f, size_t det, size_t pat) {
    db.patterns_.push_back(info);
    exprs.push_back(std::move(expr));
    flags.push_back(f);
    origin.emplace_back(det, pat);
  }

  // One keyword in every byte form we scan for (keyword_forms()).
  void add_keyword(uint16_t det, std::string_view kw, Role role, Confidence c) {
    if (kw.empty()) return;
    if (role != Role::kKeywordFinding) {
      // Same keyword, same sign, another detector: join its group, compile nothing new.
      auto key = std::make_pair(role, keyword_key(kw));
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
    db.texts_.emplace_back(kw);
    for (auto& form : keyword_forms(kw)) {
      info.length = form.length;
      add(info, std::move(form.expression), form.flags, det, kNoPattern);
    }
  }

  void add_builtin(size_t di, const DetectorSpec& s) {
    const auto det = static_cast<uint16_t>(di);
    const DetectorRow* row = table.find(s.name);
    if (!row) {
      std::string known;
      for (const auto& r : table.rows()) known += (known.empty() ? "" : ", ") + std::string(r.name);
      errs.push_back(
          {di, kNoPattern, "unknown built-in detector \"" + s.name + "\" (known: " + known + ")"});
      db.detectors_.push_back({s.name, true, s.proximity});
      return;
    }
    db.detectors_.push_back(
        {s.name, true, row->proximity, row->token_judge, row->filter, row->lead_in});
    if (row->shared == SharedTokens::kDigits) digit_members.push_back(det);
    if (row->shared == SharedTokens::kLetters) letter_members.push_back(det);
    for (size_t pi = 0; pi < row->patterns.size(); ++pi) {
      const RowPattern& p = row->patterns[pi];
      PatternInfo info;
      info.detector = det;
      info.role = Role::kCandidate;
      info.extractor = p.extractor;
      info.judge = p.judge;
      info.boundary = p.boundary;
      info.length = p.length;
      add(info, std::string(p.expression), kBuiltinFlags, di, pi);
    }
    for (auto kw : row->keywords) add_keyword(det, kw, Role::kKeyword, Confidence::kPossible);
    if (row->negatives)
      for (auto kw : negative_keywords())
        add_keyword(det, kw, Role::kNegativeKeyword, Confidence::kPossible);
    for (const auto& kf : row->keyword_findings)
      add_keyword(det, kf.text, Role::kKeywordFinding, kf.confidence);
    if (!row->keywords.empty()) db.max_proximity_ = std::max(db.max_proximity_, row->proximity);
  }

  void add_custom(size_t di, const DetectorSpec& s) {
    const auto det = static_cast<uint16_t>(di);
    db.detectors_.push_back({s.name, false, s.proximity});
    const Judge* judge = judges::by_name(s.validator);
    if (!judge) {
      std::string known;
      for (auto n : validator_names()) known += (known.empty() ? "" : ", ") + std::string(n);
      errs.push_back(
          {di, kNoPattern, "unknown validator \"" + s.validator + "\" (known: " + known + ")"});
    }
    if (s.patterns.empty())
      errs.push_back({di, kNoPattern, "custom detector \"" + s.name + "\" has no patterns"});
    for (size_t pi = 0; pi < s.patterns.size(); ++pi) {
      const PatternSpec& ps = s.patterns[pi];
      // Parsed alone (not compiled: compile_all() compiles each alone only when the database
      // fails) so that an error names its own pattern (style.md: every error, with its
      // location).
      auto eod = custom_pattern_info(ps.expression, ps.literal);
      if (!eod) {
        errs.push_back({di, pi, eod.error().message});
        continue;
      }
      any_som = true;
      db.eod_matches_ = db.eod_matches_ || eod.value();
      PatternInfo info;
      info.detector = det;
      info.extractor = Extractor::kSom;
      info.judge = judge ? judge : &judges::kNone;
      info.boundary = Boundary::kToken;
      add(info, ps.literal ? escape_literal(ps.expression) : ps.expression, kCustomFlags, di, pi);
    }
    for (const auto& kw : s.keywords) add_keyword(det, kw, Role::kKeyword, Confidence::kPossible);
    for (const auto& kw : s.negative_keywords)
      add_keyword(det, kw, Role::kNegativeKeyword, Confidence::kPossible);
    if (!s.keywords.empty()) db.max_proximity_ = std::max(db.max_proximity_, s.proximity);
  }

  // One set of shared triggers for all rows of a kind; each match is offered to every member.
  void add_shared(const std::vector<uint16_t>& members, SharedTokens kind, Boundary boundary) {
    if (members.empty()) return;
    PatternInfo info;
    info.role = Role::kCandidate;
    info.boundary = boundary;
    info.detector = members.front();
    info.group = static_cast<uint16_t>(db.groups_.size());
    db.groups_.push_back(members);
    info.shared_begin = static_cast<uint16_t>(db.shared_.size());
    info.shared_count = static_cast<uint16_t>(members.size());
    for (uint16_t m : members) {
      const DetectorInfo& d = db.detectors_[m];
      db.shared_.push_back({d.filter, d.token_judge, m, d.lead_in});
    }
    for (const auto& t : shared_triggers(kind)) {
      info.extractor = t.extractor;
      info.length = t.length;
      add(info, std::string(t.expression), kBuiltinFlags, members.front(), kNoPattern);
    }
  }

  void compile_all() {
    std::vector<const char*> ptrs;
    std::vector<unsigned> ids;
    for (size_t i = 0; i < exprs.size(); ++i) {
      ptrs.push_back(exprs[i].c_str());
      ids.push_back(static_cast<unsigned>(i));
    }
    hs_database_t* raw = nullptr;
    hs_compile_error_t* ce = nullptr;
    const unsigned mode = any_som ? kCustomMode : kStreamMode;
    // A database compiled before from the same expressions, flags, mode, Hyperscan version and
    // platform (db_cache.hpp); a miss or a rejected file compiles and stores it.
    const std::string cache_dir = detector_cache_dir();
    const base::Sha256 key = cache_dir.empty() ? base::Sha256{} : db_cache_key(mode, exprs, flags);
    if (!cache_dir.empty()) {
      if (HsDatabasePtr cached = db_cache_load(cache_dir, key)) {
        adopt(std::move(cached));
        return;
      }
    }
    if (hs_compile_multi(ptrs.data(), flags.data(), ids.data(), static_cast<unsigned>(ptrs.size()),
                         mode, nullptr, &raw, &ce) != HS_SUCCESS) {
      // Only now is each custom pattern compiled alone, so that every one that fails is named
      // (Hyperscan names only the first); if none fails alone, the database error stands.
      for (size_t i = 0; i < exprs.size(); ++i) {
        if (flags[i] != kCustomFlags || origin[i].second == kNoPattern) continue;
        hs_database_t* one = nullptr;
        hs_compile_error_t* oe = nullptr;
        if (hs_compile(exprs[i].c_str(), flags[i], kCustomMode, nullptr, &one, &oe) != HS_SUCCESS) {
          errs.push_back({origin[i].first, origin[i].second,
                          oe && oe->message ? oe->message : "pattern does not compile"});
          hs_free_compile_error(oe);
        }
        hs_free_database(one);
      }
      if (errs.empty()) {
        size_t det = 0, pat = kNoPattern;
        if (ce && ce->expression >= 0 && static_cast<size_t>(ce->expression) < origin.size())
          std::tie(det, pat) = origin[ce->expression];
        errs.push_back(
            {det, pat,
             std::string("database: ") + (ce && ce->message ? ce->message : "compile failed")});
      }
      hs_free_compile_error(ce);
      return;
    }
    if (!cache_dir.empty()) db_cache_store(cache_dir, key, raw);
    adopt(HsDatabasePtr(raw));
  }

  void adopt(HsDatabasePtr raw) {
    db.db_ = std::move(raw);
    if (hs_stream_size(db.db_.get(), &db.stream_size_) != HS_SUCCESS)
      errs.push_back({0, kNoPattern, "hs_stream_size failed"});
  }
};

int DetectorDb::find(std::string_view name) const noexcept {
  for (size_t i = 0; i < detectors_.size(); ++i)
    if (detectors_[i].name == name) return static_cast<int>(i);
  return -1;
}

Result<std::shared_ptr<const DetectorDb>> DetectorDb::compile(
    const std::vector<DetectorSpec>& specs, std::vector<PatternError>* errors,
    const DetectorTable& table) {
  if (specs.size() > 0xFFFF) return make_error("too many detectors");
  std::vector<PatternError> errs;
  std::shared_ptr<DetectorDb> db(new DetectorDb());
  DetectorDbBuilder b{*db, table, errs};
  for (size_t di = 0; di < specs.size(); ++di) {
    if (specs[di].builtin)
      b.add_builtin(di, specs[di]);
    else
      b.add_custom(di, specs[di]);
  }
  b.add_shared(b.digit_members, SharedTokens::kDigits, Boundary::kDigits);
  b.add_shared(b.letter_members, SharedTokens::kLetters, Boundary::kAlnum);
  if (errs.empty() && b.exprs.empty()) errs.push_back({0, kNoPattern, "no detectors to compile"});
  if (errs.empty()) b.compile_all();
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

}  // namespace dc::inspect
