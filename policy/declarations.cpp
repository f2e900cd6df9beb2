// Declarations: the canonical byte string an approver signs, and the checks of one declaration
// against the policy it is used with (references, caps, window, signature).
#include "policy/declarations.hpp"

#include <algorithm>

#include "base/time.hpp"
#include "policy/compile_internal.hpp"

namespace dc::policy {

namespace {

std::string escaped(std::string_view v, bool comma) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (comma && c == ',') {
      out += "\\,";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(const Located<int64_t>& v) {
  return v.pos.line == 0 ? std::string() : std::to_string(v.value);
}

template <class List>
std::size_t index_of(const List& names, const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? names.size() : static_cast<std::size_t>(it - names.begin());
}

// A reference that must name one of `known`: "unknown <kind> 'x'" (+ hint) at its position.
bool known_ref(const LStr& ref, std::string_view kind, const std::vector<std::string>& known,
               Diagnostics& d) {
  if (ref.pos.line == 0) return false;  // missing: reported by the loader
  if (index_of(known, ref.value) < known.size()) return true;
  d.error(ref.pos, unknown_ref(kind, ref.value, known));
  return false;
}

void check_caps(const DeclarationDoc& decl, Diagnostics& d) {
  const Pos file{1, 1};
  if (decl.max_persons.pos.line == 0) d.error(file, "the declaration is missing 'max_persons'");
  if (decl.max_bytes.pos.line == 0) d.error(file, "the declaration is missing 'max_bytes'");
  for (const auto* v : {&decl.max_persons, &decl.max_sensitive_persons, &decl.max_bytes}) {
    if (v->pos.line != 0 && v->value < 0) d.error(v->pos, "caps must not be negative");
  }
  if (decl.categories.empty()) d.error(file, "the declaration declares no categories");
  if (decl.valid_from.set && decl.valid_until.set && decl.valid_until.ns <= decl.valid_from.ns)
    d.error(decl.valid_until.pos, "the declaration ends before it begins");
}

void check_signature(const DeclarationDoc& decl, const DeclarationContext& ctx, Diagnostics& d) {
  if (decl.signature.pos.line == 0) {
    d.error(Pos{1, 1}, "unsigned: the declaration has no 'signature' (datacustoms declare sign)");
    return;
  }
  std::vector<std::string> ids;
  for (const auto& k : ctx.approvers) ids.push_back(k.id);
  const std::size_t a = index_of(ids, decl.approved_by.value);
  if (a == ids.size()) {
    if (decl.approved_by.pos.line != 0)
      d.error(decl.approved_by.pos, unknown_ref("approver", decl.approved_by.value, ids));
    return;
  }
  auto sig = decode_base64(decl.signature.value);
  if (!sig || sig->size() != 64) {
    d.error(decl.signature.pos, "bad signature: not the base64 of a 64-byte Ed25519 signature");
    return;
  }
  const std::string msg = canonical_form(decl);
  if (ed25519_verify(ctx.approvers[a].raw_key, msg, *sig)) return;
  for (const auto& other : ctx.approvers) {
    if (&other != &ctx.approvers[a] && ed25519_verify(other.raw_key, msg, *sig)) {
      d.error(decl.signature.pos, "wrong signer: signed by approver '" + other.id +
                                      "', but approved_by names '" + decl.approved_by.value + "'");
      return;
    }
  }
  d.error(decl.signature.pos, "bad signature: it does not verify with the key of approver '" +
                                  decl.approved_by.value +
                                  "' (the declaration changed after signing, or another key "
                                  "signed it)");
}

}  // namespace

std::string canonical_form(const DeclarationDoc& d) {
  std::vector<std::string> cats;
  for (const auto& c : d.categories) cats.push_back(escaped(c.value, true));
  std::sort(cats.begin(), cats.end());
  cats.erase(std::unique(cats.begin(), cats.end()), cats.end());
  std::string joined;
  for (const auto& c : cats) joined += (joined.empty() ? "" : ",") + c;
  std::string s = "datacustoms-declaration-v1\n";
  auto line = [&](std::string_view k, const std::string& v) {
    s.append(k).append("=").append(v).append("\n");
  };
  line("id", escaped(d.id.value, false));
  line("exporter", escaped(d.exporter.value, false));
  line("counterparty", escaped(d.counterparty.value, false));
  line("legal_basis", escaped(d.legal_basis.value, false));
  line("categories", joined);
  line("max_persons", number(d.max_persons));
  line("max_sensitive_persons", number(d.max_sensitive_persons));
  line("max_bytes", number(d.max_bytes));
  line("valid_from", d.valid_from_text);
  line("valid_until", d.valid_until_text);
  line("purpose", escaped(d.purpose.value, false));
  line("approved_by", escaped(d.approved_by.value, false));
  return s;
}

DeclarationContext declaration_context(const PolicyDoc& doc, Diagnostics& policy_diags) {
  DeclarationContext ctx;
  ctx.tz_minutes = doc.header.tz_offset_minutes;
  const std::string base = doc.path.find('/') == std::string::npos
                               ? std::string(".")
                               : doc.path.substr(0, doc.path.rfind('/'));
  const std::string& dir = doc.declarations.dir.value;
  if (!dir.empty()) ctx.dir = dir.front() == '/' ? dir : base + "/" + dir;
  for (const auto& c : doc.counterparties) {
    ctx.counterparties.push_back(c.id.value);
    auto& bases = ctx.counterparty_bases.emplace_back();
    for (const auto& b : c.legal_bases) bases.push_back(b.value);
  }
  for (const auto& b : doc.bases) ctx.bases.push_back(b.id.value);
  // A policy that names exporters holds every declaration to one of them; without [[exporters]]
  // the declaration's exporter is a label and flows of any exporter match it.
  for (const auto& e : doc.exporters) ctx.exporters.push_back(e.id.value);
  ctx.check_exporters = !doc.exporters.empty();
  for (const auto& c : doc.categories) ctx.categories.push_back(c.id.value);
  for (const auto& a : doc.approvers) {
    ApproverKey k{a.id.value, a.name.value, {}};
    if (auto key = load_public_key(a.public_key.value, base)) {
      k.raw_key = *key;
    } else if (a.public_key.pos.line != 0) {
      policy_diags.error(a.public_key.pos,
                         "approver '" + a.id.value + "': public_key: " + key.error().message);
    }
    ctx.approvers.push_back(std::move(k));
  }
  return ctx;
}

bool check_declaration(const DeclarationDoc& decl, const DeclarationContext& ctx, Diagnostics& d) {
  const std::size_t before = d.error_count();
  if (ctx.check_exporters) known_ref(decl.exporter, "exporter", ctx.exporters, d);
  if (known_ref(decl.counterparty, "counterparty", ctx.counterparties, d) &&
      known_ref(decl.legal_basis, "legal basis", ctx.bases, d)) {
    const auto& bases =
        ctx.counterparty_bases[index_of(ctx.counterparties, decl.counterparty.value)];
    if (index_of(bases, decl.legal_basis.value) == bases.size())
      d.error(decl.legal_basis.pos, "legal basis '" + decl.legal_basis.value +
                                        "' is not one of counterparty '" + decl.counterparty.value +
                                        "''s legal_bases");
  } else if (decl.counterparty.pos.line == 0) {
    known_ref(decl.legal_basis, "legal basis", ctx.bases, d);
  }
  for (const auto& c : decl.categories) known_ref(c, "category", ctx.categories, d);
  check_caps(decl, d);
  check_signature(decl, ctx, d);
  return d.error_count() == before;
}

DeclarationTime declaration_time(int64_t valid_from_ns, int64_t valid_until_ns, int64_t now_ns) {
  if (now_ns < valid_from_ns) return DeclarationTime::kPending;
  if (now_ns >= valid_until_ns) return DeclarationTime::kExpired;
  return DeclarationTime::kActive;
}

void check_declaration_time(const DeclarationDoc& decl, int64_t now_ns, int32_t tz_minutes,
                            Diagnostics& d) {
  if (!decl.valid_from.set || !decl.valid_until.set) return;
  switch (declaration_time(decl.valid_from.ns, decl.valid_until.ns, now_ns)) {
    case DeclarationTime::kPending:
      d.error(decl.valid_from.pos, "not yet valid: the declaration begins at " +
                                       base::format_rfc3339(decl.valid_from.ns, tz_minutes));
      break;
    case DeclarationTime::kExpired:
      d.error(decl.valid_until.pos, "expired: the declaration ended at " +
                                        base::format_rfc3339(decl.valid_until.ns, tz_minutes));
      break;
    case DeclarationTime::kActive:
      break;
  }
}

}  // namespace dc::policy
