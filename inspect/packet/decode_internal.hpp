#pragma once
// The decoder's general path, for the tests and the fuzzer that check the common-case fast path
// of decode() against it (inspect/packet/decode.cpp). Not for other callers: use decode().
#include "inspect/packet/decode.hpp"

namespace dc::inspect::detail {

// Every frame through the layer-by-layer decoder (decode() tries its fast path first and gives
// exactly the same status and fields).
DecodeStatus decode_general(std::span<const uint8_t> frame, Decoded& out,
                            const DecodeOptions& opts) noexcept;

}  // namespace dc::inspect::detail
