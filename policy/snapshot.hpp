#pragma once
// The compiled, immutable policy the fast path uses.
//
// Built once on the control thread by dc::policy::load_policy() (policy/policy.hpp) and shared as
// std::shared_ptr<const Snapshot>; never modified afterwards, so any number of workers may call
// its const member functions concurrently without locks. Every function marked noexcept below is
// a fast-path function: no allocation, no locks, no exceptions, no I/O, fixed-size outputs, and it
// never reads the wall clock ("now" is always the packet timestamp, ns since the Unix epoch).
//
// The decision rules implemented by admit() and decide() are written down, in order, in
// docs/policy-reference.md; that document is the specification and this code follows it.
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/detect/validators.hpp"
#include "inspect/packet/decode.hpp"
#include "policy/accounting.hpp"
#include "policy/prefix_table.hpp"
#include "policy/reasons.hpp"

namespace dc::inspect {
class DetectorDb;
}

namespace dc::policy {

using ZoneId = uint16_t;
using LinkId = uint16_t;
using CounterpartyId = uint16_t;
using BasisId = uint16_t;
using CategoryId = uint8_t;
using ExporterId = uint16_t;
using DeclarationId = uint16_t;
inline constexpr ZoneId kNoZone = 0xffff;
inline constexpr LinkId kNoLink = 0xffff;
inline constexpr CounterpartyId kNoCounterparty = 0xffff;
inline constexpr BasisId kNoBasis = 0xffff;
inline constexpr CategoryId kNoCategory = 0xff;
inline constexpr ExporterId kNoExporter = 0xffff;  // unattributed
inline constexpr DeclarationId kNoDeclaration = 0xffff;
inline constexpr uint16_t kNoDetector = 0xffff;
inline constexpr uint32_t kNoCount = 0;

// Categories are tracked in 64-bit masks on the fast path.
inline constexpr std::size_t kMaxCategories = 64;
inline constexpr std::size_t kMaxReasons = 8;
inline constexpr std::size_t kMaxTallySlots = 8;

// [defaults] tls_escrow: whether the application data of TLS flows on inspected border links
// waits for the exporter's escrowed session keys to be decrypted and inspected (dataplane/tls_*).
//   kOff       never decrypted: the payload is opaque ([defaults] opaque_payload)
//   kOptional  waits for the keys up to [tls] key_wait_ms; without them opaque_payload applies
//   kRequired  as kOptional, but a flow whose keys never came is blocked (tls_key_missing)
enum class TlsEscrow : uint8_t { kOff, kOptional, kRequired };

enum class ZoneKind : uint8_t {
  kDomestic,    // data under PRC rules originates here
  kProcessing,  // offshore processing (来数加工): foreign data processed here, isolated
  kForeign,     // outside the border; flows to/from here cross the border
};
std::string_view zone_kind_name(ZoneKind k) noexcept;

enum class Level : uint8_t { kCore, kImportant, kGeneral };  // GB/T 43697-2024
std::string_view level_name(Level l) noexcept;

enum class Mechanism : uint8_t {
  kSecurityAssessment,
  kStandardContract,
  kCertification,
  kExemption,
};
std::string_view mechanism_name(Mechanism m) noexcept;

enum class Status : uint8_t { kActive, kSuspended, kRevoked };
std::string_view status_name(Status s) noexcept;

enum class Reply : uint8_t {
  kInspected,    // the responder may send payload back; it is inspected
  kUninspected,  // the responder may send payload back; not inspected (never towards foreign)
  kNone,         // no payload back (TCP control segments and pure ACKs only): one-way transfer
};

// Confidence levels are the inspect module's (very_unlikely < ... < very_likely).
using Confidence = inspect::Confidence;
std::string_view confidence_name(Confidence c) noexcept;

// ---------------------------------------------------------------------------------------------
// Read-only descriptions (control plane and audit formatting; stable for the snapshot's life).

struct ZoneInfo {
  std::string id;
  ZoneKind kind;
  std::vector<Prefix> prefixes;
};

// A domestic data handler ([[exporters]]): the legal entity whose exports are counted and
// declared. A border flow belongs to the exporter of its domestic end: the longest exporter prefix
// holding that address, else the exporter that lists the address's zone.
struct ExporterInfo {
  std::string id, name, uscc;  // uscc: the 18-character unified social credit code
  bool ciio = false;           // critical information infrastructure operator
  std::vector<ZoneId> zones;
  std::vector<Prefix> prefixes;
};

struct LinkInfo {
  ZoneId from, to;
  bool inspect;             // bytes from `from` to `to` are inspected
  Reply reply;              // what the responder may send back
  uint64_t counterparties;  // unused when !restricts_counterparties
  bool restricts_counterparties;
  std::vector<CounterpartyId> counterparty_list;
};

struct CategoryInfo {
  std::string id, name;
  Level level = Level::kGeneral;
  bool personal = false, sensitive = false;
  Confidence min_confidence = Confidence::kLikely;
  uint32_t threshold = 1;  // findings (at or above min_confidence) per flow before the rule applies
  Action action = Action::kBlock;  // what a violated rule does (core: always block)
  std::string provenance_list{}, provenance_item{};
};

struct BasisInfo {
  std::string id, reference, processor, exemption;
  Mechanism mechanism;
  Status status;
  int64_t valid_from_ns, valid_until_ns;        // valid while valid_from <= now < valid_until
  uint64_t categories;                          // mask of covered categories
  uint64_t max_persons, max_sensitive_persons;  // 0 = no cap declared (enforced by accounting)
  bool require_declaration = false;             // flows under it need a declaration
};

struct PortRange {
  uint16_t lo, hi;
};

struct EndpointInfo {
  CounterpartyId counterparty;
  uint8_t protocols;              // bit 0 tcp, bit 1 udp; 0 = any
  uint32_t port_begin, port_end;  // into Snapshot port ranges; empty = any port
  uint32_t sni_begin, sni_end;    // into Snapshot SNI patterns; empty = identified by address
  bool any_address;               // no prefixes: identified by SNI alone
};

struct CounterpartyInfo {
  std::string id, name, country;
  Status status = Status::kActive;
  int64_t valid_from_ns = INT64_MIN, valid_until_ns = INT64_MAX;
  std::vector<BasisId> bases{};  // in the order written; the first valid covering basis is used
  uint64_t basis_mask = 0;       // bit b set when the policy's basis b is listed (bases < 64)
  bool restricts_categories = false;  // allowed_categories was written
  uint64_t allowed = 0, denied = 0;   // category masks
  bool require_declaration = false;   // flows to it need a declaration
};

// The byte account of one declaration (docs/accounting.md "Durable declaration bytes"). Workers
// add to `used` (relaxed) and may not pass `granted`: the ledger thread raises `granted` only
// after the store durably holds it (a budget granted ahead), so a crash never under-counts.
// Without a ledger `granted` stays kUngranted and max_bytes alone limits (a per-run cap).
struct DeclarationBytes {
  static constexpr uint64_t kUngranted = UINT64_MAX;
  std::atomic<uint64_t> used{0};              // bytes charged this run
  std::atomic<uint64_t> granted{kUngranted};  // the ledger's budget for this run
  std::atomic<bool> exhausted{false};         // the store has no more: past `granted` is exceeded
};

// Byte accounts by declaration id: shared by the snapshots of one process so that a policy
// reload does not reset them (CompileOptions::declaration_usage). Accounts are created on the
// control thread while compiling; workers only add to them (relaxed atomics).
class DeclarationUsage {
 public:
  DeclarationBytes* counter(const std::string& id);  // control thread (takes a lock)
  // From now on new accounts start with no budget (granted 0): a ledger grants them. Accounts
  // made before keep kUngranted until the ledger takes them over (audit/ledger_bytes.cpp).
  void set_granting() {
    std::lock_guard<std::mutex> lock(mu_);
    granting_ = true;
  }

 private:
  std::mutex mu_;
  bool granting_ = false;
  std::map<std::string, std::unique_ptr<DeclarationBytes>> bytes_;
};

// A declaration file as compiled into the snapshot (docs/policy-reference.md "Declarations").
enum class DeclarationState : uint8_t {
  kValid,    // signed by its approver and consistent with the policy: in force in its window
  kRevoked,  // listed in the declarations directory's revoked.list
  kInvalid,  // failed a check (`problem` says which): never in force
};
std::string_view declaration_state_name(DeclarationState s) noexcept;  // "valid", ...

struct DeclarationInfo {
  std::string id, file, exporter, counterparty_id, basis_id, purpose, approved_by;
  std::string problem;  // the first error of an invalid declaration
  DeclarationState state = DeclarationState::kInvalid;
  CounterpartyId counterparty = kNoCounterparty;
  BasisId basis = kNoBasis;
  ExporterId exporter_index = kNoExporter;  // kNoExporter: the policy names no exporters
  uint64_t categories = 0;                  // mask of declared categories
  uint64_t max_persons = 0, max_bytes = 0;
  int64_t max_sensitive_persons = -1;  // -1: not declared
  int64_t valid_from_ns = 0, valid_until_ns = 0;
  DeclarationBytes* bytes = nullptr;  // bytes exported under it (DeclarationUsage)
};

// ---------------------------------------------------------------------------------------------
// Fast-path values.

// One reason of a verdict. Fields that do not apply hold the kNo* sentinel.
struct Reason {
  ReasonKind kind = ReasonKind::kCount;
  Action action = Action::kAllow;  // what this rule asked for (before monitor mode)
  CategoryId category = kNoCategory;
  CounterpartyId counterparty = kNoCounterparty;
  BasisId basis = kNoBasis;
  uint16_t detector = kNoDetector;  // a detector that produced the category's findings
  uint32_t count = 0;               // findings counted for the category
};

struct Verdict {
  Action action = Action::kAllow;
  bool monitored = false;  // monitor mode turned at least one block into an alert
  bool truncated = false;  // more than kMaxReasons reasons; the least severe were dropped
  uint8_t reason_count = 0;
  std::array<Reason, kMaxReasons> reasons{};  // most decisive first (docs §5)
};

// The server name the opener's stream gives: the TLS ClientHello's server_name or, for plaintext
// HTTP/1.x, the request's Host (docs/policy-reference.md §2.8). Endpoints listing `sni` match it.
enum class SniState : uint8_t {
  kNotYet,   // no ClientHello or request head complete yet (e.g. at SYN)
  kAbsent,   // no usable name (not TLS/HTTP, no server_name, no Host, or an ambiguous Host)
  kPresent,  // `sni` holds the server name
};

// Where a server name came from (the audit record says which).
enum class NameSource : uint8_t {
  kNone,      // no name (or the endpoint is identified by address alone)
  kTlsSni,    // the TLS ClientHello's server_name
  kHttpHost,  // the HTTP/1.x request's Host (absolute-form target or Host header)
};
std::string_view name_source_name(NameSource s) noexcept;  // "", "sni", "http_host"

// The endpoint `sni` rule, for TLS SNI and HTTP Host alike: case-insensitive against a lower-case
// pattern, one trailing dot of `name` ignored; "*.example.com" matches any name ending in
// ".example.com" (any depth), not "example.com". `name` carries no port. noexcept, no allocation.
bool server_name_matches(std::string_view name, std::string_view pattern) noexcept;

// A new flow as the dataplane sees it. `src` is the opener (initiator), `dst` the responder.
struct FlowQuery {
  ZoneId src_zone = kNoZone, dst_zone = kNoZone;
  inspect::IpAddr src, dst;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;  // IP protocol number
  int64_t now_ns = 0;
  SniState sni_state = SniState::kNotYet;
  std::string_view sni;  // the server name; only read when sni_state == kPresent; not retained
  NameSource name_source = NameSource::kTlsSni;  // where `sni` came from
};

enum class Side : uint8_t { kNone, kOpener, kResponder };

// Admission facts of one flow: what admission found besides its verdict (the dataplane keeps
// these per flow and the verdict interned: dataplane/verdict_table.hpp).
struct AdmissionFacts {
  ZoneId src_zone = kNoZone, dst_zone = kNoZone;
  LinkId link = kNoLink;
  bool border = false;           // one end in a foreign zone, the other not
  Side foreign = Side::kNone;    // which end is foreign
  bool inspect_forward = false;  // inspect opener -> responder payload
  bool inspect_reverse = false;  // inspect responder -> opener payload
  bool reverse_payload_allowed = true;
  bool sni_pending = false;  // re-admit with the server name before forwarding any payload
  NameSource server_name = NameSource::kNone;  // the endpoint was matched by this name
  CounterpartyId counterparty = kNoCounterparty;
  uint16_t endpoint = 0xffff;
  ExporterId exporter = kNoExporter;  // border flows: the domestic end's exporter (or none)
  // The active declaration the flow crosses under (kNoDeclaration: none matched). The ledger
  // counts its persons in the declaration scope `<year>/e=<exporter>/d=<id>/<k>` against
  // Snapshot::declaration(d).max_persons / max_sensitive_persons.
  DeclarationId declaration = kNoDeclaration;
  // Which direction's bytes are exports (leave for the foreign end). Findings from the other
  // direction must not be added to the tally passed to decide().
  bool forward_is_export() const noexcept { return border && foreign == Side::kResponder; }
  bool reverse_is_export() const noexcept { return border && foreign == Side::kOpener; }
};

struct Admission : AdmissionFacts {  // the facts and the verdict (about 150 bytes)
  Verdict verdict;                   // admission-time verdict (zone, link, whitelist, basis) at now
};

// Per-flow findings in exported bytes, per category, at or above each category's
// min_confidence. 64 bytes, lives on the flow. Filled with Snapshot::add_finding().
struct CategoryTally {
  struct Slot {
    CategoryId category = kNoCategory;
    uint8_t max_confidence = 0;
    uint16_t count = 0;  // saturates at 65535
    uint16_t detector = kNoDetector;
  };
  uint64_t seen = 0;      // categories with at least one counted finding
  uint64_t overflow = 0;  // categories seen after all slots were taken (treated as triggered)
  std::array<Slot, kMaxTallySlots> slots{};
};

// Category indices are per snapshot. A flow that started on an older snapshot keeps scanning with
// that snapshot's detector database (its Hyperscan stream belongs to it) while the newest snapshot
// decides; remap its tally once when it first meets the new snapshot.
struct CategoryRemap {
  std::array<CategoryId, kMaxCategories> to;  // old index -> new index, kNoCategory = dropped
};

class Snapshot;
// Control thread, once per swap: maps categories by id.
CategoryRemap remap_categories(const Snapshot& from, const Snapshot& to);
// Worker: rewrites `t` in place. noexcept, no allocation.
void apply_remap(const CategoryRemap& m, CategoryTally& t) noexcept;

class Snapshot {
 public:
  // ---- identity (any thread) ----
  const std::array<uint8_t, 32>& sha256() const noexcept { return sha256_; }
  const std::string& sha256_hex() const noexcept { return sha256_hex_; }
  // True when the policy's `audit_unavailable` failure mode is "closed": border flows may not
  // cross without an audit trail, so an appliance without one must not run this policy.
  bool requires_audit() const noexcept {
    constexpr std::size_t kAudit =
        std::countr_zero(flag::kAuditUnavailable) - std::countr_zero(flag::kFlowTableFull);
    return failure_action_[kAudit] == Action::kBlock;
  }
  const std::string& policy_id() const noexcept { return policy_id_; }
  const std::string& policy_version() const noexcept { return policy_version_; }
  const std::string& source_path() const noexcept { return source_path_; }
  bool monitor_mode() const noexcept { return monitor_; }
  // [defaults] fragments: a reassembled datagram of an inspected flow is inspected (true) or
  // blocks the flow as fragment_uninspected (false).
  bool reassemble_fragments() const noexcept { return reassemble_fragments_; }
  // [defaults] tls_escrow: TLS flows of border links wait for escrowed keys and are decrypted.
  TlsEscrow tls_escrow() const noexcept { return tls_escrow_; }
  // [accounting] (customs accounting, docs/accounting.md).
  const AccountingPolicy& accounting() const noexcept { return accounting_; }
  // The person-key kind of detector `detector_index` (kNone: not a person key, or accounting off).
  PersonKeyKind person_key_kind(uint32_t detector_index) const noexcept {
    return detector_index < person_key_kinds_.size() ? person_key_kinds_[detector_index]
                                                     : PersonKeyKind::kNone;
  }
  // The sensitive / non-sensitive counters a flow's persons feed (kPersons* bits): the personal
  // categories seen in its exported bytes; non-sensitive when none of them is personal.
  uint8_t person_kinds(const CategoryTally& t) const noexcept;

  // ---- zones ----
  std::size_t zone_count() const noexcept { return zones_.size(); }
  const ZoneInfo& zone(ZoneId z) const { return zones_[z]; }
  ZoneId find_zone(std::string_view id) const noexcept;     // kNoZone when unknown
  ZoneId zone_of(const inspect::IpAddr& a) const noexcept;  // longest prefix over all zones
  // True when `a`'s longest-prefix zone is `z` (anti-spoofing: a more specific prefix of another
  // zone inside z's prefixes does not belong to z).
  bool zone_contains(ZoneId z, const inspect::IpAddr& a) const noexcept;
  bool zone_has_prefixes(ZoneId z) const noexcept;
  ZoneKind zone_kind(ZoneId z) const noexcept;
  LinkId link_between(ZoneId from, ZoneId to) const noexcept;  // kNoLink when isolated

  // ---- exporters ----
  std::size_t exporter_count() const noexcept { return exporters_.size(); }
  const ExporterInfo& exporter(ExporterId e) const { return exporters_[e]; }
  ExporterId find_exporter(std::string_view id) const noexcept;  // kNoExporter when unknown
  // The exporter of a domestic address in zone `z` (kNoExporter when none). noexcept, no
  // allocation.
  ExporterId exporter_of(ZoneId z, const inspect::IpAddr& a) const noexcept;
  // [defaults] unattributed: the action for a border flow that no exporter owns.
  Action unattributed_action() const noexcept { return unattributed_action_; }
  std::size_t link_count() const noexcept { return links_.size(); }
  const LinkInfo& link(LinkId l) const { return links_[l]; }

  // ---- admission: call for a new flow; again when the server name (TLS SNI or HTTP Host)
  // arrives (sni_pending), and again on
  // the newest snapshot after a policy swap. ~100-300 ns. ----
  Admission admit(const FlowQuery& q) const noexcept;

  // ---- findings ----
  // Categories fed by detector `detector_index` of detector_db() (bit c = category c).
  uint64_t detector_categories(uint32_t detector_index) const noexcept;
  // Counts one finding of `detector_index` at `confidence` into `t` for every category the
  // detector feeds whose min_confidence it reaches.
  void add_finding(CategoryTally& t, uint32_t detector_index, Confidence confidence,
                   uint32_t n = 1) const noexcept;

  // ---- verdict: call whenever the tally or flags change, and on each packet of a border flow so
  // expiry at `now_ns` is seen. `a` must come from admit() on this snapshot. ----
  Verdict decide(const Admission& a, const CategoryTally& t, uint32_t flags,
                 int64_t now_ns) const noexcept;
  // The earliest time after `now_ns` at which decide() on this admission can change by time
  // alone (a validity window of its counterparty or of one of its legal bases opens or closes);
  // INT64_MAX when nothing is time-dependent. Lets the dataplane re-decide a quiet flow only when
  // something can have changed, with the same result as deciding on every packet.
  int64_t next_change_ns(const Admission& a, int64_t now_ns) const noexcept;

  // ---- declarations (docs/policy-reference.md "Declarations") ----
  std::size_t declaration_count() const noexcept { return declarations_.size(); }
  const DeclarationInfo& declaration(DeclarationId d) const { return declarations_[d]; }
  DeclarationId find_declaration(std::string_view id) const noexcept;  // kNoDeclaration: none
  const std::string& declarations_dir() const noexcept { return declarations_dir_; }
  // Worker, for every payload byte count `n` of an exported direction of a flow admitted under
  // declaration `d`: adds it to the declaration's total unless that would pass max_bytes or the
  // ledger's granted budget. kExceeded: set flag::kDeclarationExceeded; kWait: drop the packet
  // (declaration_grant_wait; TCP retransmits it once the ledger raised the budget). Bytes that
  // do not fit are not counted. One relaxed atomic add per call; noexcept, no allocation, no lock.
  enum class Charge : uint8_t { kCharged, kWait, kExceeded };
  Charge charge_declaration(DeclarationId d, uint64_t n) const noexcept;
  // The byte accounts of every declaration this process compiled (the ledger grants them).
  DeclarationUsage* declaration_usage() const noexcept { return declaration_usage_.get(); }

  // ---- names (audit, CLI) ----
  std::size_t category_count() const noexcept { return categories_.size(); }
  const CategoryInfo& category(CategoryId c) const { return categories_[c]; }
  CategoryId find_category(std::string_view id) const noexcept;
  std::size_t counterparty_count() const noexcept { return counterparties_.size(); }
  const CounterpartyInfo& counterparty(CounterpartyId c) const { return counterparties_[c]; }
  CounterpartyId find_counterparty(std::string_view id) const noexcept;
  std::size_t basis_count() const noexcept { return bases_.size(); }
  const BasisInfo& basis(BasisId b) const { return bases_[b]; }
  std::size_t endpoint_count() const noexcept { return endpoints_.size(); }

  // ---- detectors ----
  // Names of the detectors in detector-index order (built-ins used by the policy, then custom).
  const std::vector<std::string>& detector_names() const noexcept { return detector_names_; }
  // The compiled Hyperscan database (nullptr when no detector is used or inspect has none yet).
  const std::shared_ptr<const inspect::DetectorDb>& detector_db() const noexcept { return db_; }

  // One-line human summary of a verdict ("block: core_data(geo.survey) ...").
  std::string describe(const Verdict& v) const;
  std::string describe(const Reason& r) const;

 private:
  friend class SnapshotBuilder;
  bool counterparty_valid_bases(CounterpartyId c, int64_t now, uint64_t& valid,
                                Reason& why) const noexcept;
  // Admission step A4: the first matching endpoint of the foreign end, else the first one waiting
  // for the SNI, else the first one whose counterparty the link does not permit (kNone: none).
  struct EndpointMatch {
    uint32_t matched, pending, off_link;
  };
  EndpointMatch match_endpoint(const FlowQuery& q, const LinkInfo& l) const noexcept;
  bool endpoint_accepts(const EndpointInfo& ep, const FlowQuery& q,
                        bool foreign_is_server) const noexcept;
  // Verdict step V4 for one category: false when it was not found in enough exported bytes.
  bool category_reason(CategoryId cat, const Admission& a, const CategoryTally& t,
                       const CounterpartyInfo* cp, uint64_t valid, Reason& r) const noexcept;
  BasisId first_covering_basis(const CounterpartyInfo* cp, uint64_t valid, uint64_t category_bit,
                               bool need_assessment) const noexcept;
  // Declarations (declarations_decide.cpp): the first valid declaration matching the flow at
  // `now`; whether the flow needs one; the reason a declaration rule gives (false: none).
  DeclarationId match_declaration(const Admission& a, BasisId basis, int64_t now) const noexcept;
  bool needs_declaration(CounterpartyId cp, BasisId basis) const noexcept;
  bool declaration_reason(const Admission& a, BasisId basis, int64_t now, Reason& r) const noexcept;
  bool undeclared_category(const Admission& a, CategoryId cat, int64_t now,
                           Reason& r) const noexcept;

  std::array<uint8_t, 32> sha256_{};
  std::string sha256_hex_, policy_id_, policy_version_, source_path_;
  bool monitor_ = false;
  Action no_counterparty_action_ = Action::kBlock;
  Action opaque_action_ = Action::kAllow;
  Action urgent_action_ = Action::kBlock;               // [defaults] urgent_data
  Action midstream_action_ = Action::kBlock;            // [defaults] midstream
  bool reassemble_fragments_ = true;                    // [defaults] fragments
  Action http_anomaly_action_ = Action::kBlock;         // [defaults] http_anomaly
  Action content_uninspected_action_ = Action::kBlock;  // [defaults] content_uninspected
  TlsEscrow tls_escrow_ = TlsEscrow::kOff;              // [defaults] tls_escrow
  Action tls_auth_failure_action_ = Action::kBlock;     // [defaults] tls_auth_failure
  Action unattributed_action_ = Action::kAllow;         // [defaults] unattributed
  std::array<Action, kFailureCount> failure_action_{};
  AccountingPolicy accounting_{};
  std::vector<PersonKeyKind> person_key_kinds_;      // per detector index
  uint64_t personal_mask_ = 0, sensitive_mask_ = 0;  // personal categories, sensitive ones

  std::vector<ZoneInfo> zones_;
  RangeTable zone_table_;
  std::vector<LinkInfo> links_;
  std::vector<LinkId> link_matrix_;  // zones x zones

  std::vector<ExporterInfo> exporters_;
  RangeTable exporter_table_;              // exporter prefixes -> exporter (longest prefix)
  std::vector<ExporterId> zone_exporter_;  // zone -> the exporter listing it (or kNoExporter)

  std::vector<CategoryInfo> categories_;
  std::vector<CategoryId> precedence_;  // categories in evaluation order (docs §4)
  std::vector<BasisInfo> bases_;
  std::vector<CounterpartyInfo> counterparties_;
  std::vector<EndpointInfo> endpoints_;
  std::vector<PortRange> port_ranges_;
  std::vector<std::string> sni_patterns_;        // lower-case; "*.example.com" kept with the "*."
  RangeTable endpoint_table_;                    // address -> endpoint candidates
  std::vector<uint32_t> any_address_endpoints_;  // SNI-only endpoints

  std::vector<DeclarationInfo> declarations_;
  std::string declarations_dir_;
  std::shared_ptr<DeclarationUsage> declaration_usage_;

  std::vector<std::string> detector_names_;
  std::vector<uint64_t> detector_categories_;
  std::shared_ptr<const inspect::DetectorDb> db_;
};

}  // namespace dc::policy
