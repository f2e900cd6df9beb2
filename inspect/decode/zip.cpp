// Streaming ZIP walker: local headers, stored/deflate members, data descriptors (zip.hpp).
#include "inspect/decode/zip.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace dc::inspect::decoding {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50;       // APPNOTE §4.3.7
constexpr uint32_t kDescriptorSig = 0x08074b50;  // §4.3.9.3 (also the split-archive marker)
constexpr uint32_t kCentralSig = 0x02014b50;     // §4.3.12
constexpr uint32_t kEndSig = 0x06054b50;         // §4.3.16
constexpr uint32_t kZip64EndSig = 0x06064b50;    // §4.3.14
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kSpanMarker = 0x30304b50;  // "PK00": a split archive that fits one segment
constexpr uint16_t kFlagEncrypted = 1u << 0;  // §4.4.4
constexpr uint16_t kFlagDescriptor = 1u << 3;
constexpr uint16_t kZip64Tag = 0x0001;  // §4.5.3
constexpr std::size_t kFixedHeader = 30;
constexpr std::size_t kCentralFixed = 46;
constexpr uint64_t kFnvBasis = 1469598103934665603ull, kFnvPrime = 1099511628211ull;

uint16_t le16(const uint8_t* p) noexcept { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t* p) noexcept { return uint32_t{le16(p)} | uint32_t{le16(p + 2)} << 16; }
uint64_t le64(const uint8_t* p) noexcept { return uint64_t{le32(p)} | uint64_t{le32(p + 4)} << 32; }

// One member as the cross-check sees it (local walk or central directory): a 64-bit hash of its
// header offset, sizes and name, finalised (splitmix64) so that sums over members compare sets.
uint64_t entry_key(uint64_t offset, uint64_t csize, uint64_t usize, uint64_t name_hash) noexcept {
  uint64_t h = name_hash;
  for (const uint64_t v : {offset, csize, usize}) h = (h ^ v) * kFnvPrime;
  h ^= h >> 30, h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27, h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// A name as it appears in a path: control bytes become '?', long names end in "...".
void copy_name(char* dst, std::size_t cap, std::string_view src) noexcept {
  std::size_t n = std::min(src.size(), cap);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<uint8_t>(src[i]);
    dst[i] = (c < 0x20 || c == 0x7f) ? '?' : src[i];
  }
  if (src.size() > cap) std::memcpy(dst + cap - 3, "...", 3);
  dst[n] = '\0';
}

}  // namespace

ZipWalker* ZipWalker::create(DecoderArena& arena) noexcept {
  void* p = arena.alloc(sizeof(ZipWalker));
  if (p == nullptr) return nullptr;
  auto* z = new (p) ZipWalker();
  z->arena_ = &arena;
  return z;
}

void ZipWalker::destroy(ZipWalker* z) noexcept {
  if (z == nullptr) return;
  destroy(z->nested_);  // one level: the nested walker has none
  DecoderArena* arena = z->arena_;
  z->~ZipWalker();
  arena->free(z);
}

void ZipWalker::begin(const Path& parent, std::string_view name) noexcept {
  reset();
  level_ = 0, member_slot_ = 1;
  names_[0] = container_, names_[1] = member_, names_[2] = nullptr;
  copy_name(container_, kMaxContainerName, name);
  zip_path_ = parent.named_child(LayerKind::kZip, names_, 0);
}

void ZipWalker::begin_nested(const ZipWalker& outer) noexcept {
  reset();
  level_ = 1, member_slot_ = 2;
  names_[0] = outer.names_[0], names_[1] = outer.member_, names_[2] = member_;
  container_[0] = '\0';
  // "zip:outer.zip > zip:people.xlsx": this archive's layer takes the place of the member's.
  zip_path_ = outer.zip_path_.named_child(LayerKind::kZip, names_, 1);
}

void ZipWalker::reset() noexcept {
  destroy(nested_);
  nested_ = nullptr;
  inflate_.end();
  st_ = St::kSig;
  hdr_len_ = 0;
  members_ = 0;
  directory_ = 0;
  pos_ = record_at_ = 0;
  walked_sum_ = directory_sum_ = 0;
  in_member_ = stopped_ = prev_zip64_ = in_central_ = false;
}

void ZipWalker::condition(DecodeCondition c, const Path& where) noexcept {
  env_->sink.on_condition(c, where);
}

void ZipWalker::feed(std::span<const uint8_t> in, const ZipEnv& env) noexcept {
  env_ = &env;
  run(in);
  env_ = nullptr;
}

void ZipWalker::run(std::span<const uint8_t> in) noexcept {
  std::size_t i = 0;
  while (i < in.size() && st_ != St::kTail && st_ != St::kDone) {
    switch (st_) {
      case St::kData: {
        const std::size_t took = data(in.subspan(i));
        i += took;
        pos_ += took;
        break;
      }
      case St::kStoredDesc:
        i += stored_desc(in.subspan(i));  // advances pos_ itself
        break;
      case St::kSkip: {
        const auto take = static_cast<std::size_t>(std::min<uint64_t>(remaining_, in.size() - i));
        i += take;
        pos_ += take;
        remaining_ -= take;
        if (remaining_ == 0) st_ = St::kSig, hdr_len_ = 0;
        break;
      }
      default:
        header_byte(in[i++]);
        break;
    }
  }
}

void ZipWalker::header_byte(uint8_t c) noexcept {
  if (st_ == St::kSig && hdr_len_ == 0) record_at_ = pos_;
  ++pos_;
  switch (st_) {
    case St::kSig:
      hdr_[hdr_len_++] = c;
      if (hdr_len_ == 4) signature();
      break;
    case St::kLocal:
      hdr_[hdr_len_++] = c;
      if (hdr_len_ == kFixedHeader) local_header();
      break;
    case St::kCentral:
      hdr_[hdr_len_++] = c;
      if (hdr_len_ == kCentralFixed) central_header();
      break;
    case St::kName:
      name_byte(c);
      break;
    case St::kExtra:
      extra_byte(c);
      break;
    case St::kDescriptor:
      descriptor_byte(c);
      break;
    default:
      break;
  }
}

void ZipWalker::signature() noexcept {
  switch (le32(hdr_)) {
    case kLocalSig:
      local_at_ = record_at_;
      st_ = St::kLocal;
      return;
    case kCentralSig:
      ++directory_;
      st_ = St::kCentral;
      return;
    case kEndSig:
    case kZip64EndSig:
    case kZip64LocatorSig:
      st_ = St::kTail;
      return;
    case kSpanMarker:
      hdr_len_ = 0;
      return;
    case kDescriptorSig:
      // A descriptor after a member whose sizes were known (bit 3 clear): skip its fields.
      if (members_ == 0) {  // the split-archive marker at the start (§8.5.4)
        hdr_len_ = 0;
        return;
      }
      remaining_ = prev_zip64_ ? 20 : 12;
      st_ = St::kSkip;
      return;
    default:
      condition(DecodeCondition::kZipMalformed, zip_path_);
      st_ = St::kDone;
  }
}

void ZipWalker::local_header() noexcept {
  flags_ = le16(hdr_ + 6);
  method_ = le16(hdr_ + 8);
  csize_ = le32(hdr_ + 18);
  usize_ = le32(hdr_ + 22);
  name_len_ = le16(hdr_ + 26);
  extra_len_ = le16(hdr_ + 28);
  got_ = 0;
  extra_got_ = 0;
  zip64_ = false;
  in_central_ = false;
  name_hash_ = kFnvBasis;
  std::memset(name_tail_, 0, sizeof name_tail_);
  member_[0] = '\0';
  if (name_len_ > 0) {
    st_ = St::kName;
  } else if (extra_len_ > 0) {
    st_ = St::kExtra;
  } else {
    start_member();
  }
}

// §4.3.12: sizes at 20/24, name, extra and comment lengths at 28/30/32, the local header's offset
// at 42; then the name (hashed for the cross-check), the extra field (ZIP64 values), the comment.
void ZipWalker::central_header() noexcept {
  static_assert(sizeof hdr_ >= kCentralFixed && sizeof hdr_ >= kFixedHeader);
  in_central_ = true;
  csize_ = le32(hdr_ + 20);
  usize_ = le32(hdr_ + 24);
  cd_offset_ = le32(hdr_ + 42);
  name_len_ = le16(hdr_ + 28);
  extra_len_ = le16(hdr_ + 30);
  comment_len_ = le16(hdr_ + 32);
  got_ = extra_got_ = 0;
  name_hash_ = kFnvBasis;
  if (name_len_ > 0) {
    st_ = St::kName;
  } else if (extra_len_ > 0) {
    st_ = St::kExtra;
  } else {
    central_done();
  }
}

// A central directory entry read: counted into the directory's side of the cross-check.
void ZipWalker::central_done() noexcept {
  in_central_ = false;
  directory_sum_ += entry_key(cd_offset_, csize_, usize_, name_hash_);
  remaining_ = comment_len_;
  st_ = remaining_ > 0 ? St::kSkip : St::kSig;
  hdr_len_ = 0;
}

void ZipWalker::name_byte(uint8_t c) noexcept {
  name_hash_ = (name_hash_ ^ c) * kFnvPrime;
  if (in_central_) {
    if (++got_ < name_len_) return;
    got_ = 0;
    if (extra_len_ > 0) {
      st_ = St::kExtra;
    } else {
      central_done();
    }
    return;
  }
  if (got_ < kMaxName) member_[got_] = (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  std::memmove(name_tail_, name_tail_ + 1, 3);
  name_tail_[3] = c;
  if (++got_ < name_len_) return;
  const std::size_t n = std::min<std::size_t>(name_len_, kMaxName);
  if (name_len_ > kMaxName) std::memcpy(member_ + kMaxName - 3, "...", 3);
  member_[n] = '\0';
  got_ = 0;
  if (extra_len_ > 0) {
    st_ = St::kExtra;
  } else {
    start_member();
  }
}

// Extra field: tag(2) size(2) data, repeated (§4.5.1). Only the ZIP64 sizes matter here; a
// sub-field that runs past the field's length ends with it.
void ZipWalker::extra_byte(uint8_t c) noexcept {
  if (extra_got_ < sizeof extra_) extra_[extra_got_] = c;
  ++extra_got_;
  const bool field_done = ++got_ == extra_len_;
  if (extra_got_ >= 4 && (extra_got_ - 4u == le16(extra_ + 2) || field_done)) {
    if (le16(extra_) == kZip64Tag) zip64_extra();
    extra_got_ = 0;
  }
  if (!field_done) return;
  if (in_central_) {
    central_done();
  } else {
    start_member();
  }
}

// §4.5.3: the original, then the compressed size, each present when the header's 4-byte field
// is 0xFFFFFFFF (a local header must carry both), then (central directory) the header offset.
// Its presence in a local header makes descriptor sizes 8 bytes.
void ZipWalker::zip64_extra() noexcept {
  const uint8_t* data = extra_ + 4;
  const std::size_t have = std::min<std::size_t>(extra_got_, sizeof extra_) - 4;
  std::size_t at = 0;
  if (!in_central_) zip64_ = true;
  if (usize_ == 0xffffffffu && have >= at + 8) usize_ = le64(data + at), at += 8;
  if (csize_ == 0xffffffffu && have >= at + 8) csize_ = le64(data + at), at += 8;
  if (in_central_ && cd_offset_ == 0xffffffffu && have >= at + 8) cd_offset_ = le64(data + at);
}

void ZipWalker::start_member() noexcept {
  ++members_;
  in_member_ = true;
  member_out_ = 0;
  sniff_len_ = 0;
  member_path_ = zip_path_.named_child(LayerKind::kZipMember, names_, member_slot_);
  static constexpr char kXml[] = ".xml";
  xml_member_ = name_len_ >= 4;
  for (std::size_t i = 0; i < 4 && xml_member_; ++i) {
    xml_member_ = lower(static_cast<char>(name_tail_[i])) == kXml[i];
  }
  if (xml_member_) {
    text_path_ = member_path_.child(LayerKind::kXmlText);
    xml_.begin();
  }
  const bool sized = (flags_ & kFlagDescriptor) == 0;
  remaining_ = csize_;
  DecodeCondition opaque = DecodeCondition::kOpaqueEncrypted;
  if ((flags_ & kFlagEncrypted) == 0) {
    if (method_ == 8) {
      inflate_.begin(Coding::kRawDeflate, &env_->worker.arena(),
                     env_->worker.limits().decoder_memory);
      st_ = St::kData;
      if (sized && remaining_ == 0) end_member();  // nothing stored: nothing to inflate
      return;
    }
    if (method_ == 0) {
      st_ = sized ? St::kData : St::kStoredDesc;
      stored_bytes_ = 0, desc_len_ = 0;
      crc_ = static_cast<uint32_t>(crc32(0, nullptr, 0));
      if (sized && remaining_ == 0) end_member();
      return;
    }
    opaque = DecodeCondition::kOpaqueMethod;
  }
  condition(opaque, member_path_);
  end_member();
  // Without sizes the member's end cannot be found in data that cannot be decoded.
  if (sized) {
    st_ = remaining_ > 0 ? St::kSkip : St::kSig;
  } else {
    st_ = St::kDone;
  }
}

std::size_t ZipWalker::data(std::span<const uint8_t> in) noexcept {
  if (method_ == 8) {
    return (flags_ & kFlagDescriptor) == 0 ? inflate_sized(in) : inflate_unsized(in);
  }
  const auto take = static_cast<std::size_t>(std::min<uint64_t>(remaining_, in.size()));
  member_out(in.first(take), false);
  remaining_ -= take;
  if (remaining_ == 0) end_member();
  return take;
}

std::size_t ZipWalker::inflate_sized(std::span<const uint8_t> in) noexcept {
  const auto take = static_cast<std::size_t>(std::min<uint64_t>(remaining_, in.size()));
  const CodecStatus s = inflate_.feed(
      in.first(take), {env_->worker.zip_buffer(level_), kCodecBuffer}, ByteOut{this, inflate_hop});
  remaining_ -= take;
  if (stopped_) {
    stop();
    return take;
  }
  if (s == CodecStatus::kOk && remaining_ > 0) return take;
  if (s == CodecStatus::kCorrupt || s == CodecStatus::kOk) {  // kOk here: deflate cut short
    condition(DecodeCondition::kDecompressFailed, member_path_);
  } else if (s == CodecStatus::kNoMemory) {
    condition(DecodeCondition::kDecoderMemory, member_path_);
  } else if (remaining_ > 0 || inflate_.trailing() > 0) {
    // Bytes between the deflate end and the stated size: no writer leaves them, and a
    // directory-driven reader may find a member there that this walk skips.
    condition(DecodeCondition::kZipMalformed, member_path_);
  }
  end_member();
  st_ = remaining_ > 0 ? St::kSkip : St::kSig;
  return take;
}

std::size_t ZipWalker::inflate_unsized(std::span<const uint8_t> in) noexcept {
  const CodecStatus s = inflate_.feed(in, {env_->worker.zip_buffer(level_), kCodecBuffer},
                                      ByteOut{this, inflate_hop});
  if (stopped_) {
    stop();
    return in.size();
  }
  switch (s) {
    case CodecStatus::kOk:
      return in.size();
    case CodecStatus::kEnd:  // the data descriptor starts right after the deflate stream
      st_ = St::kDescriptor;
      desc_len_ = 0;
      return in.size() - inflate_.trailing();
    case CodecStatus::kCorrupt:
      condition(DecodeCondition::kDecompressFailed, member_path_);
      break;
    case CodecStatus::kNoMemory:
      condition(DecodeCondition::kDecoderMemory, member_path_);
      break;
  }
  end_member();
  st_ = St::kDone;  // the end of the member is unknown
  return in.size();
}

// §4.3.9: [signature] crc-32(4) compressed(4|8) uncompressed(4|8).
void ZipWalker::descriptor_byte(uint8_t c) noexcept {
  desc_[desc_len_++] = c;
  if (desc_len_ < 4) return;
  const std::size_t body = zip64_ ? 20 : 12;
  const std::size_t need = le32(desc_) == kDescriptorSig ? body + 4 : body;
  if (desc_len_ < need) return;
  end_member();
}

// True when a descriptor at p (n bytes available) matches the stored bytes so far.
bool ZipWalker::descriptor_at(const uint8_t* p, std::size_t n, bool signed_form) const noexcept {
  const std::size_t width = (zip64_ ? 20 : 12) + (signed_form ? 4 : 0);
  if (n < width) return false;
  if (signed_form) {
    if (le32(p) != kDescriptorSig) return false;
    p += 4;
  }
  const uint64_t c = zip64_ ? le64(p + 4) : le32(p + 4);
  const uint64_t u = zip64_ ? le64(p + 12) : le32(p + 8);
  const uint64_t want = zip64_ ? stored_bytes_ : (stored_bytes_ & 0xffffffffu);
  return c == want && u == want && le32(p) == crc_;
}

void ZipWalker::stored_hop(void* ctx, std::span<const uint8_t> b) noexcept {
  static_cast<ZipWalker*>(ctx)->member_out(b, false);
}

// Stored member with bit 3: the bytes are data until a descriptor (signed or not) whose CRC-32
// and sizes match everything before it; the window desc_ holds the bytes not yet known to be
// data. Checked when the window is full, so the result does not depend on the input split.
std::size_t ZipWalker::stored_desc(std::span<const uint8_t> in) noexcept {
  const std::size_t width = (zip64_ ? 20 : 12) + 4;
  OutBuffer w(ByteOut{this, stored_hop});
  std::size_t i = 0;
  while (i < in.size()) {
    desc_[desc_len_++] = in[i++];
    if (desc_len_ < width) continue;
    std::size_t used = 0;
    if (descriptor_at(desc_, desc_len_, true)) {
      used = width;
    } else if (descriptor_at(desc_, desc_len_, false)) {
      used = width - 4;
    }
    if (used > 0) {
      w.flush();
      uint8_t rest[4];
      const std::size_t n_rest = desc_len_ - used;
      std::memcpy(rest, desc_ + used, n_rest);
      end_member();
      pos_ += i - n_rest;
      run({rest, n_rest});  // the next record's first bytes
      return i;
    }
    crc_ = static_cast<uint32_t>(crc32(crc_, desc_, 1));
    ++stored_bytes_;
    w.put(desc_[0]);
    std::memmove(desc_, desc_ + 1, --desc_len_);
  }
  pos_ += i;
  return i;
}

void ZipWalker::inflate_hop(void* ctx, std::span<const uint8_t> b) noexcept {
  static_cast<ZipWalker*>(ctx)->member_out(b, true);
}

void ZipWalker::text_hop(void* ctx, std::span<const uint8_t> b) noexcept {
  auto* self = static_cast<ZipWalker*>(ctx);
  self->env_->sink.on_data(self->text_path_, b);
}

void ZipWalker::member_out(std::span<const uint8_t> b, bool inflated) noexcept {
  if (stopped_ || b.empty()) return;
  if (inflated) {
    const DecodeLimits& lim = env_->worker.limits();
    uint64_t& total = env_->inflated;
    bool over = false;
    if (total + b.size() > lim.max_output) {
      // Exactly up to the limit (the same bytes for every split), then stop.
      b = b.first(lim.max_output > total ? lim.max_output - total : 0);
      over = true;
    }
    // The ratio of one member: its output over the compressed bytes consumed so far.
    const uint64_t out = member_out_ + b.size();
    const uint64_t in = std::max<uint64_t>(inflate_.consumed(), 1);
    if (out > lim.ratio_floor && out / in > lim.max_ratio) {
      condition(DecodeCondition::kRatioLimit, member_path_);
      stopped_ = true;
      return;
    }
    total += b.size();
    if (over) {
      stopped_ = true;  // after the bytes below
      condition(DecodeCondition::kOutputLimit, member_path_);
      if (b.empty()) return;
    }
  }
  std::span<const uint8_t> inner = b;  // the nested walker's part of b
  for (std::size_t i = 0; sniff_len_ < 4 && i < b.size(); ++i) {
    sniff_[sniff_len_++] = b[i];
    inner = b.subspan(i + 1);
    if (sniff_len_ == 4 && le32(sniff_) == kLocalSig) {
      nested_archive();
      if (nested_ != nullptr) nested_->feed({sniff_, 4}, *env_);
    }
  }
  if (nested_ != nullptr && !inner.empty()) nested_->feed(inner, *env_);
  member_out_ += b.size();
  env_->sink.on_data(member_path_, b);
  if (xml_member_) xml_.feed(b, ByteOut{this, text_hop});
}

void ZipWalker::nested_archive() noexcept {
  if (level_ > 0 || zip_path_.depth() + 3 > Path::kMaxDepth) {
    condition(DecodeCondition::kOpaqueNested, member_path_);
    return;
  }
  nested_ = create(*arena_);
  if (nested_ == nullptr) {  // no arena room: the inner archive is not walked (fail closed)
    condition(DecodeCondition::kDecoderMemory, member_path_);
    return;
  }
  nested_->begin_nested(*this);
}

// The member that held an archive ended: so does that archive (cut short: kZipMalformed).
void ZipWalker::end_nested() noexcept {
  if (nested_ == nullptr) return;
  nested_->finish(*env_);
  destroy(nested_);
  nested_ = nullptr;
}

void ZipWalker::end_member() noexcept {
  if (!in_member_) return;
  in_member_ = false;
  end_nested();
  // The member as a directory-driven reader must list it: sizes from the header, or (flag bit 3)
  // what the walk found where the member ended.
  uint64_t csize = csize_, usize = usize_;
  if ((flags_ & kFlagDescriptor) != 0) {
    csize = method_ == 8 ? inflate_.consumed() : stored_bytes_;
    usize = method_ == 8 ? member_out_ : stored_bytes_;
  }
  walked_sum_ += entry_key(local_at_, csize, usize, name_hash_);
  if (xml_member_) {
    xml_.finish(ByteOut{this, text_hop});
    env_->sink.on_end(text_path_);
  }
  env_->sink.on_end(member_path_);
  inflate_.end();
  prev_zip64_ = zip64_;
  st_ = St::kSig, hdr_len_ = 0;  // callers that continue otherwise set st_ after
}

void ZipWalker::stop() noexcept {
  end_member();
  st_ = St::kDone;
}

void ZipWalker::finish(const ZipEnv& env) noexcept {
  env_ = &env;
  if (st_ == St::kStoredDesc) {
    // No descriptor matched while the window was full: try the shorter tail, else give up.
    OutBuffer w(ByteOut{this, stored_hop});
    for (std::size_t at = 0; at < desc_len_; ++at) {
      if (descriptor_at(desc_ + at, desc_len_ - at, true) ||
          descriptor_at(desc_ + at, desc_len_ - at, false)) {
        w.flush();
        end_member();
        st_ = St::kTail;  // the body ended right after the descriptor: nothing follows
        break;
      }
      crc_ = static_cast<uint32_t>(crc32(crc_, desc_ + at, 1));
      ++stored_bytes_;
      w.put(desc_[at]);
    }
  }
  const bool clean = st_ == St::kTail || st_ == St::kDone || (st_ == St::kSig && hdr_len_ == 0);
  if (!clean) {
    condition(DecodeCondition::kZipMalformed, in_member_ ? member_path_ : zip_path_);
  } else if (directory_ > 0 && (directory_ != members_ || directory_sum_ != walked_sum_)) {
    // The central directory lists members the walk did not meet as local headers, or lists
    // them at other offsets, sizes or names: a directory-driven reader sees another archive.
    condition(DecodeCondition::kZipMalformed, zip_path_);
  }
  end_member();
  inflate_.end();
  st_ = St::kDone;
  env_ = nullptr;
}

}  // namespace dc::inspect::decoding
