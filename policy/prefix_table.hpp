#pragma once
// Address prefixes and a compact, immutable address -> value table.
//
// Why not rte_lpm / rte_fib: policy/ must not depend on DPDK (`policy check` and `policy test` run
// without EAL), and one table must serve IPv4 and IPv6 (IPv4 is stored IPv4-mapped, ::ffff:0:0/96).
// Why sorted disjoint ranges: a policy holds tens to a few thousand prefixes; flattening the
// prefixes into non-overlapping [start, next start) segments at compile time turns longest-prefix
// match into one binary search over a contiguous array (~log2(2n) 128-bit compares, ~20-60 ns,
// no pointers to chase, no allocation), and any resolution rule (longest prefix, "all candidates")
// is decided once at build time rather than per packet.
//
// Build: control thread only. Lookup: any thread, noexcept, allocation-free.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/packet/decode.hpp"

namespace dc::policy {

// 128-bit address as two big-endian halves so that compares are two integer compares.
struct U128 {
  uint64_t hi = 0, lo = 0;
  friend auto operator<=>(const U128&, const U128&) = default;
  friend bool operator==(const U128&, const U128&) = default;
};

U128 to_u128(const inspect::IpAddr& a) noexcept;
inspect::IpAddr from_u128(U128 v) noexcept;

struct Prefix {
  inspect::IpAddr addr;  // network address (host bits zero)
  uint8_t len = 0;       // 0..128 in the 128-bit space (an IPv4 /24 is stored as /120)
  bool v4 = false;       // written as IPv4 (for printing)
  U128 first() const noexcept;
  U128 last() const noexcept;
  bool contains(const inspect::IpAddr& a) const noexcept;
  bool overlaps(const Prefix& o) const noexcept;
  std::string to_string() const;
};

// Parses "a.b.c.d", "a.b.c.d/n", IPv6 text (RFC 4291 §2.2, incl. "::" and embedded IPv4) with
// optional "/n". Without "/n" the prefix is a host route. Host bits set is an error (a common
// typo that silently widens a whitelist); the message says which network was probably meant.
// Returns the error text, or nullopt on success.
std::optional<std::string> parse_prefix(std::string_view text, Prefix& out);
// Address only (no "/n"); used for [[test]] endpoints.
bool parse_address(std::string_view text, inspect::IpAddr& out);
std::string address_to_string(const inspect::IpAddr& a);

// Immutable table of disjoint segments. Segment i covers [starts_[i], starts_[i+1]); values_[i] is
// what the builder resolved for it (kNone when no prefix covers it).
class RangeTable {
 public:
  static constexpr uint32_t kNone = 0xffffffffu;
  struct Entry {
    Prefix prefix;
    uint32_t value;
  };
  // Longest-prefix resolution: each segment takes the value of the longest covering prefix.
  // Identical prefixes with different values must be rejected by the caller beforehand.
  static RangeTable longest_prefix(const std::vector<Entry>& entries);
  // All-candidates resolution: each segment maps to the list of every covering entry's value,
  // stored in `lists_`; the segment's value is an index into list_offsets_.
  static RangeTable all_covering(const std::vector<Entry>& entries);

  // Value of the segment holding `a`, or kNone. Cost: one binary search.
  uint32_t lookup(const inspect::IpAddr& a) const noexcept;
  // For all_covering tables: the candidate values covering `a` (empty when none).
  struct Span {
    const uint32_t* data = nullptr;
    uint32_t size = 0;
    const uint32_t* begin() const noexcept { return data; }
    const uint32_t* end() const noexcept { return data + size; }
  };
  Span candidates(const inspect::IpAddr& a) const noexcept;
  size_t segment_count() const noexcept { return starts_.size(); }

 private:
  std::vector<U128> starts_;
  std::vector<uint32_t> values_;
  std::vector<uint32_t> list_offsets_;  // all_covering: list i = lists_[off[i], off[i+1])
  std::vector<uint32_t> lists_;
};

}  // namespace dc::policy
