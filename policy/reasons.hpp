#pragma once
// Verdict vocabulary shared by the policy engine, the audit log and the CLI: actions, reason kinds,
// failure conditions. Names are stable snake_case strings (they appear in audit JSON and in
// [[test]] expectations); numeric values are not stable across versions, names are.
// Pure constants and lookup functions: callable from any thread, noexcept, no allocation.
#include <cstdint>
#include <string_view>

namespace dc::policy {

// Ordered by severity so that "the stricter action wins" is std::max.
enum class Action : uint8_t { kAllow = 0, kAlert = 1, kBlock = 2 };

std::string_view action_name(Action a) noexcept;  // "allow" | "alert" | "block"

// X-macro: enumerator, stable name, human text. The order is the precedence used to sort reasons
// of equal action (docs/policy-reference.md §5): monitor first (it explains why a block became an
// alert), then zone/link facts, whitelist facts, stream integrity and failures, then categories
// core > denied > not allowed > important > personal > general.
#define DC_POLICY_REASONS(X)                                                                       \
  X(kMonitorMode, "monitor_mode", "monitor mode: blocks are reported as alerts")                   \
  X(kUnknownZone, "unknown_zone", "an endpoint address belongs to no zone")                        \
  X(kNoLink, "no_link", "no link from the source zone to the destination zone (isolated)")         \
  X(kOneWayViolation, "one_way_violation", "payload sent back on a link whose reply is 'none'")    \
  X(kNoCounterparty, "no_counterparty",                                                            \
    "border-crossing flow with no whitelisted foreign endpoint")                                   \
  X(kCounterpartyNotOnLink, "counterparty_not_on_link",                                            \
    "counterparty is not permitted on this link")                                                  \
  X(kAwaitingSni, "awaiting_sni",                                                                  \
    "the endpoint is identified by server name (TLS SNI or HTTP Host); not seen yet")              \
  X(kServerNameChanged, "server_name_changed",                                                     \
    "a later HTTP request on the connection names another server (Host) than the admitted one")    \
  X(kCounterpartySuspended, "counterparty_suspended", "counterparty status is suspended")          \
  X(kCounterpartyRevoked, "counterparty_revoked", "counterparty status is revoked")                \
  X(kCounterpartyExpired, "counterparty_expired", "counterparty validity has ended")               \
  X(kCounterpartyNotYetValid, "counterparty_not_yet_valid", "counterparty validity has not begun") \
  X(kBasisExpired, "basis_expired", "no legal basis of the counterparty is valid: expired")        \
  X(kBasisNotYetValid, "basis_not_yet_valid",                                                      \
    "no legal basis of the counterparty is valid: not yet issued")                                 \
  X(kBasisInactive, "basis_inactive",                                                              \
    "no legal basis of the counterparty is valid: suspended or revoked")                           \
  X(kUnattributed, "unattributed",                                                                 \
    "border flow from no exporter the policy names ([defaults] unattributed)")                     \
  X(kDeclarationMissing, "declaration_missing",                                                    \
    "the counterparty or basis requires a declaration and no active approved one matches")         \
  X(kWhitelisted, "whitelisted", "whitelisted counterparty under a valid legal basis")             \
  X(kDomesticLink, "declared_link", "declared link; the flow does not cross the border")           \
  X(kEvasion, "evasion", "stream evasion detected (inconsistent overlap or retransmission)")       \
  X(kFragmentUninspected, "fragment_uninspected",                                                  \
    "IP fragments of an inspected flow and [defaults] fragments = \"block\"")                      \
  X(kTcpUrgentAmbiguous, "tcp_urgent_ambiguous",                                                   \
    "TCP urgent byte in inspected bytes: receivers differ on whether it is data (RFC 6093)")       \
  X(kMidstream, "midstream", "TCP flow first seen without its SYN: its opener is unknown")         \
  X(kHttpAnomaly, "http_anomaly",                                                                  \
    "ambiguous HTTP/1.x framing: a receiver may read the messages differently (RFC 9112)")         \
  X(kContentUninspected, "content_uninspected",                                                    \
    "HTTP content the detectors could not see decoded (unknown coding, corrupt, over a limit)")    \
  X(kTlsAuthFailure, "tls_auth_failure",                                                           \
    "a TLS record failed authentication with the escrowed key (forged or garbled key or record)")  \
  X(kTlsKeyMissing, "tls_key_missing",                                                             \
    "tls_escrow = \"required\" and the flow's escrowed TLS keys did not arrive in time")           \
  X(kFlowTableFull, "flow_table_full", "failure: flow table full")                                 \
  X(kReorderQueueFull, "reorder_queue_full", "failure: TCP out-of-order queue full")               \
  X(kStreamUnavailable, "stream_unavailable", "failure: stream scanning state unavailable")        \
  X(kScanError, "scan_error", "failure: content scanner error")                                    \
  X(kAuditUnavailable, "audit_unavailable", "failure: audit ring full or audit failing")           \
  X(kEvidenceUnavailable, "evidence_unavailable", "failure: evidence store full or failing")       \
  X(kFindingsOverflow, "findings_overflow", "more categories found than a flow tally holds")       \
  X(kAccountingUnavailable, "accounting_unavailable",                                              \
    "failure: the person count could not be decided (store unreachable or too slow)")              \
  X(kVolumeCap, "volume_cap",                                                                      \
    "the flow would take a distinct-person count past a legal basis cap or threshold")             \
  X(kVolumeWarn, "volume_warn",                                                                    \
    "a distinct-person count reached [accounting] warn_fraction of its limit")                     \
  X(kDeclarationExceeded, "declaration_exceeded",                                                  \
    "persons or bytes beyond the caps of the flow's declaration")                                  \
  X(kUndeclaredCategory, "undeclared_category",                                                    \
    "a category found that the flow's declaration does not declare")                               \
  X(kCoreData, "core_data", "core data never leaves")                                              \
  X(kCategoryDenied, "category_denied", "the counterparty is denied this category")                \
  X(kCategoryNotAllowed, "category_not_allowed",                                                   \
    "category not among the counterparty's allowed categories")                                    \
  X(kImportantWithoutAssessment, "important_without_assessment",                                   \
    "important data without a valid security-assessment basis covering it")                        \
  X(kPersonalWithoutBasis, "personal_without_basis",                                               \
    "personal information without a valid legal basis covering its category")                      \
  X(kOpaquePayload, "opaque_payload",                                                              \
    "payload cannot be inspected (encrypted); judged by endpoint identity")                        \
  X(kImportantUnderAssessment, "important_under_assessment",                                       \
    "important data covered by a valid security assessment")                                       \
  X(kPersonalUnderBasis, "personal_under_basis",                                                   \
    "personal information covered by a valid legal basis")                                         \
  X(kGeneralAllowed, "general_allowed", "general data the counterparty may receive")

enum class ReasonKind : uint8_t {
#define DC_X(e, name, text) e,
  DC_POLICY_REASONS(DC_X)
#undef DC_X
      kCount
};

inline constexpr std::size_t kReasonKindCount = static_cast<std::size_t>(ReasonKind::kCount);

std::string_view reason_name(ReasonKind k) noexcept;  // "core_data"
std::string_view reason_text(ReasonKind k) noexcept;  // "core data never leaves"
// Reverse lookup for [[test]] expectations; returns kCount when unknown.
ReasonKind reason_from_name(std::string_view name) noexcept;

// Conditions the dataplane reports to decide() as bits of `flags` (see Snapshot::decide).
// Each failure maps to the policy's fail-open/closed knob ([defaults.on_failure]).
namespace flag {
inline constexpr uint32_t kEvasion = 1u << 0;  // always block
inline constexpr uint32_t kReversePayload = 1u
                                            << 1;    // payload seen in a direction the link forbids
inline constexpr uint32_t kPayloadOpaque = 1u << 2;  // encrypted / uninspectable payload (TLS)
inline constexpr uint32_t kFlowTableFull = 1u << 3;
inline constexpr uint32_t kReorderQueueFull = 1u << 4;
inline constexpr uint32_t kStreamUnavailable = 1u << 5;
inline constexpr uint32_t kScanError = 1u << 6;
inline constexpr uint32_t kAuditUnavailable = 1u << 7;
inline constexpr uint32_t kEvidenceUnavailable = 1u << 8;
inline constexpr uint32_t kFragmented = 1u << 9;  // fragments, [defaults] fragments = "block"
// A TCP segment designated an urgent byte in an inspected direction ([defaults] urgent_data).
inline constexpr uint32_t kUrgentData = 1u << 10;
// A TCP flow first seen without a SYN: its opener is a guess ([defaults] midstream).
inline constexpr uint32_t kMidstream = 1u << 11;
// Ambiguous HTTP/1.x framing in an inspected direction ([defaults] http_anomaly).
inline constexpr uint32_t kHttpAnomaly = 1u << 12;
// HTTP content that could not be decoded for the detectors ([defaults] content_uninspected).
inline constexpr uint32_t kContentUninspected = 1u << 13;
// A later plaintext HTTP/1.x request of a flow admitted by its Host names another server (or
// none): always block.
inline constexpr uint32_t kServerNameChanged = 1u << 14;
// A TLS record failed authentication with an escrowed key ([defaults] tls_auth_failure).
inline constexpr uint32_t kTlsAuthFailure = 1u << 15;
// tls_escrow = "required" and the flow's keys did not arrive before the key wait ended.
inline constexpr uint32_t kTlsKeyMissing = 1u << 16;
// Customs accounting (issue 15): the ledger refused a person of this flow (a cap or threshold).
inline constexpr uint32_t kVolumeCap = 1u << 17;
// The ledger could not decide in time, or its store failed ([accounting] fallback).
inline constexpr uint32_t kAccountingUnavailable = 1u << 18;
// The flow's declaration caps (persons or bytes) were exceeded.
inline constexpr uint32_t kDeclarationExceeded = 1u << 19;
// A distinct-person count of the flow reached [accounting] warn_fraction of its limit.
inline constexpr uint32_t kVolumeWarn = 1u << 20;
}  // namespace flag

// Failure conditions with a fail-open/closed knob, in flag-bit order starting at kFlowTableFull.
inline constexpr std::size_t kFailureCount = 6;
std::string_view failure_name(std::size_t i) noexcept;  // "flow_table_full", ...

}  // namespace dc::policy
