// The POSIX file sink of the log writer (open/append/fsync/truncate), replaceable in tests.
#include "audit/file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dc::audit {
namespace {

class PosixFileSink final : public FileSink {
 public:
  ~PosixFileSink() override { close(); }

  Result<void> open(const std::string& path) override {
    close();
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) return make_error(path + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      int e = errno;
      close();
      return make_error(path + ": fstat: " + std::strerror(e));
    }
    size_ = st.st_size;
    path_ = path;
    // Make the directory entry durable, or a crash could lose a whole rotated file.
    auto dir = std::filesystem::path(path).parent_path();
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    return {};
  }

  Result<void> append(std::string_view bytes) override {
    if (fd_ < 0) return make_error("audit sink: no file open");
    std::size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::write(fd_, bytes.data() + off, bytes.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int e = n < 0 ? errno : ENOSPC;
        // Undo a torn write so that the retry appends a whole line after a whole line.
        if (off > 0 && ::ftruncate(fd_, size_) != 0) {
          return make_error(path_ + ": write failed (" + std::strerror(e) +
                            ") and the torn line could not be removed: " + std::strerror(errno));
        }
        return make_error(path_ + ": write failed: " + std::strerror(e));
      }
      off += static_cast<std::size_t>(n);
    }
    size_ += static_cast<off_t>(bytes.size());
    return {};
  }

  Result<void> sync() override {
    if (fd_ < 0) return {};
    if (::fdatasync(fd_) != 0) return make_error(path_ + ": fdatasync: " + std::strerror(errno));
    return {};
  }

  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  off_t size_ = 0;
  std::string path_;
};

}  // namespace

std::unique_ptr<FileSink> make_posix_file_sink() { return std::make_unique<PosixFileSink>(); }

}  // namespace dc::audit
