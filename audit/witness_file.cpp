// The file witness: one witness_line() per checkpoint appended to a file outside the log
// directory (ideally on another mount), fsynced, bounded by renaming to PATH.1 (audit/witness.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "audit/witness.hpp"

namespace dc::audit {
namespace {

const char* kind_of(mode_t m) {
  if (S_ISDIR(m)) return "directory";
  if (S_ISLNK(m)) return "symbolic link";
  if (S_ISCHR(m) || S_ISBLK(m)) return "device";
  if (S_ISFIFO(m)) return "FIFO";
  if (S_ISSOCK(m)) return "socket";
  return "special file";
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string sys_error(const std::string& path, const char* what) {
  return path + ": " + what + ": " + std::strerror(errno);
}

// PATH must be absent or a regular file; a symlink is refused even if it points at one (an
// attacker who can plant links could otherwise redirect the witness into the log directory).
Result<void> check_path(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return make_error(ErrorCode::kIo, sys_error(path, "cannot stat"));
  }
  if (!S_ISREG(st.st_mode))
    return make_error(ErrorCode::kNotRegular,
                      path + ": not a regular file (" + kind_of(st.st_mode) + ")");
  return {};
}

class FileWitness final : public Witness {
 public:
  explicit FileWitness(FileWitnessOptions o) : opt_(std::move(o)), name_("file:" + opt_.path) {}
  const std::string& name() const override { return name_; }

  Result<void> publish(const CheckpointInfo& c) override {
    std::string line = witness_line(c) + "\n";
    auto fd = open_append();
    if (!fd) return fd.error();
    struct stat st {};
    if (::fstat((*fd)->fd, &st) != 0)
      return make_error(ErrorCode::kIo, sys_error(opt_.path, "stat"));
    if (st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) + line.size() > opt_.max_bytes) {
      // Keep one older generation: the head is always in PATH, the tail before it in PATH.1.
      std::string old = opt_.path + ".1";
      if (::rename(opt_.path.c_str(), old.c_str()) != 0)
        return make_error(ErrorCode::kIo, sys_error(opt_.path, "cannot rotate to .1"));
      fd = open_append();
      if (!fd) return fd.error();
      st.st_size = 0;
    }
    if (auto r = write_all((*fd)->fd, line); !r) return r;
    if (::fsync((*fd)->fd) != 0) return make_error(ErrorCode::kIo, sys_error(opt_.path, "fsync"));
    if (st.st_size == 0) sync_parent();  // a new file: make its directory entry durable too
    return {};
  }

 private:
  Result<std::unique_ptr<Fd>> open_append() {
    int fd = ::open(opt_.path.c_str(),
                    O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
                    0640);
    if (fd < 0) {
      if (errno == ELOOP)
        return make_error(ErrorCode::kNotRegular,
                          opt_.path + ": not a regular file (symbolic link)");
      if (errno == EISDIR)
        return make_error(ErrorCode::kNotRegular, opt_.path + ": not a regular file (directory)");
      return make_error(ErrorCode::kIo, sys_error(opt_.path, "cannot open"));
    }
    auto f = std::make_unique<Fd>(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return make_error(ErrorCode::kIo, sys_error(opt_.path, "stat"));
    if (!S_ISREG(st.st_mode))
      return make_error(ErrorCode::kNotRegular,
                        opt_.path + ": not a regular file (" + kind_of(st.st_mode) + ")");
    return f;
  }

  Result<void> write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return make_error(ErrorCode::kIo, sys_error(opt_.path, "write"));
      done += static_cast<std::size_t>(n);
    }
    return {};
  }

  void sync_parent() {
    std::string dir = std::filesystem::path(opt_.path).parent_path().string();
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
  }

  FileWitnessOptions opt_;
  std::string name_;
};

}  // namespace

Result<std::unique_ptr<Witness>> make_file_witness(FileWitnessOptions options) {
  if (options.path.empty()) return make_error(ErrorCode::kInvalid, "witness file: no path given");
  if (options.max_bytes < 4096)
    return make_error(ErrorCode::kInvalid, options.path + ": witness file bound below 4096 bytes");
  if (auto r = check_path(options.path); !r) return r.error();
  std::error_code ec;
  auto parent = std::filesystem::path(options.path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    return make_error(ErrorCode::kNotFound,
                      options.path + ": directory " + parent.string() + " does not exist");
  return std::unique_ptr<Witness>(std::make_unique<FileWitness>(std::move(options)));
}

}  // namespace dc::audit
