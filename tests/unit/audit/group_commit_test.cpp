// Asynchronous group commit of the audit log (WriterOptions::background_sync): fsyncs run on the
// commit thread while the writer keeps appending, and nothing is acknowledged durable before an
// fsync covering it returned. The disk is simulated so that a "crash" (what a power loss leaves:
// the bytes fsynced so far) can be taken at the very moment a record is acknowledged.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/log_writer.hpp"
#include "audit/verify.hpp"
#include "audit/writer_thread.hpp"
#include "base/hash.hpp"
#include "policy/policy.hpp"
#include "tests/unit/audit/audit_fixture.hpp"

namespace dc::audit {
namespace {
using namespace dc::audit::testing;
using namespace std::chrono_literals;

// A disk whose appended bytes are volatile until fsynced. fdatasync's contract: bytes appended
// before sync() was called are durable when it returns; bytes appended while it runs are not.
// `stall` makes every sync() wait until it is cleared (a disk that stopped answering).
struct Disk {
  std::mutex mu;
  std::condition_variable cv;
  std::string written;  // the open file's bytes
  size_t durable = 0;   // its fsynced prefix
  int syncs = 0;
  std::chrono::microseconds delay{0};
  bool stall = false;
  // What a power loss now would leave of the file.
  std::string crash_image() {
    std::lock_guard<std::mutex> lock(mu);
    return written.substr(0, durable);
  }
};

class DiskSink final : public FileSink {
 public:
  explicit DiskSink(std::shared_ptr<Disk> d) : d_(std::move(d)) {}
  Result<void> open(const std::string&) override {
    std::lock_guard<std::mutex> lock(d_->mu);
    d_->written.clear();  // one file per test (no rotation)
    d_->durable = 0;
    return {};
  }
  Result<void> append(std::string_view bytes) override {
    std::lock_guard<std::mutex> lock(d_->mu);
    d_->written.append(bytes);
    return {};
  }
  Result<void> sync() override {
    std::unique_lock<std::mutex> lock(d_->mu);
    const size_t upto = d_->written.size();  // what the fsync covers: appended before the call
    const auto delay = d_->delay;
    lock.unlock();
    std::this_thread::sleep_for(delay);
    lock.lock();
    d_->cv.wait(lock, [this] { return !d_->stall; });
    d_->durable = std::max(d_->durable, upto);
    ++d_->syncs;
    return {};
  }
  void close() override {}

 private:
  std::shared_ptr<Disk> d_;
};

// The highest seq of a complete record in `image`, and the flow ids of its flow_open records.
struct Image {
  uint64_t last_seq = 0;
  std::vector<uint64_t> opens;
};
Image parse(const std::string& image) {
  Image out;
  size_t begin = 0;
  for (size_t nl; (nl = image.find('\n', begin)) != std::string::npos; begin = nl + 1) {
    auto j = nlohmann::json::parse(image.substr(begin, nl - begin));
    out.last_seq = j["seq"].get<uint64_t>();
    if (j["type"] == "flow_open") out.opens.push_back(j["flow_id"].get<uint64_t>());
  }
  return out;
}

// The seq of the last complete record in `image` (0: none).
uint64_t last_seq(const std::string& image) {
  const size_t end = image.rfind('\n');
  if (end == std::string::npos) return 0;
  const size_t begin = end == 0 ? std::string::npos : image.rfind('\n', end - 1);
  const size_t from = begin == std::string::npos ? 0 : begin + 1;
  return nlohmann::json::parse(image.substr(from, end - from))["seq"].get<uint64_t>();
}

WriterOptions async_options(const std::string& dir, FakeClock& clock, std::shared_ptr<Disk> d) {
  WriterOptions o = sample_options(dir, clock);
  o.max_file_records = 0;  // one file: the simulated disk holds one
  o.fsync_every_records = 0;
  o.fsync_interval = 0ms;
  o.checkpoint_every_records = 50;
  o.background_sync = true;
  o.sink = std::make_unique<DiskSink>(std::move(d));
  return o;
}

nlohmann::ordered_json open_body(uint64_t id, FakeClock& clock) {
  return flow_open_body(sample_flow(id, clock.now));
}

// Every acknowledged seq is in what a crash at that moment leaves, and one fsync covers many
// records: the writer appends while the commit thread's (slow) fsyncs run.
TEST(GroupCommit, AcknowledgedRecordsSurviveACrashAndOneFsyncCoversMany) {
  TempDir dir("gc");
  FakeClock clock;
  auto disk = std::make_shared<Disk>();
  disk->delay = 2ms;
  std::vector<CheckpointInfo> witnessed;
  auto o = async_options(dir.str(), clock, disk);
  o.on_checkpoint = [&](const CheckpointInfo& c) {
    // A witness never holds a checkpoint a crash could lose.
    EXPECT_GE(last_seq(disk->crash_image()), c.seq);
    witnessed.push_back(c);
  };
  auto w = LogWriter::open(std::move(o), test_key());
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE((*w)->background_sync());
  constexpr uint64_t kRecords = 1500;
  uint64_t acked_max = 0;
  for (uint64_t i = 1; i <= kRecords; ++i) {
    ASSERT_EQ((*w)->append_flow(RecordType::kFlowOpen, open_body(i, clock)),
              AppendStatus::kWritten);
    (*w)->request_sync();
    const uint64_t acked = (*w)->durable_seq();
    ASSERT_LE(acked, (*w)->last_seq());
    ASSERT_GE(acked, acked_max) << "the durable seq never goes back";
    acked_max = acked;
    // A crash right now: everything acknowledged is in what it leaves.
    ASSERT_GE(last_seq(disk->crash_image()), acked) << "record " << i;
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((*w)->durable_seq() < (*w)->last_seq() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
    (*w)->request_sync();
  }
  EXPECT_EQ((*w)->durable_seq(), (*w)->last_seq()) << "every request is eventually met";
  {
    std::lock_guard<std::mutex> lock(disk->mu);
    EXPECT_LT(disk->syncs, static_cast<int>(kRecords / 5))
        << "group commit: one fsync covers many records";
  }
  EXPECT_EQ((*w)->stats().fsyncs, static_cast<uint64_t>(disk->syncs));
  EXPECT_FALSE(witnessed.empty());
  ASSERT_TRUE((*w)->close());
  const Image all = parse(disk->crash_image());
  EXPECT_EQ(all.opens.size(), kRecords) << "close fsyncs everything";
  EXPECT_EQ(witnessed.back().seq, all.last_seq) << "the closing checkpoint is witnessed";
}

// While the disk does not answer, the writer keeps appending (it never waits for an fsync) and
// acknowledges nothing; once the disk answers again everything written becomes durable.
TEST(GroupCommit, AStalledDiskNeverBlocksTheWriterNorAcknowledgesEarly) {
  TempDir dir("gc");
  FakeClock clock;
  auto disk = std::make_shared<Disk>();
  auto w = LogWriter::open(async_options(dir.str(), clock, disk), test_key());
  ASSERT_TRUE(w) << w.error().message;
  (*w)->request_sync();
  const auto settle = std::chrono::steady_clock::now() + 5s;
  while ((*w)->durable_seq() < (*w)->last_seq() && std::chrono::steady_clock::now() < settle)
    std::this_thread::sleep_for(1ms);
  const uint64_t before = (*w)->durable_seq();
  {
    std::lock_guard<std::mutex> lock(disk->mu);
    disk->stall = true;
  }
  for (uint64_t i = 1; i <= 200; ++i) {
    ASSERT_EQ((*w)->append_flow(RecordType::kFlowOpen, open_body(i, clock)),
              AppendStatus::kWritten);
    (*w)->request_sync();  // returns although the fsync it asked for cannot finish
  }
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ((*w)->durable_seq(), before) << "nothing acknowledged while the disk is stalled";
  EXPECT_EQ(parse(disk->crash_image()).opens.size(), 0u);
  {
    std::lock_guard<std::mutex> lock(disk->mu);
    disk->stall = false;
  }
  disk->cv.notify_all();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((*w)->durable_seq() < (*w)->last_seq() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
    (*w)->request_sync();
  }
  EXPECT_EQ((*w)->durable_seq(), (*w)->last_seq());
  EXPECT_EQ(parse(disk->crash_image()).opens.size(), 200u);
  ASSERT_TRUE((*w)->close());
}

// The writer thread's side: a worker's flow_open ticket is released (set_durable) only when a
// crash at that moment would keep the flow's flow_open record.
class OpenSource final : public OutcomeSource {
 public:
  std::deque<FlowOutcome> items;
  std::shared_ptr<Disk> disk;
  uint32_t acked = 0;  // newest ticket released
  std::vector<std::string> violations;
  unsigned drain(OutcomeConsumer& c, unsigned max) override {
    unsigned n = 0;
    for (; n < max && !items.empty(); ++n) {
      FlowOutcome o = items.front();
      items.pop_front();
      c.on_outcome(o);
    }
    return n;
  }
  void set_writer_healthy(bool) noexcept override {}
  uint64_t lost_outcomes() const noexcept override { return 0; }
  uint64_t lost_evidence() const noexcept override { return 0; }
  void set_durable(uint16_t, uint32_t ticket) noexcept override {
    const Image img = parse(disk->crash_image());  // a crash right after the acknowledgement
    for (uint32_t t = acked + 1; t <= ticket; ++t)
      if (std::find(img.opens.begin(), img.opens.end(), t) == img.opens.end())
        violations.push_back("ticket " + std::to_string(t) + " released, record not durable");
    acked = ticket;
  }
};

TEST(GroupCommit, WriterThreadReleasesATicketOnlyWhenItsRecordIsDurable) {
  policy::Diagnostics d("ftz-demo.toml");
  auto snap = policy::load_policy_file(DC_SOURCE_DIR "/examples/policy/ftz-demo.toml", d);
  ASSERT_TRUE(snap && snap.value()) << d.format();
  TempDir dir("gc");
  FakeClock clock;
  auto disk = std::make_shared<Disk>();
  disk->delay = 1ms;
  auto w = LogWriter::open(async_options(dir.str(), clock, disk), test_key());
  ASSERT_TRUE(w) << w.error().message;
  OpenSource src;
  src.disk = disk;
  WriterThread t(src, std::move(w.value()), nullptr, "hmac-key-of-16-bytes", 0);
  constexpr uint32_t kFlows = 600;
  for (uint32_t i = 1; i <= kFlows; ++i) {
    FlowOutcome o;
    o.kind = OutcomeKind::kOpen;
    o.worker = 0;
    o.ticket = i;
    o.flow_id = i;  // the flow_open's flow_id names its ticket
    o.time_ns = 1767225600LL * 1'000'000'000 + i;
    o.initiator.src = inspect::IpAddr::from_v4(0x0A010005);
    o.initiator.dst = inspect::IpAddr::from_v4(0xCB007107);
    o.initiator.sport = static_cast<uint16_t>(40000 + i);
    o.initiator.dport = 443;
    o.initiator.proto = 6;
    o.policy = snap.value().get();
    o.adm.border = true;
    src.items.push_back(o);
    if (i % 50 == 0) t.drain_once();  // the workers keep producing while fsyncs run
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (src.acked < kFlows && std::chrono::steady_clock::now() < deadline) {
    t.drain_once();
    std::this_thread::sleep_for(200us);
  }
  EXPECT_EQ(src.acked, kFlows) << "every ticket is released once durable";
  for (const auto& v : src.violations) ADD_FAILURE() << v;
  EXPECT_EQ(t.stats().opens, kFlows);
  EXPECT_LT(t.stats().group_commits, kFlows / 5) << "one fsync releases many tickets";
  ASSERT_TRUE(t.stop({}));
}

// With background_sync the lines go out in batches (writev); a batch the kernel cuts short is
// rolled back whole, retried whole, and the chain stays intact.
TEST(GroupCommit, BatchedWritesAreAllOrNothing) {
  TempDir dir("gc");
  FakeClock clock;
  auto o = sample_options(dir.str(), clock);
  o.max_file_records = 0;
  o.checkpoint_every_records = 0;
  o.fsync_every_records = 0;
  o.fsync_interval = 0ms;
  o.background_sync = true;
  auto w = LogWriter::open(std::move(o), test_key());
  ASSERT_TRUE(w) << w.error().message;
  const auto file = std::filesystem::path(dir.str()) / (*w)->stats().current_file;
  for (uint64_t i = 1; i <= 60; ++i)
    ASSERT_EQ((*w)->append_flow(flow_record_body(sample_flow(i, clock.now))),
              AppendStatus::kWritten);
  EXPECT_GT((*w)->pending(), 0u) << "lines wait for their batch";
  (*w)->request_sync();
  EXPECT_EQ((*w)->pending(), 0u);
  const auto size_before = std::filesystem::file_size(file);
  for (uint64_t i = 61; i <= 120; ++i)
    ASSERT_EQ((*w)->append_flow(flow_record_body(sample_flow(i, clock.now))),
              AppendStatus::kWritten);
  // RLIMIT_FSIZE: the kernel writes part of the batch, then fails with EFBIG.
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = size_before + 2000;  // some lines of the batch, not all
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  (*w)->request_sync();
  const auto size_during = std::filesystem::file_size(file);
  const bool failing = (*w)->failing();
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(failing);
  EXPECT_EQ(size_during, size_before) << "no line of a failed batch stays";
  EXPECT_EQ((*w)->pending(), 60u);
  (*w)->tick();
  EXPECT_FALSE((*w)->failing());
  EXPECT_EQ((*w)->pending(), 0u);
  ASSERT_TRUE((*w)->close());
  auto report = verify_log(VerifyOptions{dir.str()}, test_pub());
  ASSERT_TRUE(report) << report.error().message;
  for (const auto& f : report->findings) ADD_FAILURE() << format_finding(f);
  EXPECT_EQ(report->exit_code(), 0);
  size_t flows = 0;
  for (const auto& l : read_lines(dir.str())) flows += l.type == "flow";
  EXPECT_EQ(flows, 120u);
}

// A blocked flow's evidence capture is fsynced by the group commit, and its flow record is
// appended only after that commit returned: while the disk stalls, the record is not even
// written (a crash could keep it without its capture); afterwards it names the capture by the
// SHA-256 of the file as stored.
class BlockSource final : public OutcomeSource {
 public:
  std::deque<std::pair<FlowOutcome, int>> items;  // outcome, evidence frames before it
  unsigned drain(OutcomeConsumer& c, unsigned max) override {
    unsigned n = 0;
    const std::vector<uint8_t> frame(60, 0x42);
    for (; n < max && !items.empty(); ++n) {
      auto [o, frames] = items.front();
      items.pop_front();
      for (int i = 0; i < frames; ++i) c.on_evidence(o.flow_id, o.time_ns + i, frame);
      c.on_outcome(o);
    }
    return n;
  }
  void set_writer_healthy(bool) noexcept override {}
  uint64_t lost_outcomes() const noexcept override { return 0; }
  uint64_t lost_evidence() const noexcept override { return 0; }
};

TEST(GroupCommit, ABlockedFlowsRecordWaitsForItsEvidenceToBeDurable) {
  policy::Diagnostics d("ftz-demo.toml");
  auto snap = policy::load_policy_file(DC_SOURCE_DIR "/examples/policy/ftz-demo.toml", d);
  ASSERT_TRUE(snap && snap.value()) << d.format();
  TempDir dir("gc");
  FakeClock clock;
  auto disk = std::make_shared<Disk>();
  auto w = LogWriter::open(async_options(dir.str(), clock, disk), test_key());
  ASSERT_TRUE(w) << w.error().message;
  auto store = EvidenceStore::open(dir.str(), EvidenceLimits{});
  ASSERT_TRUE(store) << store.error().message;
  BlockSource src;
  WriterThread t(src, std::move(w.value()), std::move(store.value()), "hmac-key-of-16-bytes", 4);
  auto written = [&] {
    std::lock_guard<std::mutex> lock(disk->mu);
    return disk->written;
  };
  {
    std::lock_guard<std::mutex> lock(disk->mu);
    disk->stall = true;
  }
  FlowOutcome o;
  o.flow_id = 77;
  o.time_ns = 1767225600LL * 1'000'000'000;
  o.initiator.src = inspect::IpAddr::from_v4(0x0A010005);
  o.initiator.dst = inspect::IpAddr::from_v4(0xCB007107);
  o.initiator.sport = 40000;
  o.initiator.dport = 443;
  o.initiator.proto = 6;
  o.policy = snap.value().get();
  o.adm.border = true;
  o.verdict = OutcomeVerdict::kBlock;
  o.action = OutcomeAction::kReset;
  o.ended = true;
  src.items.push_back({o, 3});
  t.drain_once();
  EXPECT_EQ(written().find("\"flow_id\":77"), std::string::npos)
      << "the record waits while its capture is not durable";
  EXPECT_EQ(t.stats().records, 0u);
  {
    std::lock_guard<std::mutex> lock(disk->mu);
    disk->stall = false;
  }
  disk->cv.notify_all();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (t.stats().records == 0 && std::chrono::steady_clock::now() < deadline) {
    t.drain_once();
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(t.stats().records, 1u);
  EXPECT_EQ(t.stats().evidence_files, 1u);
  ASSERT_TRUE(t.stop({}));
  nlohmann::json rec;
  const std::string all = written();
  size_t begin = 0;
  for (size_t nl; (nl = all.find('\n', begin)) != std::string::npos; begin = nl + 1) {
    auto j = nlohmann::json::parse(all.substr(begin, nl - begin));
    if (j["type"] == "flow") rec = j;
  }
  ASSERT_TRUE(rec.is_object());
  ASSERT_TRUE(rec["evidence"].is_object()) << rec.dump();
  EXPECT_EQ(rec["evidence"]["packets"], 3);
  auto hash = base::sha256_file_hex(dir.str() + "/" + rec["evidence"]["file"].get<std::string>());
  ASSERT_TRUE(hash) << hash.error().message;
  EXPECT_EQ(*hash, rec["evidence"]["sha256"]);
}

}  // namespace
}  // namespace dc::audit
