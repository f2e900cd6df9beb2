#pragma once
// Internal to the policy compiler (policy/compile*.cpp): the SnapshotBuilder, whose checks are
// split by concern across compile_*.cpp, and the helpers those files share. Control plane only.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/time.hpp"
#include "policy/declarations.hpp"
#include "policy/policy.hpp"
#include "policy/spelling.hpp"

namespace dc::policy {

// The keys of a map, in its order (the candidates of a "did you mean" hint).
template <class Map>
std::vector<std::string> keys_of(const Map& m) {
  std::vector<std::string> v;
  for (const auto& [k, _] : m) v.push_back(k);
  return v;
}

// "unknown <kind> 'name'", with "(did you mean 'x'?)" when one of `known` is close.
std::string unknown_ref(std::string_view kind, const std::string& name,
                        const std::vector<std::string>& known);

// The actions a policy may choose for a rule it breaks (no counterparty, a category).
inline constexpr std::array<Spelling<Action>, 2> kBlockOrAlert{{
    {"block", Action::kBlock},
    {"alert", Action::kAlert},
}};

// The SnapshotBuilder is the only writer of Snapshot's private members. Each step checks one part
// of the document, reports every problem with its position and fills its part of the snapshot.
class SnapshotBuilder {
 public:
  SnapshotBuilder(const PolicyDoc& doc, Diagnostics& d, const CompileOptions& o)
      : doc_(doc), d_(d), opts_(o), s_(std::make_shared<Snapshot>()) {}

  std::shared_ptr<const Snapshot> run();

 private:
  // An endpoint's addresses and server names, kept for the overlap check.
  struct EpRef {
    std::vector<Prefix> prefixes;
    std::vector<std::string> sni;
  };

  // compile.cpp: checks shared by every step, and the header.
  template <class T, std::size_t N>
  bool one_of(const LStr& v, const std::array<Spelling<T>, N>& options, T& out,
              std::string_view what);
  bool check_id(const LStr& id, std::string_view what);
  // check_id, and not already in `ids` ("duplicate <what> id").
  template <class Map>
  bool new_id(const LStr& id, std::string_view what, const Map& ids);
  // The id that `ref` names in `ids`; nullptr, with "unknown <kind> 'x'" (+ a "did you mean"
  // hint, + `context`) reported at the reference, when it names none.
  template <class Map>
  const typename Map::mapped_type* find_ref(const LStr& ref, std::string_view kind, const Map& ids,
                                            std::string_view context = {});
  uint64_t resolve_categories(const LStrs& refs, std::string_view what);
  void header_and_defaults();
  std::string tz_time(int64_t ns) const {
    return base::format_rfc3339(ns, doc_.header.tz_offset_minutes);
  }
  // "at the end of 2025-12-31" for a date-only end, "at 2026-...T..." otherwise.
  std::string ended(const LTime& t) const {
    if (t.date_only) return "at the end of " + tz_time(t.ns - base::kNsPerDay).substr(0, 10);
    return "at " + tz_time(t.ns);
  }
  bool expired(const LTime& t) const {
    return opts_.warn_expired_at_ns && t.set && t.ns <= *opts_.warn_expired_at_ns;
  }

  // compile_zones.cpp: zones and the links between them.
  void zones();
  void links();
  void link_border_checks(const LinkDoc& l, const LinkInfo& info);

  // compile_exporters.cpp: the domestic data handlers and what they own.
  void exporters();
  void exporter_uscc(const ExporterDoc& e);

  // compile_detectors.cpp: custom detector definitions and the detector database.
  void custom_detectors();
  void detector_db();

  // compile_categories.cpp: categories, the detectors they use, their precedence.
  void categories();
  void category_detectors(const CategoryDoc& c, CategoryId id, std::set<std::string>& used_custom);
  void category_precedence();

  // compile_accounting.cpp: [accounting], once the detector names are known.
  void accounting();

  // compile_bases.cpp: legal bases.
  void bases();
  void basis_exemption(const BasisDoc& b, const BasisInfo& info);
  void basis_coverage(const BasisDoc& b, const BasisInfo& info);

  // compile_counterparties.cpp: counterparties, their endpoints, overlaps between them.
  void counterparties();
  void counterparty_terms(const CounterpartyDoc& c, CounterpartyInfo& info);
  void endpoint(const EndpointDoc& e, CounterpartyId cid, std::vector<RangeTable::Entry>& entries);
  void check_foreign(const LStr& p, const Prefix& pf);
  void check_endpoint_overlaps();

  // declarations_compile.cpp: the declarations directory and its files, checked and compiled.
  void declarations();
  void declaration(const DeclarationContext& ctx, const std::string& name, std::string_view text,
                   const std::vector<std::string>& revoked);

  const PolicyDoc& doc_;
  Diagnostics& d_;
  const CompileOptions& opts_;
  std::shared_ptr<Snapshot> s_;
  std::map<std::string, ZoneId> zone_ids_;
  std::map<std::string, ExporterId> exporter_ids_;
  std::map<std::string, CategoryId> category_ids_;
  std::map<std::string, BasisId> basis_ids_;
  std::map<std::string, CounterpartyId> counterparty_ids_;
  std::map<std::string, uint32_t> detector_index_;        // name -> index in detector_names_
  std::map<std::string, const DetectorDoc*> custom_;      // custom detector id -> its definition
  std::set<std::pair<uint32_t, uint32_t>> bad_patterns_;  // (line, col) already reported
  std::set<BasisId> used_bases_;
  std::vector<Pos> endpoint_pos_;
  std::vector<EpRef> ep_refs_;
};

template <class T, std::size_t N>
bool SnapshotBuilder::one_of(const LStr& v, const std::array<Spelling<T>, N>& options, T& out,
                             std::string_view what) {
  std::string list;
  for (const auto& [n, val] : options) {
    if (n == v.value) {
      out = val;
      return true;
    }
    list += (list.empty() ? "" : ", ") + std::string(n);
  }
  d_.error(v.pos, "unknown " + std::string(what) + " '" + v.value + "' (expected: " + list + ")");
  return false;
}

template <class Map>
bool SnapshotBuilder::new_id(const LStr& id, std::string_view what, const Map& ids) {
  if (!check_id(id, what)) return false;
  if (ids.count(id.value)) {
    d_.error(id.pos, "duplicate " + std::string(what) + " id '" + id.value + "'");
    return false;
  }
  return true;
}

template <class Map>
const typename Map::mapped_type* SnapshotBuilder::find_ref(const LStr& ref, std::string_view kind,
                                                           const Map& ids,
                                                           std::string_view context) {
  if (auto it = ids.find(ref.value); it != ids.end()) return &it->second;
  d_.error(ref.pos, unknown_ref(kind, ref.value, keys_of(ids)) + std::string(context));
  return nullptr;
}

}  // namespace dc::policy
