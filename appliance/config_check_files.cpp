// `config check`: key files, directories and sockets the appliance opens at start-up, and the
// exposure and basic-auth file of the metrics endpoint (appliance/config_check_parts.hpp).
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "appliance/config_check_parts.hpp"
#include "appliance/metrics_auth.hpp"
#include "audit/crypto.hpp"
#include "base/file.hpp"

namespace dc::appliance::check {
namespace {

std::string octal_mode(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

std::string uid_text() { return "uid " + std::to_string(::geteuid()); }

// A secret the appliance reads at start-up: there, a regular file, readable, private.
// False (with the problem reported) when it cannot be used.
bool secret_file(Context& c, const std::string& key, const std::string& path,
                 const std::string& create_hint) {
  std::string shown = Context::display(path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    c.error(key, key.substr(key.rfind('.') + 1) + " " + shown + " does not exist", create_hint);
    return false;
  }
  // Opened as the appliance opens it: a device, directory or FIFO is refused the same way.
  if (auto f = base::open_regular_file(path, {.max_bytes = base::kMaxKeyBytes}); !f) {
    bool denied = ::access(path.c_str(), R_OK) != 0 && errno == EACCES;
    c.error(key, f.error().message + (denied ? " (as " + uid_text() + ")" : ""),
            denied ? "chown it to the user the appliance runs as (the package's unit: "
                     "datacustoms)"
                   : create_hint);
    return false;
  }
  if ((st.st_mode & 077) != 0)
    c.warning(key, shown + " is a secret but has mode " + octal_mode(st.st_mode),
              "chmod 600 " + shown);
  return true;
}

void signing_key(Context& c, const std::string& path) {
  std::string prefix = path.ends_with(".key") ? path.substr(0, path.size() - 4) : path;
  std::string hint = "datacustoms audit keygen --out " + Context::display(prefix) +
                     (path.ends_with(".key") ? "" : "  (then name " + prefix + ".key here)");
  if (!secret_file(c, "audit.signing_key", path, hint)) return;
  if (auto k = audit::SigningKey::load(path); !k)
    c.error("audit.signing_key", k.error().message,
            "it must be an Ed25519 private key in PKCS#8 PEM: " + hint);
}

void hmac_key(Context& c, const std::string& path) {
  std::string shown = Context::display(path);
  std::string hint =
      "(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > " + shown + ")";
  if (!secret_file(c, "audit.hmac_key_file", path, hint)) return;
  auto text = base::read_file(path, {.max_bytes = base::kMaxKeyBytes});
  if (!text) {
    c.error("audit.hmac_key_file", shown + ": " + text.error().message, hint);
    return;
  }
  std::string k = std::move(*text);
  while (!k.empty() && (k.back() == '\n' || k.back() == '\r')) k.pop_back();
  if (k.size() < 16) c.error("audit.hmac_key_file", shown + " is shorter than 16 bytes", hint);
}

// Whether `path` is --out-dir or below it: `run` creates --out-dir before anything else.
bool below_out_dir(const Context& c, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto out = fs::absolute(c.opt.out_dir, ec).lexically_normal();
  auto rel = fs::absolute(path, ec).lexically_normal().lexically_relative(out);
  return !rel.empty() && *rel.begin() != "..";
}

// The nearest directory that exists at or above `path` (`path` itself when it exists).
std::string existing_ancestor(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::absolute(path, ec).lexically_normal();
  while (!fs::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();
  return p.string();
}

// A directory the appliance writes into, made by it when missing (one level, as the log
// writer does; any depth below --out-dir). `min_free` bytes of free space are wanted.
void writable_dir(Context& c, const std::string& key, const std::string& dir, uint64_t min_free) {
  namespace fs = std::filesystem;
  std::string shown = Context::display(dir);
  std::error_code ec;
  std::string parent = fs::absolute(dir, ec).lexically_normal().parent_path().string();
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    c.error(key, shown + " is not a directory", "name a directory for the audit log");
    return;
  }
  if (!fs::exists(dir, ec) && !fs::is_directory(parent, ec) && !below_out_dir(c, parent)) {
    c.error(
        key, shown + " does not exist, nor does its parent " + Context::display(parent),
        "mkdir -p " + shown + " (the package's unit makes /var/lib/datacustoms: StateDirectory=)");
    return;
  }
  std::string probe = existing_ancestor(dir);
  if (!fs::is_directory(probe, ec) || ::access(probe.c_str(), W_OK | X_OK) != 0) {
    c.error(key, Context::display(probe) + " is not a writable directory for " + uid_text(),
            "chown the directory to the user the appliance runs as (the package's unit: "
            "datacustoms)");
    return;
  }
  struct statvfs vfs {};
  if (::statvfs(probe.c_str(), &vfs) == 0) {
    uint64_t avail = uint64_t{vfs.f_bavail} * vfs.f_frsize;
    if (avail < min_free)
      c.warning(key,
                Context::display(probe) + " has " + std::to_string(avail >> 20) +
                    " MiB free; the audit log wants at least " + std::to_string(min_free >> 20) +
                    " MiB (two log files)",
                "free space there, or lower [audit] max_file_mb");
  }
}

}  // namespace

void audit_files(Context& c) {
  const auto& a = c.cfg.audit;
  if (!a.enabled) return;
  signing_key(c, c.expand(a.signing_key));
  hmac_key(c, c.expand(a.hmac_key_file));
  writable_dir(c, "audit.dir", c.expand(a.dir), 2 * (a.max_file_mb << 20));
  if (!a.witness.file.empty()) {
    namespace fs = std::filesystem;
    std::string parent = fs::path(c.expand(a.witness.file)).parent_path().string();
    std::error_code ec;
    if (!parent.empty() && !fs::is_directory(parent, ec) && !below_out_dir(c, parent))
      c.error("audit.witness.file",
              "the witness file's directory " + Context::display(parent) + " does not exist",
              "mkdir -p " + Context::display(parent) + " (ideally on another mount)");
  }
}

void tls_socket(Context& c) {
  const auto& t = c.cfg.tls;
  if (t.key_socket.empty()) return;
  namespace fs = std::filesystem;
  std::string path = c.expand(t.key_socket);
  if (path.size() > 107) {
    c.error("tls.key_socket", "the key socket path is longer than 107 bytes", "use a shorter path");
    return;
  }
  std::string parent = fs::path(path).parent_path().string();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_socket(path, ec)) {
    c.error(
        "tls.key_socket",
        "[tls] key_socket " + Context::display(path) + " exists and is not a socket (not removed)",
        "remove it, or name another path");
    return;
  }
  if (below_out_dir(c, parent)) return;
  if (!fs::is_directory(parent, ec)) {
    c.error("tls.key_socket",
            "the key socket's directory " + Context::display(parent) + " does not exist",
            "mkdir -p " + Context::display(parent) +
                " (the package's unit makes /run/datacustoms: RuntimeDirectory=)");
  } else if (::access(parent.c_str(), W_OK | X_OK) != 0) {
    c.error("tls.key_socket", Context::display(parent) + " is not writable by " + uid_text(),
            "chown the directory to the user the appliance runs as");
  }
}

void metrics(Context& c) {
  const std::string& l = c.cfg.metrics_listen;
  if (l.empty()) return;
  const std::string auth = c.expand(c.cfg.metrics_auth_file);
  if (!auth.empty() &&
      secret_file(c, "metrics.auth_file", auth,
                  "htpasswd -cB " + Context::display(auth) +
                      " prometheus  (apache2-utils), or: echo \"prometheus:$(openssl passwd -6)\" "
                      "> " +
                      Context::display(auth))) {
    if (auto a = BasicAuth::load(auth); !a) c.error("metrics.auth_file", a.error().message);
  }
  bool bare = std::all_of(l.begin(), l.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  std::string port = l.substr(l.rfind(':') + 1);
  const char* protect = "; and auth_file = \"...\" for basic authentication";
  if (bare)
    c.warning("metrics.listen",
              "listen = \"" + l +
                  "\" names no address: /metrics would answer on every "
                  "interface, without access control",
              "listen = \"127.0.0.1:" + l + "\" (this host only) or a management address" +
                  (auth.empty() ? protect : ""));
  else if (auth.empty() && (l.starts_with("0.0.0.0:") || l.starts_with("[::]:")))
    c.warning(
        "metrics.listen",
        "listen = \"" + l + "\" answers on every interface, without access control",
        "listen = \"127.0.0.1:" + port + "\" (this host only) or a management address" + protect);
}

}  // namespace dc::appliance::check
