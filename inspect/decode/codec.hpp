#pragma once
// Streaming decompression of one coding layer of one body: gzip / x-gzip (several members),
// deflate (zlib-wrapped, or raw as some servers send it: chosen from the first two bytes, RFC
// 9110 §8.4.1.2), br (libbrotli, BrotliDecoderDecompressStream). zlib and Brotli take their
// memory from the worker's DecoderArena through a Lease (no malloc on the per-segment path); the
// state is created at the first body byte and destroyed at the end of the body.
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "inspect/decode/arena.hpp"
#include "inspect/decode/events.hpp"

struct BrotliDecoderStateStruct;

namespace dc::inspect::decoding {

// kRawDeflate is never a header token: raw deflate members of ZIP archives (zip.hpp).
enum class Coding : uint8_t {
  kIdentity,
  kGzip,
  kDeflate,
  kBrotli,
  kChunked,
  kUnknown,
  kRawDeflate
};
// Case-insensitive coding token ("gzip", "x-gzip", "deflate", "br", "identity", "chunked").
Coding coding_from_token(const char* s, std::size_t n) noexcept;
LayerKind coding_layer(Coding c) noexcept;

// Where a codec puts its output: called once per produced chunk, in order.
struct ByteOut {
  void* ctx = nullptr;
  void (*fn)(void*, std::span<const uint8_t>) noexcept = nullptr;
  void operator()(std::span<const uint8_t> b) const noexcept {
    if (!b.empty()) fn(ctx, b);
  }
};

// Batches single output bytes on the stack and hands them to a ByteOut when full and at scope end.
class OutBuffer {
 public:
  explicit OutBuffer(ByteOut out) noexcept : out_(out) {}
  OutBuffer(const OutBuffer&) = delete;
  OutBuffer& operator=(const OutBuffer&) = delete;
  ~OutBuffer() { flush(); }
  void put(uint8_t c) noexcept {
    if (n_ == sizeof buf_) flush();
    buf_[n_++] = c;
  }
  void put(std::span<const uint8_t> b) noexcept {
    while (!b.empty()) {
      if (n_ == sizeof buf_) flush();
      const std::size_t k = std::min(b.size(), sizeof buf_ - n_);
      std::memcpy(buf_ + n_, b.data(), k);
      n_ += k;
      b = b.subspan(k);
    }
  }
  void flush() noexcept {
    out_({buf_, n_});
    n_ = 0;
  }

 private:
  ByteOut out_;
  std::size_t n_ = 0;
  uint8_t buf_[512];
};

enum class CodecStatus : uint8_t {
  kOk,        // consumed everything; may want more
  kEnd,       // stream ended; bytes after it are trailing data (reported by the caller)
  kCorrupt,   // the data is not valid for this coding
  kNoMemory,  // the lease refused an allocation
};

class Decompressor {
 public:
  Decompressor() = default;
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;
  ~Decompressor() { end(); }

  // Starts a layer; no allocation yet (that happens at the first input byte).
  void begin(Coding c, DecoderArena* arena, std::size_t mem_cap) noexcept;
  // Feeds compressed bytes; output goes to `out` through `buf` (worker scratch). After kEnd,
  // `trailing` counts the bytes of `in` after the end of the stream.
  CodecStatus feed(std::span<const uint8_t> in, std::span<uint8_t> buf, ByteOut out) noexcept;
  // Releases the codec state back to the arena. Idempotent.
  void end() noexcept;
  bool active() const noexcept { return coding_ != Coding::kIdentity; }
  Coding coding() const noexcept { return coding_; }
  std::size_t trailing() const noexcept { return trailing_; }
  std::size_t memory() const noexcept { return lease_.used; }
  // Compressed bytes consumed so far (updated before each output chunk is handed on).
  uint64_t consumed() const noexcept { return consumed_; }

 private:
  CodecStatus start_zlib(int window_bits) noexcept;
  CodecStatus feed_zlib(std::span<const uint8_t> in, std::span<uint8_t> buf, ByteOut out) noexcept;
  CodecStatus feed_brotli(std::span<const uint8_t> in, std::span<uint8_t> buf,
                          ByteOut out) noexcept;
  CodecStatus fail(CodecStatus s) noexcept;

  z_stream z_{};
  BrotliDecoderStateStruct* br_ = nullptr;
  Lease lease_;
  std::size_t trailing_ = 0;
  uint64_t consumed_ = 0;
  Coding coding_ = Coding::kIdentity;
  uint8_t head_[2]{};  // deflate: first bytes, held until the zlib/raw choice can be made
  uint8_t head_len_ = 0;
  bool z_live_ = false;
  bool done_ = false;
  CodecStatus failed_ = CodecStatus::kOk;
};

}  // namespace dc::inspect::decoding
