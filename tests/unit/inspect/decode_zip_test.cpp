// ZIP containers, OOXML text, HTML character references and nested base64 runs in the decoding
// layer (inspect/decode/zip.hpp, xml_text.hpp, text.hpp): archives are built in the test (zlib
// raw deflate, and Python's zipfile writing to a pipe, which uses data descriptors), fed whole,
// at every split offset and one byte at a time, and must decode the same every time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "inspect/decode/body.hpp"
#include "inspect/decode/text.hpp"
#include "inspect/decode/xml_text.hpp"
#include "tests/unit/inspect/decode_fixture.hpp"
#include "tests/unit/inspect/zip_fixture.hpp"

namespace dc::inspect::decoding {
namespace {

using namespace testing;

// ---- the small decoders -------------------------------------------------------------------------

template <class Dec>
std::string run_text(Dec& d, const std::string& in, std::size_t cut) {
  std::string out;
  ByteOut to{&out, [](void* p, std::span<const uint8_t> b) noexcept {
               static_cast<std::string*>(p)->append(reinterpret_cast<const char*>(b.data()),
                                                    b.size());
             }};
  d.begin();
  cut = std::min(cut, in.size());
  d.feed(bytes(in.substr(0, cut)), to);
  d.feed(bytes(in.substr(cut)), to);
  d.finish(to);
  return out;
}

template <class Dec>
void expect_every_split(const std::string& in, const std::string& want) {
  Dec d;
  for (std::size_t cut = 0; cut <= in.size(); ++cut) {
    ASSERT_EQ(run_text(d, in, cut), want) << "cut " << cut;
  }
}

TEST(Entities, NumericAndBasicNamedReferences) {
  expect_every_split<EntityDecoder>("id &#49;&#x31;&#X30;1&amp;&lt;&gt;&quot;&apos;",
                                    "id 1101&<>\"'");
  // HTML accepts a numeric reference without ';'; leading zeros; out-of-range -> U+FFFD.
  expect_every_split<EntityDecoder>("&#0049&#x000032;|&#0;|&#x110000;|&#xD800;",
                                    "12|\xEF\xBF\xBD|\xEF\xBF\xBD|\xEF\xBF\xBD");
  // Not references: kept literally.
  expect_every_split<EntityDecoder>("a & b &# &#x; &nbsp; &ampx &copy &AMP;",
                                    "a & b &# &#x; &nbsp; &ampx &copy &AMP;");
  expect_every_split<EntityDecoder>("&#x4e2d;&#20013;&", "\xE4\xB8\xAD\xE4\xB8\xAD&");
}

TEST(XmlText, RunsJoinCellsAndParagraphsSeparate) {
  // Word splits one number over runs with properties and proofing marks between them.
  expect_every_split<XmlTextDecoder>(
      "<w:p><w:r><w:t>id 12345</w:t></w:r><w:proofErr w:type=\"spellStart\"/><w:r><w:rPr>"
      "<w:b/><w:sz w:val=\"20\"/></w:rPr><w:t xml:space=\"preserve\">678</w:t></w:r></w:p>"
      "<w:p><w:r><w:t>next</w:t></w:r></w:p>",
      "id 12345678\nnext");
  // Shared strings: rich-text runs joined, phonetic reading skipped, cells apart.
  expect_every_split<XmlTextDecoder>(
      "<sst><si><t>1101</t></si><si><r><t>0519</t></r><r><rPr><b/></rPr><t>49</t></r>"
      "<rPh sb=\"0\"><t>ignored</t></rPh></si><si><t>A&amp;B &#49;&#x32;</t></si></sst>",
      "1101\n051949\nA&B 12");
  // Indentation between runs is not text; generic XML elements are separated.
  expect_every_split<XmlTextDecoder>(
      "<?xml version=\"1.0\"?>\n<!-- a > comment -->\n<w:p>\n  <w:r>\n    <w:t>12</w:t>\n"
      "  </w:r>\n  <w:r><w:t>34</w:t></w:r>\n</w:p><a x='1>2'>x y</a><b><![CDATA[<c>&amp;]]]]>"
      "</b><!DOCTYPE z>",
      "1234\nx y\n<c>&amp;]]");
}

TEST(Base64Runs, NestedOnceButNotTwice) {
  const std::string id = "11010519491231002X";
  const std::string once = base64("id " + id + " end");
  const std::string twice = base64(once);
  const std::string thrice = base64(twice);
  auto run = [](const std::string& text, std::size_t cut) {
    std::string outer, inner;
    auto to = [](std::string* s) {
      return ByteOut{s, [](void* p, std::span<const uint8_t> b) noexcept {
                       static_cast<std::string*>(p)->append(reinterpret_cast<const char*>(b.data()),
                                                            b.size());
                     }};
    };
    Base64RunDecoder d;
    d.begin();
    d.feed(bytes(text.substr(0, cut)), to(&outer), to(&inner));
    d.feed(bytes(text.substr(cut)), to(&outer), to(&inner));
    d.finish(to(&outer), to(&inner));
    return outer + "#" + inner;
  };
  const std::string t = "{\"blob\":\"" + twice + "\"}";
  for (std::size_t cut = 0; cut <= t.size(); ++cut) {
    ASSERT_EQ(run(t, cut), once + "\n#id " + id + " end\n") << cut;
  }
  // Three levels: the second level is decoded, not the third.
  EXPECT_EQ(run(thrice, 5), twice + "\n#" + once + "\n");
}

// ---- the ZIP walker through BodyDecoder -------------------------------------------------------

RecordSink decode_zip(DecodeWorker& w, const std::string& zip, std::size_t cut,
                      std::size_t piece = 0) {
  RecordSink sink;
  DirOutput out;
  BodySpec spec;
  spec.root = LayerKind::kFile;
  spec.content = ContentKind::kZip;
  auto d = std::make_unique<BodyDecoder>();
  d->begin(spec, w, sink, out, "t.zip");
  if (piece > 0) {
    for (std::size_t i = 0; i < zip.size(); i += piece)
      d->feed(bytes(zip.substr(i, piece)), w, sink);
  } else {
    cut = std::min(cut, zip.size());
    d->feed(bytes(zip.substr(0, cut)), w, sink);
    d->feed(bytes(zip.substr(cut)), w, sink);
  }
  d->finish(w, sink);
  EXPECT_EQ(w.arena().in_use(), 0u);
  return sink;
}

// Decodes at every split and one byte at a time; all must equal the whole-body result.
RecordSink decode_every_way(DecodeWorker& w, const std::string& zip) {
  const RecordSink whole = decode_zip(w, zip, zip.size());
  for (std::size_t cut = 0; cut < zip.size(); ++cut) {
    const RecordSink split = decode_zip(w, zip, cut);
    EXPECT_TRUE(split == whole) << "cut " << cut;
    if (!(split == whole)) break;
  }
  EXPECT_TRUE(decode_zip(w, zip, 0, 1) == whole) << "byte by byte";
  return whole;
}

constexpr const char* kZ = "file > zip:t.zip > ";

TEST(ZipWalker, StoredDeflateDescriptorsAndZip64) {
  auto w = worker();
  std::string big;
  for (int i = 0; i < 400; ++i) big += "row " + std::to_string(i) + ",name,li\n";
  const std::string zip = make_zip({
      {"a.txt", "stored text", 0},
      {"b.csv", big, 8},
      {"c.csv", "descriptor with signature", 8, true, true},
      {"d.csv", "descriptor without signature", 8, true, false},
      {"e.csv", "zip64 sizes", 8, false, true, true},
      {"f.csv", "zip64 descriptor", 8, true, true, true},
      {"g.txt", "", 0},
  });
  const RecordSink r = decode_every_way(*w, zip);
  EXPECT_EQ(r.at(std::string(kZ) + "a.txt"), "stored text|");
  EXPECT_EQ(r.at(std::string(kZ) + "b.csv"), big + "|");
  EXPECT_EQ(r.at(std::string(kZ) + "c.csv"), "descriptor with signature|");
  EXPECT_EQ(r.at(std::string(kZ) + "d.csv"), "descriptor without signature|");
  EXPECT_EQ(r.at(std::string(kZ) + "e.csv"), "zip64 sizes|");
  EXPECT_EQ(r.at(std::string(kZ) + "f.csv"), "zip64 descriptor|");
  EXPECT_EQ(r.at(std::string(kZ) + "g.txt"), "|");
  for (const auto& e : r.events) EXPECT_EQ(e.find("condition"), std::string::npos) << e;
}

TEST(ZipWalker, StoredMemberWithDescriptorEndsWhereCrcAndSizeMatch) {
  auto w = worker();
  // The data holds a descriptor signature and a local header signature of its own.
  const std::string tricky = "abc PK\x07\x08 fake PK\x03\x04 not a header, id 42";
  const std::string zip = make_zip({{"s.txt", tricky, 0, true, true},
                                    {"u.txt", "no signature", 0, true, false},
                                    {"z.txt", "zip64 stored", 0, true, true, true},
                                    {"after.txt", "after", 8}});
  const RecordSink r = decode_every_way(*w, zip);
  EXPECT_EQ(r.at(std::string(kZ) + "s.txt"), tricky + "|");
  EXPECT_EQ(r.at(std::string(kZ) + "u.txt"), "no signature|");
  EXPECT_EQ(r.at(std::string(kZ) + "z.txt"), "zip64 stored|");
  EXPECT_EQ(r.at(std::string(kZ) + "after.txt"), "after|");
  for (const auto& e : r.events) EXPECT_EQ(e.find("condition"), std::string::npos) << e;
}

TEST(ZipWalker, StoredMemberWithUnmatchedDescriptorIsMalformed) {
  auto w = worker();
  ZipMember m{"s.txt", "stored data whose descriptor lies", 0, true, true};
  m.crc_override = 0x12345678;
  const RecordSink r = decode_every_way(*w, make_zip({m}));
  EXPECT_TRUE(r.has(std::string("condition zip_malformed @ ") + kZ + "s.txt"));
  // Every byte after the header was still handed on as member data.
  EXPECT_EQ(r.at(std::string(kZ) + "s.txt").rfind("stored data whose descriptor lies", 0), 0u);
}

// Disagreements between this front-to-back walk and a central-directory reader [Fifield].
TEST(ZipWalker, MembersHiddenFromTheWalkAreMalformed) {
  auto w = worker();
  // A stored member whose data is another member's local record, listed in the directory.
  const std::string hidden = make_zip({{"hidden.csv", "11010519491231002X", 8}}, false);
  RecordSink r = decode_every_way(*w, make_zip({{"cover.txt", hidden, 0}}, true, 1));
  EXPECT_TRUE(r.has("condition zip_malformed @ file > zip:t.zip"));
  EXPECT_EQ(r.at(std::string(kZ) + "cover.txt"), hidden + "|");
  r = decode_every_way(*w, make_zip({{"cover.txt", hidden, 0}}));
  EXPECT_FALSE(r.has("condition zip_malformed @ file > zip:t.zip"));
  // Slack between the deflate end and the stated size.
  ZipMember slack{"a.csv", "text", 8};
  slack.slack = hidden;
  r = decode_every_way(*w, make_zip({slack, {"b.csv", "after", 0}}));
  EXPECT_TRUE(r.has(std::string("condition zip_malformed @ ") + kZ + "a.csv"));
  EXPECT_EQ(r.at(std::string(kZ) + "a.csv"), "text|");
  EXPECT_EQ(r.at(std::string(kZ) + "b.csv"), "after|");
}

// The central directory entry `entry` of `zip` with the 4-byte field at `at` set to `v`.
std::string patch_central(std::string zip, int entry, std::size_t at, uint32_t v) {
  std::size_t cd = zip.find(std::string("PK\x01\x02", 4));
  for (int i = 0; i < entry; ++i) cd = zip.find(std::string("PK\x01\x02", 4), cd + 4);
  std::string le;
  put_le(le, v, 4);
  zip.replace(cd + at, 4, le);
  return zip;
}

// The directory is cross-checked against the walk: offsets, sizes, names and the entry count.
TEST(ZipWalker, CentralDirectoryDisagreeingWithTheWalkIsMalformed) {
  auto w = worker();
  const std::string zip = make_zip({{"a.csv", "alpha,1", 8},
                                    {"b.csv", "beta,2", 0},
                                    {"c.csv", "gamma with descriptor", 8, true, true},
                                    {"d.csv", "stored with descriptor", 0, true, false}});
  const std::string bad = "condition zip_malformed @ file > zip:t.zip";
  EXPECT_FALSE(decode_every_way(*w, zip).has(bad));
  // Entry b points at a's local header (a directory reader shows a's data as b).
  EXPECT_TRUE(decode_every_way(*w, patch_central(zip, 1, 42, 0)).has(bad));
  // Other sizes (uncompressed at 24, compressed at 20) than the walk found.
  EXPECT_TRUE(decode_every_way(*w, patch_central(zip, 0, 24, 8)).has(bad));
  EXPECT_TRUE(decode_every_way(*w, patch_central(zip, 2, 20, 3)).has(bad));
  EXPECT_TRUE(decode_every_way(*w, patch_central(zip, 3, 24, 5)).has(bad));
  // Another name for the same member ("a.csv" -> "x.csv").
  std::string renamed = zip;
  renamed[renamed.find(std::string("PK\x01\x02", 4)) + 46] = 'x';
  EXPECT_TRUE(decode_every_way(*w, renamed).has(bad));
  // A walked member missing from the directory.
  std::string fewer = zip;
  const std::size_t last = fewer.rfind(std::string("PK\x01\x02", 4));
  fewer.erase(last, 46 + 5);
  EXPECT_TRUE(decode_every_way(*w, fewer).has(bad));
  // A ZIP64 directory entry (sizes and offset in its extra field) that agrees is fine.
  std::string z64 = make_zip({{"a.csv", "alpha,1", 8}});
  const std::size_t cd = z64.find(std::string("PK\x01\x02", 4));
  std::string extra;
  put_le(extra, 1, 2), put_le(extra, 24, 2);
  put_le(extra, 7, 8);                                                   // uncompressed
  put_le(extra, raw_deflate("alpha,1").size(), 8), put_le(extra, 0, 8);  // compressed, offset
  z64.insert(cd + 46 + 5, extra);
  z64 = patch_central(z64, 0, 20, 0xffffffffu);
  z64 = patch_central(z64, 0, 24, 0xffffffffu);
  z64 = patch_central(z64, 0, 42, 0xffffffffu);
  z64[cd + 30] = static_cast<char>(extra.size());
  EXPECT_FALSE(decode_every_way(*w, z64).has(bad));
  z64[cd + 46 + 5 + 4 + 16] = 1;  // the ZIP64 offset now points elsewhere
  EXPECT_TRUE(decode_every_way(*w, z64).has(bad));
}

TEST(ZipWalker, EncryptedAndUnsupportedMembersAreOpaqueAndSkipped) {
  auto w = worker();
  ZipMember enc{"secret.xlsx", "11010519491231002X", 0};
  enc.encrypted = true;
  const std::string zip =
      make_zip({enc, {"bz.csv", "bzip2 data", 12}, {"plain.csv", "visible", 8}});
  const RecordSink r = decode_every_way(*w, zip);
  EXPECT_TRUE(r.has(std::string("condition opaque_payload_encrypted @ ") + kZ + "secret.xlsx"));
  EXPECT_TRUE(r.has(std::string("condition opaque_payload_unsupported_method @ ") + kZ + "bz.csv"));
  EXPECT_EQ(r.at(std::string(kZ) + "secret.xlsx"), "|");
  EXPECT_EQ(r.at(std::string(kZ) + "plain.csv"), "visible|");
  // Without sizes the end of an encrypted member cannot be found: the walk stops there.
  enc.descriptor = true;
  const RecordSink r2 = decode_every_way(*w, make_zip({enc, {"plain.csv", "visible", 8}}));
  EXPECT_TRUE(r2.has(std::string("condition opaque_payload_encrypted @ ") + kZ + "secret.xlsx"));
  EXPECT_EQ(r2.at(std::string(kZ) + "plain.csv"), "");
}

TEST(ZipWalker, NestedArchiveIsWalkedOneLevel) {
  auto w = worker();
  const std::string inner = make_zip(
      {{"id.csv", "11010519491231002X", 8}, {"s.txt", "stored, with descriptor", 0, true, true}});
  const std::string xlsx = make_xlsx({"<t>id</t>", "<t>440524188001010014</t>"});
  const RecordSink r = decode_every_way(*w, make_zip({{"cover.txt", "cover", 8},
                                                      {"inner.zip", inner, 8},
                                                      {"people.xlsx", xlsx, 0},
                                                      {"after.csv", "after", 8}}));
  // The member's own bytes, and the members of the archive they are.
  EXPECT_EQ(r.at(std::string(kZ) + "inner.zip"), inner + "|");
  EXPECT_EQ(r.at("file > zip:t.zip > zip:inner.zip > id.csv"), "11010519491231002X|");
  EXPECT_EQ(r.at("file > zip:t.zip > zip:inner.zip > s.txt"), "stored, with descriptor|");
  EXPECT_EQ(r.at("file > zip:t.zip > zip:people.xlsx > xl/sharedStrings.xml > xml-text"),
            "id\n440524188001010014|");
  EXPECT_EQ(r.at(std::string(kZ) + "after.csv"), "after|");
  for (const auto& e : r.events) EXPECT_EQ(e.find("condition"), std::string::npos) << e;
  // One level only: an archive inside the inner archive is flagged, not walked.
  const RecordSink r3 =
      decode_every_way(*w, make_zip({{"mid.zip", make_zip({{"in.zip", inner, 8}}), 8}}));
  EXPECT_TRUE(
      r3.has("condition opaque_payload_nested_archive @ file > zip:t.zip > zip:mid.zip > "
             "in.zip"));
  EXPECT_EQ(r3.at("file > zip:t.zip > zip:mid.zip > in.zip"), inner + "|");
  // Memory: the inner walker and its inflate state, from the arena while the member is walked
  // (docs/detectors.md: about 41 KiB more than an archive without a nested one).
  struct Peak : RecordSink {
    DecodeWorker* w = nullptr;
    std::size_t peak = 0;
    void on_data(const Path& where, std::span<const uint8_t> b) noexcept override {
      peak = std::max(peak, w->arena().in_use());
      RecordSink::on_data(where, b);
    }
  };
  auto peak_of = [&](const std::string& zip) {
    Peak sink;
    sink.w = w.get();
    DirOutput out;
    BodySpec spec;
    spec.root = LayerKind::kFile;
    spec.content = ContentKind::kZip;
    auto d = std::make_unique<BodyDecoder>();
    d->begin(spec, *w, sink, out, "t.zip");
    d->feed(bytes(zip), *w, sink);
    d->finish(*w, sink);
    return sink.peak;
  };
  const std::size_t flat = peak_of(make_zip({{"id.csv", "11010519491231002X", 8}}));
  const std::size_t nested = peak_of(make_zip({{"inner.zip", inner, 8}}));
  EXPECT_GT(nested, flat);
  EXPECT_LE(nested - flat, 42u * 1024) << flat << " " << nested;
  std::printf("arena peak: flat archive %zu B, with a nested one %zu B\n", flat, nested);
  // The member cut short: so is the archive inside it.
  const std::string cut = make_zip({{"inner.zip", inner, 0}});
  const RecordSink rc = decode_every_way(*w, cut.substr(0, 30 + 9 + 40));
  EXPECT_TRUE(rc.has("condition zip_malformed @ file > zip:t.zip > zip:inner.zip > id.csv"));
  EXPECT_EQ(w->arena().in_use(), 0u);
}

TEST(ZipWalker, MalformedAndTruncatedArchives) {
  auto w = worker();
  const std::string zip = make_zip({{"a.csv", "some text here", 8}});
  RecordSink r = decode_every_way(*w, "junk" + zip);
  EXPECT_TRUE(r.has("condition zip_malformed @ file > zip:t.zip"));
  r = decode_every_way(*w, zip.substr(0, 40));  // inside the deflate data
  EXPECT_TRUE(r.has(std::string("condition zip_malformed @ ") + kZ + "a.csv"));
  r = decode_every_way(*w, zip.substr(0, 20));  // inside the local header
  EXPECT_TRUE(r.has("condition zip_malformed @ file > zip:t.zip"));
  std::string corrupt = zip;
  corrupt[30 + 5] = '\xff';  // deflate block type 3 (reserved, RFC 1951 §3.2.3)
  r = decode_every_way(*w, corrupt);
  EXPECT_TRUE(r.has(std::string("condition decompress_failed @ ") + kZ + "a.csv"));
  // A name of the maximum length is cut in the path, not in the framing.
  const std::string long_name(300, 'n');
  r = decode_every_way(*w, make_zip({{long_name + ".xml", "<a>x</a>", 8}, {"b", "b", 0}}));
  const std::string shown = std::string(kZ) + std::string(ZipWalker::kMaxName - 3, 'n') + "...";
  EXPECT_EQ(r.at(shown), "<a>x</a>|");
  EXPECT_EQ(r.at(shown + " > xml-text"), "x|");
  EXPECT_EQ(r.at(std::string(kZ) + "b"), "b|");
}

TEST(ZipWalker, BombsStopAtTheLimits) {
  DecodeLimits lim;
  lim.max_ratio = 50;
  lim.ratio_floor = 64 * 1024;
  auto w = worker(lim);
  const std::string zeros(4u << 20, '\0');
  const std::string bomb = make_zip({{"bomb.bin", zeros, 8}, {"after.txt", "after", 0}});
  ASSERT_LT(bomb.size(), 16u * 1024);
  RecordSink r = decode_zip(*w, bomb, bomb.size());
  EXPECT_TRUE(r.has(std::string("condition ratio_limit @ ") + kZ + "bomb.bin"));
  EXPECT_LT(r.at(std::string(kZ) + "bomb.bin").size(), 1u << 20);
  EXPECT_EQ(r.at(std::string(kZ) + "after.txt"), "");  // the walk stopped
  EXPECT_EQ(w->arena().in_use(), 0u);

  DecodeLimits lim2;
  lim2.max_output = 100000;
  auto w2 = worker(lim2);
  std::string text;
  for (int i = 0; text.size() < 300000; ++i) text += std::to_string(i * 7919u % 100003) + ",";
  const std::string big = make_zip({{"big.csv", text, 8}});
  const RecordSink whole = decode_zip(*w2, big, big.size());
  EXPECT_TRUE(whole.has(std::string("condition output_limit @ ") + kZ + "big.csv"));
  EXPECT_EQ(whole.at(std::string(kZ) + "big.csv"), text.substr(0, 100000) + "|");
  for (std::size_t cut = 0; cut < big.size(); cut += 1009) {
    ASSERT_TRUE(decode_zip(*w2, big, cut) == whole) << cut;
  }
}

TEST(ZipWalker, ArenaExhaustionIsADecoderMemoryCondition) {
  DecodeLimits lim;
  lim.arena_bytes = 64 * 1024;  // room for the walker, not for inflate's 32 KiB window as well
  lim.decoder_memory = 16 * 1024;
  auto w = worker(lim);
  const RecordSink r = decode_zip(*w, make_zip({{"a.csv", std::string(5000, 'a'), 8}}), 0);
  EXPECT_TRUE(r.has(std::string("condition decoder_memory @ ") + kZ + "a.csv"));
}

// ---- OOXML packages --------------------------------------------------------------------------

TEST(Ooxml, XlsxSharedStringsAndDocxRunsGiveTheirText) {
  auto w = worker();
  const std::string xlsx =
      make_xlsx({"<t>name</t>", "<r><t>110105</t></r><r><rPr><b/></rPr><t>19491231002X</t></r>"});
  RecordSink r = decode_every_way(*w, xlsx);
  EXPECT_EQ(r.at(std::string(kZ) + "xl/sharedStrings.xml > xml-text"), "name\n11010519491231002X|");
  EXPECT_EQ(r.at(std::string(kZ) + "xl/worksheets/sheet1.xml > xml-text"), "0\n1|");
  EXPECT_EQ(r.at(std::string(kZ) + "_rels/.rels > xml-text"), "");  // not .xml: bytes only
  EXPECT_NE(r.at(std::string(kZ) + "_rels/.rels"), "");

  const std::string docx = make_docx({"<w:r><w:t>id 12345</w:t></w:r><w:r><w:t>678</w:t></w:r>",
                                      "<w:r><w:t>&#49;&#x32;</w:t></w:r>"});
  r = decode_every_way(*w, docx);
  EXPECT_EQ(r.at(std::string(kZ) + "word/document.xml > xml-text"), "id 12345678\n12|");
}

// Python's zipfile writing to a pipe (unseekable) sets bit 3 and writes data descriptors; this
// checks the walker against an independent writer. Skipped when python3 is missing.
TEST(Ooxml, PythonZipfileArchiveDecodes) {
  const char* script =
      "import sys, zipfile\n"
      "class W:\n"
      "  def __init__(s): s.b = sys.stdout.buffer\n"
      "  def write(s, d): s.b.write(d); return len(d)\n"
      "  def flush(s): s.b.flush()\n"
      "with zipfile.ZipFile(W(), 'w', zipfile.ZIP_DEFLATED) as z:\n"
      "  z.writestr('xl/sharedStrings.xml', '<sst><si><t>11010519</t></si></sst>')\n"
      "  z.writestr(zipfile.ZipInfo('notes.txt'), 'stored ' * 50)\n"
      "  with z.open('big.csv', 'w') as f:\n"
      "    f.write(b'x,y\\n' * 20000)\n";
  FILE* p = popen(("python3 - <<'EOF'\n" + std::string(script) + "EOF\n").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string zip;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) zip.append(buf, n);
  if (pclose(p) != 0) GTEST_SKIP() << "python3 zipfile unavailable";
  ASSERT_EQ(zip.substr(0, 4), std::string("PK\x03\x04", 4));
  auto w = worker();
  const RecordSink r = decode_every_way(*w, zip);
  EXPECT_EQ(r.at(std::string(kZ) + "xl/sharedStrings.xml > xml-text"), "11010519|");
  std::string notes;
  for (int i = 0; i < 50; ++i) notes += "stored ";
  EXPECT_EQ(r.at(std::string(kZ) + "notes.txt"), notes + "|");
  std::string csv;
  for (int i = 0; i < 20000; ++i) csv += "x,y\n";
  EXPECT_EQ(r.at(std::string(kZ) + "big.csv"), csv + "|");
  for (const auto& e : r.events) EXPECT_EQ(e.find("condition"), std::string::npos) << e;
}

// ---- routing from HTTP ------------------------------------------------------------------------

std::string upload(const std::string& part_headers, const std::string& part_body) {
  const std::string body =
      "--b1\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nnote\r\n"
      "--b1\r\n" +
      part_headers + "\r\n" + part_body + "\r\n--b1--\r\n";
  return "POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=b1\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(ZipRouting, TypeFilenameAndMagicRouteIntoTheWalker) {
  auto w = worker();
  const std::string xlsx = make_xlsx({"<t>11010519491231002X</t>"});
  const std::string sst = "xl/sharedStrings.xml > xml-text";
  struct Case {
    std::string name, client, path;
  } cases[] = {
      {"multipart_filename_base64",
       upload("Content-Disposition: form-data; name=\"f\"; filename=\"people.xlsx\"\r\n"
              "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n",
              base64(xlsx)),
       "http.request.body > multipart[2] > base64 > zip:people.xlsx > " + sst},
      {"multipart_type",
       upload("Content-Disposition: form-data; name=\"f\"\r\nContent-Type: "
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n",
              xlsx),
       "http.request.body > multipart[2] > zip > " + sst},
      {"multipart_magic", upload("Content-Disposition: form-data; name=\"f\"\r\n", xlsx),
       "http.request.body > multipart[2] > zip > " + sst},
      {"body_gzip_type",
       "POST /x HTTP/1.1\r\nContent-Type: application/zip\r\nContent-Encoding: gzip\r\n"
       "Transfer-Encoding: chunked\r\n\r\n" +
           chunk(gzip(xlsx), 300),
       "http.request.body > gzip > zip > " + sst},
      {"body_magic",
       "POST /x HTTP/1.1\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
           std::to_string(xlsx.size()) + "\r\n\r\n" + xlsx,
       "http.request.body > zip > " + sst},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const RecordSink whole = run_flow(c.client, "", *w);
    EXPECT_EQ(whole.at(c.path), "11010519491231002X|");
    for (std::size_t cut = 0; cut < c.client.size(); cut += 7) {
      ASSERT_TRUE(run_flow(c.client, "", *w, cut) == whole) << cut;
    }
    EXPECT_TRUE(run_flow_bytewise(c.client, "", *w) == whole);
    EXPECT_EQ(w->arena().in_use(), 0u);
  }
  // Not a ZIP: a text part keeps its base64-run decoding; no walker.
  const RecordSink r = run_flow(upload("Content-Disposition: form-data; name=\"f\"\r\n",
                                       "PK\x03 text " + base64("payload 0123456789")),
                                "", *w);
  EXPECT_EQ(r.at("http.request.body > multipart[2] > base64-run"), "payload 0123456789\n|");
}

TEST(ZipRouting, TooDeepForItsPathIsOpaque) {
  // body > gzip > gzip > gzip > multipart[1] > base64 leaves no depth for zip > member > text.
  auto w = worker();
  const std::string part = "--b\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                           base64(make_zip({{"a.xml", "<a>x</a>"}})) + "\r\n--b--\r\n";
  BodySpec spec;
  spec.codings[0] = spec.codings[1] = spec.codings[2] = Coding::kGzip;
  spec.n_codings = 3;
  spec.content = ContentKind::kMultipart;
  spec.boundary[0] = 'b';
  spec.boundary_len = 1;
  RecordSink sink;
  DirOutput out;
  auto d = std::make_unique<BodyDecoder>();
  d->begin(spec, *w, sink, out);
  d->feed(bytes(gzip(gzip(gzip(part)))), *w, sink);
  d->finish(*w, sink);
  EXPECT_TRUE(
      sink.has("condition opaque_payload_nested_archive @ http.request.body > gzip > gzip "
               "> gzip > multipart[1] > base64"));
  EXPECT_EQ(w->arena().in_use(), 0u);
}

TEST(ZipRouting, HtmlBodiesDecodeCharacterReferences) {
  auto w = worker();
  const std::string html = "<p>&#49;&#x31;0105&#49;9491231002X &amp; more</p>";
  const std::string server =
      "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
      "Content-Length: " +
      std::to_string(html.size()) + "\r\n\r\n" + html;
  const std::string client = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  const RecordSink r = run_flow(client, server, *w);
  EXPECT_EQ(r.at("http.response.body > html"), "<p>11010519491231002X & more</p>|");
  for (std::size_t cut = 0; cut < server.size(); ++cut) {
    ASSERT_TRUE(run_flow(client, server, *w, std::string::npos, cut) == r) << cut;
  }
}

// HTML parts of a multipart body get the same character-reference decoding as HTML bodies,
// after their Content-Transfer-Encoding; other parts do not.
TEST(ZipRouting, HtmlPartsOfMultipartBodiesDecodeCharacterReferences) {
  auto w = worker();
  const std::string html = "<p>&#49;&#x31;0105&#49;9491231002X &amp; more</p>";
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"page\"\r\nContent-Type: text/html; "
      "charset=utf-8\r\n\r\n" +
      html +
      "\r\n--b\r\nContent-Type: application/xhtml+xml\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      base64(html) + "\r\n--b\r\nContent-Type: text/plain\r\n\r\n" + html + "\r\n--b--\r\n";
  const std::string client =
      "POST /p HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  const RecordSink r = run_flow(client, "", *w);
  const std::string text = "<p>11010519491231002X & more</p>|";
  EXPECT_EQ(r.at("http.request.body > multipart[1] > html"), text);
  EXPECT_EQ(r.at("http.request.body > multipart[2] > base64 > html"), text);
  EXPECT_EQ(r.at("http.request.body > multipart[3] > html"), "");
  EXPECT_EQ(r.at("http.request.body > multipart[3]"), html + "|");
  for (const auto& e : r.events) EXPECT_EQ(e.find("condition"), std::string::npos) << e;
  for (std::size_t cut = 0; cut < client.size(); ++cut) {
    ASSERT_TRUE(run_flow(client, "", *w, cut) == r) << cut;
  }
  EXPECT_EQ(w->arena().in_use(), 0u);
}

TEST(ZipPath, NamedLayersFormat) {
  const char* names[2] = {"people.xlsx", "xl/sharedStrings.xml"};
  const Path p = Path{}
                     .child(LayerKind::kRequestBody)
                     .child(LayerKind::kMultipart, 2)
                     .named_child(LayerKind::kZip, names, 0)
                     .named_child(LayerKind::kZipMember, names, 1)
                     .child(LayerKind::kXmlText);
  EXPECT_EQ(path_str(p),
            "http.request.body > multipart[2] > zip:people.xlsx > xl/sharedStrings.xml > xml-text");
  const char* unnamed[2] = {"", ""};
  EXPECT_EQ(path_str(Path{}
                         .named_child(LayerKind::kZip, unnamed, 0)
                         .named_child(LayerKind::kZipMember, unnamed, 1)),
            "zip > zip-member");
  EXPECT_EQ(path_str(p.prefix(2)), "http.request.body > multipart[2]");
}

}  // namespace
}  // namespace dc::inspect::decoding
