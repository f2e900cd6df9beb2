// `audit report`: per verdict, counterparty, category, zone pair and UTC day.
#include "audit/report.hpp"

#include <gtest/gtest.h>

#include "tests/unit/audit/audit_fixture.hpp"

namespace dc::audit {
namespace {
using namespace dc::audit::testing;

TEST(Report, SummarisesFlowRecords) {
  TempDir dir("report");
  FakeClock clock;
  ASSERT_NO_FATAL_FAILURE(write_sample_log(dir.str(), clock));
  // One record with a +08:00 time just after midnight local: it belongs to the previous UTC day.
  {
    auto o = sample_options(dir.str(), clock);
    auto w = LogWriter::open(std::move(o), test_key());
    ASSERT_TRUE(w);
    auto body = flow_record_body(sample_flow(100, clock.now));  // 100 % 3 != 0: allow
    body["time"] = "2024-05-03T00:30:00.000000+08:00";
    body["counterparty"] = nullptr;
    body["zones"]["dest"] = "processing";
    ASSERT_EQ((*w)->append_flow(body), AppendStatus::kWritten);
    ASSERT_TRUE((*w)->close());
  }
  auto s = summarise_log(dir.str());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->total.flows, 25u);
  EXPECT_EQ(s->unreadable, 0u);

  struct Row {
    const std::map<std::string, Tally>* dim;
    std::string key;
    std::uint64_t flows, allow, block;
  };
  const Row rows[] = {
      {&s->by_verdict, "block", 8, 0, 8},  // ids 3, 6, ..., 24
      {&s->by_verdict, "allow", 17, 17, 0},
      {&s->by_counterparty, "acme-sg", 12, 8, 4},    // odd ids 1..23
      {&s->by_counterparty, "globex-de", 12, 8, 4},  // even ids 2..24
      {&s->by_counterparty, "(none)", 1, 1, 0},
      {&s->by_category, "resident_id", 8, 0, 8},
      {&s->by_zone_pair, "domestic->crossborder", 24, 16, 8},
      {&s->by_zone_pair, "domestic->processing", 1, 1, 0},
      {&s->by_day, "2024-05-01", 24, 16, 8},
      {&s->by_day, "2024-05-02", 1, 1, 0},
  };
  for (const auto& r : rows) {
    auto it = r.dim->find(r.key);
    ASSERT_NE(it, r.dim->end()) << r.key;
    EXPECT_EQ(it->second.flows, r.flows) << r.key;
    EXPECT_EQ(it->second.allow, r.allow) << r.key;
    EXPECT_EQ(it->second.block, r.block) << r.key;
  }
  EXPECT_EQ(s->by_category.at("resident_id").findings, 16u);  // 2 findings per blocked flow

  auto j = s->to_json();
  EXPECT_EQ(j["by_verdict"]["block"]["flows"], 8u);
  auto text = s->to_text();
  EXPECT_NE(text.find("domestic->processing"), std::string::npos);
  EXPECT_NE(text.find("2024-05-02"), std::string::npos);
}

TEST(Report, MissingDirectoryIsAnError) {
  EXPECT_FALSE(summarise_log("/nonexistent/dc-audit-report"));
}

}  // namespace
}  // namespace dc::audit
