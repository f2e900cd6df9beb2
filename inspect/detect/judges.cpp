// The built-in judges: validator call, normalised value, mask and confidences of each kind of
// value (docs/detectors.md "Confidence" and "Masking"), plus evaluate(), which applies a judge.
#include "inspect/detect/judges.hpp"

#include <algorithm>
#include <cstring>

namespace dc::inspect {

void set_value(Evaluation* e, const uint8_t* v, size_t n) noexcept {
  e->value_len = static_cast<uint8_t>(std::min<size_t>(n, sizeof e->value));
  std::memcpy(e->value, v, e->value_len);
}

size_t strip(Bytes t, uint8_t* out, size_t cap, bool upper) noexcept {
  size_t n = 0;
  for (uint8_t b : t) {
    if (b == ' ' || b == '-' || b == '(' || b == ')') continue;
    if (n == cap) return cap + 1;
    out[n++] = upper && b >= 'a' && b <= 'z' ? static_cast<uint8_t>(b - 32) : b;
  }
  return n;
}

void mask_ends(Bytes, unsigned head, unsigned tail, Evaluation* e) noexcept {
  const size_t n = e->value_len;
  if ((head + tail) * 3 > n * 2) {
    head = static_cast<unsigned>(n / 4);
    tail = static_cast<unsigned>(n / 4);
  }
  size_t k = 0;
  for (size_t i = 0; i < n && k + 1 < sizeof e->masked; ++i)
    e->masked[k++] = (i < head || i >= n - tail) ? static_cast<char>(e->value[i]) : '*';
  e->masked[k] = '\0';
}

void evaluate(const Judge& j, Bytes t, CivilDate today, Evaluation* e) noexcept {
  // Candidates are mostly rejected: reset only the fields that decide, not the value buffers.
  e->accept = false;
  e->keyword_required = false;
  e->value_len = 0;
  e->masked[0] = '\0';
  const Grade g = j.check(t, today, e);
  if (g == Grade::kReject) return;
  j.mask(t, j.head, j.tail, e);
  const Confidences& c = g == Grade::kValid     ? j.valid
                         : g == Grade::kVariant ? j.variant
                                                : j.keyword_only;
  e->accept = true;
  e->base = c.base;
  e->with_keyword = c.with_keyword;
  e->keyword_required = g == Grade::kKeywordOnly;
}

namespace judges {
namespace {

using C = Confidence;
using G = Grade;

// The token itself is the value when `c` passes.
G token_if(Check c, Bytes t, Evaluation* e) noexcept {
  if (c != Check::kValid) return G::kReject;
  set_value(e, t.data(), t.size());
  return G::kValid;
}

G check_none(Bytes t, CivilDate, Evaluation* e) noexcept { return token_if(Check::kValid, t, e); }

G check_resident_id(Bytes t, CivilDate today, Evaluation* e) noexcept {
  uint8_t buf[64];
  const size_t n = strip(t, buf, sizeof buf, true);
  if (n != 18 || validate_cn_resident_id(Bytes(buf, n), today) != Check::kValid) return G::kReject;
  set_value(e, buf, n);
  return G::kValid;
}

G check_uscc(Bytes t, CivilDate today, Evaluation* e) noexcept {
  if (t.size() != 18) return G::kReject;
  // GB 11643 first: an all-digit 18-character value that is a valid ID is a person, not a
  // company (detectors.md §2.3 "prefer the ID interpretation").
  if (validate_cn_resident_id(t, today) == Check::kValid) return G::kReject;
  const Check c = validate_uscc(t);
  if (c != Check::kValid && c != Check::kChecksum && c != Check::kOrgCode) return G::kReject;
  set_value(e, t.data(), t.size());
  // Early pilot codes (Fujian) fail GB 32100 but exist: keep them, keyword-gated.
  return c == Check::kValid ? G::kValid : G::kKeywordOnly;
}

// Cards: `unionpay` selects UnionPay (62) or every other brand.
G check_card(Bytes t, CivilDate today, Evaluation* e, bool want_unionpay) noexcept {
  // Digit runs (most tokens) have nothing to strip: judged in place, without the copy.
  const bool bare =
      t.size() <= 19 && std::all_of(t.begin(), t.end(), [](uint8_t b) { return is_digit(b); });
  uint8_t buf[64];
  const size_t n = bare ? t.size() : strip(t, buf, sizeof buf, false);
  if (n < 12 || n > 19) return G::kReject;
  const Bytes d(bare ? t.data() : buf, n);
  const CardCheck cc = validate_card(d);
  const bool unionpay = cc.brand == CardBrand::kUnionPay;
  if (want_unionpay != unionpay || cc.brand == CardBrand::kNone) return G::kReject;
  // An 18-digit value that is a valid resident ID is a person's ID, whatever card range it also
  // falls in (UnionPay 62, Discover 65, JCB 35, ...): left to cn_resident_id, counted once.
  if (n == 18 && validate_cn_resident_id(d, today) == Check::kValid) return G::kReject;
  // Pre-2002 domestic BINs do not all follow Luhn (detectors.md §2.4): keyword-gated.
  const bool old_bin = cc.check == Check::kChecksum && unionpay;
  if (cc.check != Check::kValid && !old_bin) return G::kReject;
  set_value(e, d.data(), n);
  if (old_bin) return G::kKeywordOnly;
  return cc.test_number ? G::kVariant : G::kValid;
}
G check_unionpay(Bytes t, CivilDate d, Evaluation* e) noexcept { return check_card(t, d, e, true); }
G check_payment(Bytes t, CivilDate d, Evaluation* e) noexcept { return check_card(t, d, e, false); }

G check_luhn(Bytes t, CivilDate, Evaluation* e) noexcept {
  uint8_t buf[64];
  const size_t n = strip(t, buf, sizeof buf, false);
  if (n < 12 || n > 19 || !luhn_valid(Bytes(buf, n))) return G::kReject;
  set_value(e, buf, n);
  return G::kValid;
}

G check_mobile(Bytes t, CivilDate, Evaluation* e) noexcept {
  uint8_t out[11];
  if (validate_cn_mobile(t, out) != Check::kValid) return G::kReject;
  set_value(e, out, 11);
  const bool intl = !t.empty() && (t[0] == '+' || t[0] == '0');
  return intl ? G::kVariant : G::kValid;
}

G check_passport(Bytes t, CivilDate, Evaluation* e) noexcept {
  return token_if(validate_cn_passport(t), t, e);
}

G check_mrz(Bytes t, CivilDate, Evaluation* e) noexcept {
  if (validate_mrz_td3_chn(t) != Check::kValid) return G::kReject;
  size_t n = 0;
  while (n < 9 && t[n] != '<') ++n;  // the value is the document number, '<'-padded
  set_value(e, t.data(), n);
  return G::kValid;
}

G check_hkmo_permit(Bytes t, CivilDate, Evaluation* e) noexcept {
  return token_if(validate_hkmo_permit(t), t, e);
}
G check_tw_permit(Bytes t, CivilDate, Evaluation* e) noexcept {
  return token_if(validate_tw_permit(t), t, e);
}

G check_hkid(Bytes t, CivilDate, Evaluation* e) noexcept {
  if (validate_hkid(t) != Check::kValid) return G::kReject;
  uint8_t buf[64];
  set_value(e, buf, strip(t, buf, sizeof buf, false));
  return !t.empty() && t.back() == ')' ? G::kVariant : G::kValid;
}

G check_tw_id(Bytes t, CivilDate, Evaluation* e) noexcept {
  return token_if(validate_tw_id(t), t, e);
}

bool is_role_account(Bytes local) noexcept {
  static constexpr std::string_view kRoles[] = {
      "noreply", "no-reply", "donotreply", "admin", "postmaster", "webmaster",
      "support", "info",     "hostmaster", "abuse", "root",       "mailer-daemon"};
  for (auto r : kRoles) {
    if (r.size() != local.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < r.size() && eq; ++i) {
      uint8_t c = local[i];
      if (c >= 'A' && c <= 'Z') c += 32;
      eq = c == static_cast<uint8_t>(r[i]);
    }
    if (eq) return true;
  }
  return false;
}

G check_email(Bytes t, CivilDate, Evaluation* e) noexcept {
  if (validate_email(t) != Check::kValid) return G::kReject;
  const size_t n = std::min(t.size(), sizeof e->value);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t c = t[i];
    e->value[i] = c >= 'A' && c <= 'Z' ? static_cast<uint8_t>(c + 32) : c;
  }
  e->value_len = static_cast<uint8_t>(n);
  size_t at = 0;
  while (at < t.size() && t[at] != '@') ++at;
  return is_role_account(t.first(at)) ? G::kVariant : G::kValid;
}

// "z***@example.com.cn": first character of the local part, then the domain as written.
void mask_email(Bytes t, unsigned, unsigned, Evaluation* e) noexcept {
  size_t at = 0;
  while (at < t.size() && t[at] != '@') ++at;
  size_t k = 0;
  e->masked[k++] = static_cast<char>(t[0]);
  for (const char* s = "***"; *s; ++s) e->masked[k++] = *s;
  for (size_t i = at; i < t.size() && k + 1 < sizeof e->masked; ++i)
    e->masked[k++] = static_cast<char>(t[i]);
  e->masked[k] = '\0';
}

G check_coordinates(Bytes t, CivilDate, Evaluation* e) noexcept {
  if (validate_cn_coordinates(t) != Check::kValid) return G::kReject;
  uint8_t buf[64];
  const size_t n = strip(t, buf, sizeof buf, false);
  if (n > sizeof buf) return G::kReject;
  set_value(e, buf, n);
  return G::kValid;
}

// "39.9***,116.4***": one decimal (about 11 km) in clear. Coordinate tokens are at most ~30
// bytes, so the normalised value is never truncated.
void mask_coordinates(Bytes, unsigned, unsigned, Evaluation* e) noexcept {
  size_t k = 0;
  int after_dot = -1;
  for (size_t i = 0; i < e->value_len && k + 4 < sizeof e->masked; ++i) {
    const uint8_t c = e->value[i];
    if (c == '.') {
      after_dot = 0;
    } else if (c == ',') {
      after_dot = -1;
    } else if (after_dot >= 0 && ++after_dot > 1) {
      if (after_dot == 2)
        for (int s = 0; s < 3; ++s) e->masked[k++] = '*';
      continue;
    }
    e->masked[k++] = static_cast<char>(c);
  }
  e->masked[k] = '\0';
}

G check_iban(Bytes t, CivilDate, Evaluation* e) noexcept {
  if (validate_iban(t) != Check::kValid) return G::kReject;
  uint8_t buf[64];
  set_value(e, buf, strip(t, buf, sizeof buf, false));
  return G::kValid;
}

G check_ssn(Bytes t, CivilDate, Evaluation* e) noexcept {
  return token_if(validate_us_ssn(t), t, e);
}

// "***-**-4399": the serial only.
void mask_ssn(Bytes t, unsigned, unsigned, Evaluation* e) noexcept {
  std::memcpy(e->masked, "***-**-", 7);
  std::memcpy(e->masked + 7, t.data() + 7, 4);
  e->masked[11] = '\0';
}

constexpr Confidences kLikely{C::kLikely, C::kVeryLikely};    // no keyword / with keyword
constexpr Confidences kPossible{C::kPossible, C::kLikely};    // weak format, keyword helps
constexpr Confidences kUnlikely{C::kUnlikely, C::kPossible};  // no check digit at all
constexpr Confidences kGated{C::kPossible, C::kPossible};     // keyword-only grades
constexpr Confidences kTestCard{C::kVeryUnlikely, C::kVeryUnlikely};

}  // namespace

const Judge kNone{"none", check_none, mask_ends, 2, 2, kPossible};
const Judge kResidentId{"gb11643", check_resident_id, mask_ends, 6, 4, kLikely};
const Judge kUscc{"gb32100", check_uscc, mask_ends, 6, 4, kLikely, {}, kGated};
const Judge kUnionPay{"", check_unionpay, mask_ends, 6, 4, kLikely, kTestCard, kGated};
const Judge kPaymentCard{"", check_payment, mask_ends, 6, 4, kLikely, kTestCard};
const Judge kLuhn{"luhn", check_luhn, mask_ends, 6, 4, kLikely};
const Judge kMobile{
    "cn_mobile", check_mobile, mask_ends, 3, 4, kPossible, {C::kLikely, C::kVeryLikely}};
const Judge kPassport{"icao9303_passport", check_passport, mask_ends, 2, 2, kUnlikely};
const Judge kMrz{"", check_mrz, mask_ends, 2, 2, {C::kVeryLikely, C::kVeryLikely}};
const Judge kHkmoPermit{"", check_hkmo_permit, mask_ends, 2, 2, kUnlikely};
const Judge kTwPermit{"", check_tw_permit, mask_ends, 2, 2, kUnlikely};
const Judge kHkid{"hkid", check_hkid, mask_ends, 2, 1, kPossible, kLikely};
const Judge kTwId{"tw_id", check_tw_id, mask_ends, 2, 3, kLikely};
const Judge kEmail{
    "email", check_email, mask_email, 0, 0, {C::kLikely, C::kLikely}, {C::kUnlikely, C::kUnlikely}};
const Judge kCoordinates{"", check_coordinates, mask_coordinates, 0, 0, kPossible};
const Judge kIban{"iban", check_iban, mask_ends, 4, 4, kLikely};
const Judge kSsn{"", check_ssn, mask_ssn, 0, 0, {C::kUnlikely, C::kLikely}};

std::span<const Judge* const> named() noexcept {
  static constexpr const Judge* kNamed[] = {&kNone, &kLuhn, &kResidentId, &kUscc,  &kIban,
                                            &kHkid, &kTwId, &kMobile,     &kEmail, &kPassport};
  return kNamed;
}

const Judge* by_name(std::string_view name) noexcept {
  if (name.empty()) return &kNone;
  for (const Judge* j : named())
    if (j->name == name) return j;
  return nullptr;
}

}  // namespace judges
}  // namespace dc::inspect
