// Evidence store: bounded per-flow pcaps with exact nanosecond timestamps, bound by SHA-256.
#include "audit/evidence.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include "audit/crypto.hpp"
#include "base/hash.hpp"
#include "tests/unit/audit/audit_fixture.hpp"

namespace dc::audit {
namespace {
using namespace dc::audit::testing;

struct BoundCase {
  const char* name;
  EvidenceLimits limits;
  int offered;            // frames of 100 bytes offered
  std::uint64_t packets;  // stored
  bool truncated;
};

TEST(Evidence, BoundsPacketsAndBytes) {
  const BoundCase cases[] = {
      {"under every bound", {10, 10'000, 65535, 1 << 20}, 3, 3, false},
      {"packet bound", {2, 10'000, 65535, 1 << 20}, 3, 2, true},
      {"byte bound", {10, 250, 65535, 1 << 20}, 3, 2, true},
      {"store bound", {10, 10'000, 65535, 150}, 3, 1, true},
      {"snaplen cuts, not drops", {10, 200, 64, 1 << 20}, 3, 3, false},
  };
  for (const auto& c : cases) {
    TempDir dir("evidence");
    auto store = EvidenceStore::open(dir.str(), c.limits);
    ASSERT_TRUE(store) << c.name;
    auto cap = (*store)->begin("flow 1/../x");  // sanitised: no path escape
    ASSERT_TRUE(cap) << c.name << ": " << cap.error().message;
    std::vector<std::uint8_t> frame(100, 0xab);
    FakeClock clock;
    for (int i = 0; i < c.offered; ++i) (*cap)->add(clock.now, frame);
    auto ref = (*cap)->finish();
    ASSERT_TRUE(ref) << c.name;
    EXPECT_EQ(ref->file, "evidence/flow_1_.._x.pcap") << c.name;
    EXPECT_EQ(ref->packets, c.packets) << c.name;
    EXPECT_EQ(ref->truncated, c.truncated) << c.name;
    EXPECT_EQ(ref->sha256, dc::base::sha256_file_hex(dir.str() + "/" + ref->file).value())
        << c.name;
  }
}

TEST(Evidence, PcapIsReadableWithExactNanosecondTimestamps) {
  TempDir dir("evidence");
  auto store = EvidenceStore::open(dir.str(), EvidenceLimits{});
  ASSERT_TRUE(store);
  auto cap = (*store)->begin("flow-42");
  ASSERT_TRUE(cap);
  FakeClock clock;
  TimePoint t1 = clock.now + std::chrono::nanoseconds(123456789);
  TimePoint t2 = t1 + std::chrono::nanoseconds(1);
  std::vector<std::uint8_t> a(60, 1), b(1514, 2);
  ASSERT_TRUE((*cap)->add(t1, a));
  ASSERT_TRUE((*cap)->add(t2, b, 9000));
  auto ref = (*cap)->finish();
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->packets, 2u);
  EXPECT_EQ(ref->bytes, 60u + 1514u);

  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision((dir.str() + "/" + ref->file).c_str(),
                                                      PCAP_TSTAMP_PRECISION_NANO, err);
  ASSERT_NE(p, nullptr) << err;
  std::unique_ptr<pcap_t, PcapDeleter> guard(p);
  EXPECT_EQ(pcap_datalink(p), DLT_EN10MB);
  struct pcap_pkthdr* h;
  const u_char* data;
  const std::pair<TimePoint, std::uint32_t> want[] = {{t1, 60}, {t2, 9000}};
  for (const auto& [ts, len] : want) {
    ASSERT_EQ(pcap_next_ex(p, &h, &data), 1);
    auto ns = ts.time_since_epoch().count();
    EXPECT_EQ(h->ts.tv_sec, ns / 1'000'000'000);
    EXPECT_EQ(h->ts.tv_usec, ns % 1'000'000'000);
    EXPECT_EQ(h->len, len);
  }
  EXPECT_EQ(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);  // end of file, nothing more
}

TEST(Evidence, NeverOverwritesAnExistingCapture) {
  TempDir dir("evidence");
  auto store = EvidenceStore::open(dir.str(), EvidenceLimits{});
  ASSERT_TRUE(store);
  auto first = (*store)->begin("flow-1");
  ASSERT_TRUE(first);
  ASSERT_TRUE((*first)->finish());
  auto again = (*store)->begin("flow-1");
  EXPECT_FALSE(again);
  auto twice = (*first)->finish();
  EXPECT_FALSE(twice);
}

}  // namespace
}  // namespace dc::audit
