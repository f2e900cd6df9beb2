// Customs accounting core (docs/accounting.md): person-key normalisation, keyed digests, the
// threshold / cap table at N-1, N, N+1, the calendar year in the accounting timezone, sensitive
// and non-sensitive counting, distinctness, and the [accounting] policy section.
#include "audit/ledger.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "base/hash.hpp"
#include "base/time.hpp"
#include "policy/policy.hpp"
#include "tests/unit/policy/border_fixture.hpp"

namespace {

using namespace dc;
using policy::PersonKeyKind;

std::string norm(PersonKeyKind k, std::string_view v) {
  uint8_t out[audit::kPersonKeyMax];
  const std::size_t n =
      audit::normalise_person_key(k, {reinterpret_cast<const uint8_t*>(v.data()), v.size()},
                                  std::span<uint8_t, audit::kPersonKeyMax>(out));
  return std::string(reinterpret_cast<const char*>(out), n);
}

TEST(PersonKeys, Normalisation) {
  EXPECT_EQ(norm(PersonKeyKind::kResidentId, "11010519491231002x"), "11010519491231002X");
  EXPECT_EQ(norm(PersonKeyKind::kResidentId, "110105 19491231 0021"), "110105194912310021");
  EXPECT_EQ(norm(PersonKeyKind::kResidentId, "1101051949123100"), "");  // too short
  EXPECT_EQ(norm(PersonKeyKind::kMobile, "13812345678"), "13812345678");
  EXPECT_EQ(norm(PersonKeyKind::kMobile, "+86 138-1234-5678"), "13812345678");
  EXPECT_EQ(norm(PersonKeyKind::kMobile, "0086 138 1234 5678"), "13812345678");
  EXPECT_EQ(norm(PersonKeyKind::kMobile, "8613812345678"), "13812345678");
  EXPECT_EQ(norm(PersonKeyKind::kMobile, "1381234567"), "");
  EXPECT_EQ(norm(PersonKeyKind::kBankCard, "6222 0212 3456 7890 128"), "6222021234567890128");
  EXPECT_EQ(norm(PersonKeyKind::kPassport, "e1234 5678"), "E12345678");
  EXPECT_EQ(norm(PersonKeyKind::kNone, "x"), "");
}

audit::PersonDigest digest(PersonKeyKind k, std::string_view v, uint8_t salt = 1) {
  audit::AccountingKey key{};
  key.fill(salt);
  const std::string n = norm(k, v);
  auto d = audit::person_digest(key, k, {reinterpret_cast<const uint8_t*>(n.data()), n.size()});
  EXPECT_TRUE(d.has_value());
  return d.value();
}

TEST(PersonKeys, Digests) {
  // Two spellings of one mobile number are one person; the kind separates equal digits.
  EXPECT_EQ(digest(PersonKeyKind::kMobile, "+86 13812345678"),
            digest(PersonKeyKind::kMobile, "138-1234-5678"));
  EXPECT_NE(digest(PersonKeyKind::kMobile, "13812345678"),
            digest(PersonKeyKind::kBankCard, "13812345678"));
  EXPECT_NE(digest(PersonKeyKind::kMobile, "13812345678"),
            digest(PersonKeyKind::kMobile, "13812345679"));
  // Keyed: another site key gives another digest.
  EXPECT_NE(digest(PersonKeyKind::kMobile, "13812345678", 1),
            digest(PersonKeyKind::kMobile, "13812345678", 2));
  // Known answer: HMAC-SHA256(32 x 0x01, 0x03 0x00 "13812345678"), first 16 bytes (Python
  // hmac.new(b"\x01" * 32, b"\x03\x00" + b"13812345678", "sha256").hexdigest()[:32]).
  const auto d = digest(PersonKeyKind::kMobile, "13812345678");
  EXPECT_EQ(base::to_hex(std::span<const uint8_t>(d.data(), d.size())),
            "c3a1b04a1d34c1f0cc49e80d72858e26");
}

// The ledger's digester (one keyed HMAC context, restarted per person) gives the digest of a
// fresh context (person_digest) and the known answer, whatever the order and however often.
TEST(PersonKeys, DigesterMatchesTheOneShotDigest) {
  const std::pair<PersonKeyKind, std::string> keys[] = {
      {PersonKeyKind::kMobile, "13812345678"},
      {PersonKeyKind::kMobile, "13812345679"},
      {PersonKeyKind::kBankCard, "6222021234567890128"},
      {PersonKeyKind::kResidentId, "11010519491231002X"},
      {PersonKeyKind::kMobile, ""}};
  for (uint8_t salt : {uint8_t{1}, uint8_t{2}}) {
    audit::AccountingKey key{};
    key.fill(salt);
    audit::PersonDigester digester(key);
    for (int round = 0; round < 3; ++round) {
      for (const auto& [kind, value] : keys) {
        const std::span<const uint8_t> v(reinterpret_cast<const uint8_t*>(value.data()),
                                         value.size());
        auto got = digester.digest(kind, v);
        auto want = audit::person_digest(key, kind, v);
        ASSERT_TRUE(got.has_value());
        ASSERT_TRUE(want.has_value());
        EXPECT_EQ(got.value(), want.value()) << "salt " << int{salt} << " round " << round;
      }
    }
    if (salt == 1) {  // the known answer of PersonKeys.Digests
      const std::string m = "13812345678";
      auto d = digester.digest(PersonKeyKind::kMobile,
                               {reinterpret_cast<const uint8_t*>(m.data()), m.size()});
      ASSERT_TRUE(d.has_value());
      EXPECT_EQ(base::to_hex(std::span<const uint8_t>(d->data(), d->size())),
                "c3a1b04a1d34c1f0cc49e80d72858e26");
    }
    const uint8_t too_long[audit::kPersonKeyMax + 1] = {};
    EXPECT_FALSE(digester.digest(PersonKeyKind::kMobile, too_long).has_value());
  }
}

TEST(Thresholds, MechanismTable) {
  using policy::Mechanism;
  auto scc = policy::mechanism_limits(Mechanism::kStandardContract, "", false);
  EXPECT_EQ(scc.nonsensitive, 999'999u);  // 1,000,000 persons 以上: security assessment
  EXPECT_EQ(scc.sensitive, 9'999u);       // 10,000 sensitive persons 以上
  auto cert = policy::mechanism_limits(Mechanism::kCertification, "", false);
  EXPECT_EQ(cert.nonsensitive, 999'999u);
  EXPECT_EQ(cert.sensitive, 9'999u);
  auto small = policy::mechanism_limits(Mechanism::kExemption, "small_volume", false);
  EXPECT_EQ(small.nonsensitive, 99'999u);  // 不满 100,000
  EXPECT_EQ(small.sensitive, 0u);          // no de-minimis for sensitive PI
  auto hr = policy::mechanism_limits(Mechanism::kExemption, "hr_management", false);
  EXPECT_EQ(hr.nonsensitive, policy::kUnlimited);
  auto sa = policy::mechanism_limits(Mechanism::kSecurityAssessment, "", true);
  EXPECT_EQ(sa.nonsensitive, policy::kUnlimited);
  EXPECT_EQ(sa.sensitive, policy::kUnlimited);
  auto ciio = policy::mechanism_limits(Mechanism::kStandardContract, "", true);
  EXPECT_EQ(ciio.nonsensitive, 0u);
  EXPECT_EQ(ciio.sensitive, 0u);
  EXPECT_EQ(policy::cap_limit(0), policy::kUnlimited);
  EXPECT_EQ(policy::cap_limit(3), 3u);
}

TEST(Thresholds, YearInPolicyTimezone) {
  const int64_t t = base::to_epoch_ns(2026, 12, 31, 16, 30, 0, 0, 0);  // 2026-12-31T16:30Z
  EXPECT_EQ(policy::accounting_year(t, 8 * 60), 2027);
  EXPECT_EQ(policy::accounting_year(t, 0), 2026);
  EXPECT_EQ(policy::accounting_year(t - 3600LL * 1'000'000'000, 8 * 60), 2026);  // 15:30Z
}

TEST(ScopeKeys, Format) {
  using audit::scope_key;
  EXPECT_EQ(scope_key(audit::kExporterN, 2026, "acme", "cp", "SCC-1", "-"), "2026/e=acme/n");
  EXPECT_EQ(scope_key(audit::kBasisS, 2026, "-", "cp", "SCC-1", "-"), "2026/e=-/b=SCC-1/s");
  EXPECT_EQ(scope_key(audit::kCounterpartyN, 2027, "acme", "hq", "SCC-1", "-"),
            "2027/e=acme/c=hq/b=SCC-1/n");
  EXPECT_EQ(scope_key(audit::kDeclarationS, 2026, "acme", "hq", "b", "D-7"), "2026/e=acme/d=D-7/s");
}

constexpr const char* kPolicy = R"(
[policy]
id = "acct"
version = "1"
timezone = "+08:00"

[accounting]
enabled = true
warn_fraction = 0.5

)" DC_TEST_DOM_EXT_BORDER R"(
[[categories]]
id = "pi.id"
name = "ids"
level = "general"
personal = true
detectors = ["cn_resident_id", "cn_mobile"]
provenance = "t"
[[categories]]
id = "pi.card"
name = "cards"
level = "general"
personal = true
sensitive = true
detectors = ["bank_card"]
provenance = "t"

[[legal_bases]]
id = "CAP3"
mechanism = "standard_contract"
reference = "r"
issued = 2025-01-01
expires = 2030-01-01
categories = ["pi.*"]
max_persons = 3
max_sensitive_persons = 2
[[legal_bases]]
id = "SCC"
mechanism = "standard_contract"
reference = "r"
issued = 2025-01-01
expires = 2030-01-01
categories = ["pi.*"]
[[legal_bases]]
id = "SMALL"
mechanism = "exemption"
exemption = "small_volume"
issued = 2025-01-01
expires = 2030-01-01
categories = ["pi.id"]

[[counterparties]]
id = "hq"
name = "HQ"
country = "DE"
legal_bases = ["CAP3", "SCC", "SMALL"]
endpoints = [{ prefixes = ["203.0.113.10/32"] }]
)";

struct Fixture : ::testing::Test {
  void SetUp() override {
    policy::Diagnostics d;
    snap = policy::compile_policy_text(kPolicy, "acct.toml", d);
    ASSERT_TRUE(snap) << d.format();
    store = audit::make_memory_store();
    audit::AccountingKey key{};
    key.fill(7);
    ledger = std::make_unique<audit::Ledger>(*store, key);
    ledger->adopt(snap);
  }
  policy::BasisId basis(std::string_view id) const {
    for (std::size_t i = 0; i < snap->basis_count(); ++i)
      if (snap->basis(static_cast<policy::BasisId>(i)).id == id)
        return static_cast<policy::BasisId>(i);
    return policy::kNoBasis;
  }
  audit::ClaimAnswer claim(uint64_t flow, std::string_view mobile, std::string_view basis_id,
                           uint8_t kinds = policy::kPersonsNonSensitive, uint16_t year = 2026) {
    audit::PersonClaim c;
    c.kinds = kinds;
    c.key_kind = PersonKeyKind::kMobile;
    const std::string n = norm(PersonKeyKind::kMobile, mobile);
    c.key_len = static_cast<uint8_t>(n.size());
    std::copy(n.begin(), n.end(), c.key);
    c.year = year;
    c.counterparty = snap->find_counterparty("hq");
    c.basis = basis(basis_id);
    c.flow_id = flow;
    c.policy = snap.get();
    audit::ClaimAnswer a;
    EXPECT_TRUE(ledger->handle(c, a));
    return a;
  }
  uint64_t count(std::string_view scope) {
    auto r = store->count(scope);
    return r ? r.value() : 0;
  }
  std::shared_ptr<const policy::Snapshot> snap;
  std::unique_ptr<audit::PersonStore> store;
  std::unique_ptr<audit::Ledger> ledger;
};

std::string mobile(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "138%08d", i);
  return b;
}

TEST_F(Fixture, PolicySection) {
  const auto& a = snap->accounting();
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.utc_offset_minutes, 480);
  EXPECT_DOUBLE_EQ(a.warn_fraction, 0.5);
  EXPECT_EQ(a.on_limit, policy::Action::kBlock);
  const auto& names = snap->detector_names();
  for (uint32_t i = 0; i < names.size(); ++i) {
    if (names[i] == "cn_mobile") EXPECT_EQ(snap->person_key_kind(i), PersonKeyKind::kMobile);
    if (names[i] == "bank_card") EXPECT_EQ(snap->person_key_kind(i), PersonKeyKind::kBankCard);
  }
}

TEST_F(Fixture, BasisCapAtNMinus1NNPlus1) {
  EXPECT_EQ(claim(1, mobile(1), "CAP3").status, audit::ClaimStatus::kCounted);
  auto a2 = claim(2, mobile(2), "CAP3");  // N-1
  EXPECT_EQ(a2.status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(a2.counts[audit::kBasisN], 2u);
  auto a3 = claim(3, mobile(3), "CAP3");  // N: the 3rd person of max_persons = 3 is allowed
  EXPECT_EQ(a3.status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(a3.counts[audit::kBasisN], 3u);
  EXPECT_EQ(a3.limits[audit::kBasisN], 3u);
  EXPECT_TRUE(a3.warn);                   // 3 >= 0.5 * 3
  auto a4 = claim(4, mobile(4), "CAP3");  // N+1: refused, nothing counted
  EXPECT_EQ(a4.status, audit::ClaimStatus::kRefused);
  EXPECT_EQ(a4.refused_slot, audit::kBasisN);
  EXPECT_EQ(count("2026/e=-/b=CAP3/n"), 3u);
  EXPECT_EQ(count("2026/e=-/n"), 3u);
  // A person already counted is never refused (and moves no count).
  auto again = claim(5, mobile(2), "CAP3");
  EXPECT_EQ(again.status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(again.added, 0u);
  EXPECT_EQ(count("2026/e=-/c=hq/b=CAP3/n"), 3u);
}

TEST_F(Fixture, SensitiveCapAndBothCounters) {
  const uint8_t both = policy::kPersonsNonSensitive | policy::kPersonsSensitive;
  EXPECT_EQ(claim(1, mobile(1), "CAP3", both).status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(count("2026/e=-/b=CAP3/n"), 1u);  // a person with both kinds counts in both
  EXPECT_EQ(count("2026/e=-/b=CAP3/s"), 1u);
  EXPECT_EQ(claim(2, mobile(2), "CAP3", policy::kPersonsSensitive).status,
            audit::ClaimStatus::kCounted);
  auto a = claim(3, mobile(3), "CAP3", policy::kPersonsSensitive);  // max_sensitive_persons = 2
  EXPECT_EQ(a.status, audit::ClaimStatus::kRefused);
  EXPECT_EQ(a.refused_slot, audit::kBasisS);
  EXPECT_EQ(count("2026/e=-/b=CAP3/n"), 1u);
}

// A flow blocked (or timed out) before its claim's answer: its record names the scopes it was
// claimed in, with the limits of the policy and no count (null); answered scopes keep theirs.
TEST_F(Fixture, RecordNamesTheScopesOfAnUnansweredClaim) {
  audit::AccountingOutcome o;
  o.claimed = true;
  o.unavailable = true;
  o.year = 2026;
  o.exporter = audit::kNoExporterId;
  o.counterparty = snap->find_counterparty("hq");
  o.basis = basis("CAP3");
  o.kinds = policy::kPersonsNonSensitive;
  auto j = audit::accounting_json(o, *snap);
  ASSERT_TRUE(j["scopes"].is_array());
  ASSERT_EQ(j["scopes"].size(), 3u) << j.dump();
  EXPECT_EQ(j["scopes"][0]["scope"], "2026/e=-/n");
  EXPECT_TRUE(j["scopes"][0]["count"].is_null());
  EXPECT_EQ(j["scopes"][0]["limit"], 999999u);  // standard_contract: < 1,000,000
  EXPECT_EQ(j["scopes"][1]["scope"], "2026/e=-/b=CAP3/n");
  EXPECT_EQ(j["scopes"][1]["limit"], 3u);
  EXPECT_EQ(j["scopes"][2]["scope"], "2026/e=-/c=hq/b=CAP3/n");
  EXPECT_TRUE(j["scopes"][2]["limit"].is_null());
  // A first answer came (counts known), then a sensitive category re-claimed with no answer.
  auto a = claim(1, mobile(1), "CAP3");
  o.used = a.used;
  for (unsigned i = 0; i < audit::kScopeSlots; ++i) {
    o.counts[i] = a.counts[i];
    o.limits[i] = a.limits[i];
  }
  o.kinds |= policy::kPersonsSensitive;
  j = audit::accounting_json(o, *snap);
  ASSERT_EQ(j["scopes"].size(), 6u) << j.dump();
  EXPECT_EQ(j["scopes"][0]["count"], 1u);  // 2026/e=-/n, answered
  EXPECT_EQ(j["scopes"][1]["scope"], "2026/e=-/s");
  EXPECT_TRUE(j["scopes"][1]["count"].is_null());
  EXPECT_EQ(j["scopes"][3]["scope"], "2026/e=-/b=CAP3/s");
  EXPECT_EQ(j["scopes"][3]["limit"], 2u);  // max_sensitive_persons
  // Nothing claimed: no accounting member at all.
  EXPECT_TRUE(audit::accounting_json(audit::AccountingOutcome{}, *snap).is_null());
}

TEST_F(Fixture, ReclaimWhenSensitiveComesLater) {
  EXPECT_EQ(claim(9, mobile(1), "SCC").status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(claim(9, mobile(2), "SCC").status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(count("2026/e=-/b=SCC/s"), 0u);
  audit::PersonClaim r;
  r.op = audit::ClaimOp::kReclaim;
  r.kinds = policy::kPersonsNonSensitive | policy::kPersonsSensitive;
  r.year = 2026;
  r.counterparty = snap->find_counterparty("hq");
  r.basis = basis("SCC");
  r.flow_id = 9;
  r.policy = snap.get();
  audit::ClaimAnswer a;
  ASSERT_TRUE(ledger->handle(r, a));
  EXPECT_EQ(a.status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(a.flow_persons, 2u);
  EXPECT_EQ(count("2026/e=-/b=SCC/s"), 2u);
  EXPECT_EQ(count("2026/e=-/b=SCC/n"), 2u);
  audit::PersonClaim end;
  end.op = audit::ClaimOp::kEnd;
  end.flow_id = 9;
  EXPECT_FALSE(ledger->handle(end, a));
  EXPECT_EQ(ledger->flows(), 0u);
}

TEST_F(Fixture, Distinctness) {
  // The same person twice in a flow, in two flows, and in two spellings: one person.
  claim(1, "13812345678", "SCC");
  claim(1, "13812345678", "SCC");
  claim(2, "+86 138 1234 5678", "SCC");
  claim(3, "0086-138-1234-5678", "SCC");
  EXPECT_EQ(count("2026/e=-/b=SCC/n"), 1u);
  EXPECT_EQ(count("2026/e=-/n"), 1u);
  claim(4, "13812345679", "SCC");
  EXPECT_EQ(count("2026/e=-/n"), 2u);
  // Another calendar year counts afresh.
  claim(5, "13812345678", "SCC", policy::kPersonsNonSensitive, 2027);
  EXPECT_EQ(count("2027/e=-/n"), 1u);
  EXPECT_EQ(count("2026/e=-/n"), 2u);
}

TEST_F(Fixture, SmallVolumeRefusesSensitive) {
  auto a = claim(1, mobile(1), "SMALL", policy::kPersonsSensitive);
  EXPECT_EQ(a.status, audit::ClaimStatus::kRefused);  // sensitive < 1
  EXPECT_EQ(a.refused_slot, audit::kExporterS);
  EXPECT_EQ(claim(2, mobile(2), "SMALL").status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(a.limits[audit::kExporterS], 0u);
}

// The sensitive threshold of a standard contract: 9,999 persons pass, the 10,000th is refused.
TEST_F(Fixture, SensitiveThresholdOfStandardContract) {
  for (int i = 0; i < 9'998; ++i)
    ASSERT_EQ(claim(1, mobile(i), "SCC", policy::kPersonsSensitive).status,
              audit::ClaimStatus::kCounted);
  auto n1 = claim(1, mobile(9'998), "SCC", policy::kPersonsSensitive);  // 9,999th
  EXPECT_EQ(n1.status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(n1.counts[audit::kExporterS], 9'999u);
  auto n = claim(1, mobile(9'999), "SCC", policy::kPersonsSensitive);  // 10,000th: 以上
  EXPECT_EQ(n.status, audit::ClaimStatus::kRefused);
  EXPECT_EQ(n.refused_slot, audit::kExporterS);
  EXPECT_EQ(count("2026/e=-/s"), 9'999u);
  auto again = claim(2, mobile(5), "SCC", policy::kPersonsSensitive);  // known: still passes
  EXPECT_EQ(again.status, audit::ClaimStatus::kCounted);
}

// The non-sensitive lines at N-1 / N / N+1 through the ledger: the exporter scope is filled to
// just under the line directly in the store (digests no person key can produce), then the ledger
// claims real persons across it. small_volume: 不满 100,000 (99,999 pass, the 100,000th needs a
// standard contract); standard contract: 1,000,000 以上 needs a security assessment.
void prefill(audit::PersonStore& store, const std::string& scope, uint32_t n) {
  const audit::ScopeLimit open[] = {{scope, 0}};
  for (uint32_t i = 0; i < n; ++i) {
    audit::PersonDigest d{};
    std::memcpy(d.data(), &i, sizeof i);
    d[15] = 0xee;
    ASSERT_TRUE(store.claim(d, open));
  }
  ASSERT_EQ(store.count(scope).value(), n);
}

TEST_F(Fixture, SmallVolumeLineAtNMinus1NNPlus1) {
  prefill(*store, "2026/e=-/n", 99'997);
  auto a = claim(1, mobile(1), "SMALL");  // 99,998
  EXPECT_EQ(a.status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(a.limits[audit::kExporterN], 99'999u);
  a = claim(2, mobile(2), "SMALL");  // 99,999 = N-1 of the 100,000 line: still exempt
  EXPECT_EQ(a.status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(a.counts[audit::kExporterN], 99'999u);
  a = claim(3, mobile(3), "SMALL");  // the 100,000th (N): refused
  EXPECT_EQ(a.status, audit::ClaimStatus::kRefused);
  EXPECT_EQ(a.refused_slot, audit::kExporterN);
  EXPECT_EQ(claim(4, mobile(4), "SMALL").status, audit::ClaimStatus::kRefused);  // N+1
  EXPECT_EQ(claim(5, mobile(2), "SMALL").status, audit::ClaimStatus::kCounted);  // known
  EXPECT_EQ(count("2026/e=-/n"), 99'999u);
  EXPECT_EQ(count("2026/e=-/b=SMALL/n"), 2u);
}

TEST_F(Fixture, StandardContractMillionLineAtNMinus1NNPlus1) {
  prefill(*store, "2026/e=-/n", 999'998);
  auto a = claim(1, mobile(1), "SCC");  // 999,999 = N-1 of 1,000,000
  EXPECT_EQ(a.status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(a.counts[audit::kExporterN], 999'999u);
  EXPECT_EQ(a.limits[audit::kExporterN], 999'999u);
  a = claim(2, mobile(2), "SCC");  // the 1,000,000th (N, 以上): a security assessment is needed
  EXPECT_EQ(a.status, audit::ClaimStatus::kRefused);
  EXPECT_EQ(a.refused_slot, audit::kExporterN);
  EXPECT_EQ(a.counts[audit::kExporterN], 999'999u);
  EXPECT_EQ(claim(3, mobile(3), "SCC").status, audit::ClaimStatus::kRefused);  // N+1
  EXPECT_EQ(claim(4, mobile(1), "SCC").status, audit::ClaimStatus::kCounted);  // known
  EXPECT_EQ(count("2026/e=-/n"), 999'999u);
  EXPECT_EQ(count("2026/e=-/b=SCC/n"), 1u);  // a refused claim counted nowhere
}

// The ledger builds a flow's scopes once and reuses them: every claim of one flow must still
// count where its own year, basis, kinds and policy generation say.
TEST_F(Fixture, OneFlowsClaimsCountInTheirOwnScopes) {
  const uint64_t flow = 7;
  EXPECT_EQ(claim(flow, mobile(1), "SCC").status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(count("2026/e=-/b=SCC/n"), 1u);
  auto a = claim(flow, mobile(2), "CAP3");  // the flow's basis changed
  EXPECT_EQ(a.status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(a.limits[audit::kBasisN], 3u);
  EXPECT_EQ(count("2026/e=-/b=CAP3/n"), 1u);
  EXPECT_EQ(count("2026/e=-/b=SCC/n"), 1u);
  EXPECT_EQ(claim(flow, mobile(3), "CAP3", policy::kPersonsNonSensitive, 2027).status,
            audit::ClaimStatus::kCounted);  // a new calendar year
  EXPECT_EQ(count("2027/e=-/b=CAP3/n"), 1u);
  EXPECT_EQ(count("2026/e=-/b=CAP3/n"), 1u);
  a = claim(flow, mobile(4), "CAP3", policy::kPersonsSensitive);  // other kinds
  EXPECT_EQ(a.status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(a.limits[audit::kBasisS], 2u);
  EXPECT_EQ(count("2026/e=-/b=CAP3/s"), 1u);
  EXPECT_EQ(count("2026/e=-/b=CAP3/n"), 1u);
  // A reloaded policy (a new generation) with another cap: the flow's next claim has its limit.
  std::string text = kPolicy;
  const std::string cap = "max_persons = 3";
  text.replace(text.find(cap), cap.size(), "max_persons = 5");
  policy::Diagnostics d;
  auto next = policy::compile_policy_text(text, "acct.toml", d);
  ASSERT_TRUE(next) << d.format();
  ledger->adopt(next);
  audit::PersonClaim c;
  c.kinds = policy::kPersonsNonSensitive;
  c.key_kind = PersonKeyKind::kMobile;
  const std::string n = norm(PersonKeyKind::kMobile, mobile(5));
  c.key_len = static_cast<uint8_t>(n.size());
  std::copy(n.begin(), n.end(), c.key);
  c.year = 2026;
  c.counterparty = next->find_counterparty("hq");
  c.basis = basis("CAP3");  // the same policy text: the same ids
  c.flow_id = flow;
  c.policy = next.get();
  audit::ClaimAnswer b;
  ASSERT_TRUE(ledger->handle(c, b));
  EXPECT_EQ(b.status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(b.limits[audit::kBasisN], 5u);
  EXPECT_EQ(count("2026/e=-/b=CAP3/n"), 2u);
  // And back to the first generation's limit with a claim that names it.
  a = claim(flow, mobile(6), "CAP3");
  EXPECT_EQ(a.limits[audit::kBasisN], 3u);
  EXPECT_EQ(a.counts[audit::kBasisN], 3u);
}

TEST_F(Fixture, UnknownGenerationIsUnavailable) {
  audit::PersonClaim c;
  c.key_kind = PersonKeyKind::kMobile;
  c.key_len = 11;
  std::copy_n("13812345678", 11, c.key);
  c.kinds = policy::kPersonsNonSensitive;
  c.policy = nullptr;
  audit::ClaimAnswer a;
  ASSERT_TRUE(ledger->handle(c, a));
  EXPECT_EQ(a.status, audit::ClaimStatus::kUnavailable);
}

TEST(AccountingPolicy, DefaultsAndErrors) {
  policy::Diagnostics d;
  auto off = policy::compile_policy_text(
      "[policy]\nid=\"p\"\nversion=\"1\"\ntimezone=\"+08:00\"\n[[zones]]\nid=\"d\"\n"
      "kind=\"domestic\"\nprefixes=[\"10.0.0.0/8\"]\n",
      "p.toml", d);
  ASSERT_TRUE(off) << d.format();
  EXPECT_FALSE(off->accounting().enabled);
  policy::Diagnostics bad;
  auto b = policy::compile_policy_text(
      "[policy]\nid=\"p\"\nversion=\"1\"\ntimezone=\"+08:00\"\n[accounting]\nenabled=true\n"
      "on_limit=\"maybe\"\nwarn_fraction=2.0\nperson_keys=[\"email\", \"nosuch\"]\n",
      "p.toml", bad);
  EXPECT_FALSE(b);
  const std::string msg = bad.format();
  EXPECT_NE(msg.find("on_limit"), std::string::npos) << msg;
  EXPECT_NE(msg.find("warn_fraction"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not identify a person"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nosuch"), std::string::npos) << msg;
}

}  // namespace

namespace {
// The exporter names the e= scopes, and a CIIO exporter's persons are refused under anything but
// a security assessment (regulation.md §1.2: a CIIO providing any PI needs one).
TEST(LedgerExporters, ScopesAreTheExportersAndCiioNeedsAnAssessment) {
  const std::string text = std::string(kPolicy) + R"(
[[exporters]]
id = "acme"
name = "Acme"
uscc = "91310000775785552L"
prefixes = ["10.1.0.0/17"]
[[exporters]]
id = "grid"
name = "Grid"
uscc = "91440300708461136T"
prefixes = ["10.1.128.0/17"]
ciio = true
)";
  policy::Diagnostics d;
  auto snap = policy::compile_policy_text(text, "acct.toml", d);
  ASSERT_TRUE(snap) << d.format();
  auto store = audit::make_memory_store();
  audit::AccountingKey key{};
  key.fill(7);
  audit::Ledger ledger(*store, key);
  ledger.adopt(snap);
  auto claim = [&](const char* exporter, int person) {
    audit::PersonClaim c;
    c.kinds = policy::kPersonsNonSensitive;
    c.key_kind = PersonKeyKind::kMobile;
    const std::string n = norm(PersonKeyKind::kMobile, mobile(person));
    c.key_len = static_cast<uint8_t>(n.size());
    std::copy(n.begin(), n.end(), c.key);
    c.year = 2026;
    c.exporter = snap->find_exporter(exporter);
    c.counterparty = snap->find_counterparty("hq");
    c.basis = 1;  // "SCC": a standard contract
    c.flow_id = static_cast<uint64_t>(person);
    c.policy = snap.get();
    audit::ClaimAnswer a;
    EXPECT_TRUE(ledger.handle(c, a));
    return a;
  };
  ASSERT_EQ(snap->basis(1).id, "SCC");
  EXPECT_EQ(claim("acme", 1).status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(claim("acme", 2).status, audit::ClaimStatus::kCounted);
  EXPECT_EQ(store->count("2026/e=acme/n").value(), 2u);
  EXPECT_EQ(store->count("2026/e=acme/b=SCC/n").value(), 2u);
  EXPECT_EQ(store->count("2026/e=-/n").value(), 0u);
  auto g = claim("grid", 3);
  EXPECT_EQ(g.status, audit::ClaimStatus::kRefused);
  EXPECT_EQ(g.refused_slot, audit::kExporterN);
  EXPECT_EQ(g.limits[audit::kExporterN], 0u);
  EXPECT_EQ(store->count("2026/e=grid/n").value(), 0u);
}
}  // namespace
