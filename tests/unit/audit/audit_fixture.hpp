#pragma once
// Shared by the audit unit tests: a fake clock, a temporary directory, fixed test keys, a sample
// log written through the real LogWriter, and a line-level view of a log for tampering.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "audit/crypto.hpp"
#include "audit/evidence.hpp"
#include "audit/log_writer.hpp"
#include "audit/record.hpp"

namespace dc::audit::testing {

// Fixed keys keep the written logs byte-identical from run to run (Ed25519 is deterministic).
inline constexpr const char* kTestKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIKIbQNdsSP0HmLMnRXHPpLlejUqrWMk2Y9IIYX2rXNiN\n"
    "-----END PRIVATE KEY-----\n";
inline constexpr const char* kAttackerKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEICe8rlXoESR+ZXOXLgMA2P8AWVlajD9EaIQBG1RCBcpM\n"
    "-----END PRIVATE KEY-----\n";

inline SigningKey test_key() { return std::move(SigningKey::from_pem(kTestKeyPem).value()); }
inline SigningKey attacker_key() {
  return std::move(SigningKey::from_pem(kAttackerKeyPem).value());
}
inline VerifyKey test_pub() {
  return std::move(VerifyKey::from_pem(test_key().public_pem()).value());
}

struct FakeClock {
  TimePoint now = std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + std::chrono::hours{8};
  std::function<TimePoint()> fn() {
    return [this] { return now; };
  }
};

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "x";
    for (char& c : name)
      if (c == '/') c = '_';
    path_ = std::filesystem::temp_directory_path() /
            ("dc-audit-" + tag + "-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline FlowRecord sample_flow(std::uint64_t id, TimePoint t) {
  FlowRecord f;
  f.time = t;
  f.flow_id = id;
  f.community_id = "1:wCb3OG7yAFWelaUydu0D+125CLM=";
  f.src_ip = "10.0.0." + std::to_string(id % 250 + 1);
  f.src_port = static_cast<std::uint16_t>(40000 + id);
  f.dest_ip = "203.0.113.7";
  f.dest_port = 443;
  f.proto = "TCP";
  f.src_zone = "domestic";
  f.dest_zone = "crossborder";
  bool blocked = id % 3 == 0;
  f.counterparty = id % 2 ? "acme-sg" : "globex-de";
  f.legal_basis = "standard_contract";
  f.legal_basis_ref = "SC-2024-001";
  f.verdict = blocked ? "block" : "allow";
  f.action = blocked ? "reset" : "forward";
  if (blocked) {
    f.reasons = nlohmann::ordered_json::array(
        {{{"kind", "personal_without_basis"}, {"action", "block"}, {"category", "resident_id"}}});
    f.categories = {{"resident_id", 2, "likely"}};
    f.values = {{"resident_id", "340202********1234", std::string(64, 'a')}};
  }
  f.bytes_toserver = 1000 * id;
  f.bytes_toclient = 10 * id;
  f.pkts_toserver = id;
  f.pkts_toclient = 1;
  f.policy_sha256 = std::string(64, 'b');
  return f;
}

inline WriterOptions sample_options(const std::string& dir, FakeClock& clock) {
  WriterOptions o;
  o.dir = dir;
  o.clock = clock.fn();
  o.checkpoint_every_records = 6;
  o.checkpoint_interval = std::chrono::seconds(60);
  o.max_file_records = 10;
  o.max_file_bytes = 0;
  o.fsync_every_records = 1;
  o.start_details = {{"version", "test"}};
  return o;
}

// 24 flows (one with an evidence capture), a policy reload, an interval checkpoint, rotations,
// a clean close. The layout is deterministic: same bytes every run.
inline void write_sample_log(const std::string& dir, FakeClock& clock) {
  auto w = LogWriter::open(sample_options(dir, clock), test_key());
  ASSERT_TRUE(w) << w.error().message;
  auto store = EvidenceStore::open(dir, EvidenceLimits{});
  ASSERT_TRUE(store) << store.error().message;
  for (std::uint64_t id = 1; id <= 24; ++id) {
    clock.now += std::chrono::seconds(5);
    FlowRecord f = sample_flow(id, clock.now);
    if (id == 7) {
      auto cap = (*store)->begin("flow-7");
      ASSERT_TRUE(cap);
      std::vector<std::uint8_t> frame(60, 0x42);
      (*cap)->add(clock.now, frame);
      (*cap)->add(clock.now + std::chrono::microseconds(3), frame);
      auto ref = (*cap)->finish();
      ASSERT_TRUE(ref) << ref.error().message;
      f.evidence = *ref;
    }
    ASSERT_EQ((*w)->append_flow(flow_record_body(f)), AppendStatus::kWritten);
    if (id == 10) {
      ASSERT_EQ(
          (*w)->append_event(RecordType::kPolicyReload, {{"policy_sha256", std::string(64, 'c')}}),
          AppendStatus::kWritten);
    }
    if (id == 15) {
      clock.now += std::chrono::seconds(61);
      (*w)->tick();
    }
  }
  auto r = (*w)->close();
  ASSERT_TRUE(r) << r.error().message;
}

// --- Line-level view for tampering ---------------------------------------------------------------

struct Line {
  std::string file;
  std::uint64_t line = 0;  // 1-based, in `file`
  std::string raw;         // without '\n'
  std::uint64_t seq = 0;
  std::string type;
};

inline std::vector<std::string> log_files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (parse_log_file_name(e.path().filename().string())) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

inline std::vector<Line> read_lines(const std::string& dir) {
  std::vector<Line> out;
  for (const auto& name : log_files(dir)) {
    std::ifstream in(std::filesystem::path(dir) / name);
    std::string raw;
    std::uint64_t n = 0;
    while (std::getline(in, raw)) {
      Line l{name, ++n, raw, 0, ""};
      auto j = nlohmann::json::parse(raw, nullptr, false);
      if (!j.is_discarded() && j.is_object()) {
        l.seq = j.value("seq", std::uint64_t{0});
        l.type = j.value("type", std::string());
      }
      out.push_back(std::move(l));
    }
  }
  return out;
}

// Rewrites every log file from `lines` (grouped by Line::file, in order); files left without a line
// are removed.
inline void write_lines(const std::string& dir, const std::vector<Line>& lines) {
  std::map<std::string, std::string> content;
  for (const auto& name : log_files(dir)) content[name];
  for (const auto& l : lines) content[l.file] += l.raw + "\n";
  for (const auto& [name, text] : content) {
    auto p = std::filesystem::path(dir) / name;
    if (text.empty()) {
      std::filesystem::remove(p);
      continue;
    }
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
  }
}

inline const Line& find_seq(const std::vector<Line>& lines, std::uint64_t seq) {
  for (const auto& l : lines)
    if (l.seq == seq) return l;
  ADD_FAILURE() << "no record " << seq;
  static Line none;
  return none;
}

}  // namespace dc::audit::testing
