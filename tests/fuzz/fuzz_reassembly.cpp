// libFuzzer target for the IP reassembly overlap judgement (dataplane/fragment_ledger): arbitrary
// fragment sequences of one datagram, checked against a byte-map model of what a receiver holds.
// The DPDK table behind it (rte_ip_frag) needs EAL and hugepage memory, so the fuzzer drives the
// pure ledger that decides what the table is given; the replay case ip_fragments drives both.
//
// Input: 3 bytes per fragment: offset (8-byte units), length (8-byte units, +1), flags
// (bit 0: last; bits 1-3: bytes cut off a last fragment's end; bit 4: one byte changed at the
// position given by bits 5-7 of the flags, in 8ths of the length).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/fragment_ledger.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using dc::dataplane::FragmentLedger;

namespace {

constexpr uint32_t kMax = 256 * 8 + 256 * 8;

uint8_t truth(uint32_t i) { return static_cast<uint8_t>(i * 131u + 7u); }

struct Model {
  uint8_t val[kMax];
  bool set[kMax] = {};
  uint32_t total = 0;
  std::vector<std::pair<uint32_t, uint32_t>> held;  // [begin, end)

  bool conflict(uint32_t ofs, const std::vector<uint8_t>& b, bool last) const {
    const uint32_t end = ofs + static_cast<uint32_t>(b.size());
    if (total != 0 && (last ? end != total : end >= total)) return true;
    if (last && total == 0)
      for (auto [hb, he] : held)
        if (he >= end) return true;
    for (uint32_t i = 0; i < b.size(); ++i)
      if (set[ofs + i] && val[ofs + i] != b[i]) return true;
    return false;
  }
  uint32_t fresh(uint32_t ofs, uint32_t len) const {
    uint32_t n = 0;
    for (uint32_t i = ofs; i < ofs + len; ++i) n += set[i] ? 0 : 1;
    return n;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FragmentLedger ledger;
  Model model;
  std::vector<std::vector<uint8_t>> frags;  // the ledger keeps spans into these
  frags.reserve(size / 3 + 1);
  // The ledger holds 8 fragments: longer sequences only repeat refusals.
  for (size_t at = 0; at + 3 <= size && at < 3 * 48; at += 3) {
    const uint32_t ofs = data[at] * 8u;
    uint32_t len = (data[at + 1] + 1u) * 8u;
    const uint8_t fl = data[at + 2];
    const bool last = fl & 1;
    if (last) len -= (fl >> 1) & 7u;
    std::vector<uint8_t> b(len);
    for (uint32_t i = 0; i < len; ++i) b[i] = truth(ofs + i);
    if (fl & 0x10) b[(len * ((fl >> 5) & 7u)) / 8] ^= 0x5a;
    FragmentLedger::Pieces p;
    const auto v = ledger.check(ofs, b, last, p);
    const bool conflict = model.conflict(ofs, b, last);
    CHECK((v == FragmentLedger::Verdict::kConflict) == conflict);
    if (conflict) continue;  // the dataplane gives the datagram up: nothing recorded
    const uint32_t fresh = model.fresh(ofs, len);
    CHECK((v == FragmentLedger::Verdict::kDuplicate) == (fresh == 0));
    if (v == FragmentLedger::Verdict::kTooMany) {
      CHECK(ledger.held() == FragmentLedger::kMaxPieces || p.n > 0);
      continue;
    }
    if (v != FragmentLedger::Verdict::kAccept) continue;
    // The pieces are exactly the bytes no held fragment covers, in order, disjoint, and every
    // boundary but a last fragment's end is 8-byte aligned (rte_ip_frag's byte-sum rule).
    uint32_t covered = 0, prev_end = ofs;
    for (uint32_t i = 0; i < p.n; ++i) {
      const auto r = p.range[i];
      CHECK(r.begin >= prev_end && r.begin < r.end && r.end <= ofs + len);
      CHECK(r.begin % 8 == 0);
      CHECK(r.end % 8 == 0 || (last && r.end == ofs + len));
      for (uint32_t k = r.begin; k < r.end; ++k) CHECK(!model.set[k]);
      covered += r.end - r.begin;
      prev_end = r.end;
    }
    CHECK(covered == fresh);
    frags.push_back(std::move(b));
    ledger.add(ofs, frags.back(), last, p);
    CHECK(ledger.pieces() <= FragmentLedger::kMaxPieces);
    for (uint32_t i = 0; i < len; ++i) {
      model.set[ofs + i] = true;
      model.val[ofs + i] = frags.back()[i];
    }
    model.held.emplace_back(ofs, ofs + len);
    if (last) model.total = ofs + len;
    bool all = model.total != 0;
    for (uint32_t i = 0; all && i < model.total; ++i) all = model.set[i];
    CHECK(ledger.complete() == all);
  }
  return 0;
}
