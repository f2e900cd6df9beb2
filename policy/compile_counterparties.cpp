// Policy compiler, the whitelist: counterparties (status, validity, legal bases, categories) and
// their foreign endpoints (prefixes, TLS server names, ports, protocols), with no two endpoints of
// different counterparties able to match the same flow.
#include <algorithm>

#include "policy/compile_internal.hpp"

namespace dc::policy {

namespace {

constexpr std::array<Spelling<uint8_t>, 2> kProtocolBits{{{"tcp", 1}, {"udp", 2}}};

bool valid_sni_pattern(const std::string& s) {
  std::string_view v = s;
  if (v.starts_with("*.")) v.remove_prefix(2);
  if (v.empty() || v.size() > 253 || v.front() == '.' || v.back() == '.') return false;
  for (char c : v) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  // RFC 1035 labels: 1-63 characters, no '-' at either end.
  std::size_t start = 0;
  while (start <= v.size()) {
    std::size_t end = v.find('.', start);
    if (end == std::string_view::npos) end = v.size();
    std::string_view label = v.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    start = end + 1;
  }
  return true;
}

// Can a server name match both patterns? ("*.a.com" matches any name ending in ".a.com".)
bool sni_overlap(const std::string& a, const std::string& b) {
  bool wa = a.starts_with("*."), wb = b.starts_with("*.");
  if (!wa && !wb) return a == b;
  if (wa && !wb) return b.size() > a.size() - 1 && b.ends_with(a.substr(1));
  if (!wa && wb) return sni_overlap(b, a);
  std::string sa = a.substr(1), sb = b.substr(1);  // ".a.com"
  return sa.ends_with(sb) || sb.ends_with(sa);
}

bool ports_overlap(const std::vector<PortRange>& ranges, const EndpointInfo& a,
                   const EndpointInfo& b) {
  if (a.port_begin == a.port_end || b.port_begin == b.port_end) return true;
  for (auto i = a.port_begin; i < a.port_end; ++i)
    for (auto j = b.port_begin; j < b.port_end; ++j)
      if (ranges[i].lo <= ranges[j].hi && ranges[j].lo <= ranges[i].hi) return true;
  return false;
}

}  // namespace

void SnapshotBuilder::counterparties() {
  std::vector<RangeTable::Entry> entries;
  for (const auto& c : doc_.counterparties) {
    CounterpartyInfo info{.id = c.id.value, .name = c.name.value, .country = c.country.value};
    bool ok = new_id(c.id, "counterparty", counterparty_ids_);
    counterparty_terms(c, info);
    CounterpartyId cid = static_cast<CounterpartyId>(s_->counterparties_.size());
    if (c.endpoints.empty()) d_.error(c.pos, "counterparty '" + c.id.value + "' has no endpoints");
    for (const auto& e : c.endpoints) endpoint(e, cid, entries);
    if (ok) counterparty_ids_[c.id.value] = cid;
    s_->counterparties_.push_back(std::move(info));
  }
  for (BasisId b = 0; b < doc_.bases.size(); ++b) {
    if (!used_bases_.count(b)) {
      d_.warning(doc_.bases[b].id.pos,
                 "legal basis '" + doc_.bases[b].id.value + "' is not used by any counterparty");
    }
  }
  check_endpoint_overlaps();
  s_->endpoint_table_ = RangeTable::all_covering(entries);
}

// Country, status, validity period, legal bases and categories of one counterparty.
void SnapshotBuilder::counterparty_terms(const CounterpartyDoc& c, CounterpartyInfo& info) {
  const auto& cc = c.country.value;
  if (!cc.empty() && (cc.size() != 2 || !std::isupper(static_cast<unsigned char>(cc[0])) ||
                      !std::isupper(static_cast<unsigned char>(cc[1])))) {
    d_.error(c.country.pos, "country must be an ISO 3166-1 alpha-2 code like \"DE\"");
  }
  one_of(c.status, kStatusSpellings, info.status, "status");
  info.valid_from_ns = c.valid_from.set ? c.valid_from.ns : INT64_MIN;
  info.valid_until_ns = c.valid_until.set ? c.valid_until.ns : INT64_MAX;
  if (c.valid_from.set && c.valid_until.set && c.valid_until.ns <= c.valid_from.ns) {
    d_.error(c.valid_until.pos, "counterparty '" + c.id.value + "' ends before it begins");
  }
  if (expired(c.valid_until)) {
    d_.warning(c.valid_until.pos, "counterparty '" + c.id.value + "' expired " +
                                      ended(c.valid_until) + "; its flows are blocked");
  }
  if (c.legal_bases.empty()) {
    d_.error(c.pos, "counterparty '" + c.id.value +
                        "' lists no legal_bases; a border crossing needs a legal basis");
  }
  for (const auto& b : c.legal_bases) {
    const BasisId* id = find_ref(b, "legal basis", basis_ids_);
    if (!id) continue;
    info.bases.push_back(*id);
    info.basis_mask |= *id < 64 ? 1ull << *id : 0;
    used_bases_.insert(*id);
  }
  info.require_declaration = c.require_declaration.value;
  info.restricts_categories = c.has_allowed;
  info.allowed = resolve_categories(c.allowed_categories, "allowed_categories");
  info.denied = resolve_categories(c.denied_categories, "denied_categories");
  if (info.allowed & info.denied) {
    d_.warning(c.pos, "counterparty '" + c.id.value +
                          "' both allows and denies some categories; denial wins");
  }
}

void SnapshotBuilder::endpoint(const EndpointDoc& e, CounterpartyId cid,
                               std::vector<RangeTable::Entry>& entries) {
  EndpointInfo ep{};
  ep.counterparty = cid;
  uint32_t eid = static_cast<uint32_t>(s_->endpoints_.size());
  EpRef ref;
  if (e.prefixes.empty() && e.sni.empty()) {
    d_.error(e.pos, "endpoint needs prefixes, sni, or both (it would match every address)");
  }
  for (const auto& p : e.prefixes) {
    Prefix pf;
    if (auto err = parse_prefix(p.value, pf)) {
      d_.error(p.pos, "bad prefix: " + *err);
      continue;
    }
    check_foreign(p, pf);
    ref.prefixes.push_back(pf);
    entries.push_back({pf, eid});
  }
  ep.any_address = e.prefixes.empty();
  ep.sni_begin = static_cast<uint32_t>(s_->sni_patterns_.size());
  for (const auto& sn : e.sni) {
    std::string v = sn.value;
    std::transform(v.begin(), v.end(), v.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (!valid_sni_pattern(v)) {
      d_.error(sn.pos, "bad TLS server name '" + sn.value +
                           "' (a host name, or \"*.\" followed by a domain)");
      continue;
    }
    s_->sni_patterns_.push_back(v);
    ref.sni.push_back(v);
  }
  ep.sni_end = static_cast<uint32_t>(s_->sni_patterns_.size());
  ep.port_begin = static_cast<uint32_t>(s_->port_ranges_.size());
  for (const auto& pr : e.ports) {
    auto [lo, hi] = pr.value;
    if (lo < 0 || hi > 65535 || lo > hi) {
      d_.error(pr.pos, "port range " + std::to_string(lo) + "-" + std::to_string(hi) +
                           " is not within 0-65535 (low-high)");
      continue;
    }
    s_->port_ranges_.push_back({static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)});
  }
  ep.port_end = static_cast<uint32_t>(s_->port_ranges_.size());
  for (const auto& pr : e.protocols) {
    uint8_t bit = 0;
    if (one_of(pr, kProtocolBits, bit, "protocol")) ep.protocols |= bit;
  }
  if (ep.any_address) s_->any_address_endpoints_.push_back(eid);
  s_->endpoints_.push_back(ep);
  endpoint_pos_.push_back(e.pos);
  ep_refs_.push_back(std::move(ref));
}

// A whitelisted endpoint must be foreign: every address of the prefix must resolve to a foreign
// zone (its ends, and every zone prefix nested inside it).
void SnapshotBuilder::check_foreign(const LStr& p, const Prefix& pf) {
  auto zone_at = [&](const inspect::IpAddr& a) { return s_->zone_table_.lookup(a); };
  bool foreign = true;
  std::string culprit;
  auto check_zone = [&](uint32_t z) {
    if (z == RangeTable::kNone) {
      foreign = false;
      if (culprit.empty()) culprit = "no zone";
    } else if (s_->zones_[z].kind != ZoneKind::kForeign) {
      foreign = false;
      if (culprit.empty()) culprit = "zone '" + s_->zones_[z].id + "'";
    }
  };
  check_zone(zone_at(pf.addr));
  check_zone(zone_at(from_u128(pf.last())));
  for (size_t z = 0; z < s_->zones_.size(); ++z) {
    for (const auto& zp : s_->zones_[z].prefixes) {
      if (zp.len > pf.len && pf.contains(zp.addr)) check_zone(static_cast<uint32_t>(z));
    }
  }
  if (!foreign) {
    d_.error(p.pos, "endpoint prefix " + pf.to_string() + " is not (entirely) in a foreign zone (" +
                        culprit + "); counterparties are foreign endpoints");
  }
}

// Overlapping counterparties: two endpoints of different counterparties that could match the
// same flow would make "which counterparty, which basis" ambiguous - reject.
void SnapshotBuilder::check_endpoint_overlaps() {
  for (size_t i = 0; i < s_->endpoints_.size(); ++i) {
    for (size_t j = i + 1; j < s_->endpoints_.size(); ++j) {
      const auto &a = s_->endpoints_[i], &b = s_->endpoints_[j];
      if (a.counterparty == b.counterparty) continue;
      bool addr = a.any_address || b.any_address;
      for (const auto& pa : ep_refs_[i].prefixes)
        for (const auto& pb : ep_refs_[j].prefixes) addr = addr || pa.overlaps(pb);
      if (!addr || !ports_overlap(s_->port_ranges_, a, b)) continue;
      if (a.protocols && b.protocols && !(a.protocols & b.protocols)) continue;
      bool sni = ep_refs_[i].sni.empty() || ep_refs_[j].sni.empty();
      for (const auto& x : ep_refs_[i].sni)
        for (const auto& y : ep_refs_[j].sni) sni = sni || sni_overlap(x, y);
      if (!sni) continue;
      d_.error(endpoint_pos_[j], "endpoint of counterparty '" +
                                     s_->counterparties_[b.counterparty].id +
                                     "' overlaps an endpoint of counterparty '" +
                                     s_->counterparties_[a.counterparty].id +
                                     "' (same addresses, ports and server names)");
      d_.note(endpoint_pos_[i], "the other endpoint is here");
    }
  }
}

}  // namespace dc::policy
