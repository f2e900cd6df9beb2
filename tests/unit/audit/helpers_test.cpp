// Vectors for the audit helpers: HMAC-SHA-256 (RFC 4231), Community ID v1 (community-id-spec
// baseline), masking, RFC 3339 -> UTC date, log file names, key generation.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "audit/community_id.hpp"
#include "audit/crypto.hpp"
#include "audit/mask.hpp"
#include "audit/record.hpp"
#include "base/hash.hpp"

namespace dc::audit {
namespace {

struct HmacCase {
  std::string key;
  std::string data;
  std::string expected;
};

TEST(Hmac, Rfc4231Vectors) {
  const HmacCase cases[] = {
      // RFC 4231 test case 1
      {std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      // test case 2: a key shorter than the block
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      // test case 6: a key longer than the block (hashed first)
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(dc::base::hmac_sha256_hex(c.key, c.data), c.expected) << c.data;
}

TEST(Sha256, KnownDigest) {
  EXPECT_EQ(dc::base::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

struct CidCase {
  const char* name;
  const char* src;
  const char* dst;
  std::uint16_t sport, dport;
  std::uint8_t proto;
  std::uint16_t seed;
  const char* expected;
};

TEST(CommunityId, SpecBaselineVectors) {
  const CidCase cases[] = {
      {"tcp", "1.2.3.4", "5.6.7.8", 1122, 3344, 6, 0, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
      {"tcp reversed", "5.6.7.8", "1.2.3.4", 3344, 1122, 6, 0, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
      {"udp", "1.2.3.4", "5.6.7.8", 1122, 3344, 17, 0, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
      {"udp reversed", "5.6.7.8", "1.2.3.4", 3344, 1122, 17, 0, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
      {"icmp echo", "1.2.3.4", "5.6.7.8", 8, 0, 1, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
      {"icmp echo reply", "5.6.7.8", "1.2.3.4", 0, 0, 1, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
      {"icmp6 echo", "fe80:1:203:405:607:809:a0b:c0d", "fe80:1011:1213:1415:1617:1819:1a1b:1c1d",
       128, 0, 58, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="},
      {"rsvp (no ports)", "1.2.3.4", "5.6.7.8", 0, 0, 46, 0, "1:ikv3kmf89luf73WPz1jOs49S768="},
      {"tcp seed 1", "1.2.3.4", "5.6.7.8", 1122, 3344, 6, 1, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
      {"udp seed 1", "1.2.3.4", "5.6.7.8", 1122, 3344, 17, 1, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
      {"icmp seed 1", "1.2.3.4", "5.6.7.8", 8, 0, 1, 1, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
  };
  for (const auto& c : cases) {
    auto id = community_id_v1(c.src, c.dst, c.sport, c.dport, c.proto, c.seed);
    ASSERT_TRUE(id) << c.name << ": " << id.error().message;
    EXPECT_EQ(*id, c.expected) << c.name;
  }
  EXPECT_FALSE(community_id_v1("1.2.3.4", "2001:db8::1", 1, 2, 6));
  EXPECT_FALSE(community_id_v1("not-an-ip", "1.2.3.4", 1, 2, 6));
}

TEST(Mask, Table) {
  const std::pair<std::string, std::string> cases[] = {
      {"340202199001011234", "340202********1234"},    // resident ID (18)
      {"34020219900101123X", "340202********123X"},    // ID with check character X
      {"6222021234567890123", "622202*********0123"},  // bank card (19)
      {"4111111111111111", "411111******1111"},        // card (16): 6 masked
      {"13812345678", "*********78"},                  // 11 digits: too short for 6+4
      {"1234", "***4"},
      {"abc", "***"},
      {"", ""},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(mask_value(in), out) << in;
}

TEST(Time, FormatAndUtcDate) {
  using namespace std::chrono;
  TimePoint t = sys_days{2024y / 5 / 1} + 12h + 34min + 56s + 123456789ns;
  EXPECT_EQ(format_time(t), "2024-05-01T12:34:56.123456Z");
  const std::pair<const char*, const char*> cases[] = {
      {"2024-05-01T12:34:56.123456Z", "2024-05-01"},
      {"2024-05-01T01:00:00+08:00", "2024-04-30"},  // 17:00 UTC the day before
      {"2024-12-31T23:30:00-0100", "2025-01-01"},
      {"2024-05-01T12:00:00", nullptr},  // no zone
      {"garbage", nullptr},
  };
  for (const auto& [in, out] : cases) {
    auto d = utc_date(in);
    if (out == nullptr)
      EXPECT_FALSE(d) << in;
    else
      EXPECT_EQ(d.value_or("none"), out) << in;
  }
}

TEST(FileNames, RoundTripAndOrder) {
  EXPECT_EQ(log_file_name(1), "audit-000000000001.jsonl");
  EXPECT_EQ(parse_log_file_name("audit-000000001042.jsonl"), 1042u);
  EXPECT_FALSE(parse_log_file_name("audit-1042.jsonl"));
  EXPECT_FALSE(parse_log_file_name("audit-000000001042.jsonl.tmp"));
  EXPECT_LT(log_file_name(999), log_file_name(1000));  // lexical order is seq order
}

TEST(Base64, RoundTrip) {
  const std::string raw("\x00\xff\x10 datacustoms", 15);
  auto enc =
      base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()));
  auto dec = base64_decode(enc);
  ASSERT_TRUE(dec);
  EXPECT_EQ(*dec, raw);
  EXPECT_FALSE(base64_decode("ab!d"));
}

class KeygenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("dc-audit-keygen-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(KeygenTest, WritesPrivateKey0600AndRefusesOverwrite) {
  const std::string prefix = (dir_ / "audit").string();
  auto id = write_new_keypair(prefix);
  ASSERT_TRUE(id) << id.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((prefix + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((prefix + ".pub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077 & 0022, 0u);  // never group/world-writable

  auto key = SigningKey::load(prefix + ".key");
  auto pub = VerifyKey::load(prefix + ".pub");
  ASSERT_TRUE(key && pub);
  EXPECT_EQ(key->key_id(), *id);
  EXPECT_EQ(pub->key_id(), *id);
  auto sig = key->sign("message");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(pub->verify("message", *sig));
  EXPECT_FALSE(pub->verify("messagf", *sig));

  // A second keygen with the same prefix must fail and leave the first key untouched.
  std::ifstream before(prefix + ".key");
  std::string old((std::istreambuf_iterator<char>(before)), std::istreambuf_iterator<char>());
  auto again = write_new_keypair(prefix);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("refusing to overwrite"), std::string::npos);
  std::ifstream after(prefix + ".key");
  std::string now((std::istreambuf_iterator<char>(after)), std::istreambuf_iterator<char>());
  EXPECT_EQ(old, now);

  // Only the .pub exists: still refused, and no .key is created.
  std::filesystem::remove(prefix + ".key");
  EXPECT_FALSE(write_new_keypair(prefix));
  EXPECT_FALSE(std::filesystem::exists(prefix + ".key"));
}

}  // namespace
}  // namespace dc::audit
