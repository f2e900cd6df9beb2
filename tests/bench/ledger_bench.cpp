// The accounting ledger's own cost per claim (docs/performance.md "Accounting on"): claims through
// Ledger::handle with the memory store, as the ledger thread takes them from the workers' rings
// (digest, scopes and limits of the flow, store). The demo policy with [accounting] enabled;
// flows of the sg-analytics counterparty under its standard contract (exporter, basis and
// counterparty scopes, non-sensitive). Run by hand:
//   <build>/tests/bench/ledger_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "audit/ledger.hpp"
#include "policy/policy.hpp"

namespace {

using namespace dc;

std::shared_ptr<const policy::Snapshot> demo_policy() {
  std::ifstream in(std::string(DC_SOURCE_DIR) + "/examples/policy/ftz-demo.toml");
  std::stringstream text;
  text << in.rdbuf() << "\n[accounting]\nenabled = true\n";
  policy::Diagnostics d;
  auto snap = policy::compile_policy_text(text.str(), "ftz-demo.toml", d);
  if (!snap)
    std::fprintf(stderr, "ledger_bench: the demo policy does not compile:\n%s\n",
                 d.format().c_str());
  return snap;
}

policy::BasisId basis_id(const policy::Snapshot& s, std::string_view id) {
  for (std::size_t i = 0; i < s.basis_count(); ++i)
    if (s.basis(static_cast<policy::BasisId>(i)).id == id) return static_cast<policy::BasisId>(i);
  return policy::kNoBasis;
}

// range(0): flows open at once; range(1): distinct persons per flow. Each claim names the next
// flow in turn and that flow's next person, so after the first round every claim is of a person
// the store holds already (the steady state of a flow that repeats its records).
void BM_LedgerClaims(benchmark::State& state) {
  const auto snap = demo_policy();
  if (!snap) return state.SkipWithError("no policy");
  auto store = audit::make_memory_store();
  audit::AccountingKey key{};
  key.fill(7);
  audit::Ledger ledger(*store, key);
  ledger.adopt(snap);
  const auto flows = static_cast<uint64_t>(state.range(0));
  const auto persons = static_cast<uint64_t>(state.range(1));
  audit::PersonClaim c;
  c.kinds = policy::kPersonsNonSensitive;
  c.key_kind = policy::PersonKeyKind::kMobile;
  c.key_len = 11;
  c.year = 2026;
  c.counterparty = snap->find_counterparty("sg-analytics");
  c.basis = basis_id(*snap, "SCC-2025-0042");
  c.policy = snap.get();
  audit::ClaimAnswer a;
  uint64_t i = 0, refused = 0;
  for (auto _ : state) {
    const uint64_t flow = i % flows, person = (i / flows) % persons;
    c.flow_id = flow + 1;
    char digits[16];
    std::snprintf(digits, sizeof digits, "138%08llu",
                  static_cast<unsigned long long>(flow * persons + person));
    std::copy(digits, digits + 11, c.key);
    ledger.handle(c, a);
    refused += a.status != audit::ClaimStatus::kCounted;
    ++i;
  }
  if (refused != 0) state.SkipWithError("a claim was not counted");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LedgerClaims)->Args({64, 16})->Args({1024, 4});

}  // namespace

BENCHMARK_MAIN();
