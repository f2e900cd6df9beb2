// The per-zone IPv4 source sets (dataplane/zone_sources.hpp) give Snapshot::zone_contains's answer
// for every address: checked at every edge of every zone prefix (and one either side), at the ends
// of the IPv4 space and at many pseudo-random addresses, on the demo policy and on one whose zones
// nest inside each other (a more specific prefix of another zone is not the outer zone's).
#include "dataplane/zone_sources.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace dc::dataplane {
namespace {

std::string demo_text() {
  std::ifstream in(DC_SOURCE_DIR "/examples/policy/ftz-demo.toml");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::shared_ptr<const policy::Snapshot> compile(const std::string& text) {
  policy::Diagnostics d("zones.toml");
  auto s = policy::compile_policy_text(text, DC_SOURCE_DIR "/examples/policy/zones.toml", d);
  EXPECT_NE(s, nullptr) << d.format();
  return s;
}

void replace(std::string& text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
}

// Every zone's set against the snapshot, at `addrs`.
void expect_same(const policy::Snapshot& s, const std::vector<uint32_t>& addrs) {
  const ZoneSources zs = ZoneSources::build(s);
  for (uint16_t z = 0; z < s.zone_count(); ++z) {
    const ZoneSources::Set* set = zs.set(z);
    ASSERT_NE(set, nullptr);
    for (uint32_t a : addrs) {
      const inspect::IpAddr ip = inspect::IpAddr::from_v4(a);
      ASSERT_EQ(set->contains(a), s.zone_contains(z, ip))
          << "zone " << s.zone(z).id << ", address " << policy::address_to_string(ip);
      ASSERT_EQ(source_in_zone(set, s, z, ip), s.zone_contains(z, ip));
    }
  }
  EXPECT_EQ(zs.set(static_cast<uint16_t>(s.zone_count())), nullptr);
}

std::vector<uint32_t> probes(const policy::Snapshot& s) {
  std::vector<uint32_t> v{0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};
  for (uint16_t z = 0; z < s.zone_count(); ++z) {
    for (const policy::Prefix& p : s.zone(z).prefixes) {
      if (!p.v4) continue;
      const uint32_t f = p.addr.v4();
      const uint32_t l = static_cast<uint32_t>(p.last().lo);
      for (uint32_t e : {f, l}) {
        v.push_back(e - 1);
        v.push_back(e);
        v.push_back(e + 1);
      }
    }
  }
  std::mt19937 rng(13);
  for (int i = 0; i < 20000; ++i) v.push_back(static_cast<uint32_t>(rng()));
  for (int i = 0; i < 20000; ++i) v.push_back(0x0a000000u | (static_cast<uint32_t>(rng()) >> 8));
  return v;
}

TEST(ZoneSources, DemoPolicy) {
  auto s = compile(demo_text());
  ASSERT_NE(s, nullptr);
  expect_same(*s, probes(*s));
  // The domestic zone is 10.1.0.0/16 only: two bounds, not in at 0.0.0.0.
  const ZoneSources zs = ZoneSources::build(*s);
  const ZoneSources::Set* dom = zs.set(s->find_zone("domestic"));
  ASSERT_NE(dom, nullptr);
  EXPECT_EQ(dom->n, 3u);
  EXPECT_FALSE(dom->first_in);
  EXPECT_TRUE(dom->contains(0x0a010000u));
  EXPECT_TRUE(dom->contains(0x0a01ffffu));
  EXPECT_FALSE(dom->contains(0x0a020000u));
  EXPECT_FALSE(dom->contains(0x0a00ffffu));
}

TEST(ZoneSources, NestedZonesAndTheWholeSpace) {
  std::string text = demo_text();
  // domestic: everything IPv4 but what more specific prefixes of other zones take, and the top
  // address; processing: a /16 inside it with a /24 of domestic back inside that, and a host
  // route at the very end; foreign: its demo prefixes plus a /25 inside processing and ::/0.
  replace(text, "prefixes = [\"10.1.0.0/16\"]",
          "prefixes = [\"0.0.0.0/0\", \"10.1.0.0/16\", \"10.2.3.0/24\"]");
  replace(text, "prefixes = [\"10.2.0.0/16\"]",
          "prefixes = [\"10.2.0.0/16\", \"255.255.255.255/32\", \"0.0.0.0/32\"]");
  replace(text, "\"2001:db8::/32\"]", "\"2001:db8::/32\", \"10.2.4.128/25\", \"::/0\"]");
  auto s = compile(text);
  ASSERT_NE(s, nullptr);
  expect_same(*s, probes(*s));
  const ZoneSources zs = ZoneSources::build(*s);
  const ZoneSources::Set* dom = zs.set(s->find_zone("domestic"));
  const ZoneSources::Set* proc = zs.set(s->find_zone("processing"));
  ASSERT_TRUE(dom != nullptr && proc != nullptr);
  EXPECT_FALSE(dom->contains(0x00000000u));  // 0.0.0.0/32 is processing's
  EXPECT_TRUE(proc->contains(0x00000000u));
  EXPECT_TRUE(dom->contains(0x00000001u));
  EXPECT_TRUE(dom->contains(0x0a020305u));    // 10.2.3.0/24 back in domestic
  EXPECT_TRUE(proc->contains(0x0a020405u));   // 10.2.4.5: processing
  EXPECT_FALSE(proc->contains(0x0a020485u));  // 10.2.4.133: foreign's /25
  EXPECT_TRUE(proc->contains(0xffffffffu));
  EXPECT_FALSE(dom->contains(0xffffffffu));
  // IPv6 sources go to the snapshot: ::/0 makes 2001:db9:: foreign.
  inspect::IpAddr v6;
  ASSERT_TRUE(policy::parse_address("2001:db9::1", v6));
  const uint16_t foreign = s->find_zone("crossborder");
  EXPECT_TRUE(source_in_zone(zs.set(foreign), *s, foreign, v6));
  EXPECT_FALSE(source_in_zone(dom, *s, s->find_zone("domestic"), v6));
}

}  // namespace
}  // namespace dc::dataplane
