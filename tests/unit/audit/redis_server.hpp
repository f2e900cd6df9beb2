#pragma once
// A real redis-server for the audit tests, started on a free loopback port with no persistence
// (--save "" --appendonly no) and killed at the end; restart() brings it back on the same port.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace dc::audit::testing {

// A port the kernel just handed out (bind to 0), then released for redis-server.
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return -1;
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool can_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

inline std::string find_redis_server() {
  for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"})
    if (::access(p, X_OK) == 0) return p;
  return {};
}

class RedisServer {
 public:
  explicit RedisServer(const std::string& dir) : dir_(dir) {
    std::string bin = find_redis_server();
    if (bin.empty()) {
      error_ =
          "redis-server not found: install the Debian package redis-server "
          "(.ci/install-deps.sh installs it); this test needs a real server";
      return;
    }
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) start(bin, dir, free_port());
  }
  // A fresh, empty server on the same port (the old one must be stopped).
  bool restart() {
    error_.clear();
    start(find_redis_server(), dir_, port_);
    return pid_ > 0;
  }
  ~RedisServer() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  int port() const { return port_; }
  const std::string& error() const { return error_; }

 private:
  void start(const std::string& bin, const std::string& dir, int port_number) {
    port_ = port_number;
    std::string port = std::to_string(port_);
    pid_t pid = ::fork();
    if (pid == 0) {
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execl(bin.c_str(), bin.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
              "--appendonly", "no", "--dir", dir.c_str(), "--daemonize", "no",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pid_ = pid;
    for (int i = 0; i < 500; ++i) {  // up to 5 s
      if (can_connect(port_)) return;
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) break;  // exited (port taken meanwhile?)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop();
    error_ = "redis-server did not come up on 127.0.0.1:" + port;
  }
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string error_;
};

}  // namespace dc::audit::testing
