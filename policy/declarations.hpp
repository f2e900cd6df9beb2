#pragma once
// Declarations (issue 15): what an exporter declares it sends to a counterparty under a legal
// basis, approved by a compliance officer's Ed25519 signature. Reading one file, its canonical
// byte string (what is signed), checking it against a policy, and the declarations directory
// (files and revocation list). Control plane and CLI only: these functions allocate and do I/O.
// The format and every rule are in docs/policy-reference.md "Declarations".
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "policy/diagnostics.hpp"
#include "policy/model.hpp"

namespace dc::policy {

// A declaration file as read (loader_declarations.cpp). Dates keep their canonical text too.
struct DeclarationDoc {
  std::string path;
  LStr id, exporter, counterparty, legal_basis, purpose, approved_by, signature;
  LStrs categories;
  Located<int64_t> max_persons{-1}, max_sensitive_persons{-1}, max_bytes{-1};
  LTime valid_from, valid_until;
  std::string valid_from_text,
      valid_until_text;  // canonical: 2026-01-01 | 2026-01-01T08:00:00[+08:00]
  Pos signature_line{};  // where `signature = ...` is (0: none)
};

// Parses one declaration file. Dates without an offset are in `tz_minutes` (the policy's
// timezone). Problems go to `d` at their line and column of the declaration file.
DeclarationDoc parse_declaration(std::string_view text, const std::string& path, int32_t tz_minutes,
                                 Diagnostics& d);

// The byte string an approver signs (UTF-8, one `key=value` line per field in this order):
//   datacustoms-declaration-v1
//   id= exporter= counterparty= legal_basis= categories=<sorted, unique, comma-separated>
//   max_persons= max_sensitive_persons=<empty when absent> max_bytes= valid_from= valid_until=
//   purpose= approved_by=
// Values escape '\\' as "\\\\", LF as "\\n", CR as "\\r" (and ',' as "\\," inside categories), so
// re-formatting the TOML (order, quoting, comments, whitespace) does not change it.
std::string canonical_form(const DeclarationDoc& d);

// An approver of the policy with its raw 32-byte Ed25519 public key ("" when it did not load).
struct ApproverKey {
  std::string id, name, raw_key;
};

// What a declaration is checked against: the names the policy defines and its approvers' keys.
// Built from the parsed policy, so checking a declaration needs no compiled policy.
struct DeclarationContext {
  std::string dir;  // the declarations directory, resolved against the policy file ("" = none)
  int32_t tz_minutes = 0;
  std::vector<std::string> counterparties, bases, categories;
  std::vector<std::vector<std::string>> counterparty_bases;  // per counterparty, its bases
  std::vector<std::string> exporters;                        // validated when `check_exporters`
  bool check_exporters = false;
  std::vector<ApproverKey> approvers;
};
// Problems with [[approvers]] keys go to `policy_diags` at their position in the policy.
DeclarationContext declaration_context(const PolicyDoc& doc, Diagnostics& policy_diags);

// References (exporter, counterparty, legal basis, categories, approver), fields, and the
// signature. Every problem goes to `d`; true when there was none. Time is checked separately.
bool check_declaration(const DeclarationDoc& decl, const DeclarationContext& ctx, Diagnostics& d);

enum class DeclarationTime : uint8_t { kActive, kPending, kExpired };
DeclarationTime declaration_time(int64_t valid_from_ns, int64_t valid_until_ns, int64_t now_ns);
// "not yet valid" / "expired" as an error at the bound's position (nothing when active).
void check_declaration_time(const DeclarationDoc& decl, int64_t now_ns, int32_t tz_minutes,
                            Diagnostics& d);

// ---- the signature (declarations_crypto.cpp; OpenSSL EVP, pure Ed25519) ----
bool ed25519_verify(std::string_view raw_key, std::string_view message,
                    std::string_view signature) noexcept;
// A public key as the policy writes it: base64 of the raw 32 bytes, or the path of a PEM file
// (SubjectPublicKeyInfo, or a PKCS#8 private key) relative to `base_dir`. The raw 32 bytes.
Result<std::string> load_public_key(std::string_view value, const std::string& base_dir);
Result<std::string> decode_base64(std::string_view text);  // strict, with padding
std::string encode_base64(std::string_view bytes);

// ---- the declarations directory ----
inline constexpr std::string_view kRevocationFile = "revoked.list";
// The *.toml files of `dir`, sorted by name (an error when `dir` cannot be read).
Result<std::vector<std::string>> declaration_files(const std::string& dir);
// The ids in `dir`/revoked.list: one per line, '#' starts a comment (none when it is missing).
std::vector<std::string> revoked_ids(const std::string& dir);
// Appends `id` (with a comment saying when and why) to `dir`/revoked.list.
Result<void> append_revocation(const std::string& dir, const std::string& id,
                               const std::string& comment);

}  // namespace dc::policy
