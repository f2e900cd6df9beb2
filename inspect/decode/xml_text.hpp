#pragma once
// Text of an XML document, streamed: tags, comments and processing instructions are dropped,
// character references decoded, CDATA kept. Made for the XML parts of OOXML packages (XLSX
// sharedStrings/worksheets, DOCX word/document.xml, PPTX slides): the runs one cell or paragraph
// is split into (<w:r><w:t>12345</w:t></w:r><w:r><w:t>678</w:t></w:r>) are joined, so a value
// split by formatting reaches the detectors whole, while other elements (paragraphs, cells, rows,
// any element of other XML) are separated by '\n' so values of neighbouring cells never join.
// A few dozen bytes of state; any input split gives the same output.
#include <cstddef>
#include <cstdint>
#include <span>

#include "inspect/decode/codec.hpp"
#include "inspect/decode/text.hpp"

namespace dc::inspect::decoding {

class XmlTextDecoder {
 public:
  static constexpr std::size_t kMaxName = 24;  // stored bytes of a tag name

  void begin() noexcept { *this = XmlTextDecoder{}; }
  void feed(std::span<const uint8_t> in, ByteOut out) noexcept;
  void finish(ByteOut out) noexcept;

 private:
  enum class St : uint8_t {
    kText,
    kTagOpen,  // after '<'
    kTagName,
    kTagRest,  // attributes, up to '>'
    kBang,     // after "<!"
    kBangDash,
    kComment,
    kCdataOpen,  // matching "CDATA["
    kCdata,
    kPi,    // "<?...?>"
    kDecl,  // "<!DOCTYPE ...>" and other declarations
  };
  // What a text byte needs before it: nothing, a space (whitespace between elements outside a
  // run's text), or a line break (an element boundary that is not inside a run).
  enum class Sep : uint8_t { kNone, kSoft, kHard };
  void text_byte(uint8_t c, bool cdata, OutBuffer& w) noexcept;
  void tag_end() noexcept;
  void tag_byte(uint8_t c) noexcept;

  EntityDecoder entity_;
  char name_[kMaxName]{};
  uint8_t name_len_ = 0;
  uint8_t brackets_ = 0;  // CDATA: pending ']' / comment: pending '-' / "CDATA[" matched
  St st_ = St::kText;
  Sep sep_ = Sep::kNone;
  char quote_ = 0;        // inside an attribute value quoted by this
  bool closing_ = false;  // "</name"
  bool self_closing_ = false;
  bool long_name_ = false;    // the name did not fit: never a run element
  bool in_run_text_ = false;  // inside <t>/<w:t>/<a:t>/<w:delText>: every byte is text
  bool in_rpr_ = false;       // inside run properties: their elements do not separate
  bool in_phonetic_ = false;  // inside <rPh>: phonetic reading, not cell text (skipped)
  bool emitted_ = false;
};

}  // namespace dc::inspect::decoding
