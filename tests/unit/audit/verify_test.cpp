// The verifier against a real log written by LogWriter (rotation, record- and time-based
// checkpoints, evidence), then tampered with in one way per table row. Each row names the exact
// finding the verifier must print and how many errors it may print in total.
#include "audit/verify.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

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

TEST(Verify, UnreadableDirectoryIsAnIoError) {
  TempDir dir("verify");
  EXPECT_FALSE(verify_log(VerifyOptions{dir.str()}, test_pub()));  // no log files
  EXPECT_FALSE(verify_log(VerifyOptions{dir.str() + "/nope"}, test_pub()));
}

}  // namespace
}  // namespace dc::audit
