// `datacustoms keys push`: forwards an NSS key log (SSLKEYLOGFILE) to the appliance's key intake
// socket and then follows the file like `tail -F` (created later, truncated, rotated/replaced).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/log.hpp"
#include "dataplane/key_line.hpp"

namespace dc::appliance {
using dataplane::wipe_bytes;
namespace {

// Exit codes (also in the usage text and docs/operations.md).
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitSocket = 3;  // the key socket cannot be reached (within --retry-for)
constexpr int kExitInput = 4;   // the key log cannot be read

std::atomic<bool> g_stop{false};
extern "C" void on_stop(int) { g_stop.store(true); }

struct Options {
  std::string socket = "/run/datacustoms/keys.sock";
  std::string input = "-";
  bool once = false;
  long interval_ms = 200;
  long retry_for_s = -1;  // -1: 0 with --once, 30 when following
};

void usage(FILE* out) {
  std::fprintf(
      out,
      "usage: datacustoms keys push [--socket PATH] [--once] [--interval-ms N] [--retry-for S]\n"
      "                             [FILE|-]\n"
      "  Sends the NSS key log FILE (SSLKEYLOGFILE format; '-' or none: standard input)\n"
      "  to the appliance's key intake socket, then follows FILE like `tail -F`: lines\n"
      "  appended later are sent as they appear; a truncated, rotated or replaced file is\n"
      "  read again from its start; a file that does not exist yet is waited for.\n"
      "  --socket PATH       key intake socket ([tls] key_socket; default %s)\n"
      "  --once              send what the file holds now and exit\n"
      "  --interval-ms N     how often a followed file is checked (default 200)\n"
      "  --retry-for S       reconnect (backoff 0.1 s .. 5 s) for at most S seconds\n"
      "                      before giving up (default: 30 when following, 0 with --once)\n"
      "exit codes: 0 sent (or stopped by SIGINT/SIGTERM), 2 usage error,\n"
      "            3 key socket unreachable, 4 key log unreadable\n",
      Options{}.socket.c_str());
}

bool parse_number(const std::string& name, const std::string& v, long min, long& out) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < min || n > 86'400'000) {
    std::fprintf(stderr, "datacustoms keys push: %s needs an integer >= %ld, got '%s'\n",
                 name.c_str(), min, v.c_str());
    return false;
  }
  out = n;
  return true;
}

// -1: go on; otherwise the exit code.
int parse_options(const std::vector<std::string>& args, Options& o) {
  bool have_input = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string v;
    auto value = [&](std::string_view name) { return take_option_value(args, i, name, v); };
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return kExitOk;
    } else if (a == "--once") {
      o.once = true;
    } else if (value("--socket")) {
      o.socket = v;
    } else if (value("--interval-ms")) {
      if (!parse_number("--interval-ms", v, 10, o.interval_ms)) return kExitUsage;
    } else if (value("--retry-for")) {
      if (!parse_number("--retry-for", v, 0, o.retry_for_s)) return kExitUsage;
    } else if ((a == "-" || a[0] != '-') && !have_input) {
      o.input = a;
      have_input = true;
    } else {
      std::fprintf(stderr, "datacustoms keys push: unknown or incomplete argument '%s'\n",
                   a.c_str());
      usage(stderr);
      return kExitUsage;
    }
  }
  if (o.retry_for_s < 0) o.retry_for_s = o.once ? 0 : 30;
  return -1;
}

// Why connecting failed, in the operator's terms.
std::string connect_problem(const std::string& path, int err) {
  switch (err) {
    case ENOENT:
      return "no key socket at " + path +
             " (is `datacustoms run` running with [tls] key_socket = \"" + path + "\"?)";
    case EACCES:
    case EPERM:
      return "permission denied on " + path +
             " (see [tls] key_socket_owner, key_socket_group, key_socket_mode)";
    case ECONNREFUSED:
      return "nobody accepts on " + path + " (a stale socket, or not a socket)";
    case ENAMETOOLONG:
      return "socket path " + path + " is too long";
    default:
      return path + ": " + std::strerror(err);
  }
}

// The socket side: complete lines are sent as they come; a lost connection is re-established
// with backoff and the unsent lines sent again (a line cut by the loss is sent again whole).
class Forwarder {
 public:
  explicit Forwarder(const Options& o) : opt_(o), buf_(kChunk + 1) {}  // +1: a final line end
  ~Forwarder() {
    wipe_bytes(buf_.data(), buf_.size());
    if (fd_ >= 0) close(fd_);
  }

  // Reads what `fd` has and sends every complete line. >0 bytes read, 0 end of file, -1 read
  // error (errno), -2 the socket could not be reached.
  long read_from(int fd) {
    ssize_t n = read(fd, buf_.data() + len_, kChunk - len_);
    if (n <= 0) return n;
    len_ += static_cast<size_t>(n);
    return send_lines() ? n : -2;
  }
  // At the end of the input: the unfinished last line, with a line end. False: socket lost.
  bool finish_line() {
    if (len_ == 0) return true;
    buf_[len_++] = '\n';
    return send_lines();
  }
  void drop_partial() {
    wipe_bytes(buf_.data(), len_);
    len_ = 0;
  }
  bool connect_now() { return ensure_connected(); }

 private:
  static constexpr size_t kChunk = 64 * 1024;

  // Sends buf_ up to its last line end (a full buffer without one goes as is: the intake
  // rejects the over-long line and resynchronises at the next line end).
  bool send_lines() {
    size_t end = len_;
    while (end > 0 && buf_[end - 1] != '\n' && buf_[end - 1] != '\r') --end;
    if (end == 0 && len_ >= kChunk) end = len_;
    if (end == 0) return true;
    if (!send_all(buf_.data(), end)) return false;
    std::memmove(buf_.data(), buf_.data() + end, len_ - end);
    wipe_bytes(buf_.data() + (len_ - end), end);
    len_ -= end;
    return true;
  }

  bool send_all(const char* p, size_t n) {
    for (;;) {
      if (!ensure_connected()) return false;
      size_t off = 0;
      while (off < n) {
        ssize_t w = send(fd_, p + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR && !g_stop.load()) continue;
        if (w <= 0) break;
        off += static_cast<size_t>(w);
      }
      if (off == n) return true;
      log::warning("keys push: connection to %s lost (%s); reconnecting\n", opt_.socket.c_str(),
                   std::strerror(errno));
      close(fd_);
      fd_ = -1;
      if (g_stop.load()) return false;
    }
  }

  int try_connect() {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (opt_.socket.size() >= sizeof a.sun_path) return ENAMETOOLONG;
    std::memcpy(a.sun_path, opt_.socket.data(), opt_.socket.size());
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      int err = errno;
      close(fd);
      return err;
    }
    fd_ = fd;
    return 0;
  }

  // Backoff 0.1 s doubling to 5 s, for at most --retry-for seconds.
  bool ensure_connected() {
    if (fd_ >= 0) return true;
    using clock = std::chrono::steady_clock;
    const auto give_up = clock::now() + std::chrono::seconds(opt_.retry_for_s);
    auto backoff = std::chrono::milliseconds(100);
    for (bool told = false;; told = true) {
      int err = try_connect();
      if (err == 0) return true;
      if (err == ENAMETOOLONG || g_stop.load() || clock::now() + backoff > give_up) {
        log::error("keys push: %s\n", connect_problem(opt_.socket, err).c_str());
        return false;
      }
      if (!told)
        log::warning("keys push: %s; retrying for up to %ld s\n",
                     connect_problem(opt_.socket, err).c_str(), opt_.retry_for_s);
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }

  const Options& opt_;
  std::vector<char> buf_;
  size_t len_ = 0;
  int fd_ = -1;
};

// Standard input: until its end.
int push_stdin(Forwarder& fw) {
  for (;;) {
    long n = fw.read_from(STDIN_FILENO);
    if (n == -2) return kExitSocket;
    if (n < 0 && errno == EINTR && !g_stop.load()) continue;
    if (n < 0 && !g_stop.load()) {
      log::error("keys push: standard input: %s\n", std::strerror(errno));
      return kExitInput;
    }
    if (n <= 0) return fw.finish_line() ? kExitOk : kExitSocket;
  }
}

// A key log file, followed like `tail -F` unless --once.
class FileFollower {
 public:
  FileFollower(const Options& o, Forwarder& fw) : opt_(o), fw_(fw) {}
  ~FileFollower() {
    if (fd_ >= 0) close(fd_);
  }

  int run() {
    for (;;) {
      if (fd_ < 0) {
        int r = open_file();
        if (r == kNotYet) {
          if (g_stop.load()) return kExitOk;
          pause();
          continue;
        }
        if (r != kExitOk) return r;
      }
      if (int r = drain(); r != kExitOk) return r;
      if (opt_.once) return fw_.finish_line() ? kExitOk : kExitSocket;
      if (g_stop.load()) return kExitOk;
      if (int r = check_replaced(); r != kExitOk) return r;
      if (fd_ >= 0) pause();
    }
  }

 private:
  static constexpr int kNotYet = -1;

  int open_file() {
    const char* path = opt_.input.c_str();
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT && !opt_.once) {
      if (!told_missing_) log::notice("keys push: waiting for %s to appear\n", path);
      told_missing_ = true;
      return kNotYet;
    }
    if (fd < 0) {
      log::error("keys push: %s: %s\n", path, std::strerror(errno));
      return kExitInput;
    }
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      std::fprintf(
          stderr, "datacustoms keys push: %s: not a regular file (use '-' to read a pipe)\n", path);
      return kExitInput;
    }
    fd_ = fd;
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    offset_ = 0;
    told_missing_ = false;
    return kExitOk;
  }

  // Everything up to the current end of the file.
  int drain() {
    for (;;) {
      long n = fw_.read_from(fd_);
      if (n > 0) {
        offset_ += n;
        continue;
      }
      if (n == 0) return kExitOk;
      if (n == -2) return kExitSocket;
      if (errno == EINTR || errno == EAGAIN) return kExitOk;
      log::error("keys push: %s: %s\n", opt_.input.c_str(), std::strerror(errno));
      return kExitInput;
    }
  }

  // Truncated in place: read again from the start. Replaced (rotated, removed, recreated): finish
  // the old file, then open the new one from its start.
  int check_replaced() {
    struct stat now {};
    if (fstat(fd_, &now) == 0 && now.st_size < offset_) {
      log::notice("keys push: %s truncated; reading from its start\n", opt_.input.c_str());
      fw_.drop_partial();
      lseek(fd_, 0, SEEK_SET);
      offset_ = 0;
      return kExitOk;
    }
    struct stat named {};
    bool same =
        stat(opt_.input.c_str(), &named) == 0 && named.st_dev == dev_ && named.st_ino == ino_;
    if (same) return kExitOk;
    if (int r = drain(); r != kExitOk) return r;  // lines written just before the rotation
    if (!fw_.finish_line()) return kExitSocket;
    log::notice("keys push: %s was replaced; following the new file\n", opt_.input.c_str());
    close(fd_);
    fd_ = -1;
    return kExitOk;
  }

  void pause() {
    for (long slept = 0; slept < opt_.interval_ms && !g_stop.load(); slept += 10)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  const Options& opt_;
  Forwarder& fw_;
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  off_t offset_ = 0;
  bool told_missing_ = false;
};

int push(const std::vector<std::string>& args) {
  Options o;
  if (int rc = parse_options(args, o); rc >= 0) return rc;
  struct sigaction sa {};
  sa.sa_handler = on_stop;  // no SA_RESTART: a blocking read on stdin returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  Forwarder fw(o);
  if (!fw.connect_now()) return kExitSocket;  // a wrong --socket shows at once
  if (o.input == "-") return push_stdin(fw);
  return FileFollower(o, fw).run();
}

int keys(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "push") return push({args.begin() + 1, args.end()});
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    usage(stdout);
    return kExitOk;
  }
  std::fprintf(stderr, "datacustoms keys: expected a subcommand: push\n");
  usage(stderr);
  return kExitUsage;
}

const CommandRegistrar kReg{"keys", "escrow TLS session keys: push a key log to the key socket",
                            &keys};

}  // namespace
}  // namespace dc::appliance
