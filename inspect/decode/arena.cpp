// Buddy allocator over a start-up region for the decoders' zlib/Brotli state (see arena.hpp).
#include "inspect/decode/arena.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

namespace dc::inspect::decoding {

Result<std::unique_ptr<DecoderArena>> DecoderArena::create(std::size_t bytes) {
  if (bytes > (std::size_t{1} << 31)) {
    return make_error(ErrorCode::kTooLarge, "decoder arena above 2 GiB");
  }
  std::size_t size = std::bit_ceil(std::max<std::size_t>(bytes, 64 * 1024));
  std::unique_ptr<DecoderArena> a(new (std::nothrow) DecoderArena());
  if (!a) return make_error(ErrorCode::kUnavailable, "decoder arena: out of memory");
  a->top_order_ = static_cast<uint8_t>(std::countr_zero(size) - kMinShift);
  const std::size_t blocks = size >> kMinShift;
  a->region_.reset(new (std::nothrow) std::byte[size]);
  a->meta_.reset(new (std::nothrow) uint8_t[blocks]);
  if (!a->region_ || !a->meta_) {
    return make_error(ErrorCode::kUnavailable,
                      "decoder arena: cannot allocate " + std::to_string(size) + " bytes");
  }
  std::memset(a->meta_.get(), kNotHead, blocks);
  for (auto& h : a->head_) h = kNil;
  a->push_free(0, a->top_order_);
  return a;
}

DecoderArena::FreeLink& DecoderArena::link(uint32_t idx) noexcept {
  return *reinterpret_cast<FreeLink*>(region_.get() + (std::size_t{idx} << kMinShift));
}

void DecoderArena::push_free(uint32_t idx, uint8_t order) noexcept {
  FreeLink& l = link(idx);
  l.prev = kNil;
  l.next = head_[order];
  if (head_[order] != kNil) link(head_[order]).prev = idx;
  head_[order] = idx;
  meta_[idx] = order;
}

void DecoderArena::unlink_free(uint32_t idx, uint8_t order) noexcept {
  FreeLink& l = link(idx);
  if (l.prev != kNil) {
    link(l.prev).next = l.next;
  } else {
    head_[order] = l.next;
  }
  if (l.next != kNil) link(l.next).prev = l.prev;
  meta_[idx] = kNotHead;
}

void* DecoderArena::alloc(std::size_t size) noexcept {
  if (size == 0) size = 1;
  const std::size_t blocks = (size + kMinBlock - 1) >> kMinShift;
  const auto want = static_cast<uint8_t>(std::bit_width(blocks - 1));  // ceil(log2(blocks))
  uint8_t o = want;
  while (o <= top_order_ && head_[o] == kNil) ++o;
  if (want > top_order_ || o > top_order_) {
    ++failures_;
    return nullptr;
  }
  const uint32_t idx = head_[o];
  unlink_free(idx, o);
  while (o > want) {  // split: keep the lower half, free the upper buddy
    --o;
    push_free(idx + (uint32_t{1} << o), o);
  }
  meta_[idx] = static_cast<uint8_t>(want | kUsedBit);
  in_use_ += std::size_t{1} << (want + kMinShift);
  if (in_use_ > peak_) peak_ = in_use_;
  return region_.get() + (std::size_t{idx} << kMinShift);
}

std::size_t DecoderArena::block_size(const void* p) const noexcept {
  const auto off = static_cast<std::size_t>(static_cast<const std::byte*>(p) - region_.get());
  return std::size_t{1} << ((meta_[off >> kMinShift] & ~kUsedBit) + kMinShift);
}

void DecoderArena::free(void* p) noexcept {
  if (p == nullptr) return;
  const auto off = static_cast<std::size_t>(static_cast<std::byte*>(p) - region_.get());
  auto idx = static_cast<uint32_t>(off >> kMinShift);
  auto o = static_cast<uint8_t>(meta_[idx] & ~kUsedBit);
  in_use_ -= std::size_t{1} << (o + kMinShift);
  while (o < top_order_) {  // merge with the buddy while it is a free block of the same order
    const uint32_t buddy = idx ^ (uint32_t{1} << o);
    if (meta_[buddy] != o) break;
    unlink_free(buddy, o);
    meta_[idx] = kNotHead;
    idx &= ~(uint32_t{1} << o);
    ++o;
  }
  push_free(idx, o);
}

void* Lease::alloc(std::size_t size) noexcept {
  if (arena == nullptr || size > cap || used + size > cap) {
    refused = true;
    return nullptr;
  }
  void* p = arena->alloc(size);
  if (p == nullptr) {
    refused = true;
    return nullptr;
  }
  used += arena->block_size(p);
  if (used > cap) {  // the block's rounding went over the cap
    used -= arena->block_size(p);
    arena->free(p);
    refused = true;
    return nullptr;
  }
  return p;
}

void Lease::free(void* p) noexcept {
  if (p == nullptr || arena == nullptr) return;
  used -= arena->block_size(p);
  arena->free(p);
}

}  // namespace dc::inspect::decoding
