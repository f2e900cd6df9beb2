// Prefixes (parsing, containment) and the sorted-range address table that zone and endpoint
// lookups search (longest prefix, or every covering entry).
#include "policy/prefix_table.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <map>

namespace dc::policy {

namespace {
// Host-route mask helpers over the 128-bit space.
U128 mask_of(uint8_t len) noexcept {
  U128 m;
  if (len == 0) return m;
  if (len >= 64) {
    m.hi = ~0ull;
    // len == 64: no bit of the low half (a shift by 64 would be undefined behaviour).
    m.lo = len >= 128 ? ~0ull : len == 64 ? 0 : ~0ull << (128 - len);
  } else {
    m.hi = ~0ull << (64 - len);
  }
  return m;
}

bool is_v4_mapped(const inspect::IpAddr& a) noexcept {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a.bytes.data(), kMapped, 12) == 0;
}

// Increments a U128; returns false on wrap-around (end of address space).
bool next(U128& v) noexcept {
  if (++v.lo != 0) return true;
  return ++v.hi != 0;
}
}  // namespace

// Two big-endian 64-bit loads (one load and a bswap each; a loop over the bytes was ~16 dependent
// shifts on every zone lookup of the packet path).
U128 to_u128(const inspect::IpAddr& a) noexcept {
  uint64_t hi, lo;
  std::memcpy(&hi, a.bytes.data(), 8);
  std::memcpy(&lo, a.bytes.data() + 8, 8);
  if constexpr (std::endian::native == std::endian::little) {
    hi = __builtin_bswap64(hi);
    lo = __builtin_bswap64(lo);
  }
  return U128{hi, lo};
}

inspect::IpAddr from_u128(U128 v) noexcept {
  inspect::IpAddr a;
  for (int i = 7; i >= 0; --i, v.hi >>= 8) a.bytes[i] = static_cast<uint8_t>(v.hi);
  for (int i = 15; i >= 8; --i, v.lo >>= 8) a.bytes[i] = static_cast<uint8_t>(v.lo);
  return a;
}

U128 Prefix::first() const noexcept { return to_u128(addr); }
U128 Prefix::last() const noexcept {
  U128 f = first(), m = mask_of(len);
  return U128{f.hi | ~m.hi, f.lo | ~m.lo};
}
bool Prefix::contains(const inspect::IpAddr& a) const noexcept {
  U128 v = to_u128(a);
  return first() <= v && v <= last();
}
bool Prefix::overlaps(const Prefix& o) const noexcept {
  return first() <= o.last() && o.first() <= last();
}

std::string address_to_string(const inspect::IpAddr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4_mapped(a)) {
    inet_ntop(AF_INET, a.bytes.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf);
  }
  return buf;
}

std::string Prefix::to_string() const {
  return address_to_string(addr) + "/" + std::to_string(v4 ? len - 96 : len);
}

bool parse_address(std::string_view text, inspect::IpAddr& out) {
  std::string s(text);
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    out = inspect::IpAddr{};
    out.bytes[10] = out.bytes[11] = 0xff;
    std::memcpy(out.bytes.data() + 12, &a4, 4);
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    std::memcpy(out.bytes.data(), &a6, 16);
    return true;
  }
  return false;
}

std::optional<std::string> parse_prefix(std::string_view text, Prefix& out) {
  std::string_view addr = text, len_text;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    len_text = text.substr(slash + 1);
    if (len_text.empty()) return "missing prefix length after '/'";
  }
  inspect::IpAddr a;
  if (!parse_address(addr, a)) return "'" + std::string(addr) + "' is not an IPv4 or IPv6 address";
  bool v4 = addr.find(':') == std::string_view::npos;
  int max_len = v4 ? 32 : 128;
  int len = max_len;
  if (!len_text.empty()) {
    len = 0;
    for (char c : len_text) {
      if (c < '0' || c > '9' || len > 999)
        return "prefix length '" + std::string(len_text) + "' is not a number";
      len = len * 10 + (c - '0');
    }
    if (len > max_len) {
      return "prefix length /" + std::to_string(len) + " exceeds /" + std::to_string(max_len);
    }
  }
  Prefix p;
  p.addr = a;
  p.v4 = v4;
  p.len = static_cast<uint8_t>(v4 ? len + 96 : len);
  U128 m = mask_of(p.len), f = to_u128(a);
  U128 net{f.hi & m.hi, f.lo & m.lo};
  if (!(net == f)) {
    Prefix fixed = p;
    fixed.addr = from_u128(net);
    return "host bits set in '" + std::string(text) + "' (did you mean " + fixed.to_string() + "?)";
  }
  out = p;
  return std::nullopt;
}

namespace {
// Sweep over prefix boundaries: returns the elementary segment starts and, for each, the indices
// of the entries covering it. Boundaries are every prefix's first address and last+1.
struct Sweep {
  std::vector<U128> starts;
  std::vector<std::vector<uint32_t>> covering;  // entry indices
};

Sweep sweep(const std::vector<RangeTable::Entry>& entries) {
  std::vector<U128> points;
  points.push_back(U128{});
  for (const auto& e : entries) {
    points.push_back(e.prefix.first());
    U128 end = e.prefix.last();
    if (next(end)) points.push_back(end);
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  // Prefixes nest or are disjoint, so an entry covers exactly the segments whose start lies in
  // [first, last]; mark them with two binary searches per entry.
  Sweep s;
  s.starts = points;
  s.covering.resize(points.size());
  for (uint32_t i = 0; i < entries.size(); ++i) {
    auto lo = std::lower_bound(points.begin(), points.end(), entries[i].prefix.first());
    auto hi = std::upper_bound(points.begin(), points.end(), entries[i].prefix.last());
    for (auto it = lo; it != hi; ++it) s.covering[it - points.begin()].push_back(i);
  }
  return s;
}
}  // namespace

RangeTable RangeTable::longest_prefix(const std::vector<Entry>& entries) {
  Sweep s = sweep(entries);
  RangeTable t;
  for (size_t i = 0; i < s.starts.size(); ++i) {
    uint32_t best = kNone;
    int best_len = -1;
    for (uint32_t e : s.covering[i]) {
      if (entries[e].prefix.len > best_len) {
        best_len = entries[e].prefix.len;
        best = entries[e].value;
      }
    }
    // Merge neighbours with the same value: fewer segments, shorter search.
    if (!t.values_.empty() && t.values_.back() == best) continue;
    t.starts_.push_back(s.starts[i]);
    t.values_.push_back(best);
  }
  return t;
}

RangeTable RangeTable::all_covering(const std::vector<Entry>& entries) {
  Sweep s = sweep(entries);
  RangeTable t;
  std::map<std::vector<uint32_t>, uint32_t> interned;  // identical candidate lists share storage
  for (size_t i = 0; i < s.starts.size(); ++i) {
    std::vector<uint32_t> vals;
    for (uint32_t e : s.covering[i]) vals.push_back(entries[e].value);
    std::sort(vals.begin(), vals.end());
    vals.erase(std::unique(vals.begin(), vals.end()), vals.end());
    uint32_t id = kNone;
    if (!vals.empty()) {
      auto [it, inserted] = interned.emplace(vals, static_cast<uint32_t>(t.list_offsets_.size()));
      if (inserted) {
        t.list_offsets_.push_back(static_cast<uint32_t>(t.lists_.size()));
        t.lists_.insert(t.lists_.end(), vals.begin(), vals.end());
      }
      id = it->second;
    }
    if (!t.values_.empty() && t.values_.back() == id) continue;
    t.starts_.push_back(s.starts[i]);
    t.values_.push_back(id);
  }
  t.list_offsets_.push_back(static_cast<uint32_t>(t.lists_.size()));
  return t;
}

uint32_t RangeTable::lookup(const inspect::IpAddr& a) const noexcept {
  if (starts_.empty()) return kNone;
  U128 v = to_u128(a);
  // The last segment starting at or before v (starts_[0] is always ::, so it exists), by a
  // branch-free binary search: each step a conditional move instead of a mispredicted branch.
  const U128* base = starts_.data();
  size_t n = starts_.size();
  while (n > 1) {
    const size_t half = n / 2;
    base = (base[half] <= v) ? base + half : base;
    n -= half;
  }
  return values_[static_cast<size_t>(base - starts_.data())];
}

RangeTable::Span RangeTable::candidates(const inspect::IpAddr& a) const noexcept {
  uint32_t id = lookup(a);
  if (id == kNone || id + 1 >= list_offsets_.size()) return {};
  return Span{lists_.data() + list_offsets_[id], list_offsets_[id + 1] - list_offsets_[id]};
}

}  // namespace dc::policy
