#pragma once
// The policy file as written: plain data with the source position of every field that a
// diagnostic may point at. Produced by the loader (policy/loader.hpp), consumed by the compiler
// (policy/compile.hpp). Control plane only; nothing here is used on the fast path.
// Field meanings are documented for compliance officers in docs/policy-reference.md.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/diagnostics.hpp"

namespace dc::policy {

template <class T>
struct Located {
  T value{};
  Pos pos{};
};

using LStr = Located<std::string>;
using LStrs = std::vector<LStr>;

// A point in time from the file, already converted with the policy timezone.
struct LTime {
  int64_t ns = 0;
  bool set = false;
  bool date_only = false;
  Pos pos{};
};

struct PolicyHeader {
  LStr id, version, description, timezone;
  int32_t tz_offset_minutes = 0;
  LTime test_time;
  Pos pos;
};

struct DefaultsDoc {
  LStr no_counterparty{"block"};
  LStr opaque_payload{"allow"};
  LStr urgent_data{"block"};          // TCP urgent byte in inspected bytes (tcp_urgent_ambiguous)
  LStr midstream{"block"};            // border TCP flow first seen without its SYN
  LStr fragments{"reassemble"};       // fragments of inspected flows: reassemble | block
  LStr http_anomaly{"block"};         // ambiguous HTTP/1.x framing (http_anomaly)
  LStr content_uninspected{"block"};  // HTTP content not decoded (content_uninspected)
  LStr tls_escrow{"off"};             // TLS with escrowed keys: off | optional | required
  LStr tls_auth_failure{"block"};     // a record failing authentication with an escrowed key
  LStr unattributed{"allow"};         // border flow whose domestic end is no [[exporters]] entry
  Located<bool> monitor{false};
  std::vector<std::pair<LStr, LStr>> on_failure;  // failure name -> "closed" | "open"
};

struct ZoneDoc {
  Pos pos;
  LStr id, kind, description;
  LStrs prefixes;
};

// A domestic data handler whose traffic crosses the border (customs accounting, issue 15).
struct ExporterDoc {
  Pos pos;
  LStr id, name, uscc, description;
  LStrs zones, prefixes;
  Located<bool> ciio{false};
};

struct LinkDoc {
  Pos pos;
  LStr from, to, reply{"inspected"}, description;
  Located<bool> inspect{true};
  LStrs counterparties;
  bool has_counterparties = false;
};

struct BasisDoc {
  Pos pos;
  LStr id, mechanism, exemption, reference, processor, status{"active"}, description;
  LTime issued, expires;
  LStrs categories;
  Located<int64_t> max_persons, max_sensitive_persons;
  Located<bool> require_declaration{false};  // flows under it need a declaration
};

struct EndpointDoc {
  Pos pos;
  LStrs prefixes, sni, protocols;
  std::vector<Located<std::pair<int64_t, int64_t>>> ports;  // inclusive ranges
};

struct CounterpartyDoc {
  Pos pos;
  LStr id, name, country, status{"active"}, description;
  LTime valid_from, valid_until;
  std::vector<EndpointDoc> endpoints;
  LStrs legal_bases, allowed_categories, denied_categories;
  bool has_allowed = false;
  Located<bool> require_declaration{false};  // flows to it need a declaration
};

struct PatternDoc {
  std::string expression;
  bool literal = false;
  Pos pos;
};

struct DetectorDoc {
  Pos pos;
  LStr id, validator, description;
  std::vector<PatternDoc> patterns;  // regexes and literal words, in file order
  LStrs keywords, negative_keywords;
  Located<int64_t> proximity{300};
};

struct CategoryDoc {
  Pos pos;
  LStr id, name, level, min_confidence{"likely"}, action{"block"}, description;
  Located<bool> personal{false}, sensitive{false};
  LStrs detectors;
  Located<int64_t> threshold{1};
  LStr provenance_list, provenance_item;
};

struct TestDoc {
  Pos pos;
  LStr name, from, to, proto{"tcp"}, sni, direction{"forward"}, payload, payload_file, expect;
  LTime at;
  std::vector<std::pair<LStr, Located<int64_t>>> findings;  // category id -> count
  LStrs flags, expect_reasons;
  LStrs capture;  // capture files (relative to the policy file), merged by timestamp
  bool has_payload = false, has_findings = false;
};

// [declarations]: where the declaration files are (policy/declarations.hpp).
struct DeclarationsDoc {
  Pos pos;
  LStr dir;  // relative to the policy file; "" = no declarations
};

// [[approvers]]: the compliance officers whose Ed25519 keys sign declarations.
struct ApproverDoc {
  Pos pos;
  LStr id, name, public_key;  // public_key: base64 of the raw 32 bytes, or a PEM file's path
};

// [accounting] (docs/accounting.md).
struct AccountingDoc {
  Pos pos;
  bool present = false;
  Located<bool> enabled{false};
  LStr utc_offset{"+08:00"};
  LStrs person_keys;
  bool has_person_keys = false;
  Located<double> warn_fraction{0.9};
  LStr on_limit{"block"}, on_unavailable{"block"};
};

struct PolicyDoc {
  std::string path;   // as given (diagnostics use it)
  std::string bytes;  // the file's bytes (hashed)
  PolicyHeader header;
  DefaultsDoc defaults;
  std::vector<ZoneDoc> zones;
  std::vector<ExporterDoc> exporters;
  std::vector<LinkDoc> links;
  std::vector<BasisDoc> bases;
  std::vector<CounterpartyDoc> counterparties;
  std::vector<DetectorDoc> detectors;
  std::vector<CategoryDoc> categories;
  std::vector<TestDoc> tests;
  DeclarationsDoc declarations;
  std::vector<ApproverDoc> approvers;
  AccountingDoc accounting;
};

}  // namespace dc::policy
