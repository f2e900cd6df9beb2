// Validators for contact and location data: PRC mobile numbers, e-mail addresses, coordinates
// inside China. Pure functions.
#include "inspect/detect/validators.hpp"
#include "inspect/detect/validators_util.hpp"

namespace dc::inspect {

using namespace detail;  // NOLINT: digit helpers

// ---- PRC mobile ----------------------------------------------------------------------------

bool cn_mobile_prefix_ok(Bytes p) noexcept {
  if (p.size() < 3 || p[0] != '1' || !is_digit(p[1]) || !is_digit(p[2])) return false;
  const int a = digit_value(p[1]), b = digit_value(p[2]);
  // MIIT number plan (VincentSit/ChinaMobilePhoneNumberRegex, 2019) + later 162/190/192/193/
  // 195/196/197. 140-144/146/148 are 13-digit IoT ranges, so not 11-digit mobiles.
  switch (a) {
    case 3:
      return true;
    case 4:
      return b == 5 || b == 7 || b == 9;
    case 5:
      return b != 4;
    case 6:
      return b == 2 || b == 5 || b == 6 || b == 7;
    case 7:
      return b <= 8;
    case 8:
      return true;
    case 9:
      return b != 4;
    default:
      return false;
  }
}

Check validate_cn_mobile(Bytes v, uint8_t* out) noexcept {
  size_t i = 0;
  if (v.size() >= 3 && v[0] == '+' && v[1] == '8' && v[2] == '6') {
    i = 3;
  } else if (v.size() >= 4 && v[0] == '0' && v[1] == '0' && v[2] == '8' && v[3] == '6') {
    i = 4;
  }
  if (i > 0 && i < v.size() && (v[i] == ' ' || v[i] == '-')) ++i;
  Bytes r = v.subspan(i);
  uint8_t buf[11];
  if (r.size() == 11) {
    if (!all_digits(r)) return Check::kFormat;
    for (size_t k = 0; k < 11; ++k) buf[k] = r[k];
  } else if (r.size() == 13) {
    // 3-4-4 grouping with one separator kind used twice.
    if (!(r[3] == ' ' || r[3] == '-') || r[8] != r[3]) return Check::kFormat;
    size_t k = 0;
    for (size_t j = 0; j < 13; ++j) {
      if (j == 3 || j == 8) continue;
      if (!is_digit(r[j])) return Check::kFormat;
      buf[k++] = r[j];
    }
  } else {
    return Check::kLength;
  }
  if (!cn_mobile_prefix_ok(Bytes(buf, 3))) return Check::kRegion;
  if (out)
    for (size_t k = 0; k < 11; ++k) out[k] = buf[k];
  return Check::kValid;
}

// ---- E-mail --------------------------------------------------------------------------------

Check validate_email(Bytes v) noexcept {
  size_t at = v.size();
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == '@') {
      if (at != v.size()) return Check::kFormat;  // two '@'
      at = i;
    }
  if (at == v.size() || at == 0 || at > 64) return Check::kFormat;
  for (size_t i = 0; i < at; ++i) {
    uint8_t b = v[i];
    if (!(is_alnum(b) || b == '.' || b == '_' || b == '%' || b == '+' || b == '-'))
      return Check::kFormat;
  }
  if (v[0] == '.' || v[at - 1] == '.') return Check::kFormat;
  Bytes dom = v.subspan(at + 1);
  if (dom.empty() || dom.size() > 253) return Check::kLength;
  size_t labels = 0, start = 0;
  for (size_t i = 0; i <= dom.size(); ++i) {
    if (i == dom.size() || dom[i] == '.') {
      size_t len = i - start;
      if (len == 0 || len > 63) return Check::kFormat;
      if (dom[start] == '-' || dom[i - 1] == '-') return Check::kFormat;
      ++labels;
      if (i == dom.size()) {  // TLD: alphabetic, 2..24 (IANA root zone, no IDN here)
        if (len < 2 || len > 24) return Check::kFormat;
        for (size_t k = start; k < i; ++k)
          if (!is_alpha(dom[k])) return Check::kFormat;
      }
      start = i + 1;
    } else if (!(is_alnum(dom[i]) || dom[i] == '-')) {
      return Check::kFormat;
    }
  }
  return labels >= 2 ? Check::kValid : Check::kFormat;
}

// ---- Coordinates ---------------------------------------------------------------------------

namespace {
// Parses [-]d{1,3}.d{4,10} at v[i...]; value in 1e-4 degrees (truncated). Advances i.
bool parse_degree(Bytes v, size_t& i, long* out) noexcept {
  bool neg = false;
  if (i < v.size() && v[i] == '-') {
    neg = true;
    ++i;
  }
  long ip = 0;
  size_t n = 0;
  while (i < v.size() && is_digit(v[i]) && n < 4) ip = ip * 10 + digit_value(v[i++]), ++n;
  if (n == 0 || n > 3 || i >= v.size() || v[i] != '.') return false;
  ++i;
  long frac = 0;
  size_t f = 0;
  while (i < v.size() && is_digit(v[i])) {
    if (f < 4) frac = frac * 10 + digit_value(v[i]);
    ++f, ++i;
  }
  if (f < 4 || f > 10) return false;
  *out = (ip * 10000 + frac) * (neg ? -1 : 1);
  return true;
}
bool in_box(long lat, long lon, long lat_min) noexcept {
  return lat >= lat_min && lat <= 536000 && lon >= 734000 && lon <= 1351000;
}
}  // namespace

Check validate_cn_coordinates(Bytes v, bool* mainland) noexcept {
  size_t i = 0;
  long a = 0, b = 0;
  if (!parse_degree(v, i, &a)) return Check::kFormat;
  while (i < v.size() && v[i] == ' ') ++i;
  if (i >= v.size() || v[i] != ',') return Check::kFormat;
  ++i;
  while (i < v.size() && v[i] == ' ') ++i;
  if (!parse_degree(v, i, &b) || i != v.size()) return Check::kFormat;
  // Wide box: lat 3.8-53.6 N (incl. the South China Sea islands), lon 73.4-135.1 E.
  // Mainland-only box: lat >= 18.0 (Hainan's southern tip).
  const bool wide = in_box(a, b, 38000) || in_box(b, a, 38000);
  if (mainland) *mainland = in_box(a, b, 180000) || in_box(b, a, 180000);
  return wide ? Check::kValid : Check::kOutOfRange;
}

}  // namespace dc::inspect
