#pragma once
// How patterns become Hyperscan databases: the compile flags and modes (the only place in the
// product that names them), RAII for Hyperscan handles, byte-literal escaping, and the custom
// pattern checks of the policy compiler. Control plane only (compiling allocates).
#include <hs/hs.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace dc::inspect {

// RAII for Hyperscan handles (stateless deleters).
struct HsDatabaseDeleter {
  void operator()(hs_database_t* p) const noexcept { hs_free_database(p); }
};
using HsDatabasePtr = std::unique_ptr<hs_database_t, HsDatabaseDeleter>;

// Byte mode everywhere (no HS_FLAG_UTF8): traffic is GBK/binary as often as UTF-8 and
// HS_FLAG_UTF8 on invalid UTF-8 is undefined (detectors.md §2.0). Streaming: one stream per flow
// direction.
inline constexpr unsigned kStreamMode = HS_MODE_STREAM;
// Built-in triggers have a fixed length or an extractor: no start of match needed.
inline constexpr unsigned kBuiltinFlags = 0;
// ASCII keywords match in any case ("idCard" == "IDCARD"); other keyword forms byte for byte.
inline constexpr unsigned kAsciiKeywordFlags = HS_FLAG_CASELESS;
inline constexpr unsigned kKeywordFlags = 0;
// Custom patterns have no fixed length: Hyperscan reports the start of match.
inline constexpr unsigned kCustomFlags = HS_FLAG_SOM_LEFTMOST;
// A database holding custom patterns needs a SOM horizon as long as any match.
inline constexpr unsigned kCustomMode = HS_MODE_STREAM | HS_MODE_SOM_HORIZON_LARGE;

// Every byte as \xHH: keywords and literal custom patterns are matched byte for byte.
std::string escape_literal(std::string_view s);

// Compiles one custom pattern alone, exactly as DetectorDb::compile() will (flags, mode,
// literal escaping), so that a caller can attribute an error to the pattern's own source
// position. On failure the Error (code kInvalid) carries Hyperscan's message verbatim, e.g.
// "Missing close parenthesis for group started at index 0."; an empty expression is
// "empty pattern".
Result<void> check_custom_pattern(std::string_view expression, bool literal = false);

// Whether a custom pattern (compiled as check_custom_pattern() compiles it) can report a match
// only once the end of the data is known: "$", a trailing "\b" (hs_expression_info's
// matches_at_eod). Only such patterns need settle()'s end-of-data probe (scanner.hpp). True when
// Hyperscan cannot tell (the conservative answer).
bool custom_pattern_matches_at_eod(std::string_view expression, bool literal = false);

// One custom pattern checked without compiling it: Hyperscan's parser and analysis
// (hs_expression_info, ~0.03 ms, where a compile of a regex alone takes ~0.5 ms). The value is
// custom_pattern_matches_at_eod(); an error is Hyperscan's message verbatim (kInvalid), or "empty
// pattern". A literal (escaped byte for byte) is never parsed: it always compiles and never waits
// for the end of data. What only a compile finds (resource limits) is left to the database
// compile, which then compiles each custom pattern alone to name it (check_custom_pattern()).
Result<bool> custom_pattern_info(std::string_view expression, bool literal = false);

// check_custom_pattern() for many regexes (not literals) at the cost of one compile: all of them
// in one database, with DetectorDb::compile()'s flags and mode, and only if that fails each
// alone, so that every failing one is named. Returns (index into `expressions`, Hyperscan's
// message) per failing expression, in order; empty when all compile.
std::vector<std::pair<size_t, std::string>> check_custom_patterns(
    const std::vector<std::string>& expressions);

}  // namespace dc::inspect
