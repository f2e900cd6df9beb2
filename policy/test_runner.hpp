#pragma once
// [[test]] cases: the compliance officer's executable examples. Each case is one flow (opener,
// responder, optional SNI), a payload (inline or a file, scanned with the policy's own detector
// database) or synthetic findings, optional condition flags, a time, and the expected verdict and
// reasons. Cases never read the wall clock: `at` or [policy] test_time is "now".
// Control plane only (allocates, reads payload files).
#include <functional>
#include <string>
#include <vector>

#include "policy/diagnostics.hpp"
#include "policy/model.hpp"
#include "policy/snapshot.hpp"

namespace dc::policy {

// Static checks of the cases (addresses, category ids, reason names, flags, expect values,
// a time). `snap` may be null when the policy itself failed to compile; checks needing it are
// then skipped.
void validate_tests(const PolicyDoc& doc, const Snapshot* snap, Diagnostics& diags);

struct TestOutcome {
  std::string name;
  Pos pos;
  bool passed = false;
  bool skipped = false;  // a capture case without a capture evaluator (not a failure)
  std::string expected;  // "block: core_data:geo.survey, ..."
  std::string actual;    // Snapshot::describe of the verdict
  std::string detail;    // why it failed / what was scanned
};

// Decides a capture case: replays `paths` (resolved) through the packet pipeline and returns the
// verdict of the flow opened from t.from to t.to. The policy module has no packet engine (no
// DPDK); `datacustoms policy test` supplies one (appliance/replay_engine).
using CaptureEvaluator = std::function<bool(const TestDoc& t, const std::vector<std::string>& paths,
                                            Verdict& out, std::string& error)>;

// Runs every case against `snap`. Payload and capture files are resolved relative to the policy
// file's directory. Capture cases need `capture`; without one they are skipped. Never throws.
std::vector<TestOutcome> run_tests(const PolicyDoc& doc, const Snapshot& snap,
                                   const CaptureEvaluator* capture = nullptr);

// The verdict for one case (exposed for unit tests). Returns false with `error` set when the
// case cannot be evaluated (unreadable payload file, scanner failure).
bool evaluate_case(const PolicyDoc& doc, const TestDoc& t, const Snapshot& snap, Verdict& out,
                   std::string& error, std::string* scan_log = nullptr);

}  // namespace dc::policy
