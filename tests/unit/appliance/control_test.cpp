// Control-plane pieces without a dataplane: the metrics bind address, log levels, and the reload
// mailbox between telemetry threads and the control thread.
#include <gtest/gtest.h>

#include <thread>

#include "appliance/log.hpp"
#include "appliance/metrics.hpp"
#include "appliance/reload_mailbox.hpp"

namespace dc::appliance {
namespace {

TEST(MetricsBind, BarePortMeansLoopback) {
  bool defaulted = false;
  auto a = metrics_bind_address("9464", defaulted);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, "127.0.0.1:9464");
  EXPECT_TRUE(defaulted);
}

TEST(MetricsBind, ExplicitAddressesStayAsWritten) {
  for (const char* s : {"10.0.0.2:9464", "0.0.0.0:9464", "[::1]:9464"}) {
    bool defaulted = true;
    auto a = metrics_bind_address(s, defaulted);
    ASSERT_TRUE(a) << s;
    EXPECT_EQ(*a, s);
    EXPECT_FALSE(defaulted);
  }
}

TEST(MetricsBind, NoPortIsAnError) {
  bool defaulted = false;
  for (const char* s : {"", "localhost", ":9464", "10.0.0.2:", "10.0.0.2:http"})
    EXPECT_FALSE(metrics_bind_address(s, defaulted)) << s;
}

TEST(LogLevel, ParsesTheFiveNames) {
  log::Level l;
  EXPECT_TRUE(log::parse_level("debug", l));
  EXPECT_EQ(l, log::Level::kDebug);
  EXPECT_TRUE(log::parse_level("warn", l));
  EXPECT_EQ(l, log::Level::kWarning);
  EXPECT_TRUE(log::parse_level("error", l));
  EXPECT_EQ(l, log::Level::kError);
  EXPECT_FALSE(log::parse_level("verbose", l));
  EXPECT_FALSE(log::parse_level("", l));
}

TEST(ReloadMailbox, AnswersTheRequestWithTheControlThreadsResult) {
  ReloadMailbox box;
  EXPECT_FALSE(box.pending());
  ReloadResult got;
  std::thread asker([&] { got = box.request(std::chrono::seconds(10)); });
  while (!box.pending()) std::this_thread::yield();
  ReloadResult r;
  r.ok = false;
  r.error = "2 error(s)";
  r.diagnostics = {"p.toml:1:1: error: a", "p.toml:2:1: error: b"};
  box.complete(r);
  asker.join();
  EXPECT_FALSE(got.ok);
  EXPECT_EQ(got.error, "2 error(s)");
  EXPECT_EQ(got.diagnostics.size(), 2u);
  EXPECT_FALSE(box.pending());
}

TEST(ReloadMailbox, TimesOutAndClosesWithARejection) {
  ReloadMailbox box;
  auto r = box.request(std::chrono::milliseconds(20));  // nobody serves it
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("in time"), std::string::npos);
  ReloadResult got;
  std::thread asker([&] { got = box.request(std::chrono::seconds(10)); });
  while (!box.pending()) std::this_thread::yield();
  box.close();
  asker.join();
  EXPECT_FALSE(got.ok);
  EXPECT_NE(got.error.find("stopping"), std::string::npos);
}

}  // namespace
}  // namespace dc::appliance
