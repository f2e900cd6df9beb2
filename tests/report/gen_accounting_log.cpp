// dc_gen_accounting_log POLICY CAPTURE OUTDIR: replays CAPTURE against POLICY through the real
// pipeline with customs accounting counting into a real LMDB store (OUTDIR/state) and writes the
// audit-worthy flow records into a real signed audit log (OUTDIR/audit, key OUTDIR/audit.pub),
// as the appliance's writer thread would. The input of the accounting report goldens
// (tests/report/test_accounting_report.py): their numbers come from here, never from a hand.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "appliance/replay_engine.hpp"
#include "audit/flow_format.hpp"
#include "audit/person_store_backends.hpp"
#include "audit/record.hpp"
#include "policy/policy.hpp"
#include "tests/unit/audit/audit_fixture.hpp"

namespace {

using namespace dc;

int fail(const std::string& what) {
  std::fprintf(stderr, "gen_accounting_log: %s\n", what.c_str());
  return 2;
}

std::unique_ptr<audit::LogWriter> open_log(const std::string& dir, const policy::Snapshot& snap,
                                           audit::testing::FakeClock& clock) {
  audit::WriterOptions o;
  o.dir = dir;
  o.clock = clock.fn();
  o.checkpoint_every_records = 4;
  o.checkpoint_interval = std::chrono::seconds(0);
  o.fsync_interval = std::chrono::milliseconds(0);
  o.start_details = {{"policy_sha256", snap.sha256_hex()},
                     {"policy_id", snap.policy_id()},
                     {"policy_version", snap.policy_version()},
                     {"bases", audit::policy_bases_json(snap)}};
  auto w = audit::LogWriter::open(std::move(o), audit::testing::test_key());
  return w ? std::move(*w) : nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return fail("usage: dc_gen_accounting_log POLICY CAPTURE OUTDIR");
  const std::string out = argv[3];
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (auto eal = appliance::replay_eal_init(); !eal) return fail(eal.error().message);
  policy::Diagnostics diags(argv[1]);
  auto snap = policy::load_policy_file(argv[1], diags);
  if (!snap || !*snap || diags.has_errors()) return fail("policy: " + diags.format());
  audit::testing::FakeClock clock;  // the start record's time; flow records carry their own
  clock.now = std::chrono::sys_days{std::chrono::year{2026} / 3 / 2};
  auto log = open_log(out + "/audit", **snap, clock);
  if (!log) return fail("cannot open the audit log in " + out + "/audit");
  appliance::ReplayOptions ro;
  ro.accounting_store = [&out]() -> std::unique_ptr<audit::PersonStore> {
    auto s = audit::make_lmdb_store(out + "/state");
    return s ? std::move(*s) : nullptr;
  };
  uint64_t records = 0;
  auto stats = appliance::replay_captures(**snap, {argv[2]}, ro, [&](const audit::FlowOutcome& ev) {
    if (ev.kind != audit::OutcomeKind::kFinal || !audit::audit_worthy(ev)) return;
    log->append_flow(audit::flow_record_body(audit::to_flow_record(ev, "report-test-hmac-key")));
    ++records;
  });
  if (!stats) return fail(stats.error().message);
  clock.now += std::chrono::hours(1);
  if (auto c = log->close(); !c) return fail(c.error().message);
  std::ofstream(out + "/audit.pub") << audit::testing::test_key().public_pem();
  std::printf("%llu flow records\n", static_cast<unsigned long long>(records));
  return 0;
}
