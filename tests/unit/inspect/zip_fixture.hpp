#pragma once
// Builds ZIP archives for the inspect/decode tests, byte by byte after PKWARE APPNOTE 6.3.10:
// stored/deflate (zlib raw deflate) members, data descriptors with or without their signature,
// ZIP64 extra fields, encryption and method flags, a central directory and its end record; and
// minimal XLSX/DOCX packages around given sharedStrings/document XML.
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/unit/inspect/decode_fixture.hpp"

namespace dc::inspect::decoding::testing {

struct ZipMember {
  std::string name;
  std::string data;
  uint16_t method = 8;      // 0 stored, 8 deflate, anything else is stored as given
  bool descriptor = false;  // flag bit 3: sizes in a data descriptor after the data
  bool desc_signature = true;
  bool zip64 = false;         // ZIP64 extra field (and 8-byte descriptor sizes)
  bool encrypted = false;     // flag bit 0 (the data is given "encrypted": 12 header bytes added)
  uint32_t crc_override = 0;  // when nonzero: a wrong CRC-32 in the descriptor
  std::string slack;          // bytes after the packed data, counted in the stated size
};

inline void put_le(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

// `phantom`: central directory entries for members that have no local header of their own.
inline std::string make_zip(const std::vector<ZipMember>& members, bool central = true,
                            int phantom = 0) {
  std::string out, cd;
  for (const ZipMember& m : members) {
    const std::string packed = (m.encrypted ? std::string(12, '\x5a') : std::string()) +
                               (m.method == 8 ? raw_deflate(m.data) : m.data) + m.slack;
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(m.data.data()), static_cast<uInt>(m.data.size())));
    const uint16_t flags = static_cast<uint16_t>((m.encrypted ? 1 : 0) | (m.descriptor ? 8 : 0));
    const uint64_t offset = out.size();
    std::string extra;
    if (m.zip64) {
      put_le(extra, 1, 2), put_le(extra, 16, 2);
      put_le(extra, m.descriptor ? 0 : m.data.size(), 8);
      put_le(extra, m.descriptor ? 0 : packed.size(), 8);
    }
    put_le(out, 0x04034b50, 4);
    put_le(out, m.zip64 ? 45 : 20, 2);
    put_le(out, flags, 2), put_le(out, m.method, 2);
    put_le(out, 0, 2), put_le(out, 0x5a21, 2);  // time, date
    put_le(out, m.descriptor ? 0 : crc, 4);
    const uint64_t c4 = m.descriptor ? 0 : (m.zip64 ? 0xffffffffu : packed.size());
    const uint64_t u4 = m.descriptor ? 0 : (m.zip64 ? 0xffffffffu : m.data.size());
    put_le(out, c4, 4), put_le(out, u4, 4);
    put_le(out, m.name.size(), 2), put_le(out, extra.size(), 2);
    out += m.name + extra + packed;
    if (m.descriptor) {
      if (m.desc_signature) put_le(out, 0x08074b50, 4);
      put_le(out, m.crc_override != 0 ? m.crc_override : crc, 4);
      put_le(out, packed.size(), m.zip64 ? 8 : 4);
      put_le(out, m.data.size(), m.zip64 ? 8 : 4);
    }
    put_le(cd, 0x02014b50, 4);
    put_le(cd, 20, 2), put_le(cd, 20, 2), put_le(cd, flags, 2), put_le(cd, m.method, 2);
    put_le(cd, 0, 2), put_le(cd, 0x5a21, 2), put_le(cd, crc, 4);
    put_le(cd, packed.size(), 4), put_le(cd, m.data.size(), 4);
    put_le(cd, m.name.size(), 2), put_le(cd, 0, 2), put_le(cd, 0, 2);  // name, extra, comment
    put_le(cd, 0, 2), put_le(cd, 0, 2), put_le(cd, 0, 4), put_le(cd, offset, 4);
    cd += m.name;
  }
  const std::string last_entry = cd.substr(cd.rfind(std::string("PK\x01\x02", 4)));
  for (int i = 0; i < phantom; ++i) cd += last_entry;
  if (!central) return out;
  const uint64_t cd_offset = out.size();
  out += cd;
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 2), put_le(out, 0, 2);
  put_le(out, members.size() + phantom, 2), put_le(out, members.size() + phantom, 2);
  put_le(out, cd.size(), 4), put_le(out, cd_offset, 4), put_le(out, 0, 2);
  return out;
}

inline std::string xml_decl() {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n";
}

// An XLSX whose shared strings are `si` elements (each given as its inner XML).
inline std::string make_xlsx(const std::vector<std::string>& si) {
  std::string sst = xml_decl() +
                    "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
                    "count=\"" +
                    std::to_string(si.size()) + "\">";
  for (const auto& s : si) sst += "<si>" + s + "</si>";
  sst += "</sst>";
  std::string sheet = xml_decl() + "<worksheet><sheetData><row r=\"1\">";
  for (std::size_t i = 0; i < si.size(); ++i) {
    sheet += "<c r=\"A" + std::to_string(i + 1) + "\" t=\"s\"><v>" + std::to_string(i) + "</v></c>";
  }
  sheet += "</row></sheetData></worksheet>";
  return make_zip(
      {{"[Content_Types].xml", xml_decl() + "<Types><Default Extension=\"xml\"/></Types>"},
       {"_rels/.rels", xml_decl() + "<Relationships/>"},
       {"xl/workbook.xml", xml_decl() + "<workbook><sheets/></workbook>"},
       {"xl/sharedStrings.xml", sst},
       {"xl/worksheets/sheet1.xml", sheet}});
}

// A DOCX whose body is the given paragraphs' inner XML (runs).
inline std::string make_docx(const std::vector<std::string>& paragraphs) {
  std::string doc = xml_decl() +
                    "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/"
                    "2006/main\"><w:body>";
  for (const auto& p : paragraphs) doc += "<w:p>" + p + "</w:p>";
  doc += "<w:sectPr/></w:body></w:document>";
  return make_zip(
      {{"[Content_Types].xml", xml_decl() + "<Types/>"}, {"word/document.xml", doc, 8, true}});
}

}  // namespace dc::inspect::decoding::testing
