#pragma once
// The policy file's schema: every key of every TOML table, the PolicyDoc member it fills and
// whether it is required, one table per TOML table. Read by read_fields() (loader_reader.hpp);
// keys a row gives no member are read by hand in loader*.cpp. docs/policy-reference.md explains
// each key. Internal to the policy loader; no toml++ here.
#include <cstdint>
#include <string_view>
#include <variant>

#include "policy/model.hpp"

namespace dc::policy::loader_detail {

// How a field is read. A missing required key is an error at its table; kEndOfPeriod reads a
// date-only value as the end of that day (the end of a validity period includes the whole day).
enum FieldFlags : uint8_t { kOptional = 0, kRequired = 1, kEndOfPeriod = 2 };

// One key of a TOML table and the member of `Doc` its value goes to (the member's type says how
// the value is read). A key without a member (std::monostate) is only declared known here and is
// read by hand (sub-tables, mixed types). `given` is set when the key was read with the right type.
template <class Doc>
struct Field {
  std::string_view key;
  std::variant<std::monostate, LStr Doc::*, Located<bool> Doc::*, Located<int64_t> Doc::*,
               LStrs Doc::*, LTime Doc::*>
      member{};
  uint8_t flags = kOptional;
  bool Doc::*given = nullptr;
};

// [policy]
inline constexpr Field<PolicyHeader> kHeaderFields[] = {
    {"id", &PolicyHeader::id, kRequired},
    {"version", &PolicyHeader::version, kRequired},
    {"description", &PolicyHeader::description},
    {"timezone", &PolicyHeader::timezone},
    {"test_time"},  // by hand, once the timezone is known
};

// [defaults]
inline constexpr Field<DefaultsDoc> kDefaultsFields[] = {
    {"no_counterparty", &DefaultsDoc::no_counterparty},
    {"monitor", &DefaultsDoc::monitor},
    {"opaque_payload", &DefaultsDoc::opaque_payload},
    {"urgent_data", &DefaultsDoc::urgent_data},
    {"midstream", &DefaultsDoc::midstream},
    {"fragments", &DefaultsDoc::fragments},
    {"http_anomaly", &DefaultsDoc::http_anomaly},
    {"content_uninspected", &DefaultsDoc::content_uninspected},
    {"tls_escrow", &DefaultsDoc::tls_escrow},
    {"tls_auth_failure", &DefaultsDoc::tls_auth_failure},
    {"unattributed", &DefaultsDoc::unattributed},
    {"on_failure"},  // by hand: a table whose keys are failure names
};

// [[zones]]
inline constexpr Field<ZoneDoc> kZoneFields[] = {
    {"id", &ZoneDoc::id, kRequired},
    {"kind", &ZoneDoc::kind, kRequired},
    {"prefixes", &ZoneDoc::prefixes},
    {"description", &ZoneDoc::description},
};

// [[exporters]]
inline constexpr Field<ExporterDoc> kExporterFields[] = {
    {"id", &ExporterDoc::id, kRequired},        {"name", &ExporterDoc::name, kRequired},
    {"uscc", &ExporterDoc::uscc, kRequired},    {"zones", &ExporterDoc::zones},
    {"prefixes", &ExporterDoc::prefixes},       {"ciio", &ExporterDoc::ciio},
    {"description", &ExporterDoc::description},
};

// [[links]]
inline constexpr Field<LinkDoc> kLinkFields[] = {
    {"from", &LinkDoc::from, kRequired},
    {"to", &LinkDoc::to, kRequired},
    {"inspect", &LinkDoc::inspect},
    {"reply", &LinkDoc::reply},
    {"counterparties", &LinkDoc::counterparties, kOptional, &LinkDoc::has_counterparties},
    {"description", &LinkDoc::description},
};

// [[legal_bases]]
inline constexpr Field<BasisDoc> kBasisFields[] = {
    {"id", &BasisDoc::id, kRequired},
    {"mechanism", &BasisDoc::mechanism, kRequired},
    {"exemption", &BasisDoc::exemption},
    {"reference", &BasisDoc::reference},
    {"processor", &BasisDoc::processor},
    {"issued", &BasisDoc::issued, kRequired},
    {"expires", &BasisDoc::expires, kRequired | kEndOfPeriod},
    {"categories", &BasisDoc::categories},
    {"max_persons", &BasisDoc::max_persons},
    {"max_sensitive_persons", &BasisDoc::max_sensitive_persons},
    {"require_declaration", &BasisDoc::require_declaration},
    {"status", &BasisDoc::status},
    {"description", &BasisDoc::description},
};

// [[counterparties]]
inline constexpr Field<CounterpartyDoc> kCounterpartyFields[] = {
    {"id", &CounterpartyDoc::id, kRequired},
    {"name", &CounterpartyDoc::name, kRequired},
    {"country", &CounterpartyDoc::country, kRequired},
    {"endpoints"},  // by hand (required), after the other keys: an array of endpoint tables
    {"legal_bases", &CounterpartyDoc::legal_bases},
    {"allowed_categories", &CounterpartyDoc::allowed_categories, kOptional,
     &CounterpartyDoc::has_allowed},
    {"denied_categories", &CounterpartyDoc::denied_categories},
    {"status", &CounterpartyDoc::status},
    {"valid_from", &CounterpartyDoc::valid_from},
    {"valid_until", &CounterpartyDoc::valid_until, kEndOfPeriod},
    {"require_declaration", &CounterpartyDoc::require_declaration},
    {"description", &CounterpartyDoc::description},
};

// endpoints = [{ ... }] of a counterparty
inline constexpr Field<EndpointDoc> kEndpointFields[] = {
    {"prefixes", &EndpointDoc::prefixes},
    {"ports"},  // by hand: integers or "low-high" strings
    {"sni", &EndpointDoc::sni},
    {"protocols", &EndpointDoc::protocols},
};

// [[detectors]]
inline constexpr Field<DetectorDoc> kDetectorFields[] = {
    {"id", &DetectorDoc::id, kRequired},
    {"patterns"},  // by hand: regexes and words go to one list, in file order
    {"words"},
    {"validator", &DetectorDoc::validator},
    {"keywords", &DetectorDoc::keywords},
    {"negative_keywords", &DetectorDoc::negative_keywords},
    {"proximity", &DetectorDoc::proximity},
    {"description", &DetectorDoc::description},
};

// [[categories]]
inline constexpr Field<CategoryDoc> kCategoryFields[] = {
    {"id", &CategoryDoc::id, kRequired},
    {"name", &CategoryDoc::name, kRequired},
    {"level", &CategoryDoc::level, kRequired},
    {"personal", &CategoryDoc::personal},
    {"sensitive", &CategoryDoc::sensitive},
    {"detectors", &CategoryDoc::detectors},
    {"min_confidence", &CategoryDoc::min_confidence},
    {"threshold", &CategoryDoc::threshold},
    {"action", &CategoryDoc::action},
    {"provenance"},  // by hand: a string, or a table with the keys below
    {"description", &CategoryDoc::description},
};

// provenance = { ... } of a category
inline constexpr Field<CategoryDoc> kProvenanceFields[] = {
    {"list", &CategoryDoc::provenance_list, kRequired},
    {"item", &CategoryDoc::provenance_item},
};

// [[test]]
inline constexpr Field<TestDoc> kTestFields[] = {
    {"name", &TestDoc::name, kRequired},
    {"from", &TestDoc::from, kRequired},
    {"to", &TestDoc::to, kRequired},
    {"proto", &TestDoc::proto},
    {"sni", &TestDoc::sni},
    {"direction", &TestDoc::direction},
    {"payload", &TestDoc::payload, kOptional, &TestDoc::has_payload},
    {"payload_file", &TestDoc::payload_file, kOptional, &TestDoc::has_payload},
    {"capture", &TestDoc::capture},
    {"findings"},  // by hand: a table of category id -> count
    {"flags", &TestDoc::flags},
    {"at", &TestDoc::at},
    {"expect", &TestDoc::expect, kRequired},
    {"expect_reasons", &TestDoc::expect_reasons},
};

// [declarations]
inline constexpr Field<DeclarationsDoc> kDeclarationsFields[] = {
    {"dir", &DeclarationsDoc::dir, kRequired},
};

// [[approvers]]
inline constexpr Field<ApproverDoc> kApproverFields[] = {
    {"id", &ApproverDoc::id, kRequired},
    {"name", &ApproverDoc::name, kRequired},
    {"public_key", &ApproverDoc::public_key, kRequired},
};

}  // namespace dc::policy::loader_detail
