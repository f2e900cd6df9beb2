// The Redis witness against a real redis-server started here on a free loopback port (no
// persistence, killed at the end): the writer publishes through it, `verify --witness redis:...`
// reads it back and catches a cut-back log; a dead server is one witness_error episode.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "audit/verify.hpp"
#include "audit/witness.hpp"
#include "audit/witness_read.hpp"
#include "tests/unit/audit/audit_fixture.hpp"
#include "tests/unit/audit/redis_server.hpp"

namespace dc::audit {
namespace {
using namespace dc::audit::testing;
namespace fs = std::filesystem;

void write_run(const std::string& dir, WitnessPublisher& pub, FakeClock& clock, int flows) {
  auto o = sample_options(dir, clock);
  o.on_checkpoint = [&pub](const CheckpointInfo& c) { pub.publish(c); };
  auto w = LogWriter::open(std::move(o), test_key());
  ASSERT_TRUE(w) << w.error().message;
  for (int id = 1; id <= flows; ++id) {
    clock.now += std::chrono::seconds(5);
    ASSERT_EQ((*w)->append_flow(flow_record_body(sample_flow(id, clock.now))),
              AppendStatus::kWritten);
  }
  ASSERT_TRUE((*w)->close());
}

std::unique_ptr<WitnessPublisher> redis_publisher(int port, const std::string& key) {
  RedisWitnessOptions ro;
  ro.address = "127.0.0.1:" + std::to_string(port);
  ro.key = key;
  ro.history_max = 5;
  ro.connect_timeout = std::chrono::milliseconds(300);
  ro.command_timeout = std::chrono::milliseconds(300);
  auto w = make_redis_witness(ro);
  EXPECT_TRUE(w) << w.error().message;
  std::vector<std::unique_ptr<Witness>> ws;
  ws.push_back(std::move(*w));
  return std::make_unique<WitnessPublisher>(std::move(ws));
}

TEST(RedisWitness, PublishesAndVerifyCatchesACutBack) {
  TempDir tmp("redis");
  RedisServer server(tmp.str());
  ASSERT_TRUE(server.error().empty()) << server.error();
  std::string log = (tmp.path() / "log").string();
  FakeClock clock;
  auto pub = redis_publisher(server.port(), "dc:test");
  write_run(log, *pub, clock, 12);
  auto before = log_files(log);
  std::uint64_t first_close = read_lines(log).back().seq;
  write_run(log, *pub, clock, 20);
  std::uint64_t second_close = read_lines(log).back().seq;
  ASSERT_TRUE(pub->stop());
  auto st = pub->stats()[0];
  EXPECT_EQ(st.failures, 0u) << st.last_error;
  EXPECT_GE(st.published, 5u);

  // The capped history and the latest key, as `verify` reads them back.
  RedisWitnessOptions ro;
  ro.address = "127.0.0.1:" + std::to_string(server.port());
  ro.key = "dc:test";
  auto raw = read_redis_witness(ro);
  ASSERT_TRUE(raw) << raw.error().message;
  ASSERT_EQ(raw->size(), 1u + 5u);  // GET + LTRIM'd history
  EXPECT_EQ(parse_witness_line((*raw)[0])->seq, second_close);
  EXPECT_EQ((*raw)[0], (*raw)[1]);

  std::string spec = "redis:127.0.0.1:" + std::to_string(server.port()) + "/dc:test";
  VerifyOptions o;
  o.dir = log;
  o.witnesses = {spec};
  auto r = verify_log(o, test_pub());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->intact()) << (r->findings.empty() ? "" : format_finding(r->findings[0]));
  EXPECT_EQ(r->witnessed, 5u);

  for (const auto& f : log_files(log))
    if (std::find(before.begin(), before.end(), f) == before.end()) fs::remove(fs::path(log) / f);
  r = verify_log(o, test_pub());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->intact());
  ASSERT_EQ(r->findings.size(), 1u);
  EXPECT_EQ(r->findings[0].kind, FindingKind::kCutBack);
  EXPECT_NE(r->findings[0].message.find("log cut back: witness " + spec + " has checkpoint seq " +
                                        std::to_string(second_close) + ", log ends at seq " +
                                        std::to_string(first_close)),
            std::string::npos)
      << r->findings[0].message;
}

TEST(RedisWitness, DeadServerIsOneEpisodeAndTheLogGoesOn) {
  TempDir tmp("redis");
  RedisServer server(tmp.str());
  ASSERT_TRUE(server.error().empty()) << server.error();
  int port = server.port();
  server.stop();  // nothing listens there any more: connect is refused at once
  auto pub = redis_publisher(port, "dc:test");
  std::vector<nlohmann::ordered_json> events;
  std::mutex mu;
  pub->set_event_sink([&](nlohmann::ordered_json d) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(std::move(d));
  });
  FakeClock clock;
  std::string log = (tmp.path() / "log").string();
  write_run(log, *pub, clock, 20);
  ASSERT_TRUE(pub->stop());
  auto st = pub->stats()[0];
  EXPECT_EQ(st.published, 0u);
  EXPECT_GE(st.failures, 3u);
  EXPECT_EQ(st.episodes, 1u);
  EXPECT_NE(st.last_error.find("cannot connect"), std::string::npos) << st.last_error;
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0]["witness"].get<std::string>().find("redis:127.0.0.1:"), std::string::npos);
  VerifyOptions o;
  o.dir = log;
  auto r = verify_log(o, test_pub());
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->intact());
  o.witnesses = {"redis:127.0.0.1:" + std::to_string(port) + "/dc:test"};
  auto unreachable = verify_log(o, test_pub());
  ASSERT_FALSE(unreachable);
  EXPECT_NE(unreachable.error().message.find("cannot connect"), std::string::npos);
}

}  // namespace
}  // namespace dc::audit
