// The fast-path decision rules: admission of a new flow and the per-flow verdict.
// This file implements docs/policy-reference.md §4-§5 step by step; the step numbers in comments
// refer to that document. Everything here is noexcept and allocation-free: reasons are collected
// in a fixed stack array, sorted in place, and the most decisive kMaxReasons are kept.
#include <algorithm>
#include <type_traits>

#include "policy/snapshot.hpp"

namespace dc::policy {

namespace {

// decide() maps failure flag i to the i-th failure reason: keep both lists in the same order.
static_assert(static_cast<int>(ReasonKind::kEvidenceUnavailable) -
                  static_cast<int>(ReasonKind::kFlowTableFull) ==
              kFailureCount - 1);
static_assert(flag::kEvidenceUnavailable == flag::kFlowTableFull << (kFailureCount - 1));

// Enough for: 3 admission facts + 20 flags + 64 categories (+ 64 undeclared) + monitor.
constexpr std::size_t kScratchReasons = 160;

static_assert(std::is_trivially_copyable_v<Reason>, "Collector assigns into raw union storage");

struct Collector {
  // Uninitialised storage: value-initialising ~96 reasons per call would dominate decide()'s cost.
  union Slot {
    Reason r;
    Slot() noexcept {}
  };
  std::array<Slot, kScratchReasons> slots;
  std::array<uint16_t, kScratchReasons> seq;
  std::size_t n = 0;
  const Reason& operator[](std::size_t i) const noexcept { return slots[i].r; }
  void push(const Reason& x) noexcept {
    if (n < kScratchReasons) {
      seq[n] = static_cast<uint16_t>(n);
      slots[n++].r = x;
    }
  }
};

Reason make(ReasonKind k, Action a) noexcept {
  Reason r;
  r.kind = k;
  r.action = a;
  return r;
}

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Case-insensitive equality of a received name against a lower-case pattern; one trailing dot on
// the received name is ignored (absolute form).
bool name_equal(std::string_view got, std::string_view pat) noexcept {
  if (got.size() == pat.size() + 1 && got.back() == '.') got.remove_suffix(1);
  if (got.size() != pat.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (lower(got[i]) != pat[i]) return false;
  }
  return true;
}

}  // namespace

// "*.example.com" matches any name ending in ".example.com" (any depth), not "example.com".
bool server_name_matches(std::string_view got, std::string_view pat) noexcept {
  if (pat.size() > 2 && pat[0] == '*' && pat[1] == '.') {
    if (!got.empty() && got.back() == '.') got.remove_suffix(1);
    std::string_view suffix = pat.substr(1);  // ".example.com"
    if (got.size() <= suffix.size()) return false;
    return name_equal(got.substr(got.size() - suffix.size()), suffix);
  }
  return name_equal(got, pat);
}

std::string_view name_source_name(NameSource s) noexcept {
  switch (s) {
    case NameSource::kTlsSni:
      return "sni";
    case NameSource::kHttpHost:
      return "http_host";
    default:
      return "";
  }
}

namespace {

// V3 reasons from the dataplane's flags (evasion, fragments, one-way links, failures).
void push_flag_reasons(Collector& c, uint32_t flags, bool reverse_payload_allowed,
                       const std::array<Action, kFailureCount>& failure_action) noexcept {
  if (flags & flag::kEvasion) c.push(make(ReasonKind::kEvasion, Action::kBlock));
  if (flags & flag::kServerNameChanged)
    c.push(make(ReasonKind::kServerNameChanged, Action::kBlock));
  // Fragments of an inspected flow under [defaults] fragments = "block": never inspected.
  if (flags & flag::kFragmented) c.push(make(ReasonKind::kFragmentUninspected, Action::kBlock));
  if ((flags & flag::kReversePayload) && !reverse_payload_allowed) {
    c.push(make(ReasonKind::kOneWayViolation, Action::kBlock));
  }
  for (std::size_t i = 0; i < kFailureCount; ++i) {
    if (flags & (flag::kFlowTableFull << i)) {
      c.push(make(static_cast<ReasonKind>(static_cast<std::size_t>(ReasonKind::kFlowTableFull) + i),
                  failure_action[i]));
    }
  }
}

}  // namespace

// Sorts the collected reasons (block first, then rule precedence = ReasonKind order, then the
// order the rules produced them, which follows category precedence), applies monitor mode and
// keeps the most decisive kMaxReasons. No allocation: std::sort on the stack array.
static Verdict finalize(Collector& c, bool monitor) noexcept {
  Verdict v;
  std::array<uint8_t, kScratchReasons> idx;
  for (std::size_t i = 0; i < c.n; ++i) idx[i] = static_cast<uint8_t>(i);
  std::sort(idx.begin(), idx.begin() + c.n, [&](uint8_t a, uint8_t b) {
    const Reason &x = c[a], &y = c[b];
    if (x.action != y.action) return x.action > y.action;
    if (x.kind != y.kind) return x.kind < y.kind;
    return c.seq[a] < c.seq[b];
  });
  Action act = Action::kAllow;
  for (std::size_t i = 0; i < c.n; ++i) act = std::max(act, c[i].action);
  std::size_t out = 0;
  if (monitor && act == Action::kBlock) {
    // Monitor mode (§5.3): the block is reported, not enforced; the reason says so and the
    // original reasons keep their "block" action for the audit record.
    act = Action::kAlert;
    v.monitored = true;
    v.reasons[out++] = make(ReasonKind::kMonitorMode, Action::kAlert);
  }
  for (std::size_t i = 0; i < c.n; ++i) {
    if (out == kMaxReasons) {
      v.truncated = true;
      break;
    }
    v.reasons[out++] = c[idx[i]];
  }
  v.reason_count = static_cast<uint8_t>(out);
  v.action = act;
  return v;
}

bool Snapshot::counterparty_valid_bases(CounterpartyId cp, int64_t now, uint64_t& valid,
                                        Reason& why) const noexcept {
  const CounterpartyInfo& c = counterparties_[cp];
  why = Reason{};
  why.counterparty = cp;
  why.action = Action::kBlock;
  valid = 0;
  // §4 A6: the counterparty itself, then its bases, all at the packet's time.
  if (c.status == Status::kSuspended) {
    why.kind = ReasonKind::kCounterpartySuspended;
    return false;
  }
  if (c.status == Status::kRevoked) {
    why.kind = ReasonKind::kCounterpartyRevoked;
    return false;
  }
  if (now < c.valid_from_ns) {
    why.kind = ReasonKind::kCounterpartyNotYetValid;
    return false;
  }
  if (now >= c.valid_until_ns) {
    why.kind = ReasonKind::kCounterpartyExpired;
    return false;
  }
  BasisId first_valid = kNoBasis, expired = kNoBasis, not_yet = kNoBasis, inactive = kNoBasis;
  for (BasisId b : c.bases) {
    const BasisInfo& bi = bases_[b];
    if (bi.status != Status::kActive) {
      if (inactive == kNoBasis) inactive = b;
    } else if (now < bi.valid_from_ns) {
      if (not_yet == kNoBasis) not_yet = b;
    } else if (now >= bi.valid_until_ns) {
      if (expired == kNoBasis) expired = b;
    } else {
      valid |= 1ull << b;
      if (first_valid == kNoBasis) first_valid = b;
    }
  }
  if (first_valid != kNoBasis) {
    why.kind = ReasonKind::kWhitelisted;
    why.action = Action::kAllow;
    why.basis = first_valid;
    return true;
  }
  if (expired != kNoBasis) {
    why.kind = ReasonKind::kBasisExpired;
    why.basis = expired;
  } else if (not_yet != kNoBasis) {
    why.kind = ReasonKind::kBasisNotYetValid;
    why.basis = not_yet;
  } else {
    why.kind = ReasonKind::kBasisInactive;
    why.basis = inactive;
  }
  return false;
}

// A3b/V2: a border flow that no exporter owns ([defaults] unattributed; nothing when "allow").
static void push_unattributed(Collector& c, const Admission& a, Action action) noexcept {
  if (a.border && a.exporter == kNoExporter && action != Action::kAllow)
    c.push(make(ReasonKind::kUnattributed, action));
}

Admission Snapshot::admit(const FlowQuery& q) const noexcept {
  Admission a;
  Collector c;
  a.src_zone = q.src_zone;
  a.dst_zone = q.dst_zone;
  const std::size_t nz = zones_.size();
  // A1: both ends must be in a zone.
  if (q.src_zone >= nz || q.dst_zone >= nz) {
    c.push(make(ReasonKind::kUnknownZone, Action::kBlock));
    a.verdict = finalize(c, monitor_);
    return a;
  }
  // A2: a zone pair with no link is isolated.
  a.link = link_between(q.src_zone, q.dst_zone);
  if (a.link == kNoLink) {
    c.push(make(ReasonKind::kNoLink, Action::kBlock));
    a.verdict = finalize(c, monitor_);
    return a;
  }
  const LinkInfo& l = links_[a.link];
  a.inspect_forward = l.inspect;
  a.inspect_reverse = l.reply == Reply::kInspected;
  a.reverse_payload_allowed = l.reply != Reply::kNone;
  bool src_foreign = zones_[q.src_zone].kind == ZoneKind::kForeign;
  bool dst_foreign = zones_[q.dst_zone].kind == ZoneKind::kForeign;
  // A3: a flow crosses the border when exactly one end is foreign.
  a.border = src_foreign != dst_foreign;
  if (!a.border) {
    c.push(make(ReasonKind::kDomesticLink, Action::kAllow));
    a.verdict = finalize(c, monitor_);
    return a;
  }
  a.foreign = dst_foreign ? Side::kResponder : Side::kOpener;
  // A3b: the exporter is the owner of the domestic end.
  a.exporter = dst_foreign ? exporter_of(q.src_zone, q.src) : exporter_of(q.dst_zone, q.dst);
  push_unattributed(c, a, unattributed_action_);
  // A4: find the foreign endpoint.
  const EndpointMatch m = match_endpoint(q, l);
  if (m.matched == RangeTable::kNone) {
    if (m.pending != RangeTable::kNone) {
      // A5: the endpoint is named by server name: admit the handshake, decide at the ClientHello
      // (TLS) or at the end of the request head (plaintext HTTP: its Host).
      a.sni_pending = true;
      Reason r = make(ReasonKind::kAwaitingSni, Action::kAllow);
      r.counterparty = endpoints_[m.pending].counterparty;
      c.push(r);
    } else if (m.off_link != RangeTable::kNone) {
      Reason r = make(ReasonKind::kCounterpartyNotOnLink, Action::kBlock);
      r.counterparty = endpoints_[m.off_link].counterparty;
      c.push(r);
    } else {
      c.push(make(ReasonKind::kNoCounterparty, no_counterparty_action_));
    }
    a.verdict = finalize(c, monitor_);
    return a;
  }
  a.endpoint = static_cast<uint16_t>(m.matched);
  a.counterparty = endpoints_[m.matched].counterparty;
  // Named by server name (only a foreign server is): the record says whether SNI or Host named it.
  const EndpointInfo& ep = endpoints_[m.matched];
  if (ep.sni_begin != ep.sni_end && a.foreign == Side::kResponder) a.server_name = q.name_source;
  // A6: counterparty status/validity and a legal basis valid now.
  uint64_t valid = 0;
  Reason why;
  if (counterparty_valid_bases(a.counterparty, q.now_ns, valid, why)) {
    // A7: the active declaration the flow crosses under; required ones must exist.
    a.declaration = match_declaration(a, why.basis, q.now_ns);
    Reason d;
    if (declaration_reason(a, why.basis, q.now_ns, d)) c.push(d);
  }
  c.push(why);
  a.verdict = finalize(c, monitor_);
  return a;
}

// Protocol and port of an endpoint. Ports are the responder's (service) port, whoever is foreign;
// an endpoint named by SNI alone identifies only a foreign server.
bool Snapshot::endpoint_accepts(const EndpointInfo& ep, const FlowQuery& q,
                                bool foreign_is_server) const noexcept {
  uint8_t proto_bit = q.proto == 6 ? 1 : q.proto == 17 ? 2 : 0;
  if (ep.protocols && !(ep.protocols & proto_bit)) return false;
  if (ep.port_begin != ep.port_end) {
    bool port_ok = false;
    for (uint32_t i = ep.port_begin; i < ep.port_end && !port_ok; ++i) {
      port_ok = q.dport >= port_ranges_[i].lo && q.dport <= port_ranges_[i].hi;
    }
    if (!port_ok) return false;
  }
  return !(ep.any_address && !foreign_is_server);
}

// SNI identifies only a foreign *server* (a foreign client's ClientHello names our server).
Snapshot::EndpointMatch Snapshot::match_endpoint(const FlowQuery& q,
                                                 const LinkInfo& l) const noexcept {
  const bool foreign_is_server = zones_[q.dst_zone].kind == ZoneKind::kForeign;
  const inspect::IpAddr& foreign_addr = foreign_is_server ? q.dst : q.src;
  EndpointMatch m{RangeTable::kNone, RangeTable::kNone, RangeTable::kNone};
  auto consider = [&](uint32_t eid) noexcept {
    const EndpointInfo& ep = endpoints_[eid];
    if (!endpoint_accepts(ep, q, foreign_is_server)) return;
    if (ep.sni_begin != ep.sni_end && foreign_is_server) {
      if (q.sni_state == SniState::kNotYet) {
        if (m.pending == RangeTable::kNone) m.pending = eid;
        return;
      }
      bool ok = false;
      if (q.sni_state == SniState::kPresent) {
        for (uint32_t i = ep.sni_begin; i < ep.sni_end && !ok; ++i)
          ok = server_name_matches(q.sni, sni_patterns_[i]);
      }
      if (!ok) return;
    }
    if (l.restricts_counterparties) {
      bool on_link = false;
      for (CounterpartyId x : l.counterparty_list) on_link = on_link || x == ep.counterparty;
      if (!on_link) {
        if (m.off_link == RangeTable::kNone) m.off_link = eid;
        return;
      }
    }
    if (m.matched == RangeTable::kNone) m.matched = eid;
  };
  for (uint32_t eid : endpoint_table_.candidates(foreign_addr)) consider(eid);
  for (uint32_t eid : any_address_endpoints_) consider(eid);
  return m;
}

int64_t Snapshot::next_change_ns(const Admission& a, int64_t now_ns) const noexcept {
  int64_t next = INT64_MAX;
  auto consider = [&](int64_t t) noexcept {
    if (t > now_ns && t < next) next = t;
  };
  if (!a.border || a.counterparty == kNoCounterparty || a.counterparty >= counterparties_.size())
    return next;
  const CounterpartyInfo& cp = counterparties_[a.counterparty];
  consider(cp.valid_from_ns);
  consider(cp.valid_until_ns);
  for (BasisId b : cp.bases) {
    if (b >= bases_.size()) continue;
    consider(bases_[b].valid_from_ns);
    consider(bases_[b].valid_until_ns);
  }
  if (a.declaration < declarations_.size()) {
    consider(declarations_[a.declaration].valid_from_ns);
    consider(declarations_[a.declaration].valid_until_ns);
  }
  return next;
}

Verdict Snapshot::decide(const Admission& a, const CategoryTally& t, uint32_t flags,
                         int64_t now_ns) const noexcept {
  // V1: zone and link facts do not change with time; an isolated or unknown flow stays blocked.
  if (a.src_zone >= zones_.size() || a.dst_zone >= zones_.size() || a.link == kNoLink)
    return a.verdict;
  Collector c;
  uint64_t valid = 0;
  const CounterpartyInfo* cp = nullptr;
  // V2: whitelist facts re-evaluated at `now_ns` (expiry cuts live flows).
  if (!a.border) {
    c.push(make(ReasonKind::kDomesticLink, Action::kAllow));
  } else if (a.counterparty == kNoCounterparty) {
    // Not whitelisted (or still waiting for the SNI): the admission reason stands.
    for (std::size_t i = 0; i < a.verdict.reason_count; ++i) {
      if (a.verdict.reasons[i].kind != ReasonKind::kMonitorMode) c.push(a.verdict.reasons[i]);
    }
  } else {
    Reason why, d;
    if (counterparty_valid_bases(a.counterparty, now_ns, valid, why) &&
        declaration_reason(a, why.basis, now_ns, d))
      c.push(d);  // V2b: a required declaration ended, was revoked or no longer matches
    c.push(why);
    cp = &counterparties_[a.counterparty];
    push_unattributed(c, a, unattributed_action_);
  }
  // V3: stream integrity, one-way links and failure conditions.
  push_flag_reasons(c, flags, a.reverse_payload_allowed, failure_action_);
  if (!a.border) return finalize(c, monitor_);
  if (flags & flag::kPayloadOpaque) c.push(make(ReasonKind::kOpaquePayload, opaque_action_));
  // V3c: what the receiver sees is uncertain (urgent data), or who opened the flow is (a flow
  // picked up without its SYN: the foreign end and the service port may be the wrong ones).
  if (flags & flag::kUrgentData) c.push(make(ReasonKind::kTcpUrgentAmbiguous, urgent_action_));
  if (flags & flag::kMidstream) c.push(make(ReasonKind::kMidstream, midstream_action_));
  // V3d: the HTTP decoding layer saw ambiguous framing, or content it could not decode.
  if (flags & flag::kHttpAnomaly) c.push(make(ReasonKind::kHttpAnomaly, http_anomaly_action_));
  if (flags & flag::kContentUninspected)
    c.push(make(ReasonKind::kContentUninspected, content_uninspected_action_));
  // V3e: TLS with escrowed keys: a record failed authentication, or (tls_escrow = "required")
  // the keys did not arrive in time.
  if (flags & flag::kTlsAuthFailure)
    c.push(make(ReasonKind::kTlsAuthFailure, tls_auth_failure_action_));
  if (flags & flag::kTlsKeyMissing) c.push(make(ReasonKind::kTlsKeyMissing, Action::kBlock));
  // V3f: the flow's declaration caps (bytes, or persons through the ledger) were exceeded.
  if (flags & flag::kDeclarationExceeded) {
    Reason r = make(ReasonKind::kDeclarationExceeded, Action::kBlock);
    r.counterparty = a.counterparty;
    c.push(r);
  }
  // V3g: customs accounting (docs/accounting.md): a person refused by a cap or threshold, no
  // decision in time, a count near its limit.
  if (flags & flag::kVolumeCap) c.push(make(ReasonKind::kVolumeCap, accounting_.on_limit));
  if (flags & flag::kAccountingUnavailable)
    c.push(make(ReasonKind::kAccountingUnavailable, accounting_.on_unavailable));
  if (flags & flag::kVolumeWarn) c.push(make(ReasonKind::kVolumeWarn, Action::kAlert));

  // V4: categories found in exported bytes, in precedence order (core, important, sensitive
  // personal, personal, general).
  if (t.overflow) {
    Reason r = make(ReasonKind::kFindingsOverflow, Action::kAllow);
    r.count = static_cast<uint32_t>(__builtin_popcountll(t.overflow));
    c.push(r);
  }
  for (CategoryId cat : precedence_) {
    Reason r;
    if (!category_reason(cat, a, t, cp, valid, r)) continue;
    c.push(r);
    if (undeclared_category(a, cat, now_ns, r)) c.push(r);  // V4b: beyond the declaration
  }
  return finalize(c, monitor_);
}

uint8_t Snapshot::person_kinds(const CategoryTally& t) const noexcept {
  const uint64_t seen = t.seen | t.overflow;
  uint8_t k = (seen & sensitive_mask_) ? kPersonsSensitive : 0;
  if ((seen & personal_mask_ & ~sensitive_mask_) || k == 0) k |= kPersonsNonSensitive;
  return k;
}

bool Snapshot::category_reason(CategoryId cat, const Admission& a, const CategoryTally& t,
                               const CounterpartyInfo* cp, uint64_t valid,
                               Reason& r) const noexcept {
  const CategoryInfo& ci = categories_[cat];
  uint64_t bit = 1ull << cat;
  if (!((t.seen | t.overflow) & bit)) return false;
  r.category = cat;
  r.counterparty = a.counterparty;
  if (t.overflow & bit) {
    r.count = ci.threshold;  // not tallied: assume the threshold was reached (fail closed)
  } else {
    for (const auto& s : t.slots) {
      if (s.category == cat) {
        r.count = s.count;
        r.detector = s.detector;
      }
    }
  }
  if (r.count < ci.threshold) return false;  // §4.1: below the per-flow threshold
  if (ci.level == Level::kCore) {
    r.kind = ReasonKind::kCoreData;  // C1: core data never leaves
    r.action = Action::kBlock;
  } else if (cp && (cp->denied & bit)) {
    r.kind = ReasonKind::kCategoryDenied;  // C2
    r.action = Action::kBlock;
  } else if (!cp || (cp->restricts_categories && !(cp->allowed & bit))) {
    r.kind = ReasonKind::kCategoryNotAllowed;  // C3
    r.action = ci.action;
  } else if (ci.level == Level::kImportant) {
    // C4: important needs a security assessment covering it
    r.basis = first_covering_basis(cp, valid, bit, true);
    r.kind = r.basis != kNoBasis ? ReasonKind::kImportantUnderAssessment
                                 : ReasonKind::kImportantWithoutAssessment;
    r.action = r.basis != kNoBasis ? Action::kAllow : ci.action;
  } else if (ci.personal) {
    // C5: personal information needs a basis covering it
    r.basis = first_covering_basis(cp, valid, bit, false);
    r.kind =
        r.basis != kNoBasis ? ReasonKind::kPersonalUnderBasis : ReasonKind::kPersonalWithoutBasis;
    r.action = r.basis != kNoBasis ? Action::kAllow : ci.action;
  } else {
    r.kind = ReasonKind::kGeneralAllowed;  // C6
    r.action = Action::kAllow;
  }
  return true;
}

BasisId Snapshot::first_covering_basis(const CounterpartyInfo* cp, uint64_t valid,
                                       uint64_t category_bit, bool need_assessment) const noexcept {
  if (!cp) return kNoBasis;
  for (BasisId b : cp->bases) {
    const BasisInfo& bi = bases_[b];
    if (!(valid >> b & 1) || !(bi.categories & category_bit)) continue;
    if (need_assessment && bi.mechanism != Mechanism::kSecurityAssessment) continue;
    return b;
  }
  return kNoBasis;
}

}  // namespace dc::policy
