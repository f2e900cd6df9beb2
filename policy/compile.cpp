// Semantic checks and compilation: PolicyDoc -> Snapshot. Every problem is reported with the
// position of the offending value, and checking continues so that one run reports all of them.

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "base/file.hpp"
#include "base/hash.hpp"
#include "base/time.hpp"
#include "inspect/detect/detectors.hpp"
#include "policy/loader.hpp"
#include "policy/policy.hpp"
#include "policy/test_runner.hpp"

namespace dc::policy {

// The SnapshotBuilder is the only writer of Snapshot's private members.
class SnapshotBuilder {
 public:
  SnapshotBuilder(const PolicyDoc& doc, Diagnostics& d, const CompileOptions& o)
      : doc_(doc), d_(d), opts_(o), s_(std::make_shared<Snapshot>()) {}

  std::shared_ptr<const Snapshot> run();

 private:
  template <class T>
  bool one_of(const LStr& v, std::initializer_list<std::pair<std::string_view, T>> options, T& out,
              std::string_view what);
  bool check_id(const LStr& id, std::string_view what);
  uint64_t resolve_categories(const LStrs& refs, std::string_view what);
  void header_and_defaults();
  void zones();
  void categories_and_detectors();
  void bases();
  void counterparties();
  void links();
  void detector_db();
  std::string tz_time(int64_t ns) const {
    return base::format_rfc3339(ns, doc_.header.tz_offset_minutes);
  }
  // "at the end of 2025-12-31" for a date-only end, "at 2026-...T..." otherwise.
  std::string ended(const LTime& t) const {
    if (t.date_only) return "at the end of " + tz_time(t.ns - base::kNsPerDay).substr(0, 10);
    return "at " + tz_time(t.ns);
  }

  const PolicyDoc& doc_;
  Diagnostics& d_;
  const CompileOptions& opts_;
  std::shared_ptr<Snapshot> s_;
  std::map<std::string, ZoneId> zone_ids_;
  std::map<std::string, CategoryId> category_ids_;
  std::map<std::string, BasisId> basis_ids_;
  std::map<std::string, CounterpartyId> counterparty_ids_;
  std::map<std::string, uint32_t> detector_index_;        // name -> index in detector_names_
  std::map<std::string, const DetectorDoc*> custom_;      // custom detector id -> its definition
  std::set<std::pair<uint32_t, uint32_t>> bad_patterns_;  // (line, col) already reported
  std::set<BasisId> used_bases_;
  std::vector<Pos> endpoint_pos_;
};

namespace {
const char* kIdChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

std::vector<std::string> keys_of(const auto& m) {
  std::vector<std::string> v;
  for (const auto& [k, _] : m) v.push_back(k);
  return v;
}

std::string unknown_ref(std::string_view kind, const std::string& name,
                        const std::vector<std::string>& known) {
  std::string msg = "unknown " + std::string(kind) + " '" + name + "'";
  std::string hint = closest_match(name, known);
  if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
  return msg;
}

bool valid_sni_pattern(const std::string& s) {
  std::string_view v = s;
  if (v.starts_with("*.")) v.remove_prefix(2);
  if (v.empty() || v.size() > 253 || v.front() == '.' || v.back() == '.') return false;
  for (char c : v) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  // RFC 1035 labels: 1-63 characters, no '-' at either end.
  std::size_t start = 0;
  while (start <= v.size()) {
    std::size_t end = v.find('.', start);
    if (end == std::string_view::npos) end = v.size();
    std::string_view label = v.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    start = end + 1;
  }
  return true;
}

// Can a server name match both patterns? ("*.a.com" matches any name ending in ".a.com".)
bool sni_overlap(const std::string& a, const std::string& b) {
  bool wa = a.starts_with("*."), wb = b.starts_with("*.");
  if (!wa && !wb) return a == b;
  if (wa && !wb) return b.size() > a.size() - 1 && b.ends_with(a.substr(1));
  if (!wa && wb) return sni_overlap(b, a);
  std::string sa = a.substr(1), sb = b.substr(1);  // ".a.com"
  return sa.ends_with(sb) || sb.ends_with(sa);
}
}  // namespace

template <class T>
bool SnapshotBuilder::one_of(const LStr& v,
                             std::initializer_list<std::pair<std::string_view, T>> options, T& out,
                             std::string_view what) {
  std::vector<std::string> names;
  for (const auto& [n, val] : options) {
    if (n == v.value) {
      out = val;
      return true;
    }
    names.push_back(std::string(n));
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  d_.error(v.pos, "unknown " + std::string(what) + " '" + v.value + "' (expected: " + list + ")");
  return false;
}

bool SnapshotBuilder::check_id(const LStr& id, std::string_view what) {
  if (id.value.empty()) {
    d_.error(id.pos, std::string(what) + " id must not be empty");
    return false;
  }
  if (id.value.find_first_not_of(kIdChars) != std::string::npos) {
    d_.error(id.pos, std::string(what) + " id '" + id.value +
                         "' may only contain letters, digits, '_', '.' and '-'");
    return false;
  }
  return true;
}

// Category references: an id, "prefix.*" (every category whose id starts with "prefix."), or "*".
uint64_t SnapshotBuilder::resolve_categories(const LStrs& refs, std::string_view what) {
  uint64_t mask = 0;
  for (const auto& r : refs) {
    if (r.value == "*") {
      mask |= s_->categories_.size() >= 64 ? ~0ull : (1ull << s_->categories_.size()) - 1;
      continue;
    }
    if (r.value.ends_with(".*")) {
      std::string prefix = r.value.substr(0, r.value.size() - 1);
      uint64_t m = 0;
      for (size_t c = 0; c < s_->categories_.size() && c < kMaxCategories; ++c) {
        if (s_->categories_[c].id.starts_with(prefix)) m |= 1ull << c;
      }
      if (m == 0)
        d_.warning(r.pos, "'" + r.value + "' in " + std::string(what) + " matches no category");
      mask |= m;
      continue;
    }
    auto it = category_ids_.find(r.value);
    if (it == category_ids_.end()) {
      d_.error(r.pos, unknown_ref("category", r.value, keys_of(category_ids_)) + " in " +
                          std::string(what));
      continue;
    }
    if (it->second < kMaxCategories) mask |= 1ull << it->second;  // more is an error elsewhere
  }
  return mask;
}

void SnapshotBuilder::header_and_defaults() {
  const auto& h = doc_.header;
  s_->policy_id_ = h.id.value;
  s_->policy_version_ = h.version.value;
  s_->source_path_ = doc_.path;
  s_->sha256_ = base::sha256(doc_.bytes);
  s_->sha256_hex_ = base::to_hex(s_->sha256_);
  if (!h.id.value.empty()) check_id(h.id, "policy");

  const auto& df = doc_.defaults;
  s_->monitor_ = df.monitor.value;
  one_of<Action>(df.no_counterparty, {{"block", Action::kBlock}, {"alert", Action::kAlert}},
                 s_->no_counterparty_action_, "no_counterparty action");
  one_of<Action>(df.opaque_payload,
                 {{"allow", Action::kAllow}, {"alert", Action::kAlert}, {"block", Action::kBlock}},
                 s_->opaque_action_, "opaque_payload action");
  s_->failure_action_.fill(Action::kBlock);  // fail closed unless the policy says otherwise
  for (const auto& [k, v] : df.on_failure) {
    std::size_t i = 0;
    std::vector<std::string> names;
    for (; i < kFailureCount; ++i) {
      names.emplace_back(failure_name(i));
      if (failure_name(i) == k.value) break;
    }
    if (i == kFailureCount) {
      d_.error(k.pos, unknown_ref("failure condition", k.value, names));
      continue;
    }
    one_of<Action>(v, {{"closed", Action::kBlock}, {"open", Action::kAlert}},
                   s_->failure_action_[i], "failure mode");
  }
}

void SnapshotBuilder::zones() {
  if (doc_.zones.empty()) d_.error(Pos{}, "the policy declares no [[zones]]");
  std::vector<RangeTable::Entry> entries;
  std::map<std::pair<U128, uint8_t>, std::pair<std::string, Pos>> seen;
  for (const auto& z : doc_.zones) {
    ZoneInfo info;
    info.id = z.id.value;
    info.kind = ZoneKind::kDomestic;
    bool ok = check_id(z.id, "zone");
    if (ok && zone_ids_.count(z.id.value)) {
      d_.error(z.id.pos, "duplicate zone id '" + z.id.value + "'");
      ok = false;
    }
    one_of<ZoneKind>(z.kind,
                     {{"domestic", ZoneKind::kDomestic},
                      {"processing", ZoneKind::kProcessing},
                      {"foreign", ZoneKind::kForeign}},
                     info.kind, "zone kind");
    ZoneId id = static_cast<ZoneId>(s_->zones_.size());
    for (const auto& p : z.prefixes) {
      Prefix pf;
      if (auto err = parse_prefix(p.value, pf)) {
        d_.error(p.pos, "bad prefix: " + *err);
        continue;
      }
      auto key = std::make_pair(pf.first(), pf.len);
      if (auto it = seen.find(key); it != seen.end()) {
        d_.error(p.pos,
                 "prefix " + pf.to_string() + " is already in zone '" + it->second.first + "'");
        d_.note(it->second.second, "first listed here");
        continue;
      }
      seen[key] = {z.id.value, p.pos};
      info.prefixes.push_back(pf);
      entries.push_back({pf, id});
    }
    if (ok) zone_ids_[z.id.value] = id;
    s_->zones_.push_back(std::move(info));
  }
  if (s_->zones_.size() >= kNoZone) d_.error(Pos{}, "too many zones");
  s_->zone_table_ = RangeTable::longest_prefix(entries);
}

void SnapshotBuilder::categories_and_detectors() {
  // Detector index space: every detector some category references, in first-reference order.
  const auto& builtins = builtin_detectors();
  auto& custom = custom_;
  for (const auto& det : doc_.detectors) {
    if (!check_id(det.id, "detector")) continue;
    if (std::find(builtins.begin(), builtins.end(), det.id.value) != builtins.end()) {
      d_.error(det.id.pos, "detector id '" + det.id.value + "' is a built-in detector name");
      continue;
    }
    if (custom.count(det.id.value)) {
      d_.error(det.id.pos, "duplicate detector id '" + det.id.value + "'");
      continue;
    }
    custom[det.id.value] = &det;
    if (det.patterns.empty()) {
      d_.error(det.pos, "detector '" + det.id.value + "' has no patterns or words");
    }
    if (!det.validator.value.empty()) {
      std::vector<std::string> vals;
      for (auto v : inspect::validator_names()) vals.emplace_back(v);
      if (std::find(vals.begin(), vals.end(), det.validator.value) == vals.end()) {
        d_.error(det.validator.pos, unknown_ref("validator", det.validator.value, vals));
      }
    }
    if (det.proximity.value < 1 || det.proximity.value > 1000) {
      d_.error(det.proximity.pos, "proximity must be 1..1000 bytes");
    }
    for (const auto& p : det.patterns) {
      if (p.expression.empty()) {
        d_.error(p.pos, "empty pattern");
        continue;
      }
      if (p.literal) continue;
      // Compile each regex alone (inspect owns the Hyperscan flags) so that an error maps to this
      // pattern's own line:col.
      if (auto ok = inspect::check_custom_pattern(p.expression); !ok) {
        d_.error(p.pos, "invalid pattern: " + ok.error().message);
        bad_patterns_.insert({p.pos.line, p.pos.column});
      }
    }
  }

  std::set<std::string> used_custom;
  for (const auto& c : doc_.categories) {
    CategoryInfo info;
    info.id = c.id.value;
    info.name = c.name.value;
    info.level = Level::kGeneral;
    info.action = Action::kBlock;
    info.min_confidence = Confidence::kLikely;
    bool ok = check_id(c.id, "category");
    if (ok && category_ids_.count(c.id.value)) {
      d_.error(c.id.pos, "duplicate category id '" + c.id.value + "'");
      ok = false;
    }
    one_of<Level>(
        c.level,
        {{"core", Level::kCore}, {"important", Level::kImportant}, {"general", Level::kGeneral}},
        info.level, "level");
    one_of<Action>(c.action, {{"block", Action::kBlock}, {"alert", Action::kAlert}}, info.action,
                   "action");
    one_of<Confidence>(c.min_confidence,
                       {{"very_unlikely", Confidence::kVeryUnlikely},
                        {"unlikely", Confidence::kUnlikely},
                        {"possible", Confidence::kPossible},
                        {"likely", Confidence::kLikely},
                        {"very_likely", Confidence::kVeryLikely}},
                       info.min_confidence, "confidence");
    info.personal = c.personal.value || c.sensitive.value;
    info.sensitive = c.sensitive.value;
    if (c.sensitive.value && c.personal.pos.line && !c.personal.value) {
      d_.error(c.personal.pos,
               "a sensitive category is personal information: personal must be true");
    }
    if (info.level == Level::kCore && info.action != Action::kBlock && c.action.pos.line) {
      d_.error(c.action.pos, "core data never leaves: a core category's action must be \"block\"");
    }
    if (c.threshold.value < 1 || c.threshold.value > 65535) {
      d_.error(c.threshold.pos, "threshold must be 1..65535 findings per flow");
    }
    info.threshold = static_cast<uint32_t>(std::clamp<int64_t>(c.threshold.value, 1, 65535));
    info.provenance_list = c.provenance_list.value;
    info.provenance_item = c.provenance_item.value;
    if (c.provenance_list.value.empty()) {
      d_.warning(c.pos, "category '" + c.id.value +
                            "' has no provenance (which official list and item it comes from)");
    }
    CategoryId id = static_cast<CategoryId>(s_->categories_.size());
    for (const auto& dref : c.detectors) {
      bool is_builtin = std::find(builtins.begin(), builtins.end(), dref.value) != builtins.end();
      if (!is_builtin && !custom.count(dref.value)) {
        std::vector<std::string> known(builtins.begin(), builtins.end());
        for (const auto& [k, _] : custom) known.push_back(k);
        d_.error(dref.pos, unknown_ref("detector", dref.value, known));
        continue;
      }
      if (!is_builtin) used_custom.insert(dref.value);
      auto [it, inserted] = detector_index_.emplace(dref.value, 0);
      if (inserted) {
        it->second = static_cast<uint32_t>(s_->detector_names_.size());
        s_->detector_names_.push_back(dref.value);
        s_->detector_categories_.push_back(0);
      }
      if (id < kMaxCategories) s_->detector_categories_[it->second] |= 1ull << id;
    }
    if (c.detectors.empty()) {
      d_.warning(c.pos, "category '" + c.id.value +
                            "' has no detectors; only [[test]] findings can trigger it");
    }
    if (ok) category_ids_[c.id.value] = id;
    s_->categories_.push_back(std::move(info));
  }
  if (s_->categories_.size() > kMaxCategories) {
    d_.error(doc_.categories[kMaxCategories].pos, "at most 64 categories are supported");
  }
  for (const auto& det : doc_.detectors) {
    if (custom.count(det.id.value) && !used_custom.count(det.id.value)) {
      d_.warning(det.id.pos, "detector '" + det.id.value + "' is not used by any category");
    }
  }
  // Evaluation order (docs/policy-reference.md §4): core, important, sensitive personal,
  // personal, general; file order within each class.
  auto rank = [](const CategoryInfo& c) {
    if (c.level == Level::kCore) return 0;
    if (c.level == Level::kImportant) return 1;
    if (c.sensitive) return 2;
    if (c.personal) return 3;
    return 4;
  };
  for (size_t i = 0; i < s_->categories_.size() && i < kMaxCategories; ++i) {
    s_->precedence_.push_back(static_cast<CategoryId>(i));
  }
  std::stable_sort(s_->precedence_.begin(), s_->precedence_.end(), [&](CategoryId a, CategoryId b) {
    return rank(s_->categories_[a]) < rank(s_->categories_[b]);
  });
}

void SnapshotBuilder::bases() {
  for (const auto& b : doc_.bases) {
    BasisInfo info;
    info.id = b.id.value;
    info.reference = b.reference.value;
    info.processor = b.processor.value;
    info.exemption = b.exemption.value;
    info.mechanism = Mechanism::kStandardContract;
    info.status = Status::kActive;
    bool ok = check_id(b.id, "legal basis");
    if (ok && basis_ids_.count(b.id.value)) {
      d_.error(b.id.pos, "duplicate legal basis id '" + b.id.value + "'");
      ok = false;
    }
    one_of<Mechanism>(b.mechanism,
                      {{"security_assessment", Mechanism::kSecurityAssessment},
                       {"standard_contract", Mechanism::kStandardContract},
                       {"certification", Mechanism::kCertification},
                       {"exemption", Mechanism::kExemption}},
                      info.mechanism, "mechanism");
    one_of<Status>(b.status,
                   {{"active", Status::kActive},
                    {"suspended", Status::kSuspended},
                    {"revoked", Status::kRevoked}},
                   info.status, "status");
    if (info.mechanism == Mechanism::kExemption) {
      static const std::vector<std::string> kExemptions = {
          "contract_performance", "hr_management", "emergency",   "small_volume",
          "no_personal_trade",    "transit",       "ftz_off_list"};
      if (b.exemption.value.empty()) {
        d_.error(b.mechanism.pos, "mechanism \"exemption\" needs 'exemption' naming which one");
      } else if (std::find(kExemptions.begin(), kExemptions.end(), b.exemption.value) ==
                 kExemptions.end()) {
        d_.error(b.exemption.pos, unknown_ref("exemption", b.exemption.value, kExemptions));
      }
    } else if (!b.exemption.value.empty()) {
      d_.error(b.exemption.pos, "'exemption' only applies to mechanism \"exemption\"");
    }
    if (b.reference.value.empty() && info.mechanism != Mechanism::kExemption) {
      d_.warning(b.pos, "legal basis '" + b.id.value + "' has no reference number");
    }
    info.valid_from_ns = b.issued.ns;
    info.valid_until_ns = b.expires.ns;
    if (b.issued.set && b.expires.set && b.expires.ns <= b.issued.ns) {
      d_.error(b.expires.pos, "legal basis '" + b.id.value + "' expires before it is issued");
    }
    if (opts_.warn_expired_at_ns && b.expires.set && b.expires.ns <= *opts_.warn_expired_at_ns) {
      d_.warning(b.expires.pos, "legal basis '" + b.id.value + "' expired " + ended(b.expires) +
                                    "; flows relying on it are blocked");
    }
    info.categories = resolve_categories(b.categories, "legal basis '" + b.id.value + "'");
    if (b.categories.empty())
      d_.error(b.pos, "legal basis '" + b.id.value + "' covers no categories");
    for (size_t c = 0; c < s_->categories_.size() && c < kMaxCategories; ++c) {
      if (!(info.categories >> c & 1)) continue;
      const auto& cat = s_->categories_[c];
      if (cat.level == Level::kCore) {
        d_.error(b.pos, "legal basis '" + b.id.value + "' lists core category '" + cat.id +
                            "'; core data never leaves and no basis can cover it");
      } else if (cat.level == Level::kImportant &&
                 info.mechanism != Mechanism::kSecurityAssessment) {
        d_.warning(b.pos, "legal basis '" + b.id.value + "' (" + b.mechanism.value +
                              ") lists important category '" + cat.id +
                              "'; only a security assessment covers important data");
      } else if (cat.sensitive && b.exemption.value == "small_volume") {
        d_.error(b.pos,
                 "the small-volume exemption does not cover sensitive personal information ('" +
                     cat.id + "')");
      }
    }
    if (b.max_persons.value < 0 || b.max_sensitive_persons.value < 0) {
      d_.error(b.max_persons.value < 0 ? b.max_persons.pos : b.max_sensitive_persons.pos,
               "volume caps must not be negative");
    }
    info.max_persons = static_cast<uint64_t>(std::max<int64_t>(0, b.max_persons.value));
    info.max_sensitive_persons =
        static_cast<uint64_t>(std::max<int64_t>(0, b.max_sensitive_persons.value));
    if (ok) basis_ids_[b.id.value] = static_cast<BasisId>(s_->bases_.size());
    s_->bases_.push_back(std::move(info));
  }
  if (s_->bases_.size() > 64) d_.error(Pos{}, "at most 64 legal bases are supported");
}

void SnapshotBuilder::counterparties() {
  std::vector<RangeTable::Entry> entries;
  struct EpRef {
    std::vector<Prefix> prefixes;
    std::vector<std::string> sni;
  };
  std::vector<EpRef> ep_refs;
  for (const auto& c : doc_.counterparties) {
    CounterpartyInfo info;
    info.id = c.id.value;
    info.name = c.name.value;
    info.country = c.country.value;
    info.status = Status::kActive;
    bool ok = check_id(c.id, "counterparty");
    if (ok && counterparty_ids_.count(c.id.value)) {
      d_.error(c.id.pos, "duplicate counterparty id '" + c.id.value + "'");
      ok = false;
    }
    const auto& cc = c.country.value;
    if (!cc.empty() && (cc.size() != 2 || !std::isupper(static_cast<unsigned char>(cc[0])) ||
                        !std::isupper(static_cast<unsigned char>(cc[1])))) {
      d_.error(c.country.pos, "country must be an ISO 3166-1 alpha-2 code like \"DE\"");
    }
    one_of<Status>(c.status,
                   {{"active", Status::kActive},
                    {"suspended", Status::kSuspended},
                    {"revoked", Status::kRevoked}},
                   info.status, "status");
    info.valid_from_ns = c.valid_from.set ? c.valid_from.ns : INT64_MIN;
    info.valid_until_ns = c.valid_until.set ? c.valid_until.ns : INT64_MAX;
    if (c.valid_from.set && c.valid_until.set && c.valid_until.ns <= c.valid_from.ns) {
      d_.error(c.valid_until.pos, "counterparty '" + c.id.value + "' ends before it begins");
    }
    if (opts_.warn_expired_at_ns && c.valid_until.set &&
        c.valid_until.ns <= *opts_.warn_expired_at_ns) {
      d_.warning(c.valid_until.pos, "counterparty '" + c.id.value + "' expired " +
                                        ended(c.valid_until) + "; its flows are blocked");
    }
    if (c.legal_bases.empty()) {
      d_.error(c.pos, "counterparty '" + c.id.value +
                          "' lists no legal_bases; a border crossing needs a legal basis");
    }
    for (const auto& b : c.legal_bases) {
      auto it = basis_ids_.find(b.value);
      if (it == basis_ids_.end()) {
        d_.error(b.pos, unknown_ref("legal basis", b.value, keys_of(basis_ids_)));
        continue;
      }
      info.bases.push_back(it->second);
      info.basis_mask |= it->second < 64 ? 1ull << it->second : 0;
      used_bases_.insert(it->second);
    }
    info.restricts_categories = c.has_allowed;
    info.allowed = resolve_categories(c.allowed_categories, "allowed_categories");
    info.denied = resolve_categories(c.denied_categories, "denied_categories");
    if (info.allowed & info.denied) {
      d_.warning(c.pos, "counterparty '" + c.id.value +
                            "' both allows and denies some categories; denial wins");
    }
    CounterpartyId cid = static_cast<CounterpartyId>(s_->counterparties_.size());
    if (c.endpoints.empty()) d_.error(c.pos, "counterparty '" + c.id.value + "' has no endpoints");
    for (const auto& e : c.endpoints) {
      EndpointInfo ep{};
      ep.counterparty = cid;
      uint32_t eid = static_cast<uint32_t>(s_->endpoints_.size());
      EpRef ref;
      if (e.prefixes.empty() && e.sni.empty()) {
        d_.error(e.pos, "endpoint needs prefixes, sni, or both (it would match every address)");
      }
      for (const auto& p : e.prefixes) {
        Prefix pf;
        if (auto err = parse_prefix(p.value, pf)) {
          d_.error(p.pos, "bad prefix: " + *err);
          continue;
        }
        // A whitelisted endpoint must be foreign: every address of the prefix must resolve to a
        // foreign zone (its ends, and every zone prefix nested inside it).
        auto zone_at = [&](const inspect::IpAddr& a) { return s_->zone_table_.lookup(a); };
        bool foreign = true;
        std::string culprit;
        auto check_zone = [&](uint32_t z) {
          if (z == RangeTable::kNone) {
            foreign = false;
            if (culprit.empty()) culprit = "no zone";
          } else if (s_->zones_[z].kind != ZoneKind::kForeign) {
            foreign = false;
            if (culprit.empty()) culprit = "zone '" + s_->zones_[z].id + "'";
          }
        };
        check_zone(zone_at(pf.addr));
        check_zone(zone_at(from_u128(pf.last())));
        for (size_t z = 0; z < s_->zones_.size(); ++z) {
          for (const auto& zp : s_->zones_[z].prefixes) {
            if (zp.len > pf.len && pf.contains(zp.addr)) check_zone(static_cast<uint32_t>(z));
          }
        }
        if (!foreign) {
          d_.error(p.pos, "endpoint prefix " + pf.to_string() +
                              " is not (entirely) in a foreign zone (" + culprit +
                              "); counterparties are foreign endpoints");
        }
        ref.prefixes.push_back(pf);
        entries.push_back({pf, eid});
      }
      ep.any_address = e.prefixes.empty();
      ep.sni_begin = static_cast<uint32_t>(s_->sni_patterns_.size());
      for (const auto& sn : e.sni) {
        std::string v = sn.value;
        std::transform(v.begin(), v.end(), v.begin(),
                       [](unsigned char ch) { return std::tolower(ch); });
        if (!valid_sni_pattern(v)) {
          d_.error(sn.pos, "bad TLS server name '" + sn.value +
                               "' (a host name, or \"*.\" followed by a domain)");
          continue;
        }
        s_->sni_patterns_.push_back(v);
        ref.sni.push_back(v);
      }
      ep.sni_end = static_cast<uint32_t>(s_->sni_patterns_.size());
      ep.port_begin = static_cast<uint32_t>(s_->port_ranges_.size());
      for (const auto& pr : e.ports) {
        auto [lo, hi] = pr.value;
        if (lo < 0 || hi > 65535 || lo > hi) {
          d_.error(pr.pos, "port range " + std::to_string(lo) + "-" + std::to_string(hi) +
                               " is not within 0-65535 (low-high)");
          continue;
        }
        s_->port_ranges_.push_back({static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)});
      }
      ep.port_end = static_cast<uint32_t>(s_->port_ranges_.size());
      for (const auto& pr : e.protocols) {
        uint8_t bit = 0;
        if (one_of<uint8_t>(pr, {{"tcp", 1}, {"udp", 2}}, bit, "protocol")) ep.protocols |= bit;
      }
      if (ep.any_address) s_->any_address_endpoints_.push_back(eid);
      s_->endpoints_.push_back(ep);
      endpoint_pos_.push_back(e.pos);
      ep_refs.push_back(std::move(ref));
    }
    if (ok) counterparty_ids_[c.id.value] = cid;
    s_->counterparties_.push_back(std::move(info));
  }
  for (BasisId b = 0; b < doc_.bases.size(); ++b) {
    if (!used_bases_.count(b)) {
      d_.warning(doc_.bases[b].id.pos,
                 "legal basis '" + doc_.bases[b].id.value + "' is not used by any counterparty");
    }
  }
  // Overlapping counterparties: two endpoints of different counterparties that could match the
  // same flow would make "which counterparty, which basis" ambiguous - reject.
  auto ports_overlap = [&](const EndpointInfo& a, const EndpointInfo& b) {
    if (a.port_begin == a.port_end || b.port_begin == b.port_end) return true;
    for (auto i = a.port_begin; i < a.port_end; ++i)
      for (auto j = b.port_begin; j < b.port_end; ++j)
        if (s_->port_ranges_[i].lo <= s_->port_ranges_[j].hi &&
            s_->port_ranges_[j].lo <= s_->port_ranges_[i].hi)
          return true;
    return false;
  };
  for (size_t i = 0; i < s_->endpoints_.size(); ++i) {
    for (size_t j = i + 1; j < s_->endpoints_.size(); ++j) {
      const auto &a = s_->endpoints_[i], &b = s_->endpoints_[j];
      if (a.counterparty == b.counterparty) continue;
      bool addr = a.any_address || b.any_address;
      for (const auto& pa : ep_refs[i].prefixes)
        for (const auto& pb : ep_refs[j].prefixes) addr = addr || pa.overlaps(pb);
      if (!addr || !ports_overlap(a, b)) continue;
      if (a.protocols && b.protocols && !(a.protocols & b.protocols)) continue;
      bool sni = ep_refs[i].sni.empty() || ep_refs[j].sni.empty();
      for (const auto& x : ep_refs[i].sni)
        for (const auto& y : ep_refs[j].sni) sni = sni || sni_overlap(x, y);
      if (!sni) continue;
      d_.error(endpoint_pos_[j], "endpoint of counterparty '" +
                                     s_->counterparties_[b.counterparty].id +
                                     "' overlaps an endpoint of counterparty '" +
                                     s_->counterparties_[a.counterparty].id +
                                     "' (same addresses, ports and server names)");
      d_.note(endpoint_pos_[i], "the other endpoint is here");
    }
  }
  s_->endpoint_table_ = RangeTable::all_covering(entries);
}

void SnapshotBuilder::links() {
  size_t nz = s_->zones_.size();
  s_->link_matrix_.assign(nz * nz, kNoLink);
  for (const auto& l : doc_.links) {
    LinkInfo info{};
    auto from = zone_ids_.find(l.from.value), to = zone_ids_.find(l.to.value);
    bool ok = true;
    if (from == zone_ids_.end()) {
      d_.error(l.from.pos, unknown_ref("zone", l.from.value, keys_of(zone_ids_)));
      ok = false;
    }
    if (to == zone_ids_.end()) {
      d_.error(l.to.pos, unknown_ref("zone", l.to.value, keys_of(zone_ids_)));
      ok = false;
    }
    info.inspect = l.inspect.value;
    info.reply = Reply::kInspected;
    one_of<Reply>(l.reply,
                  {{"inspected", Reply::kInspected},
                   {"uninspected", Reply::kUninspected},
                   {"none", Reply::kNone}},
                  info.reply, "reply");
    for (const auto& c : l.counterparties) {
      auto it = counterparty_ids_.find(c.value);
      if (it == counterparty_ids_.end()) {
        d_.error(c.pos, unknown_ref("counterparty", c.value, keys_of(counterparty_ids_)));
        continue;
      }
      info.counterparty_list.push_back(it->second);
    }
    info.restricts_counterparties = l.has_counterparties;
    if (!ok) continue;
    info.from = from->second;
    info.to = to->second;
    size_t cell = static_cast<size_t>(info.from) * nz + info.to;
    if (s_->link_matrix_[cell] != kNoLink) {
      d_.error(l.pos, "duplicate link from '" + l.from.value + "' to '" + l.to.value + "'");
      continue;
    }
    bool from_foreign = s_->zones_[info.from].kind == ZoneKind::kForeign;
    bool to_foreign = s_->zones_[info.to].kind == ZoneKind::kForeign;
    // Every byte that leaves for a foreign zone is inspected, whoever opened the connection.
    if (!from_foreign && to_foreign && !info.inspect) {
      d_.error(l.inspect.pos.line ? l.inspect.pos : l.pos,
               "link '" + l.from.value + "' -> '" + l.to.value +
                   "' crosses the border: bytes towards the foreign zone must be inspected "
                   "(inspect = true)");
    }
    if (from_foreign && !to_foreign && info.reply == Reply::kUninspected) {
      d_.error(l.reply.pos.line ? l.reply.pos : l.pos,
               "link '" + l.from.value + "' -> '" + l.to.value +
                   "' crosses the border: replies towards the foreign zone must be \"inspected\" "
                   "or \"none\"");
    }
    if (l.has_counterparties && from_foreign == to_foreign) {
      d_.warning(l.pos, "link '" + l.from.value + "' -> '" + l.to.value +
                            "' does not cross the border; its counterparties list has no effect");
    }
    s_->link_matrix_[cell] = static_cast<LinkId>(s_->links_.size());
    s_->links_.push_back(std::move(info));
  }
}

void SnapshotBuilder::detector_db() {
  // Detector index i of the database == index i of detector_names_ (the finding -> category map
  // relies on it). Compiling is skipped when earlier errors make the result useless.
  if (s_->detector_names_.empty() || d_.has_errors()) return;
  std::vector<inspect::DetectorSpec> specs;
  for (const auto& name : s_->detector_names_) {
    inspect::DetectorSpec spec;
    spec.name = name;
    auto it = custom_.find(name);
    if (it != custom_.end()) {
      const DetectorDoc& d = *it->second;
      spec.builtin = false;
      for (const auto& p : d.patterns) {
        spec.patterns.push_back({p.expression, p.literal, static_cast<int>(p.pos.line),
                                 static_cast<int>(p.pos.column)});
      }
      spec.validator = d.validator.value.empty() ? "none" : d.validator.value;
      for (const auto& k : d.keywords) spec.keywords.push_back(k.value);
      for (const auto& k : d.negative_keywords) spec.negative_keywords.push_back(k.value);
      spec.proximity = static_cast<uint32_t>(std::clamp<int64_t>(d.proximity.value, 1, 1000));
    }
    specs.push_back(std::move(spec));
  }
  std::vector<inspect::PatternError> errors;
  auto db = inspect::DetectorDb::compile(specs, &errors);
  if (db) {
    s_->db_ = std::move(db.value());
    return;
  }
  if (errors.empty()) d_.error(Pos{}, "detector database: " + db.error().message);
  for (const auto& e : errors) {
    Pos pos{};
    if (e.detector_index < specs.size()) {
      const auto& spec = specs[e.detector_index];
      auto it = custom_.find(spec.name);
      if (it != custom_.end()) {
        pos = it->second->pos;
        if (e.pattern_index < spec.patterns.size()) {
          pos = Pos{static_cast<uint32_t>(spec.patterns[e.pattern_index].line),
                    static_cast<uint32_t>(spec.patterns[e.pattern_index].column)};
        }
      }
    }
    if (bad_patterns_.count({pos.line, pos.column})) continue;  // already reported above
    d_.error(pos, "detector '" +
                      (e.detector_index < specs.size() ? specs[e.detector_index].name
                                                       : std::string("?")) +
                      "': " + e.message);
  }
}

const std::vector<std::string>& builtin_detectors() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (auto n : inspect::builtin_detector_names()) v.emplace_back(n);
    return v;
  }();
  return names;
}

std::shared_ptr<const Snapshot> SnapshotBuilder::run() {
  header_and_defaults();
  zones();
  categories_and_detectors();
  bases();
  counterparties();
  links();
  detector_db();
  // Returned even with errors so that [[test]] cases can still be checked by name; the caller
  // discards it.
  return s_;
}

std::shared_ptr<const Snapshot> compile_policy(const PolicyDoc& doc, Diagnostics& diags,
                                               const CompileOptions& opts) {
  SnapshotBuilder b(doc, diags, opts);
  auto snap = b.run();
  if (opts.check_tests) {
    // Test cases are checked against the compiled tables when there are any (a broken policy
    // still gets its [[test]] references checked by name).
    validate_tests(doc, snap.get(), diags);
  }
  if (diags.has_errors()) return nullptr;
  return snap;
}

std::shared_ptr<const Snapshot> compile_policy_text(std::string_view text, const std::string& path,
                                                    Diagnostics& diags, PolicyDoc* doc_out,
                                                    const CompileOptions& opts) {
  PolicyDoc doc = parse_policy(text, path, diags);
  std::shared_ptr<const Snapshot> snap;
  // Syntax errors leave a partial document: semantic checks on it would mostly be noise.
  bool syntax_ok = !diags.has_errors() || !doc.zones.empty() || !doc.categories.empty();
  if (syntax_ok) snap = compile_policy(doc, diags, opts);
  if (doc_out) *doc_out = std::move(doc);
  return diags.has_errors() ? nullptr : snap;
}

dc::Result<std::shared_ptr<const Snapshot>> load_policy_file(const std::string& path,
                                                             Diagnostics& diags, PolicyDoc* doc_out,
                                                             const CompileOptions& opts) {
  auto text = base::read_file(path, {.max_bytes = base::kMaxPolicyBytes});
  if (!text)
    return dc::make_error(text.error().code, "cannot read policy file: " + text.error().message);
  auto snap = compile_policy_text(*text, path, diags, doc_out, opts);
  return snap;
}

}  // namespace dc::policy
