// The verifier against a real log written by LogWriter (rotation, record- and time-based
// checkpoints, evidence), then tampered with in one way per table row. Each row names the exact
// finding the verifier must print and how many errors it may print in total.
#include "audit/verify.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "audit/verify_scan.hpp"
#include "base/file.hpp"
#include "base/hash.hpp"
#include "tests/unit/audit/audit_fixture.hpp"

namespace dc::audit {
namespace {
using namespace dc::audit::testing;

std::string seq_range(std::uint64_t a, std::uint64_t b) {
  return a == b ? "record " + std::to_string(a)
                : "records " + std::to_string(a) + ".." + std::to_string(b);
}

std::string at(const Line& l) { return l.file + ":" + std::to_string(l.line) + ": error: "; }

std::size_t index_of_flow(const std::vector<Line>& lines, int flow_id) {
  std::string needle = "\"flow_id\":" + std::to_string(flow_id) + ",";
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].type == "flow" && lines[i].raw.find(needle) != std::string::npos) return i;
  ADD_FAILURE() << "no flow " << flow_id;
  return 0;
}

std::size_t first_checkpoint_after(const std::vector<Line>& lines, std::uint64_t seq) {
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].type == "checkpoint" && lines[i].seq > seq) return i;
  ADD_FAILURE() << "no checkpoint after " << seq;
  return 0;
}

// What an attacker without our key can do: recompute every prev and re-sign every checkpoint.
void rechain_and_resign(std::vector<Line>& lines, const SigningKey& key,
                        const std::string& key_id) {
  std::string prev(kGenesisHash);
  for (auto& l : lines) {
    auto j = nlohmann::ordered_json::parse(l.raw);
    j["prev"] = prev;
    if (l.type == "checkpoint") {
      auto c = checkpoint_from_record(nlohmann::json::parse(l.raw)).value();
      c.last_hash = prev;
      c.key_id = key_id;
      auto sig = key.sign(checkpoint_signing_bytes(c)).value();
      c.sig =
          base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(sig.data()), sig.size()));
      j["checkpoint"] = checkpoint_to_json(c);
    }
    l.raw = j.dump();
    prev = dc::base::sha256_hex(l.raw);
  }
}

void flip_verdict(Line& l) {
  auto pos = l.raw.find("\"verdict\":\"block\"");
  ASSERT_NE(pos, std::string::npos);
  l.raw.replace(pos, 17, "\"verdict\":\"allow\"");
}

struct Expectation {
  std::string finding;  // prefix of the formatted finding that must be reported
  std::size_t errors;   // total number of error findings
};

struct TamperCase {
  const char* name;
  std::function<Expectation(const std::string& dir)> tamper;
};

const TamperCase kCases[] = {
    {"modified record",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       Line& t = lines[index_of_flow(lines, 3)];
       flip_verdict(t);
       write_lines(dir, lines);
       return Expectation{
           at(t) + "record " + std::to_string(t.seq) + " modified (hash chain broken", 1};
     }},
    {"deleted record",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       std::size_t i = index_of_flow(lines, 4);
       Line t = lines[i];
       lines.erase(lines.begin() + static_cast<long>(i));
       write_lines(dir, lines);
       // The hole is reported where the next record now stands: t's old line.
       return Expectation{at(t) + "record " + std::to_string(t.seq) + " deleted", 1};
     }},
    {"deleted checkpoint",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       std::size_t i = first_checkpoint_after(lines, find_seq(lines, 2).seq);
       Line t = lines[i];
       lines.erase(lines.begin() + static_cast<long>(i));
       write_lines(dir, lines);
       return Expectation{at(t) + "record " + std::to_string(t.seq) + " deleted", 1};
     }},
    {"reordered records",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       std::size_t i = index_of_flow(lines, 2);
       EXPECT_EQ(lines[i].file, lines[i + 1].file);
       Line a = lines[i], b = lines[i + 1];
       std::swap(lines[i].raw, lines[i + 1].raw);
       write_lines(dir, lines);
       return Expectation{b.file + ":" + std::to_string(b.line) + ": error: record " +
                              std::to_string(a.seq) + " out of order (appears after record " +
                              std::to_string(b.seq) + ")",
                          1};
     }},
    {"truncated tail",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       lines.resize(lines.size() - 2);  // drop "stop" and the closing checkpoint
       write_lines(dir, lines);
       std::uint64_t cp = 0;
       for (const auto& l : lines)
         if (l.type == "checkpoint") cp = l.seq;
       return Expectation{at(find_seq(lines, cp + 1)) + seq_range(cp + 1, lines.back().seq) +
                              " after the last checkpoint (record " + std::to_string(cp) +
                              ") unsealed",
                          1};
     }},
    {"torn final line",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       Line last = lines.back();
       lines.pop_back();
       write_lines(dir, lines);
       std::string half = last.raw.substr(0, last.raw.size() / 2);
       std::ofstream(std::filesystem::path(dir) / last.file, std::ios::app) << half;
       // Two errors: the torn line itself, and the records it no longer seals.
       return Expectation{at(last) + "incomplete record (" + std::to_string(half.size()) +
                              " bytes without a newline): log cut mid-record",
                          2};
     }},
    {"file missing from the middle of the rotation",
     [](const std::string& dir) {
       auto files = log_files(dir);
       EXPECT_GE(files.size(), 3u);
       auto lines = read_lines(dir);
       std::uint64_t first = 0, last = 0;
       for (const auto& l : lines)
         if (l.file == files[1]) {
           if (first == 0) first = l.seq;
           last = l.seq;
         }
       std::filesystem::remove(std::filesystem::path(dir) / files[1]);
       return Expectation{files[2] + ":1: error: file " + files[1] + " missing (" +
                              seq_range(first, last) + " absent before " + files[2] + ")",
                          1};
     }},
    {"last file missing after a rotation",
     [](const std::string& dir) {
       auto files = log_files(dir);
       auto lines = read_lines(dir);
       std::filesystem::remove(std::filesystem::path(dir) / files.back());
       lines = read_lines(dir);
       const Line& cp = lines.back();
       return Expectation{at(cp) + "file " + files.back() + " missing (named by rotation record " +
                              std::to_string(cp.seq - 1) + ")",
                          1};
     }},
    {"forged checkpoint (attacker key, re-chained)",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       Line& t = lines[index_of_flow(lines, 3)];
       flip_verdict(t);
       SigningKey evil = attacker_key();
       rechain_and_resign(lines, evil, evil.key_id());
       write_lines(dir, lines);
       std::size_t cps = std::count_if(lines.begin(), lines.end(),
                                       [](const Line& l) { return l.type == "checkpoint"; });
       const Line& c = lines[first_checkpoint_after(lines, 0)];
       return Expectation{at(c) + "checkpoint record " + std::to_string(c.seq) +
                              " has a bad signature (signed by key " + evil.key_id() +
                              ", expected " + test_pub().key_id() + ")",
                          cps};
     }},
    {"forged checkpoint (claims our key id)",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       Line& t = lines[index_of_flow(lines, 3)];
       flip_verdict(t);
       rechain_and_resign(lines, attacker_key(), test_pub().key_id());
       write_lines(dir, lines);
       std::size_t bad = std::count_if(lines.begin(), lines.end(),
                                       [](const Line& l) { return l.type == "checkpoint"; });
       const Line& first = lines[first_checkpoint_after(lines, 0)];
       return Expectation{at(first) + "checkpoint record " + std::to_string(first.seq) +
                              " has a bad signature (forged or altered)",
                          bad};
     }},
    {"altered checkpoint signature",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       Line& c = lines[first_checkpoint_after(lines, 0)];
       auto pos = c.raw.find("\"sig\":\"") + 7;
       c.raw[pos] = c.raw[pos] == 'A' ? 'B' : 'A';
       write_lines(dir, lines);
       // The chain break after it is the same fact and is not reported twice.
       return Expectation{at(c) + "checkpoint record " + std::to_string(c.seq) +
                              " has a bad signature (forged or altered)",
                          1};
     }},
    {"replayed checkpoint",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       Line old = lines[first_checkpoint_after(lines, 0)];
       std::size_t i = index_of_flow(lines, 20);
       Line copy = old;
       copy.file = lines[i].file;
       lines.insert(lines.begin() + static_cast<long>(i) + 1, copy);
       write_lines(dir, lines);
       Line where = lines[i];
       where.line += 1;
       return Expectation{at(where) + "checkpoint record " + std::to_string(old.seq) +
                              " replayed (copy of " + old.file + ":" + std::to_string(old.line) +
                              ")",
                          1};
     }},
    {"evidence file altered",
     [](const std::string& dir) {
       std::ofstream(std::filesystem::path(dir) / "evidence/flow-7.pcap", std::ios::app) << "x";
       auto lines = read_lines(dir);
       const Line& t = lines[index_of_flow(lines, 7)];
       return Expectation{at(t) + "record " + std::to_string(t.seq) +
                              ": evidence evidence/flow-7.pcap does not match its hash",
                          1};
     }},
    {"evidence file deleted",
     [](const std::string& dir) {
       std::filesystem::remove(std::filesystem::path(dir) / "evidence/flow-7.pcap");
       auto lines = read_lines(dir);
       const Line& t = lines[index_of_flow(lines, 7)];
       return Expectation{
           at(t) + "record " + std::to_string(t.seq) + ": evidence evidence/flow-7.pcap missing",
           1};
     }},
    {"malformed JSON line",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       Line& t = lines[index_of_flow(lines, 12)];
       t.raw = "{\"seq\":" + std::to_string(t.seq) + ",\"prev\":";
       write_lines(dir, lines);
       return Expectation{at(t) + "malformed record (not valid JSON)", 1};
     }},
    // ---- Tampers that fooled or hung the verifier before it streamed (issue 9) ----
    {"file renamed off its first record",
     [](const std::string& dir) {
       auto files = log_files(dir);
       auto lines = read_lines(dir);
       std::uint64_t first = 0;
       for (const auto& l : lines)
         if (l.file == files[1] && first == 0) first = l.seq;
       std::string renamed = log_file_name(first + 1);
       std::filesystem::rename(std::filesystem::path(dir) / files[1],
                               std::filesystem::path(dir) / renamed);
       return Expectation{renamed + ":1: error: file name says its first record is " +
                              std::to_string(first + 1) + ", but it starts with record " +
                              std::to_string(first) + " (renamed or moved)",
                          1};
     }},
    {"every log file emptied",
     [](const std::string& dir) {
       auto files = log_files(dir);
       for (const auto& f : files) std::ofstream(std::filesystem::path(dir) / f, std::ios::trunc);
       return Expectation{files[0] + ":1: error: empty log file", files.size()};
     }},
    {"record with a huge seq appended",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       Line forged = lines.back();
       forged.raw = "{\"seq\":1000000000000,\"prev\":\"" + dc::base::sha256_hex(forged.raw) +
                    "\",\"type\":\"stop\",\"time\":\"2024-05-01T13:00:00.000000Z\"}";
       forged.line += 1;
       lines.push_back(forged);
       write_lines(dir, lines);
       // The hole is one range (not 10^12 lines), and the forged record is not sealed.
       return Expectation{
           at(forged) + seq_range(lines[lines.size() - 2].seq + 1, 999999999999) + " deleted", 2};
     }},
    {"evidence replaced by a symlink to /dev/zero",
     [](const std::string& dir) {
       auto p = std::filesystem::path(dir) / "evidence/flow-7.pcap";
       std::filesystem::remove(p);
       std::filesystem::create_symlink("/dev/zero", p);
       auto lines = read_lines(dir);
       const Line& t = lines[index_of_flow(lines, 7)];
       return Expectation{
           at(t) + "record " + std::to_string(t.seq) + ": evidence evidence/flow-7.pcap unusable (",
           1};
     }},
    {"extra member in the final checkpoint",
     [](const std::string& dir) {
       auto lines = read_lines(dir);
       Line& c = lines.back();
       EXPECT_EQ(c.type, "checkpoint");
       c.raw.insert(c.raw.size() - 1, ",\"note\":\"all fine\"");
       write_lines(dir, lines);
       return Expectation{at(c) + "checkpoint record " + std::to_string(c.seq) +
                              " carries bytes outside its signed fields",
                          1};
     }},
    {"log file replaced by a symlink",
     [](const std::string& dir) {
       auto files = log_files(dir);
       auto p = std::filesystem::path(dir) / files[1];
       std::filesystem::rename(p, std::filesystem::path(dir) / "elsewhere.txt");
       std::filesystem::create_symlink("elsewhere.txt", p);
       // Unusable, and its records are then missing from the chain.
       return Expectation{files[1] + ":1: error: log file unusable: ", 2};
     }},
};

void PrintTo(const TamperCase& c, std::ostream* os) { *os << c.name; }

class TamperTest : public ::testing::TestWithParam<TamperCase> {};

TEST_P(TamperTest, VerifierNamesTheTampering) {
  TempDir dir("verify");
  FakeClock clock;
  ASSERT_NO_FATAL_FAILURE(write_sample_log(dir.str(), clock));
  Expectation want = GetParam().tamper(dir.str());

  auto report = verify_log(VerifyOptions{dir.str()}, test_pub());
  ASSERT_TRUE(report) << report.error().message;
  std::vector<std::string> errors;
  for (const auto& f : report->findings)
    if (f.severity == Severity::kError) errors.push_back(format_finding(f));
  std::string all;
  for (const auto& e : errors) all += "  " + e + "\n";
  EXPECT_TRUE(std::any_of(errors.begin(), errors.end(),
                          [&](const std::string& e) { return e.starts_with(want.finding); }))
      << "expected: " << want.finding << "\ngot:\n"
      << all;
  EXPECT_EQ(errors.size(), want.errors) << all;
  EXPECT_EQ(report->exit_code(), 1);
}

INSTANTIATE_TEST_SUITE_P(Table, TamperTest, ::testing::ValuesIn(kCases), [](const auto& info) {
  std::string n = info.param.name;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

TEST(Verify, IntactLogVerifies) {
  TempDir dir("verify");
  FakeClock clock;
  ASSERT_NO_FATAL_FAILURE(write_sample_log(dir.str(), clock));
  auto lines = read_lines(dir.str());
  auto report = verify_log(VerifyOptions{dir.str()}, test_pub());
  ASSERT_TRUE(report) << report.error().message;
  for (const auto& f : report->findings) ADD_FAILURE() << format_finding(f);
  EXPECT_EQ(report->exit_code(), 0);
  EXPECT_EQ(report->records, lines.size());
  EXPECT_EQ(report->flows, 24u);
  EXPECT_EQ(report->last_seq, lines.back().seq);
  EXPECT_EQ(report->sealed_through, lines.back().seq);
  EXPECT_EQ(report->evidence_checked, 1u);
  EXPECT_GE(report->files, 3u);
  // Every kind of checkpoint the writer makes is present in the sample.
  for (const char* reason : {"records", "interval", "rotation", "close"}) {
    EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [&](const Line& l) {
      return l.raw.find(std::string("\"reason\":\"") + reason + "\"") != std::string::npos;
    })) << reason;
  }
}

TEST(Verify, LiveLogTailIsAWarningOnlyWhenAllowed) {
  TempDir dir("verify");
  FakeClock clock;
  ASSERT_NO_FATAL_FAILURE(write_sample_log(dir.str(), clock));
  auto lines = read_lines(dir.str());
  lines.resize(lines.size() - 2);
  write_lines(dir.str(), lines);
  VerifyOptions live{dir.str()};
  live.allow_unsealed_tail = true;
  auto report = verify_log(live, test_pub());
  ASSERT_TRUE(report);
  ASSERT_EQ(report->findings.size(), 1u);
  EXPECT_EQ(report->findings[0].severity, Severity::kWarning);
  EXPECT_EQ(report->findings[0].kind, FindingKind::kUnsealedTail);
  EXPECT_EQ(report->exit_code(), 0);
}

TEST(Verify, WrongPublicKeyFailsEveryCheckpoint) {
  TempDir dir("verify");
  FakeClock clock;
  ASSERT_NO_FATAL_FAILURE(write_sample_log(dir.str(), clock));
  auto other = VerifyKey::from_pem(attacker_key().public_pem());
  ASSERT_TRUE(other);
  auto report = verify_log(VerifyOptions{dir.str()}, *other);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->exit_code(), 1);
  EXPECT_EQ(report->checkpoints, 0u);
}

// Cutting the tail (stop and closing checkpoint) and restarting the appliance once used to give
// "intact": the writer chains on from the last line it finds. Now the restart seals the cut run
// with a `recovery` record and verify names the run that has no stop (a warning: a crash looks
// the same; only a witness tells a cut from a crash). Without the recovery record it is an error.
TEST(Verify, TailCutThenRestartIsAnUncleanRun) {
  TempDir dir("verify");
  FakeClock clock;
  ASSERT_NO_FATAL_FAILURE(write_sample_log(dir.str(), clock));
  auto lines = read_lines(dir.str());
  lines.resize(lines.size() - 2);
  write_lines(dir.str(), lines);
  {
    auto w = LogWriter::open(sample_options(dir.str(), clock), test_key());
    ASSERT_TRUE(w) << w.error().message;
    clock.now += std::chrono::seconds(5);
    ASSERT_EQ((*w)->append_flow(flow_record_body(sample_flow(99, clock.now))),
              AppendStatus::kWritten);
    ASSERT_TRUE((*w)->close());
  }
  auto report = verify_log(VerifyOptions{dir.str()}, test_pub());
  ASSERT_TRUE(report) << report.error().message;
  std::vector<std::string> errors, unclean;
  for (const auto& f : report->findings) {
    if (f.severity == Severity::kError) errors.push_back(format_finding(f));
    if (f.kind == FindingKind::kUncleanRun) unclean.push_back(format_finding(f));
  }
  EXPECT_TRUE(errors.empty()) << errors[0];
  ASSERT_EQ(unclean.size(), 1u);
  EXPECT_NE(unclean[0].find("warning: run started at record 1 ("), std::string::npos) << unclean[0];
  EXPECT_NE(unclean[0].find("has no stop record"), std::string::npos) << unclean[0];
  EXPECT_NE(unclean[0].find("sealed by recovery record"), std::string::npos) << unclean[0];
  bool found = false;
  for (const auto& l : read_lines(dir.str())) {
    if (l.type != "recovery") continue;
    auto j = nlohmann::json::parse(l.raw);
    found = true;
    EXPECT_EQ(j["previous_run"]["start_seq"], 1u);
    EXPECT_EQ(j["unclosed_flows"], 0u);
  }
  EXPECT_TRUE(found);
}

// A crash (no stop, no closing checkpoint) while border flows were open: the next start lists
// the flows whose flow_open has no final record, with what had crossed at their last update.
TEST(Verify, RecoveryListsTheFlowsACrashLeftOpen) {
  TempDir dir("verify");
  FakeClock clock;
  {
    auto w = LogWriter::open(sample_options(dir.str(), clock), test_key());
    ASSERT_TRUE(w) << w.error().message;
    for (uint64_t id : {11u, 12u, 13u})
      ASSERT_EQ(
          (*w)->append_flow(RecordType::kFlowOpen, flow_open_body(sample_flow(id, clock.now))),
          AppendStatus::kWritten);
    auto upd = flow_record_body(sample_flow(12, clock.now));
    upd["crossed"] = {{"packets", 7}, {"bytes", 7000}};
    ASSERT_EQ((*w)->append_flow(RecordType::kFlowUpdate, upd), AppendStatus::kWritten);
    ASSERT_EQ((*w)->append_flow(flow_record_body(sample_flow(11, clock.now))),
              AppendStatus::kWritten);
    ASSERT_TRUE((*w)->close());
  }
  auto lines = read_lines(dir.str());
  lines.resize(lines.size() - 2);  // killed: no stop, no closing checkpoint
  write_lines(dir.str(), lines);
  {
    auto w = LogWriter::open(sample_options(dir.str(), clock), test_key());
    ASSERT_TRUE(w) << w.error().message;
    ASSERT_TRUE((*w)->close());
  }
  std::vector<nlohmann::json> rec;
  for (const auto& l : read_lines(dir.str()))
    if (l.type == "recovery") rec.push_back(nlohmann::json::parse(l.raw));
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec[0]["unclosed_flows"], 2u);
  ASSERT_EQ(rec[0]["flows"].size(), 2u);
  EXPECT_EQ(rec[0]["flows"][0]["flow_id"], 12u);
  EXPECT_EQ(rec[0]["flows"][0]["crossed_at_last_update"]["bytes"], 7000u);
  EXPECT_EQ(rec[0]["flows"][1]["flow_id"], 13u);
  EXPECT_FALSE(rec[0]["flows"][1].contains("crossed_at_last_update"));
  auto report = verify_log(VerifyOptions{dir.str()}, test_pub());
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->exit_code(), 0);
  bool named = false;
  for (const auto& f : report->findings)
    named |= f.kind == FindingKind::kUncleanRun &&
             format_finding(f).find("2 flow(s) opened and never closed") != std::string::npos;
  EXPECT_TRUE(named);
}

TEST(Verify, PinnedKeyIdAndReportedKeyId) {
  TempDir dir("verify");
  FakeClock clock;
  ASSERT_NO_FATAL_FAILURE(write_sample_log(dir.str(), clock));
  VerifyOptions pinned{dir.str()};
  pinned.expect_key_id = test_pub().key_id();
  auto ok = verify_log(pinned, test_pub());
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->key_id, test_pub().key_id());
  EXPECT_EQ(ok->exit_code(), 0);
  auto other = VerifyKey::from_pem(attacker_key().public_pem());
  ASSERT_TRUE(other);
  auto refused = verify_log(pinned, *other);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("not the expected " + test_pub().key_id()),
            std::string::npos)
      << refused.error().message;
}

TEST(Verify, UnreadableDirectoryIsAnIoError) {
  TempDir dir("verify");
  EXPECT_FALSE(verify_log(VerifyOptions{dir.str()}, test_pub()));  // no log files
  EXPECT_FALSE(verify_log(VerifyOptions{dir.str() + "/nope"}, test_pub()));
}

}  // namespace
}  // namespace dc::audit

namespace dc::audit {
namespace {

TEST(SeqSet, RangesMergeAndMissingIsComputedPerRange) {
  SeqSet s;
  for (std::uint64_t v :
       std::initializer_list<std::uint64_t>{1, 2, 3, 7, 5, 6, 1'000'000'000'000ULL})
    EXPECT_TRUE(s.insert(v)) << v;
  EXPECT_FALSE(s.insert(2));
  EXPECT_TRUE(s.contains(6));
  EXPECT_FALSE(s.contains(4));
  using R = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
  EXPECT_EQ(s.missing(1, 10), (R{{4, 4}, {8, 10}}));
  EXPECT_EQ(s.missing(5, 7), R{});
  EXPECT_EQ(s.missing(8, 999'999'999'999ULL), (R{{8, 999'999'999'999ULL}}));
  EXPECT_EQ(s.first_at_or_after(8), 1'000'000'000'000ULL);
  EXPECT_TRUE(s.insert(4));
  EXPECT_EQ(s.missing(1, 7), R{});
}

TEST(LineReader, SplitsLinesCapsLongOnesAndMarksATornTail) {
  TempDir dir("lines");
  std::string path = dir.str() + "/f";
  std::string longline(LineReader::kMaxLine + 10, 'x');
  std::ofstream(path, std::ios::binary) << "a\n\n" << longline << "\nlast";
  auto f = base::open_regular_file(path);
  ASSERT_TRUE(f);
  LineReader r(std::move(*f));
  std::vector<LineReader::Line> got;
  while (auto l = r.next()) {
    ASSERT_TRUE(l);
    if (!*l) break;
    got.push_back(**l);
  }
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].text, "a");
  EXPECT_EQ(got[1].text, "");
  EXPECT_TRUE(got[2].too_long);
  EXPECT_EQ(got[2].text.size(), LineReader::kMaxLine);
  EXPECT_EQ(got[2].bytes, longline.size());
  EXPECT_EQ(got[3].text, "last");
  EXPECT_FALSE(got[3].complete);
}

}  // namespace
}  // namespace dc::audit
