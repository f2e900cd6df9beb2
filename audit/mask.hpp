#pragma once
// Masking of sensitive values for audit records. Re-entrant; allocates.
#include <string>
#include <string_view>

namespace dc::audit {

// Keeps the first 6 and the last 4 characters of an ID or card number and replaces the rest with
// '*': "340202199001011234" -> "340202********1234", "6222021234567890123" ->
// "622202*********0123". The 6+4 rule is the one card schemes use for display (PCI DSS 3.4) and
// reveals at most the issuer/region prefix and a check tail. A value shorter than 16 characters
// would then show too large a share of itself, so it keeps only its last min(4, len/4) characters
// ("13812345678" ->
// "*********78"). Characters are UTF-8 code points, so a multi-byte character is masked whole.
std::string mask_value(std::string_view value);

}  // namespace dc::audit
