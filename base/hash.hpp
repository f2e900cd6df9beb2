#pragma once
// SHA-256, HMAC-SHA-256 and hex for every module (OpenSSL 3 EVP). Re-entrant; allocate only for
// the returned strings. Control plane and audit writer, not the per-packet path.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/file.hpp"
#include "base/result.hpp"

namespace dc::base {

using Sha256 = std::array<std::uint8_t, 32>;

// Lower-case hex, two digits a byte.
std::string to_hex(std::span<const std::uint8_t> bytes);
// Decodes `hex` (either case) into out[0 .. hex.size()/2); false on an odd length or a non-hex
// digit (then `out` may be partly written). No allocation.
bool from_hex(std::string_view hex, std::uint8_t* out) noexcept;

Sha256 sha256(std::string_view bytes);
std::string sha256_hex(std::string_view bytes);
// SHA-256 of a whole file, streamed (evidence pcaps can be large). Same rules as read_file: a
// regular file only (a device, FIFO or directory is an error, never an endless read), at most
// `opt.max_bytes`, symlinks refused when `opt.follow_symlinks` is false.
Result<std::string> sha256_file_hex(const std::string& path,
                                    ReadOptions opt = {.max_bytes = kMaxSampleBytes});

// HMAC-SHA-256 (RFC 2104) of `bytes` under `key`, lower-case hex.
std::string hmac_sha256_hex(std::string_view key, std::string_view bytes);

}  // namespace dc::base
