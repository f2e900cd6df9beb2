// dc_gen_report_log OUTDIR: writes a deterministic multi-day audit log for the `audit report`
// tests (OUTDIR/audit, OUTDIR/audit.pub): a week of ~3,000 flows to four counterparties and none,
// two runs, a policy reload and a failed one, blocks and alerts with evidence captures, and flow
// records carrying hostile strings (markup in SNI, Host and value paths). Same bytes every run:
// fake clock, fixed signing key, a fixed pseudo-random sequence.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tests/unit/audit/audit_fixture.hpp"

namespace {

using namespace dc::audit;
using dc::audit::testing::test_key;

struct Lcg {  // Knuth's MMIX constants: a fixed sequence on every platform
  std::uint64_t s = 42;
  std::uint32_t next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(s >> 33);
  }
  std::uint32_t below(std::uint32_t n) { return next() % n; }
};

struct Party {
  const char* id;
  const char* basis_id;
  const char* kind;
  const char* ref;
  const char* sni;
  const char* ip;
};
constexpr Party kParties[] = {
    {"sg-analytics", "scc-sg-2026", "standard_contract", "SCC-SG-2026-014",
     "api.sg-analytics.example", "203.0.113.10"},
    {"de-payroll", "cert-de-2025", "certification", "CERT-DE-88", "upload.payroll.example",
     "198.51.100.20"},
    {"us-cloud", "sa-us-2024", "security_assessment", "CAC-SA-2024-0031", "s3.us-cloud.example",
     "192.0.2.30"},
    {"hk-hr", "exempt-hr", "exemption", "exempt-hr", "hr.hk.example", "198.51.100.77"},
};

nlohmann::ordered_json bases_json(bool second_policy) {
  auto b = [](const char* id, const char* kind, const char* ref, const char* expires) {
    return nlohmann::ordered_json{
        {"id", id}, {"kind", kind}, {"ref", ref}, {"status", "active"}, {"expires", expires}};
  };
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  j.push_back(b("scc-sg-2026", "standard_contract", "SCC-SG-2026-014", "2026-06-16T00:00:00Z"));
  j.push_back(b("cert-de-2025", "certification", "CERT-DE-88", "2026-08-01T00:00:00Z"));
  j.push_back(b("sa-us-2024", "security_assessment", "CAC-SA-2024-0031", "2027-03-01T00:00:00Z"));
  if (!second_policy) j.push_back(b("exempt-hr", "exemption", "exempt-hr", "2026-05-21T00:00:00Z"));
  return j;
}

const std::string kPolicyA(64, 'a'), kPolicyB(64, 'b');

// A flow of `party` (nullptr: none whitelisted) at `t`; `kind` picks the verdict and reasons.
FlowRecord make_flow(Lcg& rng, std::uint64_t id, TimePoint t, const Party* party, int kind,
                     const std::string& policy) {
  FlowRecord f;
  f.time = t;
  f.flow_id = id;
  f.community_id = "1:gen" + std::to_string(id);
  f.src_ip = "10.1." + std::to_string(rng.below(4)) + "." + std::to_string(10 + rng.below(20));
  f.src_port = static_cast<std::uint16_t>(40000 + id % 20000);
  f.dest_ip = party ? party->ip : "192.0.2.200";
  f.dest_port = 443;
  f.proto = "TCP";
  f.src_zone = rng.below(5) == 0 ? "lab" : "domestic";
  f.dest_zone = "crossborder";
  f.policy_sha256 = policy;
  f.foreign_side = "dest";
  f.pkts_toserver = 10 + rng.below(50);
  f.pkts_toclient = 8 + rng.below(40);
  f.bytes_toserver = 2000 + rng.below(200000);
  f.bytes_toclient = 1000 + rng.below(50000);
  f.exported_packets = f.pkts_toserver;
  f.exported_bytes = f.bytes_toserver;
  f.received_packets = f.pkts_toclient;
  f.received_bytes = f.bytes_toclient;
  f.verdict = "allow";
  f.action = "forward";
  if (party == nullptr) {
    f.verdict = "block";
    f.action = "reset";
    f.reasons.push_back({{"kind", "no_counterparty"}, {"action", "block"}});
    f.exported_bytes = f.exported_packets = f.received_bytes = f.received_packets = 0;
    return f;
  }
  f.counterparty = party->id;
  f.sni = party->sni;
  f.server_name_from = "sni";
  nlohmann::ordered_json considered = {
      {"id", party->basis_id}, {"kind", party->kind}, {"ref", party->ref}, {"outcome", "covers"}};
  nlohmann::ordered_json listed = {{"kind", "whitelisted"},
                                   {"action", "allow"},
                                   {"counterparty", party->id},
                                   {"basis", party->basis_id}};
  if (kind == 1) {  // an ID number to a counterparty whose basis does not cover it: blocked
    f.verdict = "block";
    f.action = "reset";
    f.reasons.push_back({{"kind", "personal_without_basis"},
                         {"action", "block"},
                         {"category", "pi.identity"},
                         {"detector", "cn_resident_id"},
                         {"count", 2},
                         {"counterparty", party->id}});
    f.categories.push_back({"pi.identity", 2, "very_likely"});
    f.values.push_back({"pi.identity", "110105********002X", std::string(64, 'e'),
                        "http.request.body > gzip > json"});
    considered["outcome"] = "does_not_cover";
    considered["category"] = "pi.identity";
    f.exported_bytes = 517;  // the handshake and request head crossed before the block
    f.received_bytes = 0;
  } else if (kind == 2) {  // an HTTP framing anomaly: alert only
    f.verdict = "alert";
    f.action = "alert";
    f.reasons.push_back({{"kind", "http_anomaly"},
                         {"action", "alert"},
                         {"detail", "content_length_and_transfer_encoding"}});
  } else if (kind == 3) {  // phone numbers covered by the basis
    f.reasons.push_back({{"kind", "personal_under_basis"},
                         {"action", "allow"},
                         {"category", "pi.phone"},
                         {"count", 3},
                         {"basis", party->basis_id}});
    f.categories.push_back({"pi.phone", 3, "likely"});
  }
  f.reasons.push_back(listed);
  if (f.verdict != "block") {
    f.legal_basis = party->kind;
    f.legal_basis_ref = party->ref;
    f.legal_basis_id = party->basis_id;
  }
  f.bases_considered.push_back(considered);
  return f;
}

// A two-frame evidence capture for a blocked flow.
void add_evidence(EvidenceStore& store, FlowRecord& f, std::uint64_t id) {
  auto cap = store.begin("flow-" + std::to_string(id));
  if (!cap) return;
  std::vector<std::uint8_t> frame(74, static_cast<std::uint8_t>(id));
  (*cap)->add(f.time, frame);
  (*cap)->add(f.time + std::chrono::microseconds(250), frame);
  if (auto ref = (*cap)->finish()) f.evidence = *ref;
}

// The hostile strings a tampered-with peer could put in a record: they must stay text.
void make_hostile(FlowRecord& f) {
  f.sni = "<script>alert('sni')</script><img src=\"http://198.51.100.99/x.png\">";
  f.http_host = "\"><iframe src=\"https://evil.example/\"></iframe>";
  if (!f.values.empty())
    f.values[0].path = "http.request.body > </td><style>@import url(x)</style>";
}

std::unique_ptr<LogWriter> open_run(const std::string& dir, dc::audit::testing::FakeClock& clock,
                                    const std::string& policy, bool second_policy) {
  WriterOptions o;
  o.dir = dir;
  o.clock = clock.fn();
  o.checkpoint_every_records = 500;
  o.checkpoint_interval = std::chrono::seconds(0);
  o.max_file_records = 1200;
  o.max_file_bytes = 0;
  o.fsync_every_records = 0;
  o.fsync_interval = std::chrono::milliseconds(0);
  o.start_details = {{"policy_sha256", policy},
                     {"policy_id", "ftz-demo"},
                     {"policy_version", second_policy ? "2026.2" : "2026.1"},
                     {"config", "/etc/datacustoms/appliance.toml"},
                     {"bases", bases_json(second_policy)}};
  auto w = LogWriter::open(std::move(o), test_key());
  if (!w) {
    std::fprintf(stderr, "gen: %s\n", w.error().message.c_str());
    std::exit(2);
  }
  return std::move(*w);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: dc_gen_report_log OUTDIR\n");
    return 2;
  }
  const std::string out = argv[1], dir = out + "/audit";
  std::filesystem::create_directories(out);
  {
    std::ofstream pub(out + "/audit.pub");
    pub << test_key().public_pem();
  }
  dc::audit::testing::FakeClock clock;
  clock.now = std::chrono::sys_days{std::chrono::year{2026} / 5 / 18};
  Lcg rng;
  std::string policy = kPolicyA;
  auto w = open_run(dir, clock, policy, false);
  auto store = EvidenceStore::open(dir, EvidenceLimits{});
  if (!store) return 2;
  const int kFlows = 3000;
  for (int i = 1; i <= kFlows; ++i) {
    clock.now += std::chrono::seconds(180 + rng.below(60));  // ~7 days in all
    const std::uint32_t pick = rng.below(100);
    const Party* party = pick < 3 ? nullptr : &kParties[pick % 4];
    if (policy == kPolicyB && party == &kParties[3]) party = &kParties[0];
    const std::uint32_t roll = rng.below(100);
    int kind = roll < 4 ? 1 : roll < 7 ? 2 : roll < 30 ? 3 : 0;
    if (i == 777) {  // the blocked flow whose record carries hostile strings
      party = &kParties[1];
      kind = 1;
    }
    FlowRecord f = make_flow(rng, static_cast<std::uint64_t>(i), clock.now, party, kind, policy);
    if (f.verdict == "block" && i % 10 != 0) add_evidence(**store, f, i);
    if (f.verdict == "block" && i % 10 == 0)
      f.evidence_missing = "no packets kept: evidence buffers exhausted";
    if (i == 777) make_hostile(f);
    w->append_flow(flow_record_body(f));
    if (i == 900) {  // day 3: the policy is reloaded (the exemption is gone)
      policy = kPolicyB;
      w->append_event(RecordType::kPolicyReload, {{"file", "/etc/datacustoms/policy.toml"},
                                                  {"previous_sha256", kPolicyA},
                                                  {"result", "ok"},
                                                  {"generation", 2},
                                                  {"policy_sha256", kPolicyB},
                                                  {"policy_version", "2026.2"},
                                                  {"bases", bases_json(true)}});
    }
    if (i == 1500)
      w->append_event(RecordType::kPolicyReload,
                      {{"file", "/etc/datacustoms/policy.toml"},
                       {"previous_sha256", kPolicyB},
                       {"result", "failed"},
                       {"error", "policy.toml:12:3: error: unknown category 'pi.idenity'"}});
    if (i == 2200) {  // day 6: a clean restart
      if (!w->close()) return 2;
      clock.now += std::chrono::minutes(5);
      w = open_run(dir, clock, policy, true);
    }
  }
  if (!w->close()) return 2;
  std::printf("wrote %d flows to %s\n", kFlows, dir.c_str());
  return 0;
}
