// The flow-record formatter: FlowOutcome + policy snapshot names -> FlowRecord.
#include "audit/flow_format.hpp"

#include <arpa/inet.h>

#include <bit>
#include <cstring>
#include <iterator>
#include <utility>

#include "audit/community_id.hpp"
#include "audit/crypto.hpp"
#include "audit/ledger.hpp"
#include "audit/mask.hpp"
#include "base/hash.hpp"
#include "base/names.hpp"

namespace dc::audit {

std::string ip_string(const inspect::IpAddr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.is_v4()) {
    inet_ntop(AF_INET, a.bytes.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf);
  }
  return buf;
}

const char* proto_name(uint8_t proto) {
  switch (proto) {
    case 1:
      return "ICMP";
    case 6:
      return "TCP";
    case 17:
      return "UDP";
    case 58:
      return "IPv6-ICMP";
    case 132:
      return "SCTP";
    case 50:
      return "ESP";
    default:
      return "OTHER";
  }
}

const char* payload_inspection_name(PayloadInspection p) noexcept {
  switch (p) {
    case PayloadInspection::kClear:
      return "clear";
    case PayloadInspection::kDecrypted:
      return "decrypted";
    case PayloadInspection::kOpaque:
      return "opaque";
    default:
      return "";
  }
}

bool audit_worthy(const FlowOutcome& ev) {
  if (ev.policy == nullptr) return false;
  if (ev.adm.border) return true;
  for (uint8_t i = 0; i < ev.verdict_detail.reason_count; ++i) {
    auto k = ev.verdict_detail.reasons[i].kind;
    if (k == policy::ReasonKind::kNoLink || k == policy::ReasonKind::kUnknownZone) return true;
  }
  return false;
}

namespace {

using policy::kNoBasis;
using policy::kNoCategory;
using policy::kNoCounterparty;
using policy::kNoDetector;

// A pending verdict is recorded as "allow": nothing decided against the flow.
const char* verdict_name(OutcomeVerdict v) {
  static constexpr const char* kNames[] = {"allow", "allow", "alert", "block"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(OutcomeVerdict::kBlock) + 1);
  return base::enum_name(v, kNames, "allow");
}

const char* action_name(OutcomeAction a) {
  static constexpr const char* kNames[] = {"forward", "drop", "alert", "reset"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(OutcomeAction::kReset) + 1);
  return base::enum_name(a, kNames, "forward");
}

// Addresses, ports, protocol and the Community ID of the initiator's tuple.
void put_endpoints(const OutcomeTuple& t, FlowRecord& r) {
  r.src_ip = ip_string(t.src);
  r.dest_ip = ip_string(t.dst);
  r.src_port = t.sport;
  r.dest_port = t.dport;
  r.proto = proto_name(t.proto);
  const uint8_t* sa = t.src.is_v4() ? t.src.bytes.data() + 12 : t.src.bytes.data();
  const uint8_t* da = t.dst.is_v4() ? t.dst.bytes.data() + 12 : t.dst.bytes.data();
  size_t alen = t.src.is_v4() ? 4 : 16;
  if (auto cid = community_id_v1({sa, alen}, {da, alen}, t.sport, t.dport, t.proto))
    r.community_id = cid.value();
}

// One reason object.
nlohmann::ordered_json reason_json(const policy::Snapshot& s, const policy::Reason& rs) {
  nlohmann::ordered_json j;
  j["kind"] = std::string(policy::reason_name(rs.kind));
  j["action"] = std::string(policy::action_name(rs.action));
  if (rs.category != kNoCategory && rs.category < s.category_count())
    j["category"] = s.category(rs.category).id;
  if (rs.detector != kNoDetector && rs.detector < s.detector_names().size())
    j["detector"] = s.detector_names()[rs.detector];
  if (rs.count > 0) j["count"] = rs.count;
  if (rs.counterparty != kNoCounterparty && rs.counterparty < s.counterparty_count())
    j["counterparty"] = s.counterparty(rs.counterparty).id;
  if (rs.basis != kNoBasis && rs.basis < s.basis_count()) {
    j["basis"] = s.basis(rs.basis).id;
  }
  return j;
}

// Reasons that say the flow was not covered by a legal basis (or not allowed to anyone).
bool uncovering(policy::ReasonKind k) {
  using K = policy::ReasonKind;
  switch (k) {
    case K::kNoCounterparty:
    case K::kCounterpartyNotOnLink:
    case K::kCounterpartySuspended:
    case K::kCounterpartyRevoked:
    case K::kCounterpartyExpired:
    case K::kCounterpartyNotYetValid:
    case K::kBasisExpired:
    case K::kBasisNotYetValid:
    case K::kBasisInactive:
    case K::kCoreData:
    case K::kCategoryDenied:
    case K::kCategoryNotAllowed:
    case K::kImportantWithoutAssessment:
    case K::kPersonalWithoutBasis:
      return true;
    default:
      return false;
  }
}

// The basis that covered the flow: none for a block or an uncovering reason; else the first
// reason that names one (a category under a basis before the counterparty's whitelisting).
policy::BasisId covering_basis(const FlowOutcome& ev) {
  const auto& v = ev.verdict_detail;
  if (ev.verdict == OutcomeVerdict::kBlock) return kNoBasis;
  policy::BasisId under = kNoBasis, listed = kNoBasis;
  for (uint8_t i = 0; i < v.reason_count; ++i) {
    const auto& rs = v.reasons[i];
    if (uncovering(rs.kind)) return kNoBasis;
    if (rs.basis == kNoBasis) continue;
    if (rs.kind == policy::ReasonKind::kWhitelisted) {
      if (listed == kNoBasis) listed = rs.basis;
    } else if (under == kNoBasis) {
      under = rs.basis;
    }
  }
  return under != kNoBasis ? under : listed;
}

// Why basis `b` did not cover the flow at `now` (or "valid" / "covers"), and the category.
std::pair<const char*, policy::CategoryId> basis_outcome(const FlowOutcome& ev,
                                                         const policy::BasisInfo& b, int64_t now) {
  if (b.status != policy::Status::kActive) return {"inactive", kNoCategory};
  if (now < b.valid_from_ns) return {"not_yet_valid", kNoCategory};
  if (now >= b.valid_until_ns) return {"expired", kNoCategory};
  const auto& v = ev.verdict_detail;
  for (uint8_t i = 0; i < v.reason_count; ++i) {
    const auto& rs = v.reasons[i];
    const bool important = rs.kind == policy::ReasonKind::kImportantWithoutAssessment;
    if (!important && rs.kind != policy::ReasonKind::kPersonalWithoutBasis) continue;
    if (rs.category == kNoCategory || rs.category >= 64) continue;
    if (!(b.categories >> rs.category & 1)) return {"does_not_cover", rs.category};
    if (important && b.mechanism != policy::Mechanism::kSecurityAssessment)
      return {"not_security_assessment", rs.category};
  }
  return {"valid", kNoCategory};
}

// The record's legal_basis (the covering basis) and bases_considered (every basis of the
// counterparty with why it did or did not cover the flow).
void put_bases(const FlowOutcome& ev, const policy::Snapshot& s, FlowRecord& r) {
  if (ev.adm.counterparty == kNoCounterparty || ev.adm.counterparty >= s.counterparty_count())
    return;
  const policy::BasisId cover = covering_basis(ev);
  for (policy::BasisId b : s.counterparty(ev.adm.counterparty).bases) {
    if (b >= s.basis_count()) continue;
    const auto& bi = s.basis(b);
    auto [outcome, cat] = basis_outcome(ev, bi, ev.time_ns);
    nlohmann::ordered_json j = {{"id", bi.id},
                                {"kind", std::string(policy::mechanism_name(bi.mechanism))},
                                {"ref", bi.reference.empty() ? bi.id : bi.reference},
                                {"outcome", b == cover ? "covers" : outcome}};
    if (cat != kNoCategory && cat < s.category_count()) j["category"] = s.category(cat).id;
    r.bases_considered.push_back(std::move(j));
  }
  if (cover == kNoBasis || cover >= s.basis_count()) return;
  const auto& b = s.basis(cover);
  r.legal_basis = std::string(policy::mechanism_name(b.mechanism));
  r.legal_basis_ref = b.reference.empty() ? b.id : b.reference;
  r.legal_basis_id = b.id;
}

// Which end is foreign and what crossed towards it / back from it.
void put_direction(const FlowOutcome& ev, FlowRecord& r) {
  if (!ev.adm.border || ev.adm.foreign == policy::Side::kNone) return;
  const bool fwd = ev.adm.foreign == policy::Side::kResponder;
  r.foreign_side = fwd ? "dest" : "src";
  const auto& out = ev.crossed[fwd ? 0 : 1];
  const auto& in = ev.crossed[fwd ? 1 : 0];
  r.exported_packets = out.packets;
  r.exported_bytes = out.bytes;
  r.received_packets = in.packets;
  r.received_bytes = in.bytes;
}

// A finding's decoding path as text: "raw" for the TCP bytes themselves.
std::string path_string(const char (&p)[sizeof FindingSample::path]) {
  const std::size_t n = ::strnlen(p, sizeof p);
  return n == 0 ? std::string("raw") : std::string(p, n);
}

// Reasons, category counts, sampled values and the policy hash: the names come from `s`.
void put_policy_facts(const FlowOutcome& ev, const policy::Snapshot& s, const std::string& hmac_key,
                      FlowRecord& r) {
  if (ev.adm.counterparty != kNoCounterparty && ev.adm.counterparty < s.counterparty_count())
    r.counterparty = s.counterparty(ev.adm.counterparty).id;
  if (ev.adm.exporter != policy::kNoExporter && ev.adm.exporter < s.exporter_count())
    r.exporter = s.exporter(ev.adm.exporter).id;
  if (ev.adm.declaration != policy::kNoDeclaration && ev.adm.declaration < s.declaration_count())
    r.declaration = s.declaration(ev.adm.declaration).id;
  const auto& v = ev.verdict_detail;
  for (uint8_t i = 0; i < v.reason_count; ++i) {
    nlohmann::ordered_json j = reason_json(s, v.reasons[i]);
    const char* detail = v.reasons[i].kind == policy::ReasonKind::kHttpAnomaly ? ev.http_anomaly
                         : v.reasons[i].kind == policy::ReasonKind::kContentUninspected
                             ? ev.content_uninspected
                             : nullptr;
    if (detail != nullptr) j["detail"] = detail;
    r.reasons.push_back(std::move(j));
  }
  for (const auto& slot : ev.tally.slots) {
    if (slot.category == kNoCategory || slot.count == 0 || slot.category >= s.category_count())
      continue;
    r.categories.push_back({s.category(slot.category).id, slot.count,
                            std::string(policy::confidence_name(
                                static_cast<policy::Confidence>(slot.max_confidence)))});
  }
  for (unsigned i = 0; i < ev.samples_n; ++i) {
    const auto& smp = ev.samples[i];
    MaskedValue mv;
    uint64_t cats = s.detector_categories(smp.detector);
    if (cats != 0)
      mv.category = s.category(static_cast<policy::CategoryId>(std::countr_zero(cats))).id;
    mv.masked = smp.masked;
    if (!hmac_key.empty())
      mv.hmac = base::hmac_sha256_hex(
          hmac_key, std::string_view(reinterpret_cast<const char*>(smp.value), smp.value_len));
    mv.path = path_string(smp.path);
    r.values.push_back(std::move(mv));
  }
  r.policy_sha256 = s.sha256_hex();
  put_bases(ev, s, r);
}

}  // namespace

FlowRecord to_flow_record(const FlowOutcome& ev, const std::string& hmac_key) {
  const policy::Snapshot* s = ev.policy;
  FlowRecord r;
  r.time = TimePoint(std::chrono::nanoseconds(ev.time_ns));
  r.flow_id = ev.flow_id;
  put_endpoints(ev.initiator, r);
  auto zone_name = [&](uint16_t z) -> std::string {
    if (s == nullptr || z >= s->zone_count()) return "";
    return s->zone(z).id;
  };
  r.src_zone = zone_name(ev.src_zone);
  r.dest_zone = zone_name(ev.dst_zone);
  r.verdict = verdict_name(ev.verdict);
  r.action = action_name(ev.action);
  if (s != nullptr) put_policy_facts(ev, *s, hmac_key, r);
  r.sni = ev.sni;
  r.http_host = ev.http_host;
  r.server_name_from = policy::name_source_name(ev.adm.server_name);
  r.payload_inspection = payload_inspection_name(ev.payload);
  if (ev.has_key_line) r.tls_key_line_sha256 = base::to_hex(ev.key_line_sha256);
  r.pkts_toserver = ev.dir[0].packets;
  r.pkts_toclient = ev.dir[1].packets;
  r.bytes_toserver = ev.dir[0].bytes;
  r.bytes_toclient = ev.dir[1].bytes;
  r.crossed_packets = ev.crossed[0].packets + ev.crossed[1].packets;
  r.crossed_bytes = ev.crossed[0].bytes + ev.crossed[1].bytes;
  put_direction(ev, r);
  if (s != nullptr) r.accounting = accounting_json(ev.acct, *s);
  return r;
}

nlohmann::ordered_json policy_bases_json(const policy::Snapshot& s) {
  auto out = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < s.basis_count(); ++i) {
    const auto& b = s.basis(static_cast<policy::BasisId>(i));
    out.push_back({{"id", b.id},
                   {"kind", std::string(policy::mechanism_name(b.mechanism))},
                   {"ref", b.reference.empty() ? b.id : b.reference},
                   {"status", std::string(policy::status_name(b.status))},
                   {"expires", b.valid_until_ns == INT64_MAX
                                   ? nlohmann::ordered_json(nullptr)
                                   : nlohmann::ordered_json(format_time(
                                         TimePoint(std::chrono::nanoseconds(b.valid_until_ns))))}});
  }
  return out;
}

}  // namespace dc::audit
