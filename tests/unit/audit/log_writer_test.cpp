// LogWriter: chain and checkpoint policy, rotation, fsync policy, resume after restart and after a
// crash, and recovery from write faults without breaking the chain.
#include "audit/log_writer.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include "audit/verify.hpp"
#include "base/hash.hpp"
#include "tests/unit/audit/audit_fixture.hpp"

namespace dc::audit {
namespace {
using namespace dc::audit::testing;
using std::chrono::seconds;

// A sink that fails on command (like a full disk) and counts fsyncs.
struct SinkControl {
  bool fail = false;
  int failures = 0;
  int syncs = 0;
};

class ControlledSink final : public FileSink {
 public:
  explicit ControlledSink(std::shared_ptr<SinkControl> ctl)
      : ctl_(std::move(ctl)), inner_(make_posix_file_sink()) {}
  Result<void> open(const std::string& path) override {
    if (ctl_->fail) return fail();
    return inner_->open(path);
  }
  Result<void> append(std::string_view bytes) override {
    if (ctl_->fail) return fail();
    return inner_->append(bytes);
  }
  Result<void> sync() override {
    ++ctl_->syncs;
    return inner_->sync();
  }
  void close() override { inner_->close(); }

 private:
  Result<void> fail() {
    ++ctl_->failures;
    return make_error("injected: No space left on device");
  }
  std::shared_ptr<SinkControl> ctl_;
  std::unique_ptr<FileSink> inner_;
};

nlohmann::ordered_json flow(std::uint64_t id, FakeClock& clock) {
  return flow_record_body(sample_flow(id, clock.now));
}

void expect_intact(const std::string& dir) {
  auto report = verify_log(VerifyOptions{dir}, test_pub());
  ASSERT_TRUE(report) << report.error().message;
  for (const auto& f : report->findings) ADD_FAILURE() << format_finding(f);
  EXPECT_EQ(report->exit_code(), 0);
}

std::vector<std::string> types(const std::vector<Line>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.type);
  return out;
}

TEST(LogWriter, FirstRecordChainsFromGenesisAndSeqIsContiguous) {
  TempDir dir("writer");
  FakeClock clock;
  auto o = sample_options(dir.str(), clock);
  o.checkpoint_every_records = 0;
  o.max_file_records = 0;
  auto w = LogWriter::open(std::move(o), test_key());
  ASSERT_TRUE(w) << w.error().message;
  for (int i = 1; i <= 3; ++i) ASSERT_EQ((*w)->append_flow(flow(i, clock)), AppendStatus::kWritten);
  ASSERT_TRUE((*w)->close());
  auto lines = read_lines(dir.str());
  EXPECT_EQ(types(lines),
            (std::vector<std::string>{"start", "flow", "flow", "flow", "stop", "checkpoint"}));
  auto first = nlohmann::json::parse(lines[0].raw);
  EXPECT_EQ(first["prev"], std::string(kGenesisHash));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].seq, i + 1);
    if (i > 0) {
      EXPECT_EQ(nlohmann::json::parse(lines[i].raw)["prev"],
                dc::base::sha256_hex(lines[i - 1].raw));
    }
  }
  expect_intact(dir.str());
}

TEST(LogWriter, RejectsReservedKeysAndNonObjects) {
  TempDir dir("writer");
  FakeClock clock;
  auto w = LogWriter::open(sample_options(dir.str(), clock), test_key());
  ASSERT_TRUE(w);
  const nlohmann::json bad_flows[] = {
      nlohmann::json::array(), {{"seq", 5}}, {{"prev", "x"}}, {{"type", "flow"}}};
  for (const auto& b : bad_flows) EXPECT_EQ((*w)->append_flow(b), AppendStatus::kInvalid) << b;
  EXPECT_EQ((*w)->append_event(RecordType::kFlow), AppendStatus::kInvalid);
  EXPECT_EQ((*w)->append_event(RecordType::kCheckpoint), AppendStatus::kInvalid);
  EXPECT_EQ((*w)->append_event(RecordType::kFailClosed, {{"time", "x"}}), AppendStatus::kInvalid);
  EXPECT_EQ((*w)->append_event(RecordType::kFailClosed, {{"reason", "audit_ring_full"}}),
            AppendStatus::kWritten);
  EXPECT_EQ((*w)->stats().next_seq, 3u);  // start + fail_closed: rejected records took no seq
}

TEST(LogWriter, CheckpointsByCountByTimeAtRotationAndClose) {
  TempDir dir("writer");
  FakeClock clock;
  auto o = sample_options(dir.str(), clock);
  o.checkpoint_every_records = 4;
  o.max_file_records = 9;
  auto w = LogWriter::open(std::move(o), test_key());
  ASSERT_TRUE(w);
  for (int i = 1; i <= 5; ++i) ASSERT_EQ((*w)->append_flow(flow(i, clock)), AppendStatus::kWritten);
  clock.now += seconds(59);
  (*w)->tick();  // not yet due
  clock.now += seconds(1);
  (*w)->tick();  // 60 s since the last checkpoint, records pending: due
  (*w)->tick();  // nothing new since: no empty checkpoint
  for (int i = 6; i <= 7; ++i) ASSERT_EQ((*w)->append_flow(flow(i, clock)), AppendStatus::kWritten);
  ASSERT_TRUE((*w)->close());

  std::vector<std::string> reasons;
  for (const auto& l : read_lines(dir.str()))
    if (l.type == "checkpoint")
      reasons.push_back(nlohmann::json::parse(l.raw)["checkpoint"]["reason"]);
  // seq 1 start, 2-4 flows, 5 cp(records), 6-7 flows, 8 cp(interval), 9 flow, then the file is
  // full: 10 rotation, 11 cp(rotation); new file: 12 flow, 13 stop, 14 cp(close).
  EXPECT_EQ(reasons, (std::vector<std::string>{"records", "interval", "rotation", "close"}));
  EXPECT_EQ(log_files(dir.str()), (std::vector<std::string>{log_file_name(1), log_file_name(12)}));
  auto lines = read_lines(dir.str());
  auto rotation = nlohmann::json::parse(find_seq(lines, 10).raw);
  EXPECT_EQ(rotation["type"], "rotation");
  EXPECT_EQ(rotation["next_file"], log_file_name(12));
  auto close = nlohmann::json::parse(lines.back().raw)["checkpoint"];
  EXPECT_EQ(close["first_seq"], 12u);
  EXPECT_EQ(close["last_seq"], 13u);
  EXPECT_EQ(close["records"], 2u);
  EXPECT_EQ(close["flows"], 1u);
  EXPECT_EQ(close["files"], nlohmann::json::array({log_file_name(12)}));
  auto rot_cp = nlohmann::json::parse(find_seq(lines, 11).raw)["checkpoint"];
  EXPECT_EQ(rot_cp["files"], nlohmann::json::array({log_file_name(1)}));
  expect_intact(dir.str());
}

struct FsyncCase {
  std::uint64_t every_records;
  int interval_s;
  int expected_syncs;  // after start + 6 flows, 1 s apart, before close
};

TEST(LogWriter, FsyncPolicy) {
  const FsyncCase cases[] = {
      {1, 0, 7},  // every record
      {3, 0, 2},  // after records 3 and 6 (start counts)
      {0, 2, 3},  // every 2 s of the clock: at t=2, 4, 6
      {0, 0, 0},  // never (only checkpoints/rotation/close sync)
  };
  for (const auto& c : cases) {
    TempDir dir("writer");
    FakeClock clock;
    auto ctl = std::make_shared<SinkControl>();
    auto o = sample_options(dir.str(), clock);
    o.checkpoint_every_records = 0;
    o.max_file_records = 0;
    o.fsync_every_records = c.every_records;
    o.fsync_interval = std::chrono::milliseconds(c.interval_s * 1000);
    o.sink = std::make_unique<ControlledSink>(ctl);
    auto w = LogWriter::open(std::move(o), test_key());
    ASSERT_TRUE(w);
    for (int i = 1; i <= 6; ++i) {
      clock.now += seconds(1);
      ASSERT_EQ((*w)->append_flow(flow(i, clock)), AppendStatus::kWritten);
    }
    EXPECT_EQ(ctl->syncs, c.expected_syncs) << c.every_records << "/" << c.interval_s;
    int before = ctl->syncs;
    ASSERT_TRUE((*w)->close());
    EXPECT_GT(ctl->syncs, before);  // close always syncs
  }
}

TEST(LogWriter, RecoversFromWriteFaultsWithoutBreakingTheChain) {
  TempDir dir("writer");
  FakeClock clock;
  auto ctl = std::make_shared<SinkControl>();
  auto o = sample_options(dir.str(), clock);
  o.checkpoint_every_records = 0;
  o.max_file_records = 0;
  o.max_pending_records = 3;
  o.sink = std::make_unique<ControlledSink>(ctl);
  auto w = LogWriter::open(std::move(o), test_key());
  ASSERT_TRUE(w);
  ASSERT_EQ((*w)->append_flow(flow(1, clock)), AppendStatus::kWritten);

  ctl->fail = true;  // disk full
  EXPECT_EQ((*w)->append_flow(flow(2, clock)), AppendStatus::kQueued);
  EXPECT_EQ((*w)->append_flow(flow(3, clock)), AppendStatus::kQueued);
  EXPECT_EQ((*w)->append_flow(flow(4, clock)), AppendStatus::kQueued);
  EXPECT_EQ((*w)->append_flow(flow(5, clock)), AppendStatus::kDropped);  // queue full
  (*w)->tick();                                                          // retries, still failing
  auto s = (*w)->stats();
  EXPECT_EQ(s.records_dropped, 1u);
  EXPECT_EQ(s.pending, 3u);
  EXPECT_GE(s.write_errors, 4u);
  EXPECT_NE(s.last_error.find("No space left"), std::string::npos);
  EXPECT_FALSE((*w)->close());  // cannot close while the disk is full

  ctl->fail = false;  // space returns
  (*w)->tick();
  EXPECT_EQ((*w)->stats().pending, 0u);
  EXPECT_EQ((*w)->append_flow(flow(6, clock)), AppendStatus::kInvalid);  // closing
  ASSERT_TRUE((*w)->close());

  auto lines = read_lines(dir.str());
  std::vector<std::string> t = types(lines);
  EXPECT_EQ(t, (std::vector<std::string>{"start", "flow", "flow", "flow", "flow", "records_lost",
                                         "stop", "checkpoint"}));
  std::vector<std::uint64_t> flow_ids;
  for (const auto& l : lines)
    if (l.type == "flow") flow_ids.push_back(nlohmann::json::parse(l.raw)["flow_id"]);
  EXPECT_EQ(flow_ids, (std::vector<std::uint64_t>{1, 2, 3, 4}));
  auto lost = std::find(t.begin(), t.end(), "records_lost");
  ASSERT_NE(lost, t.end());
  auto lost_rec = nlohmann::json::parse(lines[lost - t.begin()].raw);
  EXPECT_EQ(lost_rec["count"], 1u);
  EXPECT_EQ(nlohmann::json::parse(lines[lines.size() - 2].raw)["records_dropped"], 1u);
  EXPECT_NE(lost_rec["error"].get<std::string>().find("No space left"), std::string::npos);
  expect_intact(dir.str());
}

TEST(LogWriter, RealTornWriteIsRolledBack) {
  // RLIMIT_FSIZE makes the kernel cut a write short and then fail with EFBIG: a real torn line.
  TempDir dir("writer");
  FakeClock clock;
  auto o = sample_options(dir.str(), clock);
  o.checkpoint_every_records = 0;
  o.max_file_records = 0;
  auto w = LogWriter::open(std::move(o), test_key());
  ASSERT_TRUE(w);
  auto file = std::filesystem::path(dir.str()) / (*w)->stats().current_file;
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = std::filesystem::file_size(file) + 100;  // less than one flow line
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  AppendStatus st = (*w)->append_flow(flow(1, clock));
  auto size_during = std::filesystem::file_size(file);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(st, AppendStatus::kQueued);
  EXPECT_LT(size_during, small.rlim_cur);  // the torn part was removed again
  (*w)->tick();
  EXPECT_EQ((*w)->stats().pending, 0u);
  ASSERT_TRUE((*w)->close());
  expect_intact(dir.str());
}

TEST(LogWriter, ResumesTheChainAfterRestartAndAfterACrash) {
  TempDir dir("writer");
  FakeClock clock;
  {
    auto w = LogWriter::open(sample_options(dir.str(), clock), test_key());
    ASSERT_TRUE(w);
    ASSERT_EQ((*w)->append_flow(flow(1, clock)), AppendStatus::kWritten);
    ASSERT_TRUE((*w)->close());
  }
  auto before = read_lines(dir.str());
  {
    auto w = LogWriter::open(sample_options(dir.str(), clock), test_key());
    ASSERT_TRUE(w);
    ASSERT_EQ((*w)->append_flow(flow(2, clock)), AppendStatus::kWritten);
    ASSERT_TRUE((*w)->close());
  }
  // A crash: a torn line at the end of the newest file, no stop/close.
  auto files = log_files(dir.str());
  ASSERT_EQ(files.size(), 2u);  // every run starts a new file
  std::ofstream(std::filesystem::path(dir.str()) / files.back(), std::ios::app)
      << "{\"seq\":99,\"pr";
  {
    auto w = LogWriter::open(sample_options(dir.str(), clock), test_key());
    ASSERT_TRUE(w) << w.error().message;
    ASSERT_TRUE((*w)->close());
  }
  auto lines = read_lines(dir.str());
  const Line& third_start = lines[lines.size() - 3];
  ASSERT_EQ(third_start.type, "start");
  auto start = nlohmann::json::parse(third_start.raw);
  EXPECT_EQ(start["recovered"]["bytes"], 13u);
  EXPECT_EQ(start["resumed"]["seq"], third_start.seq - 1);
  EXPECT_EQ(start["version"], "test");
  EXPECT_EQ(before.front().raw, lines.front().raw);  // earlier files untouched
  expect_intact(dir.str());
}

}  // namespace
}  // namespace dc::audit
