#pragma once
// Per-worker state of the decoding layer: the bounded DecoderArena behind every zlib/Brotli
// decoder of that worker's flows, the codec output buffers, and the limits. Created at start-up
// (control plane); used only by its worker thread afterwards.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/result.hpp"
#include "inspect/decode/arena.hpp"

namespace dc::inspect::decoding {

inline constexpr std::size_t kMaxCodings = 3;       // coding layers decoded per body
inline constexpr std::size_t kCodecBuffer = 16384;  // output buffer per coding layer

struct DecodeLimits {
  // Decompressed bytes per flow direction; beyond: kOutputLimit, decoding stops (bomb).
  uint64_t max_output = 64ull << 20;
  // Expansion ratio (decompressed / compressed bytes of a body); checked once the body's
  // output exceeds ratio_floor: beyond: kRatioLimit, decoding stops.
  uint32_t max_ratio = 200;
  uint64_t ratio_floor = 1ull << 20;
  // Arena bytes one decoder may hold (gzip/deflate ~40 KiB; brotli ring buffer ~2^WBITS,
  // rounded up to a power of two by the arena): beyond: kDecoderMemory.
  std::size_t decoder_memory = 16u << 20;
  // Arena of the worker, shared by all its decoders.
  std::size_t arena_bytes = 64u << 20;
};

class DecodeWorker {
 public:
  static Result<std::unique_ptr<DecodeWorker>> create(const DecodeLimits& limits) {
    auto arena = DecoderArena::create(limits.arena_bytes);
    if (!arena) return arena.error();
    std::unique_ptr<DecodeWorker> w(new DecodeWorker());
    w->limits_ = limits;
    w->arena_ = std::move(arena.value());
    return w;
  }
  DecoderArena& arena() noexcept { return *arena_; }
  const DecodeLimits& limits() const noexcept { return limits_; }
  uint8_t* buffer(std::size_t layer) noexcept { return buffers_[layer]; }
  // Output buffer of the ZIP member being inflated (zip.hpp), after the coding layers': one per
  // archive level (0: the archive, 1: an archive inside one of its members).
  static constexpr std::size_t kZipLevels = 2;
  uint8_t* zip_buffer(std::size_t level = 0) noexcept { return buffers_[kMaxCodings + level]; }

 private:
  DecodeWorker() = default;
  DecodeLimits limits_;
  std::unique_ptr<DecoderArena> arena_;
  uint8_t buffers_[kMaxCodings + kZipLevels][kCodecBuffer];
};

}  // namespace dc::inspect::decoding
