// libFuzzer target for the policy compiler: policy/loader.cpp (toml++ parse + typed reads),
// policy/compile.cpp (semantic checks, tables, the detector database) and, on every accepted
// policy, a first admission and verdict (policy/decide.cpp).
//
// Input: the policy file's bytes, as `datacustoms policy check` would read them. Invariants:
//  * errors  => compile_policy_text returns nullptr, and at least one error line is formatted;
//  * no errors => a snapshot, whose sha256_hex() is 64 lower-case hex digits and equals the
//    SHA-256 of exactly the input bytes (the audit log records it: a wrong hash would misattribute
//    verdicts to a policy);
//  * the detector -> category map only names categories that exist, one per database detector;
//  * a first flow's verdict respects its fixed-size bounds.
// [[test]] cases are validated (CompileOptions::check_tests) but never run: running them could
// read payload files relative to the working directory.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/hash.hpp"
#include "inspect/detect/detectors.hpp"
#include "policy/policy.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace dc::policy;

// Policies are human-written files of a few KiB (the demo is 19 KiB); larger inputs only slow the
// fuzzer down without reaching new code.
constexpr size_t kMaxInput = 64 * 1024;

bool is_lower_hex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

void check_snapshot(const Snapshot& s, std::string_view text) {
  CHECK(s.sha256_hex().size() == 64);
  CHECK(is_lower_hex(s.sha256_hex()));
  auto expect = dc::base::sha256(text);
  CHECK(s.sha256() == expect);
  CHECK(s.sha256_hex() == dc::base::to_hex(expect));

  CHECK(s.category_count() <= kMaxCategories);
  const auto& names = s.detector_names();
  if (s.detector_db()) CHECK(s.detector_db()->detector_count() == names.size());
  uint64_t valid = s.category_count() == 64 ? ~0ull : (1ull << s.category_count()) - 1;
  for (uint32_t d = 0; d < names.size(); ++d) CHECK((s.detector_categories(d) & ~valid) == 0);
  CHECK(s.detector_categories(static_cast<uint32_t>(names.size())) == 0);  // out of range: none
  for (size_t c = 0; c < s.category_count(); ++c) {
    CHECK(s.find_category(s.category(static_cast<CategoryId>(c)).id) == c);
  }

  std::string summary = summarize(s);
  CHECK(!summary.empty());

  // One flow from the first zone's first prefix to the last zone's first prefix, at time 0 and at
  // a time far in the future (expiry paths), with every detector's finding counted once.
  if (s.zone_count() == 0) return;
  const ZoneInfo& from = s.zone(0);
  const ZoneInfo& to = s.zone(static_cast<ZoneId>(s.zone_count() - 1));
  if (from.prefixes.empty() || to.prefixes.empty()) return;
  for (int64_t now : {int64_t{0}, int64_t{4'000'000'000} * 1'000'000'000}) {
    FlowQuery q;
    q.src_zone = 0;
    q.dst_zone = static_cast<ZoneId>(s.zone_count() - 1);
    q.src = from.prefixes.front().addr;
    q.dst = to.prefixes.front().addr;
    q.sport = 40000;
    q.dport = 443;
    q.proto = 6;
    q.now_ns = now;
    q.sni_state = SniState::kPresent;
    q.sni = "api.example.com";
    Admission a = s.admit(q);
    CHECK(a.verdict.reason_count <= kMaxReasons);
    CategoryTally t;
    for (uint32_t d = 0; d < names.size(); ++d) s.add_finding(t, d, Confidence::kVeryLikely);
    Verdict v = s.decide(a, t, 0, now);
    CHECK(v.reason_count <= kMaxReasons);
    for (size_t i = 0; i < v.reason_count; ++i) {
      CHECK(v.reasons[i].category == kNoCategory || v.reasons[i].category < s.category_count());
      CHECK(!s.describe(v.reasons[i]).empty());
    }
    (void)s.describe(v);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return -1;  // not added to the corpus
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Diagnostics diags("fuzz.toml");
  auto snap = compile_policy_text(text, "fuzz.toml", diags);
  std::string formatted = diags.format();
  if (diags.has_errors()) {
    CHECK(snap == nullptr);
    CHECK(diags.error_count() > 0);
    CHECK(formatted.find("error: ") != std::string::npos);
  } else {
    CHECK(snap != nullptr);
    check_snapshot(*snap, text);
  }
  return 0;
}
