// Key intake socket and its thread: accept, SO_PEERCRED, bounded line splitting, hand-off.
#include "appliance/key_intake.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "appliance/log.hpp"

namespace dc::appliance {

struct KeyIntake::Client {
  int fd = -1;
  uid_t uid = 0;
  pid_t pid = 0;
  uint64_t line_no = 0;   // lines seen on this connection (for the rejection message)
  uint64_t accepted = 0;  // accepted on this connection
  uint64_t rejected = 0;
  bool discarding = false;  // inside an over-long line: skip up to its end
  bool after_cr = false;    // the last line ended with CR: a LF right after it ends nothing
  std::size_t len = 0;      // bytes of an unfinished line in buf
  char buf[kMaxKeyLineBytes];
};

namespace {

Error sys_error(const std::string& what) {
  return make_error(ErrorCode::kIo, what + ": " + std::strerror(errno));
}

bool fits_sun_path(const std::string& p) { return p.size() < sizeof(sockaddr_un{}.sun_path); }

sockaddr_un unix_address(const std::string& p) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, p.data(), p.size());
  return a;
}

// A socket file at `path` is stale when nobody accepts on it. Anything else there is not ours.
Result<void> remove_stale(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return sys_error("key socket " + path);
  }
  if (!S_ISSOCK(st.st_mode))
    return make_error(ErrorCode::kInvalid,
                      "key socket " + path + ": exists and is not a socket (not removed)");
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return sys_error("socket");
  sockaddr_un a = unix_address(path);
  bool live = connect(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(probe);
  if (live)
    return make_error(ErrorCode::kUnavailable,
                      "key socket " + path + ": another process is listening on it");
  if (unlink(path.c_str()) != 0 && errno != ENOENT)
    return sys_error("key socket " + path + ": cannot remove the stale socket");
  log::notice("keys: removed stale socket %s\n", path.c_str());
  return {};
}

}  // namespace

KeyIntake::KeyIntake(KeyIntakeConfig config, Handler handler)
    : config_(std::move(config)), handler_(std::move(handler)) {}

Result<std::unique_ptr<KeyIntake>> KeyIntake::start(KeyIntakeConfig config, Handler handler) {
  if (config.max_clients == 0) config.max_clients = 1;
  std::unique_ptr<KeyIntake> k(new KeyIntake(std::move(config), std::move(handler)));
  k->clients_ = std::make_unique<Client[]>(k->config_.max_clients);
  // Connection buffers hold secrets: keep them out of swap. Best effort (RLIMIT_MEMLOCK).
  if (mlock(k->clients_.get(), sizeof(Client) * k->config_.max_clients) != 0)
    log::warning(
        "keys: cannot lock the key buffers in memory (%s); raise "
        "LimitMEMLOCK or disable swap\n",
        std::strerror(errno));
  k->stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (k->stop_fd_ < 0) return sys_error("eventfd");
  if (auto r = k->open_socket(); !r) return r.error();
  k->thread_ = std::thread([p = k.get()] { p->loop(); });
  return k;
}

// Bound under a temporary name with umask 0177 (never wider than 0600 while unfinished), given
// its mode and owner, then renamed into place: clients never see a socket with the wrong access.
Result<void> KeyIntake::open_socket() {
  const std::string& path = config_.path;
  if (!fits_sun_path(path))
    return make_error(ErrorCode::kInvalid, "key socket " + path + ": path longer than " +
                                               std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                                               " bytes");
  std::filesystem::path p(path);
  std::string tmp = (p.parent_path() / (".dck" + std::to_string(getpid()))).string();
  if (!fits_sun_path(tmp)) tmp = path;  // no room for a temporary name: the umask still guards
  if (auto r = remove_stale(path); !r) return r;
  unlink(tmp.c_str());  // a leftover of a crashed run with our pid
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return sys_error("socket");
  sockaddr_un a = unix_address(tmp);
  mode_t old = umask(0177);
  int rc = bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  umask(old);
  if (rc != 0) return sys_error("key socket " + path + ": bind");
  auto fail = [&](const std::string& what) {
    Error e = sys_error("key socket " + path + ": " + what);
    unlink(tmp.c_str());
    return e;
  };
  if (chmod(tmp.c_str(), config_.mode) != 0) return fail("chmod");
  if ((config_.owner != static_cast<uid_t>(-1) || config_.group != static_cast<gid_t>(-1)) &&
      chown(tmp.c_str(), config_.owner, config_.group) != 0)
    return fail("chown (changing the owner needs CAP_CHOWN; the group must be one of ours)");
  if (listen(listen_fd_, 16) != 0) return fail("listen");
  if (tmp != path && rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
  return {};
}

KeyIntake::~KeyIntake() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    if (write(stop_fd_, &one, sizeof one) < 0) std::perror("datacustoms: keys: eventfd");
    thread_.join();
  }
  if (clients_)
    for (unsigned i = 0; i < config_.max_clients; ++i) close_client(clients_[i]);
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    struct stat st {};
    // Only our own socket: a newer instance may have replaced it.
    if (stat(config_.path.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
      unlink(config_.path.c_str());
  }
  if (stop_fd_ >= 0) close(stop_fd_);
  if (clients_) {
    wipe_bytes(clients_.get(), sizeof(Client) * config_.max_clients);
    munlock(clients_.get(), sizeof(Client) * config_.max_clients);
  }
}

KeyIntakeStats KeyIntake::stats() const {
  const auto& c = counters_;
  return {c.received.load(),     c.rejected.load(),    c.overlong.load(), c.ignored.load(),
          c.dropped_full.load(), c.connections.load(), c.refused.load()};
}

void KeyIntake::loop() {
  std::vector<pollfd> fds;
  std::vector<Client*> owners;
  fds.reserve(config_.max_clients + 2);
  owners.reserve(config_.max_clients);
  for (;;) {
    fds.assign({{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}});
    owners.clear();
    for (unsigned i = 0; i < config_.max_clients; ++i) {
      if (clients_[i].fd < 0) continue;
      fds.push_back({clients_[i].fd, POLLIN, 0});
      owners.push_back(&clients_[i]);
    }
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      std::perror("datacustoms: keys: poll");
      return;
    }
    if (fds[0].revents != 0) return;
    if (fds[1].revents != 0) accept_clients();
    for (std::size_t i = 2; i < fds.size(); ++i)
      if (fds[i].revents != 0) read_client(*owners[i - 2]);
  }
}

void KeyIntake::accept_clients() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an aborted connection
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      std::perror("datacustoms: keys: SO_PEERCRED");
      close(fd);
      counters_.refused.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const auto& allow = config_.allowed_uids;
    Client* slot = nullptr;
    for (unsigned i = 0; i < config_.max_clients && slot == nullptr; ++i)
      if (clients_[i].fd < 0) slot = &clients_[i];
    const char* why = nullptr;
    if (!allow.empty() && std::find(allow.begin(), allow.end(), cred.uid) == allow.end())
      why = "uid not in key_allowed_uids";
    else if (slot == nullptr)
      why = "key_max_clients connections already open";
    if (why != nullptr) {
      log::warning("keys: refused uid %u pid %d: %s\n", cred.uid, cred.pid, why);
      close(fd);
      counters_.refused.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    *slot = Client{};
    slot->fd = fd;
    slot->uid = cred.uid;
    slot->pid = cred.pid;
    counters_.connections.fetch_add(1, std::memory_order_relaxed);
    log::info("keys: connection from uid %u gid %u pid %d\n", cred.uid, cred.gid, cred.pid);
  }
}

void KeyIntake::read_client(Client& c) {
  for (;;) {
    ssize_t n = read(c.fd, c.buf + c.len, sizeof c.buf - c.len);
    if (n > 0) {
      c.len += static_cast<std::size_t>(n);
      take_lines(c, false);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    take_lines(c, true);  // EOF (or a reset): a last line without its end still counts
    log::info("keys: uid %u pid %d closed: %llu line(s) accepted, %llu rejected\n", c.uid, c.pid,
              static_cast<unsigned long long>(c.accepted),
              static_cast<unsigned long long>(c.rejected));
    close_client(c);
    return;
  }
}

// Every complete line in c.buf goes to take_line; the unfinished rest moves to the front. A buffer
// full without a line end is an over-long line: rejected once, then skipped up to its end.
void KeyIntake::take_lines(Client& c, bool at_eof) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < c.len; ++i) {
    if (c.buf[i] != '\n' && c.buf[i] != '\r') continue;  // LF, CRLF and CR ends (RFC 9850 §2)
    bool crlf = c.buf[i] == '\n' && c.after_cr && i == start;  // nothing since the CR
    c.after_cr = c.buf[i] == '\r';
    if (crlf) {
      start = i + 1;
      continue;
    }
    if (c.discarding)
      c.discarding = false;
    else
      take_line(c, std::string_view(c.buf + start, i - start));
    start = i + 1;
  }
  std::size_t rest = c.len - start;
  if (start > 0) {
    std::memmove(c.buf, c.buf + start, rest);
    wipe_bytes(c.buf + rest, c.len - rest);
    c.len = rest;
  }
  if (c.len == sizeof c.buf && !c.discarding) {
    ++c.line_no;
    ++c.rejected;
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    counters_.overlong.fetch_add(1, std::memory_order_relaxed);
    if (c.rejected == 1)
      log::warning(
          "keys: uid %u pid %d: line %llu rejected: longer than %zu "
          "bytes\n",
          c.uid, c.pid, static_cast<unsigned long long>(c.line_no), kMaxKeyLineBytes);
    c.discarding = true;
  }
  if (c.discarding || (at_eof && c.len > 0)) {
    if (!c.discarding) take_line(c, std::string_view(c.buf, c.len));
    wipe_bytes(c.buf, c.len);
    c.len = 0;
  }
}

void KeyIntake::take_line(Client& c, std::string_view line) {
  ++c.line_no;
  if (line.empty()) return;  // a blank line: not counted
  KeyLine k;
  KeyLineStatus s = parse_key_line(line, k);
  if (s == KeyLineStatus::kIgnored) {
    counters_.ignored.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (s != KeyLineStatus::kAccepted) {
    ++c.rejected;
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    // The reason and the line number only: never the line (it may hold a secret).
    if (c.rejected == 1)
      log::warning("keys: uid %u pid %d: line %llu rejected: %s\n", c.uid, c.pid,
                   static_cast<unsigned long long>(c.line_no), key_line_status_name(s));
    return;
  }
  ++c.accepted;
  counters_.received.fetch_add(1, std::memory_order_relaxed);
  if (handler_ && !handler_(k)) counters_.dropped_full.fetch_add(1, std::memory_order_relaxed);
  wipe_key_line(k);
}

void KeyIntake::close_client(Client& c) {
  if (c.fd >= 0) close(c.fd);
  c.fd = -1;
  wipe_bytes(c.buf, sizeof c.buf);
  c.len = 0;
}

}  // namespace dc::appliance
