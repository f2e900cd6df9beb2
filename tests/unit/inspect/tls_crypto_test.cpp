// inspect/tls crypto against published and cross-checked vectors (RFC 8448 §3; the TLS 1.3
// ChaCha20 KeyUpdate and TLS 1.2 key block vectors of the reference notes, checked there with
// tshark and Python).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/hash.hpp"
#include "inspect/tls/crypto.hpp"

namespace dc::inspect::tls {
namespace {

std::vector<uint8_t> hex(std::string_view h) {
  std::vector<uint8_t> v;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    v.push_back(uint8_t(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return v;
}

class TlsCrypto : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Crypto::create();
    ASSERT_TRUE(c.has_value()) << c.error().str();
    crypto_ = std::move(*c);
  }
  std::string expand(Hash h, std::string_view secret_hex, const char* label, std::size_t n) {
    auto secret = hex(secret_hex);
    std::vector<uint8_t> out(n);
    EXPECT_TRUE(crypto_->expand_label(h, secret, label, out));
    return base::to_hex(out);
  }
  // Opens a TLS 1.3 record given as hex (header included) at seq 0 and `skip` more records.
  bool open13(const SuiteInfo& s, std::string_view secret_hex, std::string_view rec_hex,
              uint8_t* type, std::string* content) {
    auto secret = hex(secret_hex);
    std::vector<uint8_t> key(s.key_len), iv(12);
    EXPECT_TRUE(crypto_->expand_label(s.hash, secret, "key", key));
    EXPECT_TRUE(crypto_->expand_label(s.hash, secret, "iv", iv));
    EXPECT_TRUE(cipher_.set_key(*crypto_, s, key, iv));
    auto rec = hex(rec_hex);
    std::vector<uint8_t> out(rec.size());
    std::size_t n = 0;
    if (cipher_.open13(rec.data(), rec.data() + 5, rec.size() - 5, out.data(), type, &n) !=
        OpenStatus::kOk) {
      return false;
    }
    content->assign(reinterpret_cast<const char*>(out.data()), n);
    return true;
  }
  std::unique_ptr<Crypto> crypto_;
  RecordCipher cipher_;
};

// RFC 8448 §3: traffic secrets -> key / iv, then the client's first application record.
TEST_F(TlsCrypto, Rfc8448KeysAndRecord) {
  const char* cats = "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
  EXPECT_EQ(expand(Hash::kSha256, cats, "key", 16), "17422dda596ed5d9acd890e3c63f5051");
  EXPECT_EQ(expand(Hash::kSha256, cats, "iv", 12), "5b78923dee08579033e523d9");
  EXPECT_EQ(expand(Hash::kSha256,
                   "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", "key", 16),
            "3fce516009c21727d0f2e4e86ee403bc");
  // KeyUpdate derivation ("traffic upd"), cross-checked with OpenSSL's *_TRAFFIC_SECRET_N lines.
  EXPECT_EQ(expand(Hash::kSha256, cats, "traffic upd", 32),
            "fcdfcc72725aaee48bf64e4fd8b749cdbdbab39d90da0b26e2245ca6ea167207");

  uint8_t type = 0;
  std::string content;
  ASSERT_TRUE(
      open13(*find_suite(0x1301), cats,
             "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b"
             "395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4",
             &type, &content));
  EXPECT_EQ(type, 23);
  ASSERT_EQ(content.size(), 50u);
  for (std::size_t i = 0; i < 50; ++i) EXPECT_EQ(uint8_t(content[i]), i);
  // seq 1: the client's close_notify.
  std::vector<uint8_t> rec = hex("1703030013c9872760655666b74d7ff1153efd6db6d0b0e3");
  std::vector<uint8_t> out(rec.size());
  std::size_t n = 0;
  ASSERT_EQ(cipher_.open13(rec.data(), rec.data() + 5, rec.size() - 5, out.data(), &type, &n),
            OpenStatus::kOk);
  EXPECT_EQ(type, 21);
  EXPECT_EQ(base::to_hex({out.data(), n}), "0100");
}

// Negative: the server record of RFC 8448 is at seq 1; opened at seq 0 it fails to authenticate.
TEST_F(TlsCrypto, WrongSequenceFailsAuthentication) {
  uint8_t type = 0;
  std::string content;
  EXPECT_FALSE(open13(*find_suite(0x1301),
                      "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
                      "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d"
                      "90e6dffc602dcb501a59a8fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d",
                      &type, &content));
  EXPECT_EQ(cipher_.seq(), 0u);  // a failed record consumes no sequence number
}

TEST_F(TlsCrypto, ChaChaKeyUpdateGenerations) {
  const SuiteInfo& s = *find_suite(0x1303);
  const char* gen0 = "40bdd08a01cb964aeff37fe09d1925643a8fc87588d10f89f3f3dfb261245457";
  EXPECT_EQ(expand(s.hash, gen0, "key", 32),
            "59fde49a04dd86dc2fb009415bb49516fbf7abbe50300ef0ae72008fa92d9274");
  uint8_t type = 0;
  std::string content;
  ASSERT_TRUE(open13(s, gen0, "170303001c35618a719df2a4bf8cb4f0a8df899d88546f6fdb05961d8b074b26fa",
                     &type, &content));
  EXPECT_EQ(content, "first line\n");
  const std::string gen1 = expand(s.hash, gen0, "traffic upd", 32);
  EXPECT_EQ(gen1, "2df1595a2903d703031d53f6154327fade6ac9ddb6eab084cea6fe2837929f6e");
  ASSERT_TRUE(open13(s, gen1,
                     "170303002d602e7738d987d9afb2cf3364214b43b5ae39174ae11595c92f5c6488c2c5a7fea8"
                     "91d35eea07c19fc26889e0e1",
                     &type, &content));
  EXPECT_EQ(type, 23);
  EXPECT_EQ(content, "second line after KeyUpdate\n");
}

TEST_F(TlsCrypto, Tls12KeyBlock) {
  auto master =
      hex("ff89fb5cdc78de396bab7f262c0607ecfa3e8d8fe2a0e6a1d15121ba879ff599a860db742c46ca039fc2b6e7"
          "6f8ceffd");
  auto sr = hex("3c6074d49b0950e333b22e3f67b8e18837747115d53052459407086a56bfeb10");
  auto cr = hex("4bc9426add7787ced6ae13c2adab61f7f2d57e748e559c27120323dfbe2cd4ca");
  std::vector<uint8_t> kb(40);
  ASSERT_TRUE(crypto_->tls12_key_block(Hash::kSha256, master, sr, cr, kb));
  EXPECT_EQ(base::to_hex(kb),
            "f747d31b90b4fb5f902a345b1522289c8b81397db907585aaf14ad2bc6c0d1253e785c5f59d131bc");
}

TEST_F(TlsCrypto, SuiteTable) {
  EXPECT_EQ(find_suite(0x1302)->hash, Hash::kSha384);
  EXPECT_EQ(find_suite(0xC030)->key_len, 32);
  EXPECT_EQ(find_suite(0xCCA8)->fixed_iv_len, 12);
  EXPECT_EQ(find_suite(0xC02F)->explicit_len, 8);
  EXPECT_EQ(find_suite(0x1304), nullptr);  // CCM: not decrypted
  EXPECT_EQ(find_suite(0x002F), nullptr);  // CBC
}

}  // namespace
}  // namespace dc::inspect::tls
