#pragma once
// Bounded per-worker memory for the zlib and Brotli decoders: a buddy allocator over one region
// allocated at start-up, so the per-segment path never calls malloc. Each decoder draws through a
// Lease that charges its blocks against a per-decoder cap; a failed allocation (arena full or cap
// reached) makes the codec fail and the decoder reports kDecoderMemory (fail closed).
// Owned by one worker; not thread-safe. alloc/free are O(log(region / kMinBlock)).
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/result.hpp"

namespace dc::inspect::decoding {

class DecoderArena {
 public:
  static constexpr std::size_t kMinShift = 8;  // 256-byte minimum block
  static constexpr std::size_t kMinBlock = std::size_t{1} << kMinShift;
  static constexpr std::size_t kMaxOrders = 24;

  // `bytes` is rounded up to a power of two, at least 64 KiB and at most 2 GiB. Control plane.
  static Result<std::unique_ptr<DecoderArena>> create(std::size_t bytes);

  // nullptr when no free block is large enough. noexcept, no system allocation.
  void* alloc(std::size_t size) noexcept;
  void free(void* p) noexcept;  // p from alloc() of this arena, or nullptr
  // Size of the block behind p (a power of two >= the requested size).
  std::size_t block_size(const void* p) const noexcept;

  std::size_t capacity() const noexcept { return std::size_t{1} << (kMinShift + top_order_); }
  std::size_t in_use() const noexcept { return in_use_; }
  std::size_t peak() const noexcept { return peak_; }
  uint64_t failures() const noexcept { return failures_; }

 private:
  DecoderArena() = default;
  static constexpr uint8_t kNotHead = 0xff;
  static constexpr uint8_t kUsedBit = 0x80;
  static constexpr uint32_t kNil = 0xffffffffu;
  struct FreeLink {
    uint32_t next, prev;
  };
  FreeLink& link(uint32_t idx) noexcept;
  void push_free(uint32_t idx, uint8_t order) noexcept;
  void unlink_free(uint32_t idx, uint8_t order) noexcept;

  std::unique_ptr<std::byte[]> region_;
  std::unique_ptr<uint8_t[]> meta_;  // per min-block: order (| kUsedBit) at block heads
  uint32_t head_[kMaxOrders + 1]{};
  uint8_t top_order_ = 0;
  std::size_t in_use_ = 0, peak_ = 0;
  uint64_t failures_ = 0;
};

// One decoder's share of the arena, with its cap. The zlib/Brotli allocation callbacks take a
// Lease* as their opaque pointer.
struct Lease {
  DecoderArena* arena = nullptr;
  std::size_t used = 0;
  std::size_t cap = 0;
  bool refused = false;  // an allocation was refused: the codec's failure is a memory failure

  void* alloc(std::size_t size) noexcept;
  void free(void* p) noexcept;
};

}  // namespace dc::inspect::decoding
