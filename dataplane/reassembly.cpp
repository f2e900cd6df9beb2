// IP reassembly: the datagrams in flight (ledger + original fragments), the pieces handed to
// rte_ip_frag, and the buffers holding reassembled datagrams with their original fragments.
// rte_ip_frag_table_del_expired_entries is EXPERIMENTAL in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1
#include "dataplane/reassembly.hpp"

#include <rte_ip.h>
#include <rte_log.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

namespace dc::dataplane {

namespace {

constexpr uint32_t kWays = 8;  // datagrams per bucket of the ledger table
constexpr uint8_t kIp6HopByHop = 0, kIp6Routing = 43, kIp6Fragment = 44, kIp6Ah = 51,
                  kIp6DestOpts = 60;

uint16_t load16(const uint8_t* p) noexcept { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void store16(uint8_t* p, uint32_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

uint32_t hash_of(const inspect::Decoded& d) noexcept {
  uint32_t h = 2166136261u ^ d.frag_id ^ (uint32_t{d.ip_version} << 24);
  for (int i = 0; i < 16; ++i) h = (h ^ d.src.bytes[i]) * 16777619u;
  for (int i = 0; i < 16; ++i) h = (h ^ d.dst.bytes[i]) * 16777619u;
  return h ^ (h >> 15);
}

}  // namespace

// One datagram in flight. Key: (addresses, IP ID, IP version), rte_ip_frag's own key, so one
// ledger entry is one library entry; protocol and VLAN must then agree between fragments.
struct Reassembler::Datagram {
  inspect::IpAddr src, dst;
  uint32_t id = 0;
  uint8_t ip_version = 0;  // 0: free
  uint8_t proto = 0;       // IPv4 protocol / the IPv6 Fragment header's next header
  uint16_t vlan = 0;
  // Given up: later fragments are dropped under this reason until the timeout (the library's
  // entry cannot be deleted, it expires).
  DropReason poisoned = DropReason::kNone;
  int64_t first_ns = 0;
  FragmentLedger ledger;
  rte_mbuf* held[kMaxFragments];
  uint32_t n_held = 0;
  rte_mbuf* first = nullptr;  // the held fragment at offset 0
};

// A reassembled datagram's bytes and its original fragments, released together when the mbuf
// carrying the bytes is freed (its external-buffer free callback).
struct Reassembler::Buffer {
  Reassembler* owner = nullptr;
  uint32_t index = 0;
  rte_mbuf_ext_shared_info shinfo{};
  rte_mbuf* originals[kMaxFragments];
  uint32_t n = 0;
};

// The fragment's data in its frame: [begin, end), and the header that follows the Fragment
// header (IPv6) or the protocol (IPv4). IPv6 headers before the Fragment header (hop-by-hop,
// routing with no segments left, destination options) belong to each fragment, not to the data.
struct Reassembler::FragView {
  uint32_t begin = 0, end = 0, ihl = 0;
  uint8_t next = 0;
  bool parse(const rte_mbuf* m, const inspect::Decoded& d) noexcept {
    const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
    const uint32_t len = rte_pktmbuf_data_len(m), l3 = d.l3_offset;
    end = l3 + d.l3_len;
    if (end > len) return false;
    if (d.ip_version == 4) {
      ihl = (f[l3] & 0x0fu) * 4u;
      begin = l3 + ihl;
      next = f[l3 + 9];
      return begin < end;
    }
    uint8_t nh = f[l3 + 6];
    uint32_t off = l3 + 40;
    for (int i = 0; i < 16 && off + 8 <= end; ++i) {
      const uint8_t* h = f + off;
      if (nh == kIp6Fragment) {
        next = h[0];
        begin = off + 8;
        return begin < end;
      }
      if (nh != kIp6HopByHop && nh != kIp6Routing && nh != kIp6DestOpts && nh != kIp6Ah)
        return false;
      off += nh == kIp6Ah ? (h[1] + 2u) * 4u : (h[1] + 1u) * 8u;
      nh = h[0];
    }
    return false;
  }
};

Result<std::unique_ptr<Reassembler>> Reassembler::create(const ReassemblyConfig& cfg,
                                                         rte_mempool* pool, uint16_t worker_id,
                                                         WorkerCounters& counters) {
  const std::string where = " (worker " + std::to_string(worker_id) + ")";
  if (pool == nullptr) return make_error("IP reassembly needs a packet pool" + where);
  if (cfg.max_datagrams == 0 || cfg.buffers == 0 || cfg.timeout_ns <= 0)
    return make_error("IP reassembly: datagrams, buffers and timeout must be positive" + where);
  std::unique_ptr<Reassembler> r(new (std::nothrow) Reassembler());
  if (r == nullptr) return make_error(ErrorCode::kUnavailable, "no memory for IP reassembly");
  r->cfg_ = cfg;
  r->pool_ = pool;
  r->counters_ = &counters;
  // rte_ip_frag: 16 entries per bucket, two candidate buckets per key; its slot count
  // (rte_align32pow2(buckets) * 16 * 2) must reach max_datagrams.
  const uint32_t buckets = std::max(1u, (cfg.max_datagrams + 15) / 16);
  const int level = rte_log_get_level(RTE_LOGTYPE_USER1);  // it logs its size at INFO
  (void)rte_log_set_level(RTE_LOGTYPE_USER1, RTE_LOG_WARNING);
  r->tbl_ = rte_ip_frag_table_create(buckets, 16, cfg.max_datagrams,
                                     static_cast<uint64_t>(cfg.timeout_ns), SOCKET_ID_ANY);
  if (level >= 0) (void)rte_log_set_level(RTE_LOGTYPE_USER1, static_cast<uint32_t>(level));
  if (r->tbl_ == nullptr)
    return make_error(ErrorCode::kUnavailable,
                      "cannot create the IP reassembly table ([dataplane] reassembly_datagrams " +
                          std::to_string(cfg.max_datagrams) + ")" + where);
  uint32_t slots = kWays;  // twice the datagrams, so a bucket rarely fills before the table
  while (slots < 2 * cfg.max_datagrams) slots <<= 1;
  try {
    r->dr_ = std::make_unique<rte_ip_frag_death_row>();
    r->table_ = std::make_unique<Datagram[]>(slots);
    r->buffers_ = std::make_unique<Buffer[]>(cfg.buffers);
    r->arena_ = std::make_unique<uint8_t[]>(size_t{cfg.buffers} * kBufferBytes);
    r->free_stack_ = std::make_unique<uint32_t[]>(cfg.buffers);
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::kUnavailable,
                      "not enough memory for IP reassembly ([dataplane] reassembly_buffers " +
                          std::to_string(cfg.buffers) + " x 64 KiB)" + where);
  }
  r->dr_->cnt = 0;
  r->bucket_mask_ = slots / kWays - 1;
  for (uint32_t i = 0; i < cfg.buffers; ++i) {
    Buffer& b = r->buffers_[i];
    b.owner = r.get();
    b.index = i;
    b.shinfo.free_cb = &release_buffer;
    b.shinfo.fcb_opaque = &b;
    r->free_stack_[r->n_free_++] = cfg.buffers - 1 - i;
  }
  return r;
}

Reassembler::~Reassembler() {
  if (table_ != nullptr) {
    for (uint32_t i = 0; i < (bucket_mask_ + 1) * kWays; ++i)
      for (uint32_t k = 0; k < table_[i].n_held; ++k) rte_pktmbuf_free(table_[i].held[k]);
  }
  if (dr_ != nullptr) rte_ip_frag_free_death_row(dr_.get(), 0);
  if (tbl_ != nullptr) rte_ip_frag_table_destroy(tbl_);
  // A reassembled datagram still alive elsewhere (it should not be: flows end first) would call
  // back into its buffer: leave the buffers allocated rather than risk a use after free.
  if (buffers_ != nullptr && n_free_ != cfg_.buffers) {
    (void)buffers_.release();
    (void)arena_.release();
  }
}

void Reassembler::release_buffer(void* /*addr*/, void* opaque) {
  auto* b = static_cast<Buffer*>(opaque);
  for (uint32_t i = 0; i < b->n; ++i) rte_pktmbuf_free(b->originals[i]);
  b->n = 0;
  b->owner->free_stack_[b->owner->n_free_++] = b->index;
}

uint32_t Reassembler::take_originals(rte_mbuf* m, rte_mbuf** to) noexcept {
  auto* b = static_cast<Buffer*>(m->shinfo->fcb_opaque);
  const uint32_t n = b->n;
  std::copy(b->originals, b->originals + n, to);
  b->n = 0;
  return n;
}

// The datagram of `d`, created if new; nullptr when its bucket or the table is full. An entry
// past its timeout is expired first (the library starts a new entry for it too).
Reassembler::Datagram* Reassembler::find(const inspect::Decoded& d, uint8_t next,
                                         int64_t now_ns) noexcept {
  Datagram* bucket = &table_[(hash_of(d) & bucket_mask_) * kWays];
  Datagram* free = nullptr;
  for (uint32_t w = 0; w < kWays; ++w) {
    Datagram& g = bucket[w];
    if (g.ip_version != 0 && g.first_ns + cfg_.timeout_ns < now_ns) expire_one(g);
    if (g.ip_version == 0) {
      if (free == nullptr) free = &g;
      continue;
    }
    if (g.id == d.frag_id && g.ip_version == d.ip_version && g.src == d.src && g.dst == d.dst)
      return &g;
  }
  if (free == nullptr || used_ >= cfg_.max_datagrams) return nullptr;
  ++used_;
  free->src = d.src;
  free->dst = d.dst;
  free->id = d.frag_id;
  free->ip_version = d.ip_version;
  free->proto = next;
  free->vlan = d.vlan_outer;
  free->poisoned = DropReason::kNone;
  free->first_ns = now_ns;
  free->ledger.reset();
  free->n_held = 0;
  free->first = nullptr;
  return free;
}

// A datagram that did not complete in time: its fragments never cross.
void Reassembler::expire_one(Datagram& g) noexcept {
  for (uint32_t k = 0; k < g.n_held; ++k) {
    counters_->drop(DropReason::kFragmentIncomplete);
    rte_pktmbuf_free(g.held[k]);
  }
  g.n_held = 0;
  g.ip_version = 0;
  --used_;
}

void Reassembler::give_up(Datagram& g, DropReason why, Step& step) noexcept {
  for (uint32_t k = 0; k < g.n_held; ++k) step.dropped[step.n_dropped++] = g.held[k];
  g.n_held = 0;
  g.first = nullptr;
  g.ledger.reset();
  g.poisoned = why;
}

// Overlapping bytes that differ (or fragments that disagree on protocol or VLAN): nothing of the
// datagram crosses, and its first fragment, which names the flow, is handed back to block it.
void Reassembler::evasion(Datagram& g, rte_mbuf* m, const inspect::Decoded& d,
                          Step& step) noexcept {
  rte_mbuf* first = d.frag_offset == 0 ? m : g.first;
  step.outcome = Outcome::kEvasion;
  step.reason = DropReason::kFragmentOverlap;
  step.datagram = first;
  for (uint32_t k = 0; k < g.n_held; ++k)
    if (g.held[k] != first) step.dropped[step.n_dropped++] = g.held[k];
  if (first != m) step.dropped[step.n_dropped++] = m;
  g.n_held = 0;
  g.first = nullptr;
  g.ledger.reset();
  g.poisoned = DropReason::kFragmentOverlap;
}

void Reassembler::add(rte_mbuf* m, const inspect::Decoded& d, int64_t now_ns, Step& step) noexcept {
  step = Step{};
  FragView v;
  Datagram* g = nullptr;
  if (!v.parse(m, d)) {
    step.reason = DropReason::kBadFragment;
  } else if ((g = find(d, v.next, now_ns)) == nullptr) {
    step.reason = DropReason::kFragmentTableFull;
  } else if (g->poisoned != DropReason::kNone) {
    if (g->poisoned == DropReason::kFragmentOverlap && d.frag_offset == 0) {
      step.outcome = Outcome::kEvasion;  // its flow is known now: blocked as evasion
      step.reason = DropReason::kFragmentOverlap;
      step.datagram = m;
      return;
    }
    step.reason = g->poisoned;
  }
  if (step.reason != DropReason::kNone) {
    step.outcome = Outcome::kDrop;
    return;
  }
  if (g->proto != v.next || g->vlan != d.vlan_outer) return evasion(*g, m, d, step);
  const std::span<const uint8_t> bytes(rte_pktmbuf_mtod(m, const uint8_t*) + v.begin,
                                       v.end - v.begin);
  FragmentLedger::Pieces p;
  switch (g->ledger.check(d.frag_offset, bytes, !d.more_fragments, p)) {
    case FragmentLedger::Verdict::kDuplicate:
      step.outcome = Outcome::kDuplicate;
      return;
    case FragmentLedger::Verdict::kConflict:
      return evasion(*g, m, d, step);
    case FragmentLedger::Verdict::kTooMany:
      give_up(*g, DropReason::kFragmentTooMany, step);
      step.outcome = Outcome::kDrop;
      step.reason = DropReason::kFragmentTooMany;
      return;
    case FragmentLedger::Verdict::kAccept:
      break;
  }
  g->ledger.add(d.frag_offset, bytes, !d.more_fragments, p);
  accept(*g, m, d, v, p, now_ns, step);
}

// A fragment with new bytes: held, its new pieces fed to the library; the datagram completes
// when the library returns it.
void Reassembler::accept(Datagram& g, rte_mbuf* m, const inspect::Decoded& d, const FragView& v,
                         const FragmentLedger::Pieces& p, int64_t now_ns, Step& step) noexcept {
  g.held[g.n_held++] = m;
  if (d.frag_offset == 0) g.first = m;
  rte_mbuf* chain = nullptr;
  if (!feed(m, d, v, p, !d.more_fragments, now_ns, chain)) {
    --g.n_held;  // m goes back to the caller, the others with it
    give_up(g, DropReason::kFragmentTableFull, step);
    step.outcome = Outcome::kDrop;
    step.reason = DropReason::kFragmentTableFull;
    return;
  }
  if (chain == nullptr) return;  // kHeld
  rte_mbuf* r = finish(g, chain, step);
  if (r == nullptr) {
    --g.n_held;
    give_up(g, step.reason, step);
    step.outcome = Outcome::kDrop;
  } else {
    step.outcome = Outcome::kComplete;
    step.datagram = r;
    g.n_held = 0;
  }
  g.ip_version = 0;  // the library's entry is gone too (completed or dropped)
  g.poisoned = DropReason::kNone;
  --used_;
}

// Hands each new piece to rte_ip_frag. False when the library refused one (its table full, or it
// dropped the entry): the datagram can no longer complete. `chain`: the reassembled datagram.
bool Reassembler::feed(rte_mbuf* m, const inspect::Decoded& d, const FragView& v,
                       const FragmentLedger::Pieces& p, bool last, int64_t now_ns,
                       rte_mbuf*& chain) noexcept {
  const uint32_t end = d.frag_offset + (v.end - v.begin);
  for (uint32_t i = 0; i < p.n; ++i) {
    const bool more = !(last && p.range[i].end == end);
    rte_mbuf* pc = make_piece(m, d, v, p.range[i], more);
    if (pc == nullptr) return false;
    // Each call appends at most MAX_FRAG + 1 mbufs and never checks the row's capacity.
    if (dr_->cnt + kMaxFragments + 1 > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN) end_burst();
    const uint32_t before = dr_->cnt;
    const auto tms = static_cast<uint64_t>(now_ns);
    last_feed_ns_ = now_ns;
    auto* ip = rte_pktmbuf_mtod_offset(pc, uint8_t*, pc->l2_len);
    rte_mbuf* out = d.ip_version == 4
                        ? rte_ipv4_frag_reassemble_packet(tbl_, dr_.get(), pc, tms,
                                                          reinterpret_cast<rte_ipv4_hdr*>(ip))
                        : rte_ipv6_frag_reassemble_packet(
                              tbl_, dr_.get(), pc, tms, reinterpret_cast<rte_ipv6_hdr*>(ip),
                              reinterpret_cast<rte_ipv6_fragment_ext*>(ip + 40));
    if (out != nullptr) {
      chain = out;
      return true;
    }
    for (uint32_t k = before; k < dr_->cnt; ++k)
      if (dr_->row[k] == pc) return false;
  }
  return true;
}

// A copy of bytes [r.begin, r.end) of the fragment's data as a fragment of its own, in the only
// layout rte_ip_frag reads: Ethernet (tags kept), then the IPv4 header (options kept) or the
// fixed IPv6 header directly followed by the Fragment header.
rte_mbuf* Reassembler::make_piece(rte_mbuf* m, const inspect::Decoded& d, const FragView& v,
                                  FragmentRange r, bool more) noexcept {
  const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t l2 = d.l3_offset, l3 = d.ip_version == 4 ? v.ihl : 48, len = r.end - r.begin;
  rte_mbuf* pc = rte_pktmbuf_alloc(pool_);
  if (pc == nullptr) return nullptr;
  auto* p =
      reinterpret_cast<uint8_t*>(rte_pktmbuf_append(pc, static_cast<uint16_t>(l2 + l3 + len)));
  if (p == nullptr || l2 + l3 + len > UINT16_MAX) {
    rte_pktmbuf_free(pc);
    return nullptr;
  }
  std::memcpy(p, f, l2);
  uint8_t* ip = p + l2;
  if (d.ip_version == 4) {
    std::memcpy(ip, f + l2, l3);
    store16(ip + 2, l3 + len);  // total length
    store16(ip + 6, (load16(f + l2 + 6) & 0x4000u) | (more ? 0x2000u : 0u) | (r.begin / 8));
  } else {
    std::memcpy(ip, f + l2, 40);
    ip[6] = kIp6Fragment;
    store16(ip + 4, 8 + len);  // payload length
    uint8_t* fh = ip + 40;
    fh[0] = v.next;
    fh[1] = 0;
    store16(fh + 2, r.begin | (more ? 1u : 0u));
    store16(fh + 4, d.frag_id >> 16);
    store16(fh + 6, d.frag_id & 0xffffu);
  }
  std::memcpy(ip + l3, f + v.begin + (r.begin - d.frag_offset), len);
  pc->l2_len = l2;
  pc->l3_len = l3;
  return pc;
}

// The library's chain (first fragment with headers, then the others' data) copied into one of
// our buffers, its IPv4 header checksum recomputed (the library leaves it 0). The datagram's
// original fragments move into the buffer. nullptr (step.reason says why) when no buffer is
// free or the frame would not fit one.
rte_mbuf* Reassembler::finish(Datagram& g, rte_mbuf* chain, Step& step) noexcept {
  const uint32_t len = rte_pktmbuf_pkt_len(chain);
  rte_mbuf* r = nullptr;
  if (len > kBufferBytes) {
    step.reason = DropReason::kFrameTooLong;
  } else if (n_free_ == 0 || (r = rte_pktmbuf_alloc(pool_)) == nullptr) {
    step.reason = DropReason::kFragmentTableFull;
  }
  if (r == nullptr) {
    rte_pktmbuf_free(chain);
    return nullptr;
  }
  Buffer& b = buffers_[free_stack_[--n_free_]];
  uint8_t* dst = arena_.get() + size_t{b.index} * kBufferBytes;
  uint32_t at = 0;
  for (const rte_mbuf* s = chain; s != nullptr; s = s->next) {
    std::memcpy(dst + at, rte_pktmbuf_mtod(s, const uint8_t*), s->data_len);
    at += s->data_len;
  }
  if (g.ip_version == 4) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(dst + chain->l2_len);
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
  }
  rte_pktmbuf_free(chain);
  rte_mbuf_ext_refcnt_set(&b.shinfo, 1);
  rte_pktmbuf_attach_extbuf(r, dst, RTE_BAD_IOVA, static_cast<uint16_t>(kBufferBytes), &b.shinfo);
  r->data_len = static_cast<uint16_t>(len);
  r->pkt_len = len;
  std::copy(g.held, g.held + g.n_held, b.originals);
  b.n = g.n_held;
  return r;
}

void Reassembler::end_burst() noexcept {
  if (dr_->cnt != 0) rte_ip_frag_free_death_row(dr_.get(), 3);
}

void Reassembler::expire(int64_t now_ns, uint32_t budget) noexcept {
  const uint32_t slots = (bucket_mask_ + 1) * kWays;
  for (uint32_t i = 0; i < budget && used_ > 0; ++i) {
    Datagram& g = table_[expiry_cursor_];
    expiry_cursor_ = (expiry_cursor_ + 1) & (slots - 1);
    if (g.ip_version != 0 && g.first_ns + cfg_.timeout_ns < now_ns) expire_one(g);
  }
  end_burst();
  // The library's entries all expired by now when nothing was fed for a timeout: skip the call
  // (unfragmented traffic pays nothing here).
  if (last_feed_ns_ == 0 || now_ns - last_feed_ns_ > 2 * cfg_.timeout_ns) return;
  rte_ip_frag_table_del_expired_entries(tbl_, dr_.get(), static_cast<uint64_t>(now_ns));
  end_burst();
}

void Reassembler::expire_all() noexcept {
  const uint32_t slots = (bucket_mask_ + 1) * kWays;
  for (uint32_t i = 0; i < slots && used_ > 0; ++i)
    if (table_[i].ip_version != 0) expire_one(table_[i]);
  end_burst();
}

}  // namespace dc::dataplane
