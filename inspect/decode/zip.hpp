#pragma once
// Streaming ZIP walker (PKWARE APPNOTE 6.3.10): reads an archive front to back as its bytes
// arrive, member by member, from the local file headers (never waiting for the central
// directory at the end): stored and deflate members are decoded and reported as streams named
// by the member ("... > zip:people.xlsx > xl/sharedStrings.xml"); the XML members of OOXML
// packages (XLSX, DOCX, PPTX) also give their text ("... > xml-text", xml_text.hpp).
//
// Why not a library: the ZIP readers packaged in Debian (libzip, minizip, libarchive's zip
// reader in seekable mode) read the central directory first, which needs the whole body; a
// gateway sees the archive once, in segments, with bounded memory. The framing is small
// (a 30-byte header, a name, extra fields, an optional descriptor), so it is parsed here and
// the decompression itself is zlib's raw inflate through the Decompressor/arena machinery.
//
// Member ends (APPNOTE §4.3.9, §4.4.4): known sizes are used when flag bit 3 is clear; with
// bit 3 a deflate member ends where the deflate stream ends (the data descriptor follows, with
// or without its signature, 8-byte sizes when the member has a ZIP64 extra field); a stored
// member with bit 3 has no terminator, so its end is where a data descriptor follows whose
// CRC-32 and sizes match the bytes so far, or kZipMalformed at the end of the body.
// When the central directory arrives (at the end) it is cross-checked against the members walked:
// the same number of entries, and the same set of (local header offset, compressed size,
// uncompressed size, name) - kept as a sum of 64-bit hashes, so the check costs no memory per
// member. A member listed there but hidden from the local walk, or listed at another offset or
// with other sizes or name, is what a directory-driven reader would see instead (kZipMalformed),
// as is slack between a deflate end and the member's stated size [Fifield, WOOT 2019].
// Encrypted members and methods other than 0/8 are kOpaqueEncrypted / kOpaqueMethod. A member
// whose bytes start with a local header (an XLSX inside a ZIP) is walked too, by a second walker
// from the arena fed with the member's output ("... > zip:outer.zip > zip:people.xlsx >
// xl/sharedStrings.xml": the inner archive's layer replaces the member's, and the member's own
// bytes are still reported as "zip:outer.zip > people.xlsx"); one level only: a ZIP inside a
// member of that inner archive, or one without path depth left, is kOpaqueNested. The inner
// walker costs sizeof(ZipWalker) plus its inflate state (~42 KiB) from the arena while the
// member is walked, and uses the worker's second ZIP output buffer. Inflated bytes count against
// DecodeLimits (max_output per direction, max_ratio per member): beyond, kOutputLimit /
// kRatioLimit and the walk stops. Worker thread; noexcept; the walker itself is taken from the
// worker's DecoderArena only while an archive is being walked.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "inspect/decode/codec.hpp"
#include "inspect/decode/events.hpp"
#include "inspect/decode/worker.hpp"
#include "inspect/decode/xml_text.hpp"

namespace dc::inspect::decoding {

// Where a walker reports, for one feed()/finish() call.
struct ZipEnv {
  DecodeSink& sink;
  DecodeWorker& worker;
  uint64_t& inflated;  // the flow direction's inflated ZIP bytes (DecodeLimits::max_output)
};

class ZipWalker {
 public:
  static constexpr std::size_t kMaxName = 96;           // stored bytes of a member name
  static constexpr std::size_t kMaxContainerName = 48;  // stored bytes of the archive's name

  // From the worker's arena; nullptr when it has no room (the caller reports kDecoderMemory).
  static ZipWalker* create(DecoderArena& arena) noexcept;
  static void destroy(ZipWalker* z) noexcept;  // back to its arena; z may be nullptr

  // Starts an archive carried by the stream `parent`; `name` (a file name, may be empty) names
  // its layer.
  void begin(const Path& parent, std::string_view name) noexcept;
  // Starts the archive that is the current member of `outer` (level 1: not walked further).
  void begin_nested(const ZipWalker& outer) noexcept;
  void feed(std::span<const uint8_t> in, const ZipEnv& env) noexcept;
  // The carrying stream ended: a member or record cut short is kZipMalformed.
  void finish(const ZipEnv& env) noexcept;
  uint32_t members() const noexcept { return members_; }

 private:
  enum class St : uint8_t {
    kSig,         // a record signature
    kLocal,       // the rest of a local file header
    kName,        // the member name
    kExtra,       // the extra field
    kData,        // member data with known size, or deflate with bit 3
    kStoredDesc,  // stored member with bit 3: data until a matching descriptor
    kDescriptor,  // the data descriptor after a bit-3 deflate member
    kCentral,     // a central directory header (its name and extra field follow, then a comment)
    kSkip,        // bytes not decoded (encrypted/unsupported member, slack, directory entry)
    kTail,        // end records: not needed
    kDone,        // stopped (malformed, limit, undecodable member of unknown size)
  };
  ZipWalker() = default;
  void run(std::span<const uint8_t> in) noexcept;
  void header_byte(uint8_t c) noexcept;
  void signature() noexcept;
  void local_header() noexcept;
  void central_header() noexcept;
  void central_done() noexcept;
  void name_byte(uint8_t c) noexcept;
  void extra_byte(uint8_t c) noexcept;
  void zip64_extra() noexcept;
  void start_member() noexcept;
  std::size_t data(std::span<const uint8_t> in) noexcept;
  std::size_t inflate_sized(std::span<const uint8_t> in) noexcept;
  std::size_t inflate_unsized(std::span<const uint8_t> in) noexcept;
  std::size_t stored_desc(std::span<const uint8_t> in) noexcept;
  bool descriptor_at(const uint8_t* p, std::size_t n, bool signed_form) const noexcept;
  void descriptor_byte(uint8_t c) noexcept;
  void member_out(std::span<const uint8_t> b, bool inflated) noexcept;
  // The member's first 4 bytes are a local header: walk it (level 0) or flag it.
  void nested_archive() noexcept;
  void end_nested() noexcept;
  void reset() noexcept;
  void end_member() noexcept;
  void stop() noexcept;
  void condition(DecodeCondition c, const Path& where) noexcept;
  static void inflate_hop(void* ctx, std::span<const uint8_t> b) noexcept;
  static void stored_hop(void* ctx, std::span<const uint8_t> b) noexcept;
  static void text_hop(void* ctx, std::span<const uint8_t> b) noexcept;

  DecoderArena* arena_ = nullptr;  // where this walker lives
  const ZipEnv* env_ = nullptr;    // valid during feed()/finish()
  Decompressor inflate_;
  XmlTextDecoder xml_;
  Path zip_path_, member_path_, text_path_;
  char container_[kMaxContainerName + 1]{};
  char member_[kMaxName + 1]{};
  // Path names: [0] the archive, [1] its member; a nested walker: [0] the outer archive, [1] the
  // outer member (this archive), [2] this archive's member.
  const char* names_[3] = {container_, member_, nullptr};
  ZipWalker* nested_ = nullptr;  // walks the current member when it is an archive (level 0 only)
  uint8_t hdr_[46]{};            // signature + fixed local header (or fixed central header)
  uint8_t desc_[24]{};           // data descriptor / stored-member lookahead window
  uint8_t extra_[28]{};     // current extra sub-field: tag(2) size(2) and up to 24 bytes of ZIP64
  uint8_t name_tail_[4]{};  // last bytes of the member name (".xml" test on long names)
  uint8_t sniff_[4]{};      // first output bytes of the member (nested archive test)
  uint64_t csize_ = 0, usize_ = 0;
  uint64_t remaining_ = 0;  // kData (sized) / kSkip: bytes left
  uint64_t member_out_ = 0;
  uint64_t stored_bytes_ = 0;  // kStoredDesc: data bytes emitted
  uint32_t crc_ = 0;           // kStoredDesc: CRC-32 of those bytes
  uint32_t members_ = 0;
  uint32_t directory_ = 0;  // central directory entries seen
  // Cross-check (zip.hpp): archive offsets and the sums of entry keys of both sides.
  uint64_t pos_ = 0;        // archive offset of the next byte the walk consumes
  uint64_t record_at_ = 0;  // offset of the record whose signature is being read
  uint64_t local_at_ = 0;   // offset of the current member's local header
  uint64_t cd_offset_ = 0;  // central entry: its local header offset
  uint64_t name_hash_ = 0;  // FNV-1a of the current (local or central) name
  uint64_t walked_sum_ = 0, directory_sum_ = 0;
  uint16_t comment_len_ = 0;
  uint16_t flags_ = 0, method_ = 0, name_len_ = 0, extra_len_ = 0, got_ = 0;
  uint16_t extra_got_ = 0;  // bytes of the current extra sub-field
  uint8_t hdr_len_ = 0, desc_len_ = 0, sniff_len_ = 0;
  uint8_t level_ = 0;        // 0: an archive, 1: an archive inside a member of one
  uint8_t member_slot_ = 1;  // names_ index of this walker's member name
  St st_ = St::kSig;
  bool zip64_ = false;       // the member has a ZIP64 extra field (8-byte descriptor sizes)
  bool prev_zip64_ = false;  // of the member before (a stray descriptor after it)
  bool in_member_ = false;
  bool xml_member_ = false;
  bool stopped_ = false;     // a limit stopped the walk inside an output callback
  bool in_central_ = false;  // kName/kExtra belong to a central directory entry
};

}  // namespace dc::inspect::decoding
