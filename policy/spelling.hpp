#pragma once
// How the policy's enumerations are spelt in the policy file, the CLI and the audit log: one table
// per enumeration, read one way by the compiler (name -> value) and the other by the *_name()
// functions (value -> name). Pure constants; callable from any thread, noexcept.
#include <array>
#include <string_view>

#include "policy/snapshot.hpp"

namespace dc::policy {

template <class E>
struct Spelling {
  std::string_view name;
  E value;
};

inline constexpr std::array<Spelling<Action>, 3> kActionSpellings{
    {{"allow", Action::kAllow}, {"alert", Action::kAlert}, {"block", Action::kBlock}}};

// [defaults] fragments: reassemble fragmented datagrams of inspected flows (true) or block.
inline constexpr std::array<Spelling<bool>, 2> kFragmentSpellings{
    {{"reassemble", true}, {"block", false}}};

// [defaults] tls_escrow: whether TLS flows wait for escrowed session keys
// (docs/policy-reference.md).
inline constexpr std::array<Spelling<TlsEscrow>, 3> kTlsEscrowSpellings{
    {{"off", TlsEscrow::kOff},
     {"optional", TlsEscrow::kOptional},
     {"required", TlsEscrow::kRequired}}};

inline constexpr std::array<Spelling<ZoneKind>, 3> kZoneKindSpellings{
    {{"domestic", ZoneKind::kDomestic},
     {"processing", ZoneKind::kProcessing},
     {"foreign", ZoneKind::kForeign}}};

inline constexpr std::array<Spelling<Level>, 3> kLevelSpellings{
    {{"core", Level::kCore}, {"important", Level::kImportant}, {"general", Level::kGeneral}}};

inline constexpr std::array<Spelling<Mechanism>, 4> kMechanismSpellings{
    {{"security_assessment", Mechanism::kSecurityAssessment},
     {"standard_contract", Mechanism::kStandardContract},
     {"certification", Mechanism::kCertification},
     {"exemption", Mechanism::kExemption}}};

inline constexpr std::array<Spelling<Status>, 3> kStatusSpellings{
    {{"active", Status::kActive},
     {"suspended", Status::kSuspended},
     {"revoked", Status::kRevoked}}};

inline constexpr std::array<Spelling<Reply>, 3> kReplySpellings{
    {{"inspected", Reply::kInspected},
     {"uninspected", Reply::kUninspected},
     {"none", Reply::kNone}}};

// Confidence levels as the detectors spell them (inspect::to_string), lowest first.
const std::array<Spelling<Confidence>, 5>& confidence_spellings() noexcept;

// The name of `v` in `table`, "?" when it has none.
template <class E, std::size_t N>
constexpr std::string_view spelling_of(const std::array<Spelling<E>, N>& table, E v) noexcept {
  for (const auto& s : table) {
    if (s.value == v) return s.name;
  }
  return "?";
}

}  // namespace dc::policy
