// libFuzzer target: every validator of inspect/detect/validators.hpp on arbitrary bytes. Validators
// see attacker-controlled candidates cut out of traffic, so they must never read out of bounds, and
// their answers must be deterministic and consistent with each other.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "inspect/detect/validators.hpp"

using namespace dc::inspect;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes b(data, size);
  const CivilDate today{2026, 11, 29};
  Check id = validate_cn_resident_id(b, today);
  if (id != validate_cn_resident_id(b, today)) std::abort();  // deterministic
  // A valid ID is exactly 18 characters.
  if (id == Check::kValid && size != 18) std::abort();
  (void)validate_cn_resident_id(b, kNoDateLimit);
  (void)validate_uscc(b);
  bool luhn = luhn_valid(b);
  (void)card_brand(b);
  (void)is_test_card(b);
  if (size >= 3) (void)cn_mobile_prefix_ok(b.subspan(0, 3));
  uint8_t out11[11];
  (void)validate_cn_mobile(b, out11);
  (void)validate_cn_passport(b);
  (void)validate_hkmo_permit(b);
  (void)validate_tw_permit(b);
  (void)validate_hkid(b);
  (void)validate_tw_id(b);
  (void)validate_email(b);
  bool mainland = false;
  (void)validate_cn_coordinates(b, &mainland);
  (void)validate_iban(b);
  (void)validate_us_ssn(b);
  (void)icao9303_check_digit(b);
  if (size >= 28) (void)validate_mrz_td3_chn(b.subspan(0, 28));
  if (size >= 17) {
    char c = gb11643_check_char(b.subspan(0, 17));
    (void)c;
  }
  (void)luhn;
  CivilDate d;
  (void)parse_civil_date(std::string_view(reinterpret_cast<const char*>(data), size), &d);
  Confidence c;
  (void)parse_confidence(std::string_view(reinterpret_cast<const char*>(data), size), &c);
  return 0;
}
