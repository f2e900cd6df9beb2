#pragma once
// The judges of the built-in detectors: for each kind of value, the validator that confirms a
// token (inspect/detect/validators.hpp), how its value is normalised and masked, and its
// confidences (docs/detectors.md "Confidence"). Rows point at these; custom detectors pick one
// by name ("luhn", "gb11643", ...).
#include <optional>
#include <span>
#include <string_view>

#include "inspect/detect/table.hpp"

namespace dc::inspect::judges {

extern const Judge kNone;         // "none": any token; possible, likely with a keyword
extern const Judge kResidentId;   // "gb11643": GB 11643 resident ID
extern const Judge kUscc;         // "gb32100": GB 32100 USCC (a valid resident ID is rejected)
extern const Judge kUnionPay;     // UnionPay card (prefix 62), Luhn failures keyword-only
extern const Judge kPaymentCard;  // Visa, Mastercard, Amex, Discover, JCB, Diners
extern const Judge kLuhn;         // "luhn": 12-19 digits passing Luhn, any brand
extern const Judge kMobile;       // "cn_mobile": PRC mobile, +86/0086 prefix a variant
extern const Judge kPassport;     // "icao9303_passport": PRC/HK/MO passport number formats
extern const Judge kMrz;          // ICAO 9303 TD3 MRZ line 2 issued by CHN
extern const Judge kHkmoPermit;   // exit-entry permit for Hong Kong and Macao, Home-Return Permit
extern const Judge kTwPermit;     // mainland residents' permit to Taiwan
extern const Judge kHkid;         // "hkid": Hong Kong ID, "(c)" form a variant
extern const Judge kTwId;         // "tw_id": Taiwan national ID
extern const Judge kEmail;        // "email": role mailboxes a variant
extern const Judge kCoordinates;  // decimal coordinates inside China
extern const Judge kIban;         // "iban": ISO 13616 IBAN
extern const Judge kSsn;          // US Social Security Number

// Judges usable by custom detectors, in the order validator_names() lists them.
std::span<const Judge* const> named() noexcept;
// The judge for a custom detector's validator name; "" means "none". nullptr when unknown.
const Judge* by_name(std::string_view name) noexcept;

}  // namespace dc::inspect::judges
