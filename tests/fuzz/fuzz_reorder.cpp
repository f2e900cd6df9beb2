// libFuzzer target for inspect/stream/reorder.hpp.
//
// Input: byte 0 = config (bits 0-2: queue_limit - 1, bit 3: trust_unverifiable), bytes 1-4 =
// ISN (big endian; values near 2^32 exercise the wrap), then segments of
//   flags(1) offset(2, big endian, stream-relative) len(1) [len data bytes if flags bit 7]
// flags: bit 0 FIN, bits 1-3 == 0b111 RST, bit 4 SYN, bit 5 offset is negative,
// bit 6 offset << 12 (reach out-of-window), bit 7 data from the input (else from a fixed
// canonical stream, so overlaps usually agree and the deep paths are reached).
//
// Invariants asserted (abort = finding):
//  - deliveries are contiguous and in order (stream_offset == bytes delivered so far), so no
//    byte is delivered twice and none is skipped;
//  - a packet is released at most once; every kQueued packet comes back exactly once, through
//    a Release or the final flush(); never more than capacity queued;
//  - every byte of a segment the Reorderer accepted (in order, queued, verified duplicate)
//    equals the delivered byte at the same offset: no disagreeing copy was let through.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "inspect/packet/decode.hpp"
#include "inspect/stream/reorder.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using dc::inspect::DirState;
using dc::inspect::Release;
using dc::inspect::ReorderAction;

namespace {

constexpr std::size_t kCanonSize = 1 << 17;

const uint8_t* canon() {
  static uint8_t buf[kCanonSize];
  static bool init = false;
  if (!init) {
    uint32_t x = 0x12345678;
    for (auto& b : buf) {
      x = x * 1103515245u + 12345u;
      b = static_cast<uint8_t>(x >> 16);
    }
    init = true;
  }
  return buf;
}

struct Accepted {
  int64_t off;
  const uint8_t* data;
  std::size_t len;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* in, std::size_t size) {
  if (size < 5) return 0;
  dc::inspect::ReorderConfig cfg;
  cfg.queue_limit = static_cast<uint8_t>((in[0] & 7) + 1);
  cfg.trust_unverifiable = (in[0] & 8) != 0;
  const dc::inspect::Reorderer r(cfg);
  const uint32_t isn = uint32_t{in[1]} << 24 | uint32_t{in[2]} << 16 | uint32_t{in[3]} << 8 | in[4];
  const uint8_t* cs = canon();

  DirState st{};
  Release rel;
  std::vector<uint8_t> delivered;
  std::vector<uint8_t> released;  // per packet id: times released (forwarded or flushed)
  std::vector<std::size_t> queued_ids;
  std::vector<Accepted> accepted;

  auto take = [&](const Release& rl) {
    for (const auto& d : rl.deliveries()) {
      CHECK(d.stream_offset == delivered.size());
      delivered.insert(delivered.end(), d.scan.begin(), d.scan.end());
      const auto id = reinterpret_cast<uintptr_t>(d.pkt);
      CHECK(id >= 1 && id <= released.size());
      CHECK(released[id - 1] == 0);
      released[id - 1] = 1;
    }
  };

  std::size_t i = 5;
  while (i + 4 <= size) {
    const uint8_t f = in[i];
    int64_t off = uint32_t{in[i + 1]} << 8 | in[i + 2];
    if (f & 0x40) off <<= 12;
    if (f & 0x20) off = -off;
    std::size_t len = in[i + 3];
    i += 4;
    const uint8_t* data;
    if (f & 0x80) {
      len = std::min(len, size - i);
      data = in + i;
      i += len;
    } else {
      const int64_t at = off < 0 ? 0 : off;
      data = cs + (static_cast<std::size_t>(at) % (kCanonSize / 2));
      if (off < 0) data = cs;
    }
    uint8_t flags = dc::inspect::tcpflag::kAck;
    if (f & 0x01) flags |= dc::inspect::tcpflag::kFin;
    if ((f & 0x0e) == 0x0e) flags |= dc::inspect::tcpflag::kRst;
    if (f & 0x10) flags |= dc::inspect::tcpflag::kSyn;
    // Stream offset 0 is ISN + 1 once a SYN started the stream (the first segment is a SYN in
    // most interesting inputs); a SYN carries its data at ISN + 1.
    uint32_t seq = isn + 1u + static_cast<uint32_t>(off);
    if (flags & dc::inspect::tcpflag::kSyn) {
      seq = isn;
      off = 0;
    }

    released.push_back(0);
    void* pkt = reinterpret_cast<void*>(static_cast<uintptr_t>(released.size()));
    const ReorderAction a = r.on_segment(st, seq, flags, {data, len}, pkt, rel);
    CHECK(st.queued <= cfg.queue_limit);
    CHECK(a < ReorderAction::kCount);
    if (a != ReorderAction::kInOrder) CHECK(rel.count == 0);
    if (a == ReorderAction::kInOrder) CHECK(rel.count >= 1 && rel.items[0].pkt == pkt);
    take(rel);
    if (a == ReorderAction::kQueued) queued_ids.push_back(released.size());
    // Offsets are only comparable with our `off` when the stream was anchored by a SYN at isn.
    const bool comparable = st.from_syn && !(flags & dc::inspect::tcpflag::kRst);
    if (comparable && (a == ReorderAction::kInOrder || a == ReorderAction::kQueued ||
                       (a == ReorderAction::kDuplicate && !cfg.trust_unverifiable))) {
      accepted.push_back({off, data, len});
    }
    if (a == ReorderAction::kEvasion || a == ReorderAction::kReset) break;
  }

  Release fl;
  dc::inspect::Reorderer::flush(st, fl);
  for (const auto& d : fl.deliveries()) {
    const auto id = reinterpret_cast<uintptr_t>(d.pkt);
    CHECK(id >= 1 && id <= released.size());
    CHECK(released[id - 1] == 0);
    released[id - 1] = 1;
  }
  CHECK(st.queued == 0);
  for (std::size_t id : queued_ids) CHECK(released[id - 1] == 1);

  // Every accepted copy agrees with what the scanner saw.
  for (const Accepted& s : accepted) {
    for (std::size_t k = 0; k < s.len; ++k) {
      const int64_t o = s.off + static_cast<int64_t>(k);
      if (o >= 0 && o < static_cast<int64_t>(delivered.size())) {
        CHECK(delivered[static_cast<std::size_t>(o)] == s.data[k]);
      }
    }
  }
  return 0;
}
