// find_telemetry_socket: one appliance seen through several runtime bases is one socket (under
// systemd $RUNTIME_DIRECTORY and $XDG_RUNTIME_DIR name the same directory), two are a choice.
#include "appliance/telemetry_client.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using dc::appliance::find_telemetry_socket;

namespace {

// A listening AF_UNIX socket at `path` (what DPDK's telemetry makes), closed with the fixture.
int bind_socket(const fs::path& path) {
  fs::create_directories(path.parent_path());
  int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << path;
  return fd;
}

class TelemetrySocket : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dc-telemetry-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    unsetenv("RUNTIME_DIRECTORY");
    unsetenv("XDG_RUNTIME_DIR");
  }
  void TearDown() override {
    for (int fd : fds_) close(fd);
    fs::remove_all(dir_);
    unsetenv("RUNTIME_DIRECTORY");
    unsetenv("XDG_RUNTIME_DIR");
  }
  fs::path add(const std::string& prefix) {
    fs::path p = dir_ / "dpdk" / prefix / "dpdk_telemetry.v2";
    fds_.push_back(bind_socket(p));
    return p;
  }
  fs::path dir_;
  std::vector<int> fds_;
};

TEST_F(TelemetrySocket, SameDirectoryThroughTwoVariablesIsOneSocket) {
  fs::path sock = add("dc-unit-one");
  // What the unit sets: RuntimeDirectory= gives $RUNTIME_DIRECTORY, Environment= the XDG one.
  setenv("RUNTIME_DIRECTORY", dir_.c_str(), 1);
  setenv("XDG_RUNTIME_DIR", (dir_ / "." / "").c_str(), 1);
  auto r = find_telemetry_socket("dc-unit-one", "");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(fs::weakly_canonical(r.value()), fs::weakly_canonical(sock));
}

TEST_F(TelemetrySocket, TwoAppliancesAskForAChoice) {
  add("dc-unit-a");
  add("dc-unit-b");
  auto r = find_telemetry_socket("", dir_.string());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("several telemetry sockets"), std::string::npos);
  EXPECT_NE(r.error().message.find("dc-unit-a"), std::string::npos);
  EXPECT_NE(r.error().message.find("dc-unit-b"), std::string::npos);
}

}  // namespace
