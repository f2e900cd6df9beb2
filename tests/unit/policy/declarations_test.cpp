// Declarations (docs/policy-reference.md "Declarations"): the canonical form, Ed25519 sign and
// verify, every check error, and the decisions: missing, matching, expired, revoked, undeclared
// category, bytes exceeded; byte counters across a reload.
#include "policy/declarations.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "audit/crypto.hpp"
#include "base/time.hpp"
#include "policy/loader.hpp"
#include "policy/policy.hpp"
#include "tests/unit/policy/border_fixture.hpp"

namespace {

using namespace dc::policy;

dc::audit::SigningKey new_key() {
  auto k = dc::audit::SigningKey::generate();
  EXPECT_TRUE(k);
  return std::move(*k);
}

// Two approvers; their keys are made per test run: li's public key goes into the policy as
// base64, wang's as the path of a PEM file.
struct Keys {
  dc::audit::SigningKey li = new_key();
  dc::audit::SigningKey wang = new_key();
  std::string dir;
  Keys() {
    char tmpl[] = "/tmp/dc-decl-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::ofstream(dir + "/li.pub") << li.public_pem();
    std::ofstream(dir + "/wang.pub") << wang.public_pem();
  }
  ~Keys() {
    std::remove((dir + "/li.pub").c_str());
    std::remove((dir + "/wang.pub").c_str());
    ::rmdir(dir.c_str());
  }
  std::string li_b64() const {
    auto raw = load_public_key(dir + "/li.pub", "/");
    return raw ? encode_base64(*raw) : "";
  }
};

Keys& keys() {
  static Keys k;
  return k;
}

std::string policy_text() {
  return R"(
[policy]
id = "decl"
version = "1"
timezone = "+08:00"

)" DC_TEST_DOM_EXT_BORDER R"(
[[categories]]
id = "pi.contact"
name = "contact"
level = "general"
personal = true
provenance = "t"
[[categories]]
id = "pi.id"
name = "id"
level = "general"
personal = true
provenance = "t"
[[categories]]
id = "gen.open"
name = "open"
level = "general"
provenance = "t"

[[legal_bases]]
id = "scc"
mechanism = "standard_contract"
reference = "r"
issued = 2025-01-01
expires = 2027-12-31
categories = ["pi.*", "gen.*"]
[[legal_bases]]
id = "cert"
mechanism = "certification"
reference = "r"
issued = 2025-01-01
expires = 2027-12-31
categories = ["pi.*"]
require_declaration = true

[[counterparties]]
id = "sg"
name = "SG"
country = "SG"
legal_bases = ["scc"]
require_declaration = true
endpoints = [{ prefixes = ["203.0.113.10/32"] }]
[[counterparties]]
id = "de"
name = "DE"
country = "DE"
legal_bases = ["scc"]
endpoints = [{ prefixes = ["203.0.113.20/32"] }]
[[counterparties]]
id = "jp"
name = "JP"
country = "JP"
legal_bases = ["cert"]
endpoints = [{ prefixes = ["203.0.113.30/32"] }]

[declarations]
dir = "declarations"

[[approvers]]
id = "li"
name = "Li Na"
public_key = ")" +
         keys().li_b64() +
         R"("
[[approvers]]
id = "wang"
name = "Wang Wei"
public_key = ")" +
         keys().dir +
         R"(/wang.pub"
)";
}

constexpr const char* kDecl = R"(id = "d-sg-1"
exporter = "acme"
counterparty = "sg"
legal_basis = "scc"
categories = ["pi.contact", "gen.open"]
max_persons = 1000
max_bytes = 100
valid_from = 2026-01-01
valid_until = 2026-12-31
purpose = "CRM sync"
approved_by = "li"
)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// The declaration text signed by `key` (its canonical form as the policy reads it).
std::string signed_by(const std::string& text, const dc::audit::SigningKey& key) {
  Diagnostics d("d.toml");
  DeclarationDoc doc = parse_declaration(text, "d.toml", 8 * 60, d);
  EXPECT_FALSE(d.has_errors()) << d.format();
  auto sig = key.sign(canonical_form(doc));
  EXPECT_TRUE(sig);
  return text + "signature = \"" + encode_base64(*sig) + "\"\n";
}

DeclarationContext context() {
  Diagnostics pd("policy.toml");
  PolicyDoc doc = parse_policy(policy_text(), "/etc/dc/policy.toml", pd);
  DeclarationContext ctx = declaration_context(doc, pd);
  EXPECT_FALSE(pd.has_errors()) << pd.format();
  return ctx;
}

// The check errors of `text` at `now` (default: mid-2026), formatted.
std::string errors(const std::string& text, const char* now = "2026-06-15T10:00:00+08:00",
                   DeclarationContext ctx = context()) {
  Diagnostics d("d.toml");
  DeclarationDoc doc = parse_declaration(text, "d.toml", ctx.tz_minutes, d);
  if (!d.has_errors()) {
    check_declaration(doc, ctx, d);
    check_declaration_time(doc, *dc::base::parse_rfc3339(now, 0), ctx.tz_minutes, d);
  }
  return d.format();
}

TEST(DeclarationCanonical, ExactBytes) {
  Diagnostics d("d.toml");
  DeclarationDoc doc = parse_declaration(kDecl, "d.toml", 480, d);
  ASSERT_FALSE(d.has_errors()) << d.format();
  EXPECT_EQ(canonical_form(doc),
            "datacustoms-declaration-v1\nid=d-sg-1\nexporter=acme\ncounterparty=sg\n"
            "legal_basis=scc\ncategories=gen.open,pi.contact\nmax_persons=1000\n"
            "max_sensitive_persons=\nmax_bytes=100\nvalid_from=2026-01-01\n"
            "valid_until=2026-12-31\npurpose=CRM sync\napproved_by=li\n");
}

TEST(DeclarationCanonical, ReformattingKeepsItAndEscapes) {
  const std::string other = R"(# reordered, re-quoted, commented
approved_by = 'li'
purpose = """CRM sync"""
valid_until = 2026-12-31
valid_from = 2026-01-01
max_bytes = 100
max_persons = 1_000
categories = [ "gen.open", "pi.contact", "pi.contact" ]
legal_basis = "scc"   # the basis
counterparty = "sg"
exporter = "acme"
id = "d-sg-1"
)";
  Diagnostics d("d.toml");
  EXPECT_EQ(canonical_form(parse_declaration(kDecl, "a", 0, d)),
            canonical_form(parse_declaration(other, "b", 0, d)));
  // A value with a newline cannot forge another line.
  std::string forged = replace(kDecl, "\"CRM sync\"", "\"x\\napproved_by=wang\"");
  std::string c = canonical_form(parse_declaration(forged, "c", 0, d));
  EXPECT_NE(c.find("purpose=x\\napproved_by=wang\napproved_by=li\n"), std::string::npos) << c;
  // The same instant written with Z or +00:00 is one text; date-times keep their offset.
  std::string z = replace(kDecl, "valid_from = 2026-01-01", "valid_from = 2026-01-01T00:00:00Z");
  std::string o =
      replace(kDecl, "valid_from = 2026-01-01", "valid_from = 2026-01-01t00:00:00+00:00");
  EXPECT_EQ(canonical_form(parse_declaration(z, "z", 0, d)),
            canonical_form(parse_declaration(o, "o", 0, d)));
  EXPECT_FALSE(d.has_errors()) << d.format();
}

TEST(DeclarationVerify, SignedByItsApproverIsClean) {
  EXPECT_EQ(errors(signed_by(kDecl, keys().li)), "");
  // wang's key is given as a PEM path.
  std::string w = replace(kDecl, "approved_by = \"li\"", "approved_by = \"wang\"");
  EXPECT_EQ(errors(signed_by(w, keys().wang)), "");
}

TEST(DeclarationVerify, EveryError) {
  const std::string ok = signed_by(kDecl, keys().li);
  EXPECT_EQ(errors(kDecl),
            "d.toml:1:1: error: unsigned: the declaration has no 'signature' "
            "(datacustoms declare sign)\n");
  std::string bob = replace(kDecl, "approved_by = \"li\"", "approved_by = \"lii\"");
  EXPECT_EQ(errors(signed_by(bob, keys().li)),
            "d.toml:11:15: error: unknown approver 'lii' (did you mean 'li'?)\n");
  std::string wrong = replace(kDecl, "approved_by = \"li\"", "approved_by = \"wang\"");
  EXPECT_EQ(errors(signed_by(wrong, keys().li)),
            "d.toml:12:13: error: wrong signer: signed by approver 'li', but approved_by names "
            "'wang'\n");
  EXPECT_EQ(errors(replace(ok, "max_bytes = 100", "max_bytes = 1000")),
            "d.toml:12:13: error: bad signature: it does not verify with the key of approver 'li' "
            "(the declaration changed after signing, or another key signed it)\n");
  EXPECT_EQ(errors(ok, "2027-01-01T00:00:00+08:00"),
            "d.toml:9:15: error: expired: the declaration ended at 2027-01-01T00:00:00+08:00\n");
  EXPECT_EQ(errors(ok, "2025-12-31T23:59:59+08:00"),
            "d.toml:8:14: error: not yet valid: the declaration begins at "
            "2026-01-01T00:00:00+08:00\n");
  EXPECT_EQ(errors(signed_by(replace(kDecl, "\"sg\"", "\"sgp\""), keys().li)),
            "d.toml:3:16: error: unknown counterparty 'sgp' (did you mean 'sg'?)\n");
  EXPECT_EQ(errors(signed_by(replace(kDecl, "\"scc\"", "\"cert\""), keys().li)),
            "d.toml:4:15: error: legal basis 'cert' is not one of counterparty 'sg''s "
            "legal_bases\n");
  EXPECT_EQ(errors(signed_by(replace(kDecl, "\"scc\"", "\"sccc\""), keys().li)),
            "d.toml:4:15: error: unknown legal basis 'sccc' (did you mean 'scc'?)\n");
  EXPECT_EQ(errors(signed_by(replace(kDecl, "\"gen.open\"", "\"gen.opn\""), keys().li)),
            "d.toml:5:29: error: unknown category 'gen.opn' (did you mean 'gen.open'?)\n");
  DeclarationContext ctx = context();
  ctx.check_exporters = true;
  ctx.exporters = {"globex"};
  EXPECT_EQ(errors(ok, "2026-06-15T10:00:00+08:00", ctx),
            "d.toml:2:12: error: unknown exporter 'acme'\n");
  EXPECT_EQ(errors(replace(kDecl, "purpose = \"CRM sync\"\n", "")),
            "d.toml:1:1: error: the declaration is missing required key 'purpose'\n");
  EXPECT_EQ(errors(signed_by(replace(kDecl, "max_bytes = 100", "max_bytes = -1"), keys().li)),
            "d.toml:7:13: error: caps must not be negative\n");
}

// ---- decisions ------------------------------------------------------------------------------

struct Compiled {
  std::vector<std::pair<std::string, std::string>> files;
  std::shared_ptr<const Snapshot> snap;
};

std::shared_ptr<const Snapshot> compile(const std::vector<std::pair<std::string, std::string>>& f,
                                        std::vector<std::string> revoked = {},
                                        std::shared_ptr<DeclarationUsage> usage = nullptr) {
  CompileOptions o;
  o.declaration_files = &f;
  o.revoked_declarations = std::move(revoked);
  o.declaration_usage = std::move(usage);
  Diagnostics d("policy.toml");
  auto s = compile_policy_text(policy_text(), "/etc/dc/policy.toml", d, nullptr, o);
  EXPECT_TRUE(s) << d.format();
  return s;
}

int64_t at(const char* t) { return *dc::base::parse_rfc3339(t, 8 * 60); }
constexpr const char* kNow = "2026-06-15T10:00:00+08:00";

FlowQuery query(const Snapshot& s, const char* dst, int64_t now) {
  FlowQuery q;
  parse_address("10.1.1.1", q.src);
  parse_address(dst, q.dst);
  q.sport = 50000;
  q.dport = 443;
  q.proto = 6;
  q.src_zone = s.zone_of(q.src);
  q.dst_zone = s.zone_of(q.dst);
  q.now_ns = now;
  q.sni_state = SniState::kAbsent;
  return q;
}

CategoryTally found(const Snapshot& s, std::vector<const char*> cats) {
  CategoryTally t;
  std::size_t i = 0;
  for (const char* c : cats) {
    CategoryId id = s.find_category(c);
    t.slots[i].category = id;
    t.slots[i++].count = 1;
    t.seen |= 1ull << id;
  }
  return t;
}

// "action: kind[:id] kind..." of a verdict.
std::string verdict(const Snapshot& s, const Verdict& v) {
  std::string out(action_name(v.action));
  out += ":";
  for (std::size_t i = 0; i < v.reason_count; ++i) {
    out += " " + std::string(reason_name(v.reasons[i].kind));
    if (v.reasons[i].category != kNoCategory) out += ":" + s.category(v.reasons[i].category).id;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> one(const std::string& text) {
  return {{"d.toml", text}};
}

TEST(DeclarationDecide, MissingBlocksARequiringCounterpartyAndBasis) {
  auto s = compile({});
  Admission a = s->admit(query(*s, "203.0.113.10", at(kNow)));
  EXPECT_EQ(verdict(*s, a.verdict), "block: declaration_missing whitelisted");
  EXPECT_EQ(a.declaration, kNoDeclaration);
  a = s->admit(query(*s, "203.0.113.30", at(kNow)));  // jp: its basis "cert" requires one
  EXPECT_EQ(verdict(*s, a.verdict), "block: declaration_missing whitelisted");
  a = s->admit(query(*s, "203.0.113.20", at(kNow)));  // de: nothing required
  EXPECT_EQ(verdict(*s, a.verdict), "allow: whitelisted");
}

TEST(DeclarationDecide, MatchingReleasesAndRecordsTheId) {
  auto s = compile(one(signed_by(kDecl, keys().li)));
  ASSERT_EQ(s->declaration_count(), 1u);
  EXPECT_EQ(s->declaration(0).state, DeclarationState::kValid) << s->declaration(0).problem;
  Admission a = s->admit(query(*s, "203.0.113.10", at(kNow)));
  EXPECT_EQ(verdict(*s, a.verdict), "allow: whitelisted");
  ASSERT_EQ(a.declaration, 0);
  EXPECT_EQ(s->declaration(a.declaration).id, "d-sg-1");
  Verdict v = s->decide(a, found(*s, {"pi.contact"}), 0, at(kNow));
  EXPECT_EQ(verdict(*s, v), "allow: whitelisted personal_under_basis:pi.contact");
  // The flow is re-decided when the declaration ends.
  EXPECT_EQ(s->next_change_ns(a, at(kNow)), at("2027-01-01T00:00:00+08:00"));
}

TEST(DeclarationDecide, ExpiredCutsALiveFlowAndRefusesNewOnes) {
  auto s = compile(one(signed_by(kDecl, keys().li)));
  Admission a = s->admit(query(*s, "203.0.113.10", at(kNow)));
  const int64_t later = at("2027-01-01T00:00:00+08:00");
  EXPECT_EQ(verdict(*s, s->decide(a, {}, 0, later)), "block: declaration_missing whitelisted");
  EXPECT_EQ(verdict(*s, s->admit(query(*s, "203.0.113.10", later)).verdict),
            "block: declaration_missing whitelisted");
  EXPECT_EQ(
      verdict(*s, s->admit(query(*s, "203.0.113.10", at("2025-12-31T00:00:00+08:00"))).verdict),
      "block: declaration_missing whitelisted");  // pending: not yet in force
}

TEST(DeclarationDecide, RevokedOrInvalidIsNeverInForce) {
  auto s = compile(one(signed_by(kDecl, keys().li)), {"d-sg-1"});
  EXPECT_EQ(s->declaration(0).state, DeclarationState::kRevoked);
  EXPECT_EQ(verdict(*s, s->admit(query(*s, "203.0.113.10", at(kNow))).verdict),
            "block: declaration_missing whitelisted");
  // A reload with the revocation cuts a flow admitted before it: the dataplane admits it again.
  auto before = compile(one(signed_by(kDecl, keys().li)));
  EXPECT_EQ(before->admit(query(*before, "203.0.113.10", at(kNow))).verdict.action, Action::kAllow);
  auto tampered = replace(signed_by(kDecl, keys().li), "max_bytes = 100", "max_bytes = 999");
  auto bad = compile(one(tampered));
  EXPECT_EQ(bad->declaration(0).state, DeclarationState::kInvalid);
  EXPECT_NE(bad->declaration(0).problem.find("d.toml:12:13: error: bad signature"),
            std::string::npos)
      << bad->declaration(0).problem;
  EXPECT_EQ(verdict(*bad, bad->admit(query(*bad, "203.0.113.10", at(kNow))).verdict),
            "block: declaration_missing whitelisted");
}

TEST(DeclarationDecide, UndeclaredCategoryBlocks) {
  auto s = compile(one(signed_by(kDecl, keys().li)));
  Admission a = s->admit(query(*s, "203.0.113.10", at(kNow)));
  Verdict v = s->decide(a, found(*s, {"pi.contact", "pi.id"}), 0, at(kNow));
  EXPECT_EQ(verdict(*s, v),
            "block: undeclared_category:pi.id whitelisted personal_under_basis:pi.contact "
            "personal_under_basis:pi.id");
}

TEST(DeclarationDecide, BytesBeyondMaxBytesExceed) {
  using C = Snapshot::Charge;
  auto usage = std::make_shared<DeclarationUsage>();
  auto s = compile(one(signed_by(kDecl, keys().li)), {}, usage);
  Admission a = s->admit(query(*s, "203.0.113.10", at(kNow)));
  EXPECT_EQ(s->charge_declaration(a.declaration, 60), C::kCharged);
  EXPECT_EQ(s->charge_declaration(a.declaration, 40), C::kCharged);  // exactly max_bytes = 100
  EXPECT_EQ(s->charge_declaration(a.declaration, 1), C::kExceeded);
  EXPECT_EQ(verdict(*s, s->decide(a, {}, flag::kDeclarationExceeded, at(kNow))),
            "block: declaration_exceeded whitelisted");
  // Cumulative across a reload: the counters live in the shared usage.
  auto again = compile(one(signed_by(kDecl, keys().li)), {}, usage);
  EXPECT_EQ(again->charge_declaration(0, 1), C::kExceeded);
  auto fresh = compile(one(signed_by(kDecl, keys().li)));
  EXPECT_EQ(fresh->charge_declaration(0, 1), C::kCharged);
}

// With a ledger granting budgets (docs/accounting.md "Durable declaration bytes"): nothing
// crosses before a grant; past the grant is a wait unless the store is exhausted.
TEST(DeclarationDecide, BytesWaitForTheLedgersGrant) {
  using C = Snapshot::Charge;
  auto usage = std::make_shared<DeclarationUsage>();
  usage->set_granting();
  auto s = compile(one(signed_by(kDecl, keys().li)), {}, usage);
  Admission a = s->admit(query(*s, "203.0.113.10", at(kNow)));
  DeclarationBytes& b = *s->declaration(a.declaration).bytes;
  EXPECT_EQ(s->charge_declaration(a.declaration, 1), C::kWait);
  EXPECT_EQ(b.used.load(), 0u);
  b.granted = 50;
  EXPECT_EQ(s->charge_declaration(a.declaration, 50), C::kCharged);
  EXPECT_EQ(s->charge_declaration(a.declaration, 1), C::kWait);
  b.exhausted = true;
  EXPECT_EQ(s->charge_declaration(a.declaration, 1), C::kExceeded);
  b.granted = 200;  // more than max_bytes = 100 granted: max_bytes still limits
  b.exhausted = false;
  EXPECT_EQ(s->charge_declaration(a.declaration, 50), C::kCharged);
  EXPECT_EQ(s->charge_declaration(a.declaration, 1), C::kExceeded);
  EXPECT_EQ(b.used.load(), 100u);
}

TEST(DeclarationDecide, DuplicateIdsLeaveOnlyTheFirst) {
  auto s =
      compile({{"a.toml", signed_by(kDecl, keys().li)}, {"b.toml", signed_by(kDecl, keys().li)}});
  ASSERT_EQ(s->declaration_count(), 2u);
  EXPECT_EQ(s->declaration(0).state, DeclarationState::kValid);
  EXPECT_EQ(s->declaration(1).state, DeclarationState::kInvalid);
  EXPECT_NE(s->declaration(1).problem.find("duplicate declaration id 'd-sg-1' (also in a.toml)"),
            std::string::npos);
}

}  // namespace

// With [[exporters]] in the policy, a declaration holds only for its exporter's flows, and one
// naming an exporter the policy does not know is never in force.
namespace {
const char* kTwoExporters = R"(
[[exporters]]
id = "acme"
name = "Acme"
uscc = "91310000775785552L"
prefixes = ["10.1.0.0/17"]
[[exporters]]
id = "beta"
name = "Beta"
uscc = "91440300708461136T"
prefixes = ["10.1.128.0/17"]
)";

std::shared_ptr<const Snapshot> compile_with_exporters(
    const std::vector<std::pair<std::string, std::string>>& f) {
  CompileOptions o;
  o.declaration_files = &f;
  Diagnostics d("policy.toml");
  auto s = compile_policy_text(policy_text() + kTwoExporters, "/etc/dc/policy.toml", d, nullptr, o);
  EXPECT_TRUE(s) << d.format();
  return s;
}
}  // namespace

TEST(DeclarationDecide, HoldsOnlyForItsExporter) {
  auto s = compile_with_exporters(one(signed_by(kDecl, keys().li)));
  ASSERT_EQ(s->declaration_count(), 1u);
  EXPECT_EQ(s->declaration(0).state, DeclarationState::kValid) << s->declaration(0).problem;
  Admission a = s->admit(query(*s, "203.0.113.10", at(kNow)));  // from 10.1.1.1: acme
  EXPECT_EQ(s->exporter(a.exporter).id, "acme");
  EXPECT_EQ(verdict(*s, a.verdict), "allow: whitelisted");
  EXPECT_EQ(a.declaration, 0);
  FlowQuery q = query(*s, "203.0.113.10", at(kNow));
  parse_address("10.1.200.1", q.src);  // beta's host: acme's declaration does not cover it
  Admission b = s->admit(q);
  EXPECT_EQ(s->exporter(b.exporter).id, "beta");
  EXPECT_EQ(verdict(*s, b.verdict), "block: declaration_missing whitelisted");
  EXPECT_EQ(b.declaration, kNoDeclaration);
}

TEST(DeclarationDecide, UnknownExporterIsNeverInForce) {
  auto s = compile_with_exporters(
      one(signed_by(replace(kDecl, "exporter = \"acme\"", "exporter = \"acme-hk\""), keys().li)));
  ASSERT_EQ(s->declaration_count(), 1u);
  EXPECT_EQ(s->declaration(0).state, DeclarationState::kInvalid);
  EXPECT_NE(s->declaration(0).problem.find("unknown exporter 'acme-hk'"), std::string::npos)
      << s->declaration(0).problem;
  Admission a = s->admit(query(*s, "203.0.113.10", at(kNow)));
  EXPECT_EQ(verdict(*s, a.verdict), "block: declaration_missing whitelisted");
}
