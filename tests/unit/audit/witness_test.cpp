// Witnesses: the file witness (bounds, symlinks, rotation), the publisher (off-thread, failure
// episodes), and `verify --witness` against a real log cut back in the ways a witness catches.
#include "audit/witness.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "audit/verify.hpp"
#include "audit/witness_read.hpp"
#include "base/hash.hpp"
#include "tests/unit/audit/audit_fixture.hpp"

namespace dc::audit {
namespace {
using namespace dc::audit::testing;
namespace fs = std::filesystem;

CheckpointInfo info(std::uint64_t seq) {
  CheckpointInfo c;
  c.seq = seq;
  c.line = "{\"seq\":" + std::to_string(seq) + ",\"type\":\"checkpoint\"}";
  c.hash = base::sha256_hex(c.line);
  c.file = log_file_name(1);
  c.key_id = "k";
  c.time = "2024-05-01T08:00:00.000000Z";
  return c;
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(WitnessLine, RoundTripsAndChecksItsHash) {
  auto c = info(7);
  auto back = parse_witness_line(witness_line(c));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->seq, 7u);
  EXPECT_EQ(back->line, c.line);
  c.hash = std::string(64, 'f');
  auto bad = parse_witness_line(witness_line(c));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not the SHA-256"), std::string::npos);
  EXPECT_FALSE(parse_witness_line("{\"seq\":1}"));
  EXPECT_FALSE(parse_witness_line("garbage"));
}

TEST(SyslogWitness, MessageNamesSeqHashAndKey) {
  auto c = info(12);
  std::string m = syslog_witness_message(c);
  EXPECT_NE(m.find("seq=12 "), std::string::npos);
  EXPECT_NE(m.find("hash=" + c.hash), std::string::npos);
  EXPECT_NE(m.find("key_id=k "), std::string::npos);
  EXPECT_EQ(m.find('\n'), std::string::npos);
}

TEST(FileWitness, AppendsOneLinePerCheckpoint) {
  TempDir tmp("witness");
  auto path = tmp.path() / "w.log";
  auto w = make_file_witness({path.string()});
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ((*w)->name(), "file:" + path.string());
  for (std::uint64_t s : {7, 14, 21}) ASSERT_TRUE((*w)->publish(info(s)));
  auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(parse_witness_line(lines[2])->seq, 21u);
}

TEST(FileWitness, RotatesToDotOneAtItsBound) {
  TempDir tmp("witness");
  auto path = tmp.path() / "w.log";
  auto w = make_file_witness({path.string(), 4096});
  ASSERT_TRUE(w);
  for (std::uint64_t s = 1; s <= 40; ++s) ASSERT_TRUE((*w)->publish(info(s)));
  ASSERT_TRUE(fs::exists(tmp.path() / "w.log.1"));
  EXPECT_LE(fs::file_size(path), 4096u);
  EXPECT_LE(fs::file_size(tmp.path() / "w.log.1"), 4096u);
  // The head is in PATH: its last line is the latest checkpoint.
  EXPECT_EQ(parse_witness_line(lines_of(path).back())->seq, 40u);
}

TEST(FileWitness, RefusesSymlinksDirectoriesAndDevices) {
  TempDir tmp("witness");
  auto target = tmp.path() / "target";
  std::ofstream(target) << "";
  auto link = tmp.path() / "link";
  fs::create_symlink(target, link);
  auto w = make_file_witness({link.string()});
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("not a regular file (symbolic link)"), std::string::npos);
  w = make_file_witness({tmp.str()});
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("not a regular file (directory)"), std::string::npos);
  w = make_file_witness({"/dev/null"});
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("not a regular file (device)"), std::string::npos);
  w = make_file_witness({(tmp.path() / "no-such-dir" / "w.log").string()});
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("does not exist"), std::string::npos);
  // Replaced by a symlink after start-up: the next publish fails, nothing is written through it.
  auto path = tmp.path() / "w.log";
  auto ok = make_file_witness({path.string()});
  ASSERT_TRUE(ok);
  fs::create_symlink(target, path);
  auto r = (*ok)->publish(info(1));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos);
  EXPECT_EQ(fs::file_size(target), 0u);
}

// A witness that fails while `failing` is set, and records what it got.
class FakeWitness final : public Witness {
 public:
  const std::string& name() const override { return name_; }
  Result<void> publish(const CheckpointInfo& c) override {
    if (*failing) return make_error("down");
    seqs->push_back(c.seq);
    return {};
  }
  std::string name_ = "fake";
  std::shared_ptr<std::atomic<bool>> failing = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::vector<std::uint64_t>> seqs = std::make_shared<std::vector<std::uint64_t>>();
};

TEST(WitnessPublisher, OneEventPerFailureEpisodeAndNeverStopsPublishing) {
  auto fake = std::make_unique<FakeWitness>();
  auto failing = fake->failing;
  auto seqs = fake->seqs;
  std::vector<std::unique_ptr<Witness>> ws;
  ws.push_back(std::move(fake));
  WitnessPublisher pub(std::move(ws), 1000);
  std::mutex mu;
  std::vector<nlohmann::ordered_json> events;
  pub.set_event_sink([&](nlohmann::ordered_json d) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(std::move(d));
  });
  auto settle = [&](std::uint64_t total) {  // wait until `total` attempts were made
    for (int i = 0; i < 5000; ++i) {
      auto s = pub.stats()[0];
      if (s.published + s.failures >= total) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FAIL() << "publisher did not catch up";
  };
  pub.publish(info(1));
  settle(1);
  *failing = true;
  for (std::uint64_t s = 2; s <= 4; ++s) pub.publish(info(s));
  settle(4);
  *failing = false;
  pub.publish(info(5));
  settle(5);
  *failing = true;
  pub.publish(info(6));
  settle(6);
  *failing = false;
  pub.publish(info(7));
  ASSERT_TRUE(pub.stop());
  auto s = pub.stats()[0];
  EXPECT_EQ(s.published, 3u);
  EXPECT_EQ(s.failures, 4u);
  EXPECT_EQ(s.episodes, 2u);
  EXPECT_TRUE(s.healthy);
  EXPECT_EQ(*seqs, (std::vector<std::uint64_t>{1, 5, 7}));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["witness"], "fake");
  EXPECT_EQ(events[0]["seq"], 2);
  EXPECT_EQ(events[0]["error"], "down");
  EXPECT_EQ(events[1]["seq"], 6);
}

TEST(WitnessPublisher, FullQueueKeepsTheNewest) {
  auto fake = std::make_unique<FakeWitness>();
  auto seqs = fake->seqs;
  std::vector<std::unique_ptr<Witness>> ws;
  ws.push_back(std::move(fake));
  WitnessPublisher pub(std::move(ws), 2);
  for (std::uint64_t s = 1; s <= 50; ++s) pub.publish(info(s));
  ASSERT_TRUE(pub.stop());
  ASSERT_FALSE(seqs->empty());
  EXPECT_EQ(seqs->back(), 50u);
  EXPECT_EQ(seqs->size() + pub.skipped(), 50u);
}

// The real sink, except that sync() fails while `fail_sync` is set.
class SyncFailingSink final : public FileSink {
 public:
  explicit SyncFailingSink(std::shared_ptr<std::atomic<bool>> fail) : fail_(std::move(fail)) {}
  Result<void> open(const std::string& path) override { return real_->open(path); }
  Result<void> append(std::string_view b) override { return real_->append(b); }
  Result<void> sync() override {
    if (*fail_) return make_error(ErrorCode::kIo, "fsync: Input/output error");
    return real_->sync();
  }
  void close() override { real_->close(); }

 private:
  std::unique_ptr<FileSink> real_ = make_posix_file_sink();
  std::shared_ptr<std::atomic<bool>> fail_;
};

TEST(WriterHook, OnlyDurableCheckpointsAreHandedOn) {
  TempDir tmp("hook");
  FakeClock clock;
  auto fail = std::make_shared<std::atomic<bool>>(false);
  std::vector<CheckpointInfo> got;
  auto o = sample_options(tmp.str(), clock);
  o.sink = std::make_unique<SyncFailingSink>(fail);
  o.on_checkpoint = [&](const CheckpointInfo& c) { got.push_back(c); };
  auto w = LogWriter::open(std::move(o), test_key());
  ASSERT_TRUE(w) << w.error().message;
  auto flows = [&](int n) {
    for (int i = 0; i < n; ++i) {
      clock.now += std::chrono::seconds(1);
      (*w)->append_flow(flow_record_body(sample_flow(1, clock.now)));
    }
  };
  flows(5);  // start + 5 flows: the checkpoint of 6 records is record 7
  ASSERT_EQ(got.size(), 1u);
  *fail = true;
  flows(6);  // record 14 is a checkpoint too, but its fsync fails
  EXPECT_EQ(got.size(), 1u);
  *fail = false;
  ASSERT_TRUE((*w)->close());
  ASSERT_EQ(got.size(), 2u);  // the closing checkpoint
  // What was handed on is exactly the line on disk, and its hash is the chain value.
  auto lines = read_lines(tmp.str());
  for (const auto& c : got) {
    const Line& l = find_seq(lines, c.seq);
    EXPECT_EQ(l.type, "checkpoint");
    EXPECT_EQ(l.raw, c.line);
    EXPECT_EQ(l.file, c.file);
    EXPECT_EQ(base::sha256_hex(l.raw), c.hash);
    EXPECT_EQ(c.key_id, test_key().key_id());
  }
  EXPECT_EQ(got[0].seq, 7u);
  EXPECT_EQ(got[1].seq, lines.back().seq);
}

// --- verify --witness against real logs
// ------------------------------------------------------------

// Writes one run of `flows` flows into `dir`, every checkpoint published to the file witness.
void write_run(const std::string& dir, const std::string& witness, FakeClock& clock, int flows) {
  auto fw = make_file_witness({witness});
  ASSERT_TRUE(fw) << fw.error().message;
  std::vector<std::unique_ptr<Witness>> ws;
  ws.push_back(std::move(*fw));
  WitnessPublisher pub(std::move(ws));
  auto o = sample_options(dir, clock);
  o.on_checkpoint = [&pub](const CheckpointInfo& c) { pub.publish(c); };
  auto w = LogWriter::open(std::move(o), test_key());
  ASSERT_TRUE(w) << w.error().message;
  for (int id = 1; id <= flows; ++id) {
    clock.now += std::chrono::seconds(5);
    FlowRecord f = sample_flow(id, clock.now);
    ASSERT_EQ((*w)->append_flow(flow_record_body(f)), AppendStatus::kWritten);
  }
  ASSERT_TRUE((*w)->close());
  ASSERT_TRUE(pub.stop());
  EXPECT_EQ(pub.stats()[0].failures, 0u);
}

VerifyReport verify_with(const std::string& dir, const std::vector<std::string>& witnesses) {
  VerifyOptions o;
  o.dir = dir;
  o.witnesses = witnesses;
  auto r = verify_log(o, test_pub());
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : VerifyReport{};
}

std::vector<std::string> kinds(const VerifyReport& r) {
  std::vector<std::string> k;
  for (const auto& f : r.findings)
    if (f.severity == Severity::kError) k.push_back(std::string(finding_kind_name(f.kind)));
  return k;
}

bool has(const VerifyReport& r, FindingKind kind, const std::string& text) {
  return std::any_of(r.findings.begin(), r.findings.end(), [&](const Finding& f) {
    return f.kind == kind && format_finding(f).find(text) != std::string::npos;
  });
}

std::uint64_t last_seq_of(const std::string& dir) {
  std::uint64_t last = 0;
  for (const auto& l : read_lines(dir)) last = std::max(last, l.seq);
  return last;
}

class WitnessVerify : public ::testing::Test {
 protected:
  TempDir tmp_{"witness-verify"};
  std::string log_ = (tmp_.path() / "log").string();
  std::string wfile_ = (tmp_.path() / "witness.log").string();
  std::string spec_ = "file:" + wfile_;
  FakeClock clock_;
};

TEST_F(WitnessVerify, IntactLogHoldsEveryWitnessedCheckpoint) {
  write_run(log_, wfile_, clock_, 20);
  write_run(log_, wfile_, clock_, 8);  // a restart: the witness spans both runs
  auto r = verify_with(log_, {spec_});
  EXPECT_TRUE(r.intact()) << (r.findings.empty() ? "" : format_finding(r.findings[0]));
  EXPECT_EQ(r.witnessed, lines_of(wfile_).size());
  EXPECT_EQ(r.witnessed, r.checkpoints);
}

TEST_F(WitnessVerify, DeletedTailFilesAreACutBack) {
  write_run(log_, wfile_, clock_, 24);  // files of 10 records: several rotations
  auto files = log_files(log_);
  ASSERT_GE(files.size(), 3u);
  std::uint64_t witnessed_last = last_seq_of(log_);
  fs::remove(fs::path(log_) / files.back());
  fs::remove(fs::path(log_) / files[files.size() - 2]);
  std::uint64_t now_last = last_seq_of(log_);
  auto r = verify_with(log_, {spec_});
  EXPECT_FALSE(r.intact());
  EXPECT_TRUE(has(r, FindingKind::kCutBack,
                  "log cut back: witness " + spec_ + " has checkpoint seq " +
                      std::to_string(witnessed_last) + ", log ends at seq " +
                      std::to_string(now_last)))
      << ::testing::PrintToString(kinds(r));
}

TEST_F(WitnessVerify, CutBackToAnEarlierCloseCheckpoint) {
  write_run(log_, wfile_, clock_, 12);
  std::uint64_t first_close = last_seq_of(log_);
  auto before = log_files(log_);
  write_run(log_, wfile_, clock_, 15);
  std::uint64_t second_close = last_seq_of(log_);
  // The attacker removes the second run's files: the log ends at the first run's clean close.
  for (const auto& f : log_files(log_))
    if (std::find(before.begin(), before.end(), f) == before.end()) fs::remove(fs::path(log_) / f);
  ASSERT_EQ(last_seq_of(log_), first_close);
  EXPECT_TRUE(verify_with(log_, {}).intact()) << "without a witness this cut is invisible";
  auto r = verify_with(log_, {spec_});
  EXPECT_FALSE(r.intact());
  EXPECT_EQ(kinds(r), std::vector<std::string>{"cut_back"});
  EXPECT_TRUE(has(r, FindingKind::kCutBack,
                  "has checkpoint seq " + std::to_string(second_close) + ", log ends at seq " +
                      std::to_string(first_close)));
}

TEST_F(WitnessVerify, CutBackThenRewrittenPastTheWitnessedHead) {
  write_run(log_, wfile_, clock_, 12);
  auto before = log_files(log_);
  write_run(log_, wfile_, clock_, 6);
  for (const auto& f : log_files(log_))
    if (std::find(before.begin(), before.end(), f) == before.end()) fs::remove(fs::path(log_) / f);
  // A new run, longer than the removed one, not witnessed (the attacker kept the witness away).
  std::string other = (tmp_.path() / "elsewhere.log").string();
  write_run(log_, other, clock_, 20);
  EXPECT_TRUE(verify_with(log_, {}).intact());
  auto r = verify_with(log_, {spec_});
  EXPECT_FALSE(r.intact());
  auto k = kinds(r);
  EXPECT_NE(std::find(k.begin(), k.end(), "witness_mismatch"), k.end())
      << ::testing::PrintToString(k);
  EXPECT_TRUE(has(r, FindingKind::kWitnessMismatch, "is not the checkpoint witnessed by"));
}

TEST_F(WitnessVerify, ForgedWitnessEntryIsNamed) {
  write_run(log_, wfile_, clock_, 12);
  // An entry signed by another key (what a forger without our key can produce).
  auto lines = read_lines(log_);
  const Line& cp = *std::find_if(lines.begin(), lines.end(),
                                 [](const Line& l) { return l.type == "checkpoint"; });
  auto c = checkpoint_from_record(nlohmann::json::parse(cp.raw)).value();
  auto sig = attacker_key().sign(checkpoint_signing_bytes(c)).value();
  c.sig = base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(sig.data()), sig.size()));
  auto j = nlohmann::ordered_json::parse(cp.raw);
  j["checkpoint"] = checkpoint_to_json(c);
  CheckpointInfo forged{cp.seq, "", cp.file, c.key_id, "", j.dump()};
  forged.hash = base::sha256_hex(forged.line);
  std::ofstream(wfile_, std::ios::app) << witness_line(forged) << "\n";
  auto r = verify_with(log_, {spec_});
  EXPECT_FALSE(r.intact());
  EXPECT_TRUE(has(r, FindingKind::kWitnessInvalid, "bad signature"))
      << ::testing::PrintToString(kinds(r));
}

TEST_F(WitnessVerify, UnreadableWitnessIsAnErrorNotAFinding) {
  write_run(log_, wfile_, clock_, 6);
  auto expect_error = [&](const std::string& spec, const std::string& says) {
    VerifyOptions o;
    o.dir = log_;
    o.witnesses = {spec};
    auto r = verify_log(o, test_pub());
    ASSERT_FALSE(r) << spec;
    EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
  };
  auto link = (tmp_.path() / "link").string();
  fs::create_symlink(wfile_, link);
  expect_error("file:" + link, "not a regular file (symbolic link)");
  expect_error("file:" + tmp_.str(), "not a regular file (directory)");
  expect_error("file:/dev/zero", "not a regular file");
  auto huge = (tmp_.path() / "huge").string();
  {
    int fd = ::open(huge.c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, off_t{1} << 30), 0);  // sparse: costs no disk
    ::close(fd);
  }
  expect_error("file:" + huge, "larger than");
  expect_error("file:" + (tmp_.path() / "absent").string(), "cannot open");
  expect_error("ftp:x", "expected file:PATH");
  expect_error("redis:localhost:notaport", "bad port");
}

}  // namespace
}  // namespace dc::audit
