// HPACK decoding with libnghttp2's inflater on arena memory (h2_hpack.hpp).
#include "inspect/decode/h2_hpack.hpp"

#include <cstring>

namespace dc::inspect::decoding {

void* HpackInflater::mem_malloc(std::size_t size, void* user) noexcept {
  return static_cast<Lease*>(user)->alloc(size == 0 ? 1 : size);
}

void HpackInflater::mem_free(void* p, void* user) noexcept { static_cast<Lease*>(user)->free(p); }

void* HpackInflater::mem_calloc(std::size_t n, std::size_t size, void* user) noexcept {
  if (size != 0 && n > SIZE_MAX / size) return nullptr;
  void* p = mem_malloc(n * size, user);
  if (p != nullptr) std::memset(p, 0, n * size);
  return p;
}

void* HpackInflater::mem_realloc(void* p, std::size_t size, void* user) noexcept {
  auto* lease = static_cast<Lease*>(user);
  if (p == nullptr) return mem_malloc(size, user);
  if (size == 0) {
    lease->free(p);
    return nullptr;
  }
  const std::size_t have = lease->arena->block_size(p);
  if (size <= have) return p;  // arena blocks are powers of two: often room already
  void* q = lease->alloc(size);
  if (q == nullptr) return nullptr;  // realloc semantics: p stays valid
  std::memcpy(q, p, have);
  lease->free(p);
  return q;
}

HpackInflater::Status HpackInflater::start(DecoderArena& arena, std::size_t cap) noexcept {
  release();
  lease_ = Lease{&arena, 0, cap, false};
  mem_ = nghttp2_mem{&lease_, mem_malloc, mem_free, mem_calloc, mem_realloc};
  if (nghttp2_hd_inflate_new2(&inflater_, &mem_) != 0) {
    inflater_ = nullptr;
    return Status::kNoMemory;
  }
  // The largest table an encoder may announce (RFC 7541 §6.3): a passive decoder may keep a
  // larger table than the encoder's without harm (it evicts later, indices still match).
  if (nghttp2_hd_inflate_change_table_size(inflater_, kMaxTable) != 0) {
    release();
    return Status::kNoMemory;
  }
  return Status::kOk;
}

HpackInflater::Status HpackInflater::feed(std::span<const uint8_t> in, bool final,
                                          FieldOut out) noexcept {
  if (inflater_ == nullptr) return Status::kError;
  const uint8_t* p = in.data();
  std::size_t n = in.size();
  static const uint8_t kNone = 0;
  if (p == nullptr) p = &kNone;
  for (;;) {
    nghttp2_nv nv{};
    int flags = 0;
    const ssize_t rv = nghttp2_hd_inflate_hd2(inflater_, &nv, &flags, p, n, final ? 1 : 0);
    if (rv < 0)
      return rv == NGHTTP2_ERR_NOMEM || lease_.refused ? Status::kNoMemory : Status::kError;
    p += rv;
    n -= static_cast<std::size_t>(rv);
    if (flags & NGHTTP2_HD_INFLATE_EMIT)
      out.fn(out.ctx, {nv.name, nv.namelen}, {nv.value, nv.valuelen});
    if (flags & NGHTTP2_HD_INFLATE_FINAL) {
      nghttp2_hd_inflate_end_headers(inflater_);
      return Status::kOk;
    }
    if ((flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && n == 0) return Status::kOk;
  }
}

void HpackInflater::release() noexcept {
  if (inflater_ != nullptr) nghttp2_hd_inflate_del(inflater_);
  inflater_ = nullptr;
}

}  // namespace dc::inspect::decoding
