// Decision-table tests for docs/policy-reference.md §4-§5: one row per rule (and per boundary),
// each row a flow, a time, findings and flags, and the exact verdict with its ordered reasons.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <set>

#include "base/time.hpp"
#include "policy/policy.hpp"

// Allocation counter: the fast-path functions must not allocate (checked below). Both new and
// delete are replaced, so malloc/free pair up; GCC cannot see that across the replacement.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
static std::atomic<long> g_allocations{0};
void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace dc::policy;

constexpr const char* kPolicy = R"(
[policy]
id = "decision-table"
version = "1"
timezone = "+08:00"
test_time = 2026-06-15T10:00:00+08:00

[defaults]
opaque_payload = "alert"
[defaults.on_failure]
audit_unavailable = "open"

[[zones]]
id = "dom"
kind = "domestic"
prefixes = ["10.1.0.0/16"]
[[zones]]
id = "lab"
kind = "domestic"
prefixes = ["10.1.99.0/24"]     # nested in dom: longest prefix wins
[[zones]]
id = "proc"
kind = "processing"
prefixes = ["10.2.0.0/16"]
[[zones]]
id = "ext"
kind = "foreign"
prefixes = ["203.0.113.0/24", "2001:db8::/32"]

[[links]]
from = "dom"
to = "ext"
[[links]]
from = "dom"
to = "dom"
inspect = false
reply = "uninspected"
[[links]]
from = "ext"
to = "dom"
counterparties = ["hq"]
[[links]]
from = "ext"
to = "proc"
inspect = false
reply = "none"
counterparties = ["proc-client"]
[[links]]
from = "proc"
to = "ext"
reply = "none"
counterparties = ["proc-client"]

[[categories]]
id = "core.secret"
name = "core"
level = "core"
provenance = "t"
[[categories]]
id = "imp.geo"
name = "important"
level = "important"
threshold = 5
provenance = "t"
[[categories]]
id = "pi.id"
name = "id"
level = "general"
personal = true
detectors = ["cn_resident_id"]
provenance = "t"
[[categories]]
id = "pi.card"
name = "cards"
level = "general"
personal = true
sensitive = true
detectors = ["bank_card"]
min_confidence = "very_likely"
provenance = "t"
[[categories]]
id = "pi.contact"
name = "contact"
level = "general"
personal = true
action = "alert"
provenance = "t"
[[categories]]
id = "gen.open"
name = "open"
level = "general"
provenance = "t"
[[categories]]
id = "gen.stats"
name = "stats"
level = "general"
action = "alert"
detectors = ["cn_resident_id"]
min_confidence = "very_likely"
provenance = "t"

[[legal_bases]]
id = "SCC"
mechanism = "standard_contract"
reference = "r"
issued = 2025-01-01
expires = 2026-06-30
categories = ["pi.id", "gen.*"]
[[legal_bases]]
id = "SA"
mechanism = "security_assessment"
reference = "r"
issued = 2025-01-01
expires = 2027-12-31
categories = ["imp.geo", "pi.id"]
[[legal_bases]]
id = "EXP"
mechanism = "certification"
reference = "r"
issued = 2024-01-01
expires = 2025-12-31
categories = ["pi.id"]
[[legal_bases]]
id = "SUSP"
mechanism = "certification"
reference = "r"
status = "suspended"
issued = 2025-01-01
expires = 2027-12-31
categories = ["pi.id"]
[[legal_bases]]
id = "FUT"
mechanism = "certification"
reference = "r"
issued = 2027-01-01
expires = 2028-12-31
categories = ["pi.id"]

[[counterparties]]
id = "hq"
name = "HQ"
country = "DE"
legal_bases = ["SCC", "SA"]
allowed_categories = ["pi.id", "imp.geo", "gen.stats", "pi.contact"]
denied_categories = ["pi.card"]
endpoints = [{ prefixes = ["203.0.113.10/32"], ports = [443] }, { prefixes = ["2001:db8:1::/48"] }]
[[counterparties]]
id = "cheap"
name = "SCC only"
country = "FR"
legal_bases = ["SCC"]
endpoints = [{ prefixes = ["203.0.113.20/32"] }]
[[counterparties]]
id = "expired"
name = "x"
country = "JP"
legal_bases = ["EXP"]
endpoints = [{ prefixes = ["203.0.113.30/32"] }]
[[counterparties]]
id = "susp-basis"
name = "x"
country = "JP"
legal_bases = ["SUSP"]
endpoints = [{ prefixes = ["203.0.113.40/32"] }]
[[counterparties]]
id = "future"
name = "x"
country = "JP"
legal_bases = ["FUT"]
endpoints = [{ prefixes = ["203.0.113.50/32"] }]
[[counterparties]]
id = "revoked"
name = "x"
country = "JP"
status = "revoked"
legal_bases = ["SA"]
endpoints = [{ prefixes = ["203.0.113.60/32"] }]
[[counterparties]]
id = "old"
name = "x"
country = "JP"
valid_until = 2026-01-01
legal_bases = ["SA"]
endpoints = [{ prefixes = ["203.0.113.70/32"] }]
[[counterparties]]
id = "proc-client"
name = "x"
country = "SG"
legal_bases = ["SCC"]
endpoints = [{ prefixes = ["203.0.113.80/29"] }]
[[counterparties]]
id = "by-name"
name = "x"
country = "US"
legal_bases = ["SCC"]
endpoints = [{ prefixes = ["203.0.113.128/25"], sni = ["*.svc.example"], ports = [443] }]
)";

std::shared_ptr<const Snapshot> compile(const std::string& text) {
  Diagnostics d("decision.toml");
  auto s = compile_policy_text(text, "decision.toml", d);
  EXPECT_FALSE(d.has_errors()) << d.format();
  return s;
}

const Snapshot& snap() {
  static auto s = compile(kPolicy);
  return *s;
}

int64_t at(const char* t) { return *dc::base::parse_rfc3339(t, 8 * 60); }
constexpr const char* kNow = "2026-06-15T10:00:00+08:00";

dc::inspect::IpAddr ip(const char* s) {
  dc::inspect::IpAddr a;
  EXPECT_TRUE(parse_address(s, a)) << s;
  return a;
}

struct Row {
  const char* name;
  const char* src;
  const char* dst;
  uint16_t dport;
  std::vector<std::pair<const char*, int>> findings;
  uint32_t flags;
  const char* expect;                // action
  std::vector<std::string> reasons;  // exact, in order: "kind" or "kind:id"
  const char* time = kNow;
  const char* sni = nullptr;
};

FlowQuery query(const Snapshot& s, const char* src, const char* dst, uint16_t dport, int64_t now,
                const char* sni = nullptr) {
  FlowQuery q;
  q.src = ip(src);
  q.dst = ip(dst);
  q.sport = 50000;
  q.dport = dport;
  q.proto = 6;
  q.src_zone = s.zone_of(q.src);
  q.dst_zone = s.zone_of(q.dst);
  q.now_ns = now;
  q.sni_state = sni ? SniState::kPresent : SniState::kAbsent;
  q.sni = sni ? sni : "";
  return q;
}

CategoryTally tally_of(const Snapshot& s, const std::vector<std::pair<const char*, int>>& f) {
  CategoryTally t;
  std::size_t slot = 0;
  for (auto [cat, n] : f) {
    CategoryId c = s.find_category(cat);
    EXPECT_NE(c, kNoCategory) << cat;
    t.slots[slot].category = c;
    t.slots[slot].count = static_cast<uint16_t>(n);
    ++slot;
    t.seen |= 1ull << c;
  }
  return t;
}

class DecisionTable : public ::testing::TestWithParam<Row> {};

TEST_P(DecisionTable, VerdictAndReasons) {
  const Row& r = GetParam();
  const Snapshot& s = snap();
  int64_t now = at(r.time);
  Admission a = s.admit(query(s, r.src, r.dst, r.dport, now, r.sni));
  Verdict v = s.decide(a, tally_of(s, r.findings), r.flags, now);
  EXPECT_EQ(std::string(action_name(v.action)), r.expect) << s.describe(v);
  // Kinds must match exactly and in order; "kind:id" also checks that the reason names that id
  // (as its category, basis or counterparty).
  ASSERT_EQ(v.reason_count, r.reasons.size()) << s.describe(v);
  for (std::size_t i = 0; i < r.reasons.size(); ++i) {
    const std::string& want = r.reasons[i];
    const Reason& got = v.reasons[i];
    auto colon = want.find(':');
    EXPECT_EQ(std::string(reason_name(got.kind)), want.substr(0, colon))
        << i << ": " << s.describe(v);
    if (colon == std::string::npos) continue;
    std::string id = want.substr(colon + 1);
    bool named = (got.category != kNoCategory && s.category(got.category).id == id) ||
                 (got.basis != kNoBasis && s.basis(got.basis).id == id) ||
                 (got.counterparty != kNoCounterparty && s.counterparty(got.counterparty).id == id);
    EXPECT_TRUE(named) << "reason " << i << " does not name " << id << ": " << s.describe(v);
  }
}

const uint32_t kNoFlags = 0;
INSTANTIATE_TEST_SUITE_P(
    Rules, DecisionTable,
    ::testing::Values(
        // A: admission
        Row{"whitelisted",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {},
            kNoFlags,
            "allow",
            {"whitelisted:SCC"}},
        Row{"ipv6_endpoint",
            "10.1.1.1",
            "2001:db8:1::5",
            8080,
            {},
            kNoFlags,
            "allow",
            {"whitelisted:hq"}},
        Row{"wrong_port",
            "10.1.1.1",
            "203.0.113.10",
            80,
            {},
            kNoFlags,
            "block",
            {"no_counterparty"}},
        Row{"unlisted",
            "10.1.1.1",
            "203.0.113.99",
            443,
            {},
            kNoFlags,
            "block",
            {"no_counterparty"}},
        Row{"unknown_zone", "10.1.1.1", "192.0.2.1", 443, {}, kNoFlags, "block", {"unknown_zone"}},
        Row{"nested_zone_isolated",
            "10.1.1.1",
            "10.1.99.5",
            443,
            {},
            kNoFlags,
            "block",
            {"no_link"}},
        Row{"processing_isolated", "10.2.0.1", "10.1.1.1", 443, {}, kNoFlags, "block", {"no_link"}},
        Row{"basis_expired",
            "10.1.1.1",
            "203.0.113.30",
            443,
            {},
            kNoFlags,
            "block",
            {"basis_expired:EXP"}},
        Row{"basis_suspended",
            "10.1.1.1",
            "203.0.113.40",
            443,
            {},
            kNoFlags,
            "block",
            {"basis_inactive:SUSP"}},
        Row{"basis_not_yet",
            "10.1.1.1",
            "203.0.113.50",
            443,
            {},
            kNoFlags,
            "block",
            {"basis_not_yet_valid:FUT"}},
        Row{"revoked",
            "10.1.1.1",
            "203.0.113.60",
            443,
            {},
            kNoFlags,
            "block",
            {"counterparty_revoked:revoked"}},
        Row{"cp_expired",
            "10.1.1.1",
            "203.0.113.70",
            443,
            {},
            kNoFlags,
            "block",
            {"counterparty_expired:old"}},
        Row{"cp_valid_day_before",
            "10.1.1.1",
            "203.0.113.70",
            443,
            {},
            kNoFlags,
            "allow",
            {"whitelisted:SA"},
            "2026-01-01T23:59:59+08:00"},
        Row{"foreign_client_export",
            "203.0.113.10",
            "10.1.5.5",
            443,
            {{"pi.id", 1}},
            kNoFlags,
            "allow",
            {"whitelisted:SCC", "personal_under_basis:pi.id"}},
        Row{"foreign_client_not_on_link",
            "203.0.113.20",
            "10.1.5.5",
            443,
            {},
            kNoFlags,
            "block",
            {"counterparty_not_on_link:cheap"}},
        Row{"domestic_link_no_category_rules",
            "10.1.1.1",
            "10.1.2.2",
            22,
            {{"core.secret", 9}},
            kNoFlags,
            "allow",
            {"declared_link"}},
        // SNI
        Row{"sni_wildcard",
            "10.1.1.1",
            "203.0.113.130",
            443,
            {},
            kNoFlags,
            "allow",
            {"whitelisted:by-name"},
            kNow,
            "API.svc.example."},
        Row{"sni_bare_domain",
            "10.1.1.1",
            "203.0.113.130",
            443,
            {},
            kNoFlags,
            "block",
            {"no_counterparty"},
            kNow,
            "svc.example"},
        Row{"sni_absent",
            "10.1.1.1",
            "203.0.113.130",
            443,
            {},
            kNoFlags,
            "block",
            {"no_counterparty"}},
        // C: categories
        Row{"core",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {{"core.secret", 1}},
            kNoFlags,
            "block",
            {"core_data:core.secret", "whitelisted"}},
        Row{"important_assessed",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {{"imp.geo", 5}},
            kNoFlags,
            "allow",
            {"whitelisted", "important_under_assessment:imp.geo"}},
        Row{"important_below_threshold",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {{"imp.geo", 4}},
            kNoFlags,
            "allow",
            {"whitelisted"}},
        Row{"important_without_assessment",
            "10.1.1.1",
            "203.0.113.20",
            443,
            {{"imp.geo", 5}},
            kNoFlags,
            "block",
            {"important_without_assessment:imp.geo", "whitelisted"}},
        Row{"personal_first_valid_basis",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {{"pi.id", 1}},
            kNoFlags,
            "allow",
            {"whitelisted:SCC", "personal_under_basis:pi.id"}},
        Row{"personal_falls_back_after_expiry",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {{"pi.id", 1}},
            kNoFlags,
            "allow",
            {"whitelisted:SA", "personal_under_basis:pi.id"},
            "2026-07-01T00:00:00+08:00"},
        Row{"personal_last_day_of_scc",
            "10.1.1.1",
            "203.0.113.20",
            443,
            {{"pi.id", 1}},
            kNoFlags,
            "allow",
            {"whitelisted:SCC", "personal_under_basis:pi.id"},
            "2026-06-30T23:59:59+08:00"},
        Row{"personal_scc_expired_live",
            "10.1.1.1",
            "203.0.113.20",
            443,
            {{"pi.id", 1}},
            kNoFlags,
            "block",
            {"basis_expired:SCC", "personal_without_basis:pi.id"},
            "2026-07-01T00:00:00+08:00"},
        Row{"denied",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {{"pi.card", 1}},
            kNoFlags,
            "block",
            {"category_denied:pi.card", "whitelisted"}},
        Row{"sensitive_without_basis",
            "10.1.1.1",
            "203.0.113.20",
            443,
            {{"pi.card", 1}},
            kNoFlags,
            "block",
            {"personal_without_basis:pi.card", "whitelisted"}},
        Row{"not_in_allowed_list",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {{"gen.open", 1}},
            kNoFlags,
            "block",
            {"category_not_allowed:gen.open", "whitelisted"}},
        Row{"general_unrestricted",
            "10.1.1.1",
            "203.0.113.20",
            443,
            {{"gen.open", 1}},
            kNoFlags,
            "allow",
            {"whitelisted", "general_allowed:gen.open"}},
        Row{"alert_category",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {{"pi.contact", 1}},
            kNoFlags,
            "alert",
            {"personal_without_basis:pi.contact", "whitelisted"}},
        Row{"unlisted_with_data",
            "10.1.1.1",
            "203.0.113.99",
            443,
            {{"pi.id", 1}, {"core.secret", 1}},
            kNoFlags,
            "block",
            {"no_counterparty", "core_data:core.secret", "category_not_allowed:pi.id"}},
        Row{"precedence",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {{"pi.id", 1}, {"imp.geo", 9}, {"pi.card", 1}, {"core.secret", 1}, {"pi.contact", 1}},
            kNoFlags,
            "block",
            {"core_data:core.secret", "category_denied:pi.card",
             "personal_without_basis:pi.contact", "whitelisted",
             "important_under_assessment:imp.geo", "personal_under_basis:pi.id"}},
        // V3: flags
        Row{"evasion",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {},
            flag::kEvasion,
            "block",
            {"evasion", "whitelisted"}},
        Row{"fail_closed",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {},
            flag::kScanError,
            "block",
            {"scan_error", "whitelisted"}},
        Row{"fail_open",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {},
            flag::kAuditUnavailable,
            "alert",
            {"audit_unavailable", "whitelisted"}},
        Row{"failure_on_domestic_link",
            "10.1.1.1",
            "10.1.2.2",
            22,
            {},
            flag::kFlowTableFull,
            "block",
            {"flow_table_full", "declared_link"}},
        Row{"opaque",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {},
            flag::kPayloadOpaque,
            "alert",
            {"opaque_payload", "whitelisted"}},
        Row{"tls_auth_failure",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {},
            flag::kTlsAuthFailure,
            "block",
            {"tls_auth_failure", "whitelisted"}},
        Row{"tls_key_missing",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {},
            flag::kTlsKeyMissing,
            "block",
            {"tls_key_missing", "whitelisted"}},
        Row{"one_way_inbound",
            "203.0.113.81",
            "10.2.0.5",
            8443,
            {},
            flag::kReversePayload,
            "block",
            {"one_way_violation", "whitelisted:proc-client"}},
        Row{"reverse_payload_where_allowed",
            "10.1.1.1",
            "203.0.113.10",
            443,
            {},
            flag::kReversePayload,
            "allow",
            {"whitelisted"}},
        Row{"processing_results_other_cp",
            "10.2.0.5",
            "203.0.113.10",
            443,
            {},
            kNoFlags,
            "block",
            {"counterparty_not_on_link:hq"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Admission, DirectionFacts) {
  const Snapshot& s = snap();
  Admission out = s.admit(query(s, "10.1.1.1", "203.0.113.10", 443, at(kNow)));
  EXPECT_TRUE(out.border);
  EXPECT_EQ(out.foreign, Side::kResponder);
  EXPECT_TRUE(out.forward_is_export());
  EXPECT_FALSE(out.reverse_is_export());
  EXPECT_TRUE(out.inspect_forward);
  Admission in = s.admit(query(s, "203.0.113.10", "10.1.5.5", 443, at(kNow)));
  EXPECT_EQ(in.foreign, Side::kOpener);
  EXPECT_TRUE(in.reverse_is_export());
  EXPECT_TRUE(in.inspect_reverse);
  Admission raw = s.admit(query(s, "203.0.113.81", "10.2.0.5", 8443, at(kNow)));
  EXPECT_FALSE(raw.inspect_forward);
  EXPECT_FALSE(raw.reverse_payload_allowed);
  Admission local = s.admit(query(s, "10.1.1.1", "10.1.2.2", 22, at(kNow)));
  EXPECT_FALSE(local.border);
  EXPECT_FALSE(local.inspect_forward);
}

TEST(Admission, SniPendingThenResolved) {
  const Snapshot& s = snap();
  FlowQuery q = query(s, "10.1.1.1", "203.0.113.130", 443, at(kNow));
  q.sni_state = SniState::kNotYet;
  Admission a = s.admit(q);
  EXPECT_TRUE(a.sni_pending);
  EXPECT_EQ(a.verdict.action, Action::kAllow);
  EXPECT_EQ(a.verdict.reasons[0].kind, ReasonKind::kAwaitingSni);
  q.sni_state = SniState::kPresent;
  q.sni = "x.svc.example";
  Admission b = s.admit(q);
  EXPECT_FALSE(b.sni_pending);
  EXPECT_EQ(b.verdict.reasons[0].kind, ReasonKind::kWhitelisted);
  q.sni = "x.other.example";
  EXPECT_EQ(s.admit(q).verdict.reasons[0].kind, ReasonKind::kNoCounterparty);
}

// The endpoint `sni` rule, shared by TLS SNI and HTTP Host (names arrive without a port: the
// HTTP parser strips it).
TEST(ServerName, MatchesExactAndWildcardRules) {
  struct Row {
    const char* name;
    const char* pattern;
    bool match;
  } rows[] = {
      {"api.example.com", "api.example.com", true},
      {"API.Example.COM", "api.example.com", true},   // case-insensitive (RFC 4343)
      {"api.example.com.", "api.example.com", true},  // one trailing dot: the same DNS name
      {"api.example.com..", "api.example.com", false},
      {"api.example.co", "api.example.com", false},
      {"xapi.example.com", "api.example.com", false},
      {"api.example.com.evil", "api.example.com", false},
      {"", "api.example.com", false},
      {"www.example.com", "*.example.com", true},
      {"a.b.example.com", "*.example.com", true},  // any depth
      {"WWW.EXAMPLE.COM.", "*.example.com", true},
      {"example.com", "*.example.com", false},  // not the apex
      {".example.com", "*.example.com", false},
      {"wwwexample.com", "*.example.com", false},
      {"example.com.evil", "*.example.com", false},
      {"203.0.113.10", "*.example.com", false},
  };
  for (const auto& r : rows)
    EXPECT_EQ(server_name_matches(r.name, r.pattern), r.match) << r.name << " vs " << r.pattern;
}

TEST(Admission, ServerNameFromHostOrSniIsRecorded) {
  const Snapshot& s = snap();
  FlowQuery q = query(s, "10.1.1.1", "203.0.113.130", 443, at(kNow), "x.svc.example");
  q.name_source = NameSource::kHttpHost;
  Admission a = s.admit(q);
  EXPECT_EQ(a.verdict.reasons[0].kind, ReasonKind::kWhitelisted);
  EXPECT_EQ(a.server_name, NameSource::kHttpHost);
  EXPECT_EQ(name_source_name(a.server_name), "http_host");
  q.name_source = NameSource::kTlsSni;
  EXPECT_EQ(s.admit(q).server_name, NameSource::kTlsSni);
  // A Host naming another server is refused like a wrong SNI.
  q.name_source = NameSource::kHttpHost;
  q.sni = "x.other.example";
  a = s.admit(q);
  EXPECT_EQ(a.verdict.reasons[0].kind, ReasonKind::kNoCounterparty);
  EXPECT_EQ(a.server_name, NameSource::kNone);
}

TEST(Zones, LongestPrefixAndContainment) {
  const Snapshot& s = snap();
  ZoneId dom = s.find_zone("dom"), lab = s.find_zone("lab"), ext = s.find_zone("ext");
  ASSERT_NE(dom, kNoZone);
  EXPECT_EQ(s.find_zone("nope"), kNoZone);
  EXPECT_EQ(s.zone_of(ip("10.1.0.1")), dom);
  EXPECT_EQ(s.zone_of(ip("10.1.99.1")), lab);
  EXPECT_EQ(s.zone_of(ip("10.1.100.0")), dom);
  EXPECT_EQ(s.zone_of(ip("2001:db8:ffff::1")), ext);
  EXPECT_EQ(s.zone_of(ip("2001:db9::1")), kNoZone);
  EXPECT_EQ(s.zone_of(ip("10.3.0.0")), kNoZone);
  EXPECT_TRUE(s.zone_contains(dom, ip("10.1.255.255")));
  EXPECT_FALSE(s.zone_contains(dom, ip("10.1.99.7")));  // belongs to the nested zone
  EXPECT_TRUE(s.zone_has_prefixes(ext));
  EXPECT_EQ(s.zone_kind(ext), ZoneKind::kForeign);
  EXPECT_NE(s.link_between(dom, ext), kNoLink);
  EXPECT_EQ(s.link_between(dom, lab), kNoLink);
}

TEST(Findings, MinConfidenceThresholdAndMapping) {
  const Snapshot& s = snap();
  // cn_resident_id feeds pi.id (min likely) and gen.stats (min very_likely).
  uint32_t det = 0;
  while (det < s.detector_names().size() && s.detector_names()[det] != "cn_resident_id") ++det;
  ASSERT_LT(det, s.detector_names().size());
  CategoryId pi = s.find_category("pi.id"), stats = s.find_category("gen.stats");
  EXPECT_EQ(s.detector_categories(det), (1ull << pi) | (1ull << stats));
  CategoryTally t;
  s.add_finding(t, det, Confidence::kPossible);  // below both floors
  EXPECT_EQ(t.seen, 0u);
  s.add_finding(t, det, Confidence::kLikely, 2);
  EXPECT_EQ(t.seen, 1ull << pi);
  s.add_finding(t, det, Confidence::kVeryLikely);
  EXPECT_EQ(t.seen, (1ull << pi) | (1ull << stats));
  EXPECT_EQ(t.slots[0].count, 3);
  EXPECT_EQ(t.slots[0].detector, det);
  EXPECT_EQ(t.slots[0].max_confidence, static_cast<uint8_t>(Confidence::kVeryLikely));
  EXPECT_EQ(t.slots[1].count, 1);
  s.add_finding(t, 9999, Confidence::kVeryLikely);  // unknown detector: ignored
  EXPECT_EQ(t.seen, (1ull << pi) | (1ull << stats));
}

TEST(Findings, OverflowIsTreatedAsTriggered) {
  const Snapshot& s = snap();
  CategoryTally t;
  for (std::size_t i = 0; i < kMaxTallySlots; ++i) {
    t.slots[i].category = s.find_category("gen.stats");
    t.slots[i].count = 0;
  }
  t.overflow = 1ull << s.find_category("pi.card");
  t.seen = 0;
  Admission a = s.admit(query(s, "10.1.1.1", "203.0.113.20", 443, at(kNow)));
  Verdict v = s.decide(a, t, 0, at(kNow));
  EXPECT_EQ(v.action, Action::kBlock) << s.describe(v);
  EXPECT_EQ(v.reasons[0].kind, ReasonKind::kPersonalWithoutBasis);
}

TEST(Verdict, MonitorModeTurnsBlocksIntoAlerts) {
  std::string text = kPolicy;
  text.replace(text.find("[defaults]\n"), 11, "[defaults]\nmonitor = true\n");
  auto m = compile(text);
  ASSERT_TRUE(m);
  Admission a = m->admit(query(*m, "10.1.1.1", "203.0.113.99", 443, at(kNow)));
  Verdict v = m->decide(a, CategoryTally{}, 0, at(kNow));
  EXPECT_EQ(v.action, Action::kAlert);
  EXPECT_TRUE(v.monitored);
  ASSERT_EQ(v.reason_count, 2);
  EXPECT_EQ(v.reasons[0].kind, ReasonKind::kMonitorMode);
  EXPECT_EQ(v.reasons[1].kind, ReasonKind::kNoCounterparty);
  EXPECT_EQ(v.reasons[1].action, Action::kBlock);  // what the rule asked for
  // An allowed flow is untouched by monitor mode.
  Admission ok = m->admit(query(*m, "10.1.1.1", "203.0.113.10", 443, at(kNow)));
  Verdict w = m->decide(ok, CategoryTally{}, 0, at(kNow));
  EXPECT_EQ(w.action, Action::kAllow);
  EXPECT_FALSE(w.monitored);
}

TEST(Verdict, TlsEscrowKnobs) {
  EXPECT_EQ(snap().tls_escrow(), TlsEscrow::kOff);  // default: TLS is opaque
  std::string text = kPolicy;
  text.replace(text.find("[defaults]\n"), 11,
               "[defaults]\ntls_escrow = \"required\"\ntls_auth_failure = \"alert\"\n");
  auto m = compile(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->tls_escrow(), TlsEscrow::kRequired);
  Admission a = m->admit(query(*m, "10.1.1.1", "203.0.113.10", 443, at(kNow)));
  Verdict v = m->decide(a, CategoryTally{}, flag::kTlsAuthFailure, at(kNow));
  EXPECT_EQ(v.action, Action::kAlert);
  EXPECT_EQ(v.reasons[0].kind, ReasonKind::kTlsAuthFailure);
  std::string bad = kPolicy;
  bad.replace(bad.find("[defaults]\n"), 11, "[defaults]\ntls_escrow = \"maybe\"\n");
  Diagnostics d("decision.toml");
  (void)compile_policy_text(bad, "decision.toml", d);
  EXPECT_TRUE(d.has_errors());
}

TEST(Verdict, RevocationByReloadCutsLiveFlows) {
  const Snapshot& before = snap();
  FlowQuery q = query(before, "10.1.1.1", "203.0.113.20", 443, at(kNow));
  ASSERT_EQ(before.admit(q).verdict.action, Action::kAllow);
  std::string text = kPolicy;
  auto pos = text.find("id = \"cheap\"");
  text.insert(text.find('\n', pos) + 1, "status = \"revoked\"\n");
  auto after = compile(text);
  ASSERT_TRUE(after);
  EXPECT_NE(after->sha256_hex(), before.sha256_hex());
  // The dataplane re-admits live flows on the newest snapshot.
  Admission a = after->admit(q);
  EXPECT_EQ(a.verdict.action, Action::kBlock);
  EXPECT_EQ(a.verdict.reasons[0].kind, ReasonKind::kCounterpartyRevoked);
}

TEST(Verdict, TallyIsRemappedAcrossSnapshots) {
  // The new policy inserts a category first, shifting every index by one.
  std::string text = kPolicy;
  text.insert(
      text.find("[[categories]]"),
      "[[categories]]\nid = \"aaa.new\"\nname = \"n\"\nlevel = \"general\"\nprovenance = \"t\"\n");
  auto neu = compile(text);
  ASSERT_TRUE(neu);
  const Snapshot& old = snap();
  CategoryTally t = tally_of(old, {{"pi.card", 1}});
  CategoryRemap m = remap_categories(old, *neu);
  apply_remap(m, t);
  EXPECT_EQ(t.seen, 1ull << neu->find_category("pi.card"));
  EXPECT_NE(neu->find_category("pi.card"), old.find_category("pi.card"));
  Admission a = neu->admit(query(*neu, "10.1.1.1", "203.0.113.20", 443, at(kNow)));
  Verdict v = neu->decide(a, t, 0, at(kNow));
  EXPECT_EQ(v.reasons[0].kind, ReasonKind::kPersonalWithoutBasis);
  EXPECT_EQ(neu->category(v.reasons[0].category).id, "pi.card");
}

TEST(Verdict, ReasonsAreTruncatedToFixedSize) {
  const Snapshot& s = snap();
  Admission a = s.admit(query(s, "10.1.1.1", "203.0.113.99", 443, at(kNow)));
  CategoryTally t = tally_of(s, {{"core.secret", 1},
                                 {"imp.geo", 5},
                                 {"pi.id", 1},
                                 {"pi.card", 1},
                                 {"pi.contact", 1},
                                 {"gen.open", 1},
                                 {"gen.stats", 1}});
  uint32_t flags = flag::kEvasion | flag::kScanError | flag::kStreamUnavailable;
  Verdict v = s.decide(a, t, flags, at(kNow));
  EXPECT_EQ(v.reason_count, kMaxReasons);
  EXPECT_TRUE(v.truncated);
  EXPECT_EQ(v.reasons[0].kind, ReasonKind::kNoCounterparty);
  EXPECT_EQ(v.reasons[7].action, Action::kBlock);  // the dropped ones are the least severe
}

TEST(FastPath, AdmitAndDecideDoNotAllocate) {
  const Snapshot& s = snap();
  FlowQuery q = query(s, "10.1.1.1", "203.0.113.130", 443, at(kNow), "a.svc.example");
  CategoryTally t = tally_of(s, {{"pi.id", 1}, {"core.secret", 1}});
  int64_t now = at(kNow);
  long before = g_allocations.load();
  Admission a = s.admit(q);
  long after_admit = g_allocations.load();
  Verdict v = s.decide(a, t, flag::kEvasion, now);
  long after_decide = g_allocations.load();
  s.add_finding(t, 0, Confidence::kVeryLikely);
  ZoneId z = s.zone_of(q.dst);
  long after = g_allocations.load();
  EXPECT_EQ(before, after_admit);
  EXPECT_EQ(after_admit, after_decide);
  EXPECT_EQ(after_decide, after);
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_NE(z, kNoZone);
}

TEST(Reasons, NamesAreUniqueSnakeCaseAndRoundTrip) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < kReasonKindCount; ++i) {
    auto k = static_cast<ReasonKind>(i);
    std::string n(reason_name(k));
    EXPECT_TRUE(seen.insert(n).second) << n;
    EXPECT_EQ(n.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string::npos) << n;
    EXPECT_FALSE(reason_text(k).empty());
    EXPECT_EQ(reason_from_name(n), k);
  }
  EXPECT_EQ(reason_from_name("nope"), ReasonKind::kCount);
}

}  // namespace
