// zlib (gzip, deflate zlib/raw) and Brotli streaming decompression with arena-backed memory.
#include "inspect/decode/codec.hpp"

#include <brotli/decode.h>

namespace dc::inspect::decoding {

namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool token_is(const char* s, std::size_t n, const char* want) noexcept {
  std::size_t i = 0;
  for (; i < n && want[i] != '\0'; ++i) {
    if (lower(s[i]) != want[i]) return false;
  }
  return i == n && want[i] == '\0';
}

voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
  return static_cast<Lease*>(opaque)->alloc(std::size_t{items} * size);
}
void z_free(voidpf opaque, voidpf p) { static_cast<Lease*>(opaque)->free(p); }
void* br_alloc(void* opaque, size_t size) { return static_cast<Lease*>(opaque)->alloc(size); }
void br_free(void* opaque, void* p) { static_cast<Lease*>(opaque)->free(p); }

// RFC 1950 §2.2: CM = 8, CINFO <= 7, (CMF*256 + FLG) divisible by 31.
bool is_zlib_header(uint8_t cmf, uint8_t flg) noexcept {
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

}  // namespace

Coding coding_from_token(const char* s, std::size_t n) noexcept {
  if (token_is(s, n, "gzip") || token_is(s, n, "x-gzip")) return Coding::kGzip;
  if (token_is(s, n, "deflate")) return Coding::kDeflate;
  if (token_is(s, n, "br")) return Coding::kBrotli;
  if (token_is(s, n, "identity")) return Coding::kIdentity;
  if (token_is(s, n, "chunked")) return Coding::kChunked;
  return Coding::kUnknown;
}

LayerKind coding_layer(Coding c) noexcept {
  switch (c) {
    case Coding::kDeflate:
    case Coding::kRawDeflate:
      return LayerKind::kDeflate;
    case Coding::kBrotli:
      return LayerKind::kBrotli;
    default:
      return LayerKind::kGzip;
  }
}

void Decompressor::begin(Coding c, DecoderArena* arena, std::size_t mem_cap) noexcept {
  end();
  coding_ = c;
  lease_ = Lease{arena, 0, mem_cap, false};
  trailing_ = 0;
  consumed_ = 0;
  head_len_ = 0;
  done_ = false;
  failed_ = CodecStatus::kOk;
}

void Decompressor::end() noexcept {
  if (z_live_) inflateEnd(&z_);
  z_live_ = false;
  if (br_ != nullptr) BrotliDecoderDestroyInstance(br_);
  br_ = nullptr;
  coding_ = Coding::kIdentity;
}

CodecStatus Decompressor::fail(CodecStatus s) noexcept {
  if (s == CodecStatus::kCorrupt && lease_.refused) s = CodecStatus::kNoMemory;
  failed_ = s;
  return s;
}

CodecStatus Decompressor::start_zlib(int window_bits) noexcept {
  z_ = z_stream{};
  z_.zalloc = z_alloc;
  z_.zfree = z_free;
  z_.opaque = &lease_;
  const int rc = inflateInit2(&z_, window_bits);
  if (rc != Z_OK) return fail(rc == Z_MEM_ERROR ? CodecStatus::kNoMemory : CodecStatus::kCorrupt);
  z_live_ = true;
  return CodecStatus::kOk;
}

CodecStatus Decompressor::feed(std::span<const uint8_t> in, std::span<uint8_t> buf,
                               ByteOut out) noexcept {
  if (failed_ != CodecStatus::kOk) return failed_;
  if (done_) {
    trailing_ += in.size();
    return CodecStatus::kEnd;
  }
  if (in.empty()) return CodecStatus::kOk;
  switch (coding_) {
    case Coding::kGzip:
      if (!z_live_ && start_zlib(MAX_WBITS + 32) != CodecStatus::kOk) return failed_;
      return feed_zlib(in, buf, out);
    case Coding::kDeflate: {
      if (z_live_) return feed_zlib(in, buf, out);
      // Hold the first two bytes: a zlib header means RFC 9110 deflate, anything else is the raw
      // deflate that non-conformant servers send (§8.4.1.2). Decided the same for every split.
      std::size_t take = 0;
      while (head_len_ < 2 && take < in.size()) head_[head_len_++] = in[take++];
      if (head_len_ < 2) return CodecStatus::kOk;
      const bool zlib = is_zlib_header(head_[0], head_[1]);
      if (start_zlib(zlib ? MAX_WBITS : -MAX_WBITS) != CodecStatus::kOk) return failed_;
      const CodecStatus s = feed_zlib({head_, 2}, buf, out);
      if (s != CodecStatus::kOk) {
        if (s == CodecStatus::kEnd) trailing_ += in.size() - take;
        return s;
      }
      return feed_zlib(in.subspan(take), buf, out);
    }
    case Coding::kRawDeflate:  // ZIP method 8 (APPNOTE §4.4.5): always raw, windowBits -15
      if (!z_live_ && start_zlib(-MAX_WBITS) != CodecStatus::kOk) return failed_;
      return feed_zlib(in, buf, out);
    case Coding::kBrotli:
      if (br_ == nullptr) {
        br_ = BrotliDecoderCreateInstance(br_alloc, br_free, &lease_);
        if (br_ == nullptr) return fail(CodecStatus::kNoMemory);
      }
      return feed_brotli(in, buf, out);
    default:
      consumed_ += in.size();
      out(in);
      return CodecStatus::kOk;
  }
}

CodecStatus Decompressor::feed_zlib(std::span<const uint8_t> in, std::span<uint8_t> buf,
                                    ByteOut out) noexcept {
  z_.next_in = const_cast<Bytef*>(in.data());
  z_.avail_in = static_cast<uInt>(in.size());
  while (z_.avail_in > 0) {
    z_.next_out = buf.data();
    z_.avail_out = static_cast<uInt>(buf.size());
    const uInt before = z_.avail_in;
    const int rc = inflate(&z_, Z_NO_FLUSH);
    consumed_ += before - z_.avail_in;  // counted before the output is handed on (ratio checks)
    out(buf.first(buf.size() - z_.avail_out));
    if (rc == Z_STREAM_END) {
      // RFC 1952 §2.2: a gzip file is a series of members; zlib stops after each one.
      if (coding_ == Coding::kGzip && z_.avail_in > 0) {
        if (inflateReset(&z_) != Z_OK) return fail(CodecStatus::kCorrupt);
        continue;
      }
      if (coding_ == Coding::kGzip) {
        // Member ended exactly at the end of this input: the next byte decides (new member or
        // trailing data); inflate handles a new header after a reset.
        if (inflateReset(&z_) != Z_OK) return fail(CodecStatus::kCorrupt);
        return CodecStatus::kOk;
      }
      done_ = true;
      trailing_ += z_.avail_in;
      return CodecStatus::kEnd;
    }
    if (rc == Z_MEM_ERROR) return fail(CodecStatus::kNoMemory);
    if (rc != Z_OK && rc != Z_BUF_ERROR) return fail(CodecStatus::kCorrupt);
    if (rc == Z_BUF_ERROR && z_.avail_out != 0) break;  // no progress possible
  }
  // Input consumed; drain output inflate may still hold for a full buffer.
  while (true) {
    z_.next_out = buf.data();
    z_.avail_out = static_cast<uInt>(buf.size());
    const uInt before = z_.avail_in;
    const int rc = inflate(&z_, Z_NO_FLUSH);
    consumed_ += before - z_.avail_in;  // counted before the output is handed on (ratio checks)
    out(buf.first(buf.size() - z_.avail_out));
    if (rc == Z_STREAM_END) {
      if (coding_ == Coding::kGzip) {
        if (inflateReset(&z_) != Z_OK) return fail(CodecStatus::kCorrupt);
        return CodecStatus::kOk;
      }
      done_ = true;
      return CodecStatus::kEnd;
    }
    if (rc == Z_MEM_ERROR) return fail(CodecStatus::kNoMemory);
    if (rc != Z_OK && rc != Z_BUF_ERROR) return fail(CodecStatus::kCorrupt);
    if (z_.avail_out != 0) return CodecStatus::kOk;
  }
}

CodecStatus Decompressor::feed_brotli(std::span<const uint8_t> in, std::span<uint8_t> buf,
                                      ByteOut out) noexcept {
  std::size_t avail_in = in.size();
  const uint8_t* next_in = in.data();
  while (true) {
    std::size_t avail_out = buf.size();
    uint8_t* next_out = buf.data();
    const std::size_t before = avail_in;
    const BrotliDecoderResult r =
        BrotliDecoderDecompressStream(br_, &avail_in, &next_in, &avail_out, &next_out, nullptr);
    consumed_ += before - avail_in;
    out(buf.first(buf.size() - avail_out));
    switch (r) {
      case BROTLI_DECODER_RESULT_SUCCESS:
        done_ = true;
        trailing_ += avail_in;  // "input is never overconsumed" (decode.h)
        return CodecStatus::kEnd;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        // libbrotli 1.0.9 reports this when the input ran out exactly as the output buffer
        // filled, with output still held (found by fuzz_decode_codec): drain it first.
        if (BrotliDecoderHasMoreOutput(br_)) continue;
        return CodecStatus::kOk;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        continue;
      default:
        return fail(CodecStatus::kCorrupt);
    }
  }
}

}  // namespace dc::inspect::decoding
