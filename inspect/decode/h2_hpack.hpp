#pragma once
// HPACK (RFC 7541) header block decoding for one direction of an HTTP/2 connection, with
// libnghttp2's inflater (nghttp2_hd_inflate_hd2). The inflater's memory comes from the worker's
// DecoderArena through a Lease (nghttp2_mem hooks), so decoding never calls malloc; its dynamic
// table is capped at kMaxTable bytes (an encoder that announces a larger table is a compression
// error, so memory stays bounded whatever the peer's SETTINGS_HEADER_TABLE_SIZE says). Worker-
// owned; one per direction per connection, created at the connection's start.
#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "inspect/decode/arena.hpp"

namespace dc::inspect::decoding {

// Receives each decoded header field (spans valid during the call only).
struct FieldOut {
  void* ctx = nullptr;
  void (*fn)(void*, std::span<const uint8_t> name,
             std::span<const uint8_t> value) noexcept = nullptr;
};

class HpackInflater {
 public:
  static constexpr std::size_t kMaxTable = 65536;  // dynamic table bytes (RFC 7541 §4.1 sizes)
  enum class Status : uint8_t { kOk, kError, kNoMemory };

  HpackInflater() = default;
  HpackInflater(const HpackInflater&) = delete;
  HpackInflater& operator=(const HpackInflater&) = delete;
  ~HpackInflater() { release(); }

  // Creates the inflater with up to `cap` bytes of `arena`. kNoMemory when refused.
  Status start(DecoderArena& arena, std::size_t cap) noexcept;
  // Next bytes of the current header block; `final` on the block's last call (may be empty).
  // After kError or kNoMemory the dynamic table is lost: the caller stops decoding.
  Status feed(std::span<const uint8_t> in, bool final, FieldOut out) noexcept;
  void release() noexcept;
  bool active() const noexcept { return inflater_ != nullptr; }
  std::size_t memory() const noexcept { return lease_.used; }

 private:
  static void* mem_malloc(std::size_t size, void* user) noexcept;
  static void mem_free(void* p, void* user) noexcept;
  static void* mem_calloc(std::size_t n, std::size_t size, void* user) noexcept;
  static void* mem_realloc(void* p, std::size_t size, void* user) noexcept;

  nghttp2_hd_inflater* inflater_ = nullptr;
  nghttp2_mem mem_{};  // nghttp2 keeps a pointer to it: this object does not move
  Lease lease_;
};

}  // namespace dc::inspect::decoding
