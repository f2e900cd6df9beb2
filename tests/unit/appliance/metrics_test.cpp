// The metrics endpoint's pieces without a dataplane: verdicts by counterparty and findings by
// category across reloads that rename ids (LabelledTotals), and basic authentication (BasicAuth).
#include <crypt.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "appliance/labelled_metrics.hpp"
#include "appliance/metrics_auth.hpp"
#include "base/file.hpp"
#include "policy/policy.hpp"

namespace dc::appliance {
namespace {

std::shared_ptr<const policy::Snapshot> demo(const std::string& from = {},
                                             const std::string& to = {}) {
  auto text = base::read_file(DC_SOURCE_DIR "/examples/policy/ftz-demo.toml");
  EXPECT_TRUE(text);
  std::string t = *text;
  if (!from.empty()) t.replace(t.find(from), from.size(), to);
  policy::Diagnostics d("ftz-demo.toml");
  auto s = policy::compile_policy_text(t, DC_SOURCE_DIR "/examples/policy/ftz-demo.toml", d);
  EXPECT_FALSE(d.has_errors()) << d.format();
  return s;
}

const LabelledTotals::Row* find(const std::vector<LabelledTotals::Row>& rows,
                                const std::string& label) {
  for (const auto& r : rows)
    if (r.label == label) return &r;
  return nullptr;
}

TEST(LabelledTotals, LabelsAreThePolicyIdsThenNoneAndOther) {
  auto s = demo();
  int plane = 0;
  LabelledTotals t;
  dataplane::LabelledCounters c{};
  t.rebase(&plane, s.get(), c);
  auto cps = t.counterparties(c);
  ASSERT_EQ(cps.size(), s->counterparty_count() + 2);
  for (std::size_t i = 0; i < s->counterparty_count(); ++i)
    EXPECT_EQ(cps[i].label, s->counterparty(static_cast<policy::CounterpartyId>(i)).id);
  EXPECT_EQ(cps[cps.size() - 2].label, "none");
  EXPECT_EQ(cps.back().label, "other");
  auto cats = t.categories(c);
  ASSERT_EQ(cats.size(), s->category_count() + 2);
  EXPECT_EQ(cats[0].label, s->category(0).id);
}

TEST(LabelledTotals, CountsFollowTheirIdAcrossAReload) {
  auto a = demo();
  auto us = a->find_counterparty("us-travel");
  ASSERT_NE(us, policy::kNoCounterparty);
  int plane = 0;
  LabelledTotals t;
  dataplane::LabelledCounters c{};
  t.rebase(&plane, a.get(), c);
  c.verdicts[us][2] += 3;  // three blocked flows of us-travel
  c.verdicts[dataplane::kCpNone][0] += 2;
  c.verdicts[dataplane::kCpOther][1] += 1;  // a counterparty index beyond the bound
  c.category_findings[0] += 5;
  auto rows = t.counterparties(c);
  EXPECT_EQ(find(rows, "us-travel")->v[2], 3u);
  EXPECT_EQ(find(rows, "none")->v[0], 2u);
  EXPECT_EQ(find(rows, "other")->v[1], 1u);
  EXPECT_EQ(find(t.categories(c), a->category(0).id)->v[0], 5u);

  // The reload renames us-travel (same index): old counts stay with the old id, which the new
  // policy no longer has, so they show as "other"; new counts go to the new id.
  auto b = demo("id = \"us-travel\"", "id = \"us-travel-2\"");
  ASSERT_EQ(b->find_counterparty("us-travel-2"), us);
  t.rebase(&plane, b.get(), c);
  c.verdicts[us][2] += 1;
  rows = t.counterparties(c);
  EXPECT_EQ(find(rows, "us-travel"), nullptr);
  EXPECT_EQ(find(rows, "us-travel-2")->v[2], 1u);
  EXPECT_EQ(find(rows, "other")->v[2], 3u);
  EXPECT_EQ(find(rows, "other")->v[1], 1u);
  EXPECT_EQ(find(rows, "none")->v[0], 2u);
  EXPECT_EQ(find(t.categories(c), b->category(0).id)->v[0], 5u);  // same id: kept

  // A new dataplane counts from zero.
  int plane2 = 0;
  dataplane::LabelledCounters fresh{};
  t.rebase(&plane2, b.get(), fresh);
  for (const auto& r : t.counterparties(fresh)) EXPECT_EQ(r.v[0] + r.v[1] + r.v[2], 0u) << r.label;
}

std::string b64(const std::string& s) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(s[i]) << 16;
    if (i + 1 < s.size()) n |= static_cast<uint8_t>(s[i + 1]) << 8;
    if (i + 2 < s.size()) n |= static_cast<uint8_t>(s[i + 2]);
    out += k[(n >> 18) & 63];
    out += k[(n >> 12) & 63];
    out += i + 1 < s.size() ? k[(n >> 6) & 63] : '=';
    out += i + 2 < s.size() ? k[n & 63] : '=';
  }
  return out;
}

class BasicAuthFile : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    std::ofstream(path_) << text;
    return path_;
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_ = ::testing::TempDir() + "dc-metrics-auth-" + std::to_string(::getpid());
};

TEST_F(BasicAuthFile, AcceptsOnlyTheRightUserAndPassword) {
  crypt_data data{};
  std::string hash = crypt_r("s3cret pass", "$6$abcdefgh$", &data);
  ASSERT_EQ(hash.rfind("$6$", 0), 0u);
  auto a = BasicAuth::load(write("# scraper\nprometheus:" + hash + "\n\nother:" + hash + "\r\n"));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->users(), 2u);
  EXPECT_TRUE(a->allows(("Basic " + b64("prometheus:s3cret pass")).c_str()));
  EXPECT_TRUE(a->allows(("basic " + b64("other:s3cret pass")).c_str()));
  EXPECT_FALSE(a->allows(("Basic " + b64("prometheus:s3cret")).c_str()));
  EXPECT_FALSE(a->allows(("Basic " + b64("nobody:s3cret pass")).c_str()));
  EXPECT_FALSE(a->allows(("Bearer " + b64("prometheus:s3cret pass")).c_str()));
  EXPECT_FALSE(a->allows("Basic !!!"));
  EXPECT_FALSE(a->allows(("Basic " + b64("prometheus")).c_str()));
  EXPECT_FALSE(a->allows(nullptr));
}

TEST_F(BasicAuthFile, RefusesFilesItCannotVerify) {
  EXPECT_FALSE(BasicAuth::load(write("")));
  EXPECT_FALSE(BasicAuth::load(write("# only a comment\n")));
  auto plain = BasicAuth::load(write("prometheus:plaintext\n"));
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message.find(":1: the hash is not a crypt(3) scheme"), std::string::npos)
      << plain.error().message;
  EXPECT_FALSE(BasicAuth::load(write("prometheus:$apr1$abc$defghijklmnopqrstuvwxy\n")));
  EXPECT_FALSE(BasicAuth::load(write("no colon here\n")));
  EXPECT_FALSE(BasicAuth::load(path_ + ".absent"));
}

}  // namespace
}  // namespace dc::appliance
