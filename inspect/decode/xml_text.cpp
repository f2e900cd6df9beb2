// Streaming XML text extraction for OOXML parts (xml_text.hpp).
#include "inspect/decode/xml_text.hpp"

#include <cstring>

namespace dc::inspect::decoding {

namespace {

bool is_space(uint8_t c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool name_is(const char* s, std::size_t n, const char* want) noexcept {
  return std::strlen(want) == n && std::memcmp(s, want, n) == 0;
}

// Elements that sit inside one paragraph, cell or shared string without ending its text
// (ECMA-376 Part 1: w:r runs §17.3.2.25, w:t §17.3.3.31, SpreadsheetML r/t §18.4.12/§18.4.4,
// DrawingML a:r/a:t §21.1.2.3.8/.11, and the markers Word puts between runs: proofing,
// bookmarks, revisions, hyperlinks, simple fields, smart tags).
bool joins_runs(const char* s, std::size_t n) noexcept {
  static constexpr const char* kJoin[] = {"t",
                                          "r",
                                          "rPr",
                                          "delText",
                                          "proofErr",
                                          "ins",
                                          "del",
                                          "moveTo",
                                          "moveFrom",
                                          "hyperlink",
                                          "smartTag",
                                          "fldSimple",
                                          "bookmarkStart",
                                          "bookmarkEnd",
                                          "lastRenderedPageBreak",
                                          "softHyphen",
                                          "noBreakHyphen",
                                          "permStart",
                                          "permEnd",
                                          "commentRangeStart",
                                          "commentRangeEnd",
                                          "rPh"};
  for (const char* j : kJoin) {
    if (name_is(s, n, j)) return true;
  }
  return false;
}

}  // namespace

void XmlTextDecoder::text_byte(uint8_t c, bool cdata, OutBuffer& w) noexcept {
  if (in_phonetic_) return;
  if (!in_run_text_ && !cdata && is_space(c)) {
    if (sep_ == Sep::kNone) sep_ = Sep::kSoft;  // indentation between elements
    return;
  }
  if (emitted_ && sep_ == Sep::kHard) {
    entity_.flush(w);
    w.put('\n');
  } else if (emitted_ && sep_ == Sep::kSoft && !in_run_text_) {
    entity_.flush(w);
    w.put(' ');
  }
  sep_ = Sep::kNone;
  emitted_ = true;
  if (cdata) {
    entity_.flush(w);
    w.put(c);
  } else {
    entity_.put(c, w);
  }
}

void XmlTextDecoder::tag_end() noexcept {
  st_ = St::kText;
  // The local name (after the namespace prefix) decides.
  const char* colon = static_cast<const char*>(std::memchr(name_, ':', name_len_));
  const char* local = colon != nullptr ? colon + 1 : name_;
  const auto n = static_cast<std::size_t>(name_ + name_len_ - local);
  const bool opens = !closing_ && !self_closing_;
  if (long_name_) {
    sep_ = Sep::kHard;
    return;
  }
  if (name_is(local, n, "t") || name_is(local, n, "delText")) {
    in_run_text_ = opens;
  } else if (name_is(local, n, "rPr")) {
    if (!self_closing_) in_rpr_ = opens;
  } else if (name_is(local, n, "rPh")) {
    if (!self_closing_) in_phonetic_ = opens;
  }
  if (in_rpr_ || joins_runs(local, n)) return;
  sep_ = Sep::kHard;
}

void XmlTextDecoder::tag_byte(uint8_t c) noexcept {
  if (st_ == St::kTagName) {
    if (!is_space(c) && c != '/' && c != '>') {
      if (name_len_ < kMaxName) {
        name_[name_len_++] = static_cast<char>(c);
      } else {
        long_name_ = true;
      }
      return;
    }
    st_ = St::kTagRest;
  }
  // St::kTagRest: attributes; '>' inside a quoted value does not end the tag.
  if (quote_ != 0) {
    if (c == static_cast<uint8_t>(quote_)) quote_ = 0;
    return;
  }
  if (c == '"' || c == '\'') {
    quote_ = static_cast<char>(c);
  } else if (c == '>') {
    tag_end();
  } else if (!is_space(c)) {
    self_closing_ = c == '/';
  }
}

void XmlTextDecoder::feed(std::span<const uint8_t> in, ByteOut out) noexcept {
  OutBuffer w(out);
  for (const uint8_t c : in) {
    switch (st_) {
      case St::kText:
        if (c == '<') {
          entity_.flush(w);  // a reference never spans a tag
          st_ = St::kTagOpen;
        } else {
          text_byte(c, false, w);
        }
        break;
      case St::kTagOpen:
        name_len_ = 0, closing_ = false, self_closing_ = false, long_name_ = false, quote_ = 0;
        if (c == '/') {
          closing_ = true;
          st_ = St::kTagName;
        } else if (c == '!') {
          st_ = St::kBang;
        } else if (c == '?') {
          st_ = St::kPi, brackets_ = 0;
        } else {
          st_ = St::kTagName;
          tag_byte(c);
        }
        break;
      case St::kTagName:
      case St::kTagRest:
        tag_byte(c);
        break;
      case St::kBang:
        brackets_ = 0;
        st_ = c == '-' ? St::kBangDash : c == '[' ? St::kCdataOpen : St::kDecl;
        if (st_ == St::kDecl && c == '>') st_ = St::kText;
        break;
      case St::kBangDash:
        st_ = c == '-' ? St::kComment : St::kDecl;
        break;
      case St::kComment:  // ends at "-->"
        if (c == '>' && brackets_ >= 2) {
          st_ = St::kText;
        } else {
          brackets_ = c == '-' ? static_cast<uint8_t>(brackets_ < 2 ? brackets_ + 1 : 2) : 0;
        }
        break;
      case St::kCdataOpen: {
        static constexpr char kCdata[] = "CDATA[";
        if (c != static_cast<uint8_t>(kCdata[brackets_])) {
          st_ = c == '>' ? St::kText : St::kDecl;
        } else if (++brackets_ == sizeof kCdata - 1) {
          st_ = St::kCdata, brackets_ = 0;
          sep_ = Sep::kHard;
        }
        break;
      }
      case St::kCdata:  // ends at "]]>"; held ']' are text when the end does not follow
        if (c == ']') {
          if (brackets_ == 2) {
            text_byte(']', true, w);
          } else {
            ++brackets_;
          }
        } else if (c == '>' && brackets_ == 2) {
          st_ = St::kText;
          sep_ = Sep::kHard;
        } else {
          for (; brackets_ > 0; --brackets_) text_byte(']', true, w);
          text_byte(c, true, w);
        }
        break;
      case St::kPi:  // ends at "?>"
        if (c == '>' && brackets_ == 1) st_ = St::kText;
        brackets_ = c == '?' ? 1 : 0;
        break;
      case St::kDecl:
        if (c == '>') st_ = St::kText;
        break;
    }
  }
}

void XmlTextDecoder::finish(ByteOut out) noexcept {
  OutBuffer w(out);
  if (st_ == St::kCdata) {
    for (; brackets_ > 0; --brackets_) text_byte(']', true, w);
  }
  entity_.flush(w);
  st_ = St::kText;
}

}  // namespace dc::inspect::decoding
