// libFuzzer target for inspect/stream/normalise.hpp, driven together with the reorderer the way
// the dataplane drives them (dataplane/tcp_normalise.cpp, inspect_payload.cpp).
//
// Input: bytes 0-3 / 4-7 = ISN of the opener / responder (big endian), then records of
//   ctl(1) offset(2) len(1) urgent(2) window(2)         (all big endian)
// ctl: bit 0 sender (0 opener, 1 responder), bit 1 SYN, bit 2 FIN, bit 3 RST, bit 4 URG,
// bit 5 ACK, bit 6 offset is negative, bit 7 offset << 12. Data comes from a fixed canonical
// stream (so overlaps agree and urgent bytes land inside delivered data). Every segment carries
// a Timestamps option whose TSval is the urgent field << 8 (a fuzzed clock for PAWS).
//
// Invariants asserted (abort = finding):
//  - a RST is accepted only at the sender's next seq (or when nothing is known of the sender);
//  - a segment refused as PAWS-stale is older than its sender's TS.Recent by more than 1, one
//    refused as beyond the window carries data starting at or past the receiver's right edge;
//  - every urgent view is a partition of its piece minus at most one byte, inside the piece;
//  - the receiver's bytes plus the removed urgent bytes are exactly the delivered bytes, and at
//    most one byte is removed per urgent mark.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "inspect/packet/decode.hpp"
#include "inspect/stream/normalise.hpp"
#include "inspect/stream/reorder.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

namespace tf = dc::inspect::tcpflag;

constexpr std::size_t kCanonSize = 1 << 17;

const uint8_t* canon() {
  static uint8_t buf[kCanonSize];
  static bool init = false;
  if (!init) {
    for (std::size_t i = 0; i < kCanonSize; ++i) buf[i] = static_cast<uint8_t>(i * 131 + 7);
    init = true;
  }
  return buf;
}

uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

bool within(std::span<const uint8_t> part, std::span<const uint8_t> whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* in, std::size_t size) {
  if (size < 8) return 0;
  const uint32_t isn[2] = {be32(in), be32(in + 4)};
  const uint8_t* cs = canon();
  const dc::inspect::Reorderer reorderer;
  dc::inspect::TcpNormState norm{};
  dc::inspect::DirState order[2]{};
  dc::inspect::Release rel;
  uint64_t delivered[2] = {0, 0}, seen[2] = {0, 0}, removed[2] = {0, 0}, marks[2] = {0, 0};

  for (std::size_t i = 8; i + 8 <= size; i += 8) {
    const uint8_t c = in[i];
    const unsigned from = c & 1;
    int64_t off = be16(in + i + 1);
    if (c & 0x80) off <<= 12;
    if (c & 0x40) off = -off;
    dc::inspect::TcpSegment s;
    s.flags = static_cast<uint8_t>(((c & 2) ? tf::kSyn : 0) | ((c & 4) ? tf::kFin : 0) |
                                   ((c & 8) ? tf::kRst : 0) | ((c & 16) ? tf::kUrg : 0) |
                                   ((c & 32) ? tf::kAck : 0));
    s.payload_len = in[i + 3];
    s.urgent = be16(in + i + 4);
    s.window = be16(in + i + 6);
    s.seq = (s.flags & tf::kSyn) ? isn[from] : isn[from] + 1u + static_cast<uint32_t>(off);
    s.ack = norm.side[from ^ 1].snd_end;
    const std::size_t at = static_cast<std::size_t>(off < 0 ? 0 : off) % (kCanonSize / 2);
    const std::span<const uint8_t> payload(cs + at, s.payload_len);
    const uint32_t tsval = uint32_t{s.urgent} << 8;
    const uint8_t opts[12] = {1,
                              1,
                              8,
                              10,
                              static_cast<uint8_t>(tsval >> 24),
                              static_cast<uint8_t>(tsval >> 16),
                              static_cast<uint8_t>(tsval >> 8),
                              0,
                              0,
                              0,
                              0,
                              0};
    s.options = {opts, sizeof opts};

    if (s.flags & tf::kRst) {
      const auto r = dc::inspect::check_rst(norm, from, s);
      const auto& snd = norm.side[from];
      if (r == dc::inspect::RstCheck::kAccept && snd.seen) CHECK(s.seq == snd.snd_end);
      if (r != dc::inspect::RstCheck::kAccept) continue;  // dropped, state untouched
    } else if (const auto k = dc::inspect::check_segment(norm, from, s);
               k != dc::inspect::SegmentCheck::kAccept) {
      const auto& snd = norm.side[from];
      const auto& rcv = norm.side[from ^ 1];
      if (k == dc::inspect::SegmentCheck::kPawsStale) {
        CHECK(snd.ts_recent_valid && static_cast<int32_t>(snd.ts_recent - tsval) > 1);
      } else {
        CHECK(s.payload_len > 0 && rcv.edge_valid && static_cast<int32_t>(s.seq - rcv.edge) >= 0);
      }
      continue;  // dropped, state untouched
    } else {
      const auto& o = order[from];
      const uint32_t rcv_next = o.started
                                    ? o.base_seq + static_cast<uint32_t>(o.next)
                                    : (norm.side[from].seen ? norm.side[from].snd_end : s.seq);
      const auto m = dc::inspect::note_urgent(norm, from, s, rcv_next);
      if (m != dc::inspect::UrgentMark::kNone) ++marks[from];
    }
    dc::inspect::note_segment(norm, from, s);
    const auto a = reorderer.on_segment(order[from], s.seq, s.flags, payload, nullptr, rel);
    if (a != dc::inspect::ReorderAction::kInOrder) continue;
    for (const auto& d : rel.deliveries()) {
      const uint32_t seq = order[from].base_seq + static_cast<uint32_t>(d.stream_offset);
      const auto v = dc::inspect::urgent_view(norm.side[from], seq, d.scan);
      CHECK(within(v.part[0], d.scan) && within(v.part[1], d.scan));
      CHECK(v.part[0].size() + v.part[1].size() + (v.removed ? 1 : 0) == d.scan.size());
      if (v.removed) {
        CHECK(v.part[0].data() == d.scan.data() || v.part[0].empty());
        ++removed[from];
      }
      delivered[from] += d.scan.size();
      seen[from] += v.part[0].size() + v.part[1].size();
    }
  }
  for (unsigned d = 0; d < 2; ++d) {
    CHECK(seen[d] + removed[d] == delivered[d]);
    CHECK(removed[d] <= marks[d]);
  }
  return 0;
}
