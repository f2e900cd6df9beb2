// libFuzzer target for inspect/decode's decompressors (gzip, deflate zlib/raw, brotli) on
// arbitrary bytes with arena-backed memory. Byte 0 picks the coding and a split point: output
// whole and split must agree; memory stays within the lease cap and returns to the arena.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "inspect/decode/codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace dc::inspect::decoding;

namespace {

constexpr std::size_t kCap = 1u << 20;
constexpr std::size_t kMaxOut = 4u << 20;

DecoderArena& arena() {
  static std::unique_ptr<DecoderArena> a = [] {
    auto r = DecoderArena::create(4u << 20);
    CHECK(r.has_value());
    return std::move(r.value());
  }();
  return *a;
}

struct Out {
  std::string bytes;
  CodecStatus last = CodecStatus::kOk;
  std::size_t trailing = 0;
};

Out run(Coding c, const uint8_t* d, std::size_t n, std::size_t piece) {
  Out o;
  static uint8_t buf[4096];
  auto dec = std::make_unique<Decompressor>();
  dec->begin(c, &arena(), kCap);
  ByteOut to{&o.bytes, [](void* p, std::span<const uint8_t> b) noexcept {
               auto* s = static_cast<std::string*>(p);
               if (s->size() < kMaxOut)
                 s->append(reinterpret_cast<const char*>(b.data()), b.size());
             }};
  for (std::size_t i = 0; i < n; i += piece) {
    o.last = dec->feed({d + i, std::min(piece, n - i)}, {buf, sizeof buf}, to);
    CHECK(dec->memory() <= kCap);
    if (o.last == CodecStatus::kCorrupt || o.last == CodecStatus::kNoMemory) break;
  }
  o.trailing = dec->trailing();
  dec->end();
  CHECK(arena().in_use() == 0);
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* in, std::size_t size) {
  if (size < 1 || size > 65536) return 0;
  static constexpr Coding kCodings[] = {Coding::kGzip, Coding::kDeflate, Coding::kBrotli};
  const Coding c = kCodings[in[0] % 3];
  const Out whole = run(c, in + 1, size - 1, size);
  if (whole.bytes.size() >= kMaxOut) return 0;  // capped: the cut point is split-dependent
  const Out split = run(c, in + 1, size - 1, 1 + in[0] / 3);
  CHECK(split.last == whole.last);
  // A corrupt stream may stop at a split-dependent point inside the output buffer, but what was
  // produced for a prefix is a prefix of what is produced for the whole.
  if (whole.last == CodecStatus::kCorrupt || whole.last == CodecStatus::kNoMemory) {
    CHECK(whole.bytes.compare(0, split.bytes.size(), split.bytes) == 0 ||
          split.bytes.compare(0, whole.bytes.size(), whole.bytes) == 0);
  } else {
    CHECK(split.bytes == whole.bytes);
    CHECK(split.trailing == whole.trailing);
  }
  return 0;
}
