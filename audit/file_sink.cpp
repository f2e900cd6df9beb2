// The POSIX file sink of the log writer (open/append/fsync/truncate), replaceable in tests.
#include "audit/file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
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

  Result<void> append_all(std::span<const std::string_view> parts) override {
    if (fd_ < 0) return make_error("audit sink: no file open");
    iovec iov[kMaxIov];
    const off_t start = size_;
    std::size_t done = 0;
    while (done < parts.size()) {
      const std::size_t n = std::min(parts.size() - done, kMaxIov);
      std::size_t total = 0;
      for (std::size_t i = 0; i < n; ++i) {
        iov[i] = iovec{const_cast<char*>(parts[done + i].data()), parts[done + i].size()};
        total += parts[done + i].size();
      }
      if (auto r = write_iov(iov, n, total); !r) {
        // Undo this call's earlier chunks too: all or nothing.
        if (done > 0 && ::ftruncate(fd_, start) == 0) size_ = start;
        return r;
      }
      done += n;
    }
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
  static constexpr std::size_t kMaxIov = 64;
  // One writev of `total` bytes, resumed after short writes; on failure the file is cut back.
  Result<void> write_iov(iovec* iov, std::size_t n, std::size_t total) {
    std::size_t off = 0;
    while (off < total) {
      ssize_t w = ::writev(fd_, iov, static_cast<int>(n));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        int e = w < 0 ? errno : ENOSPC;
        if (off > 0 && ::ftruncate(fd_, size_) != 0)
          return make_error(path_ + ": write failed (" + std::strerror(e) +
                            ") and the torn line could not be removed: " + std::strerror(errno));
        return make_error(path_ + ": write failed: " + std::strerror(e));
      }
      off += static_cast<std::size_t>(w);
      // Skip what was written: whole iovecs, then the start of the next one.
      std::size_t k = static_cast<std::size_t>(w);
      while (n > 0 && k >= iov->iov_len) {
        k -= iov->iov_len;
        ++iov;
        --n;
      }
      if (n > 0) {
        iov->iov_base = static_cast<char*>(iov->iov_base) + k;
        iov->iov_len -= k;
      }
    }
    size_ += static_cast<off_t>(total);
    return {};
  }
  int fd_ = -1;
  off_t size_ = 0;
  std::string path_;
};

}  // namespace

Result<void> FileSink::append_all(std::span<const std::string_view> parts) {
  if (parts.size() == 1) return append(parts[0]);
  std::string joined;
  for (std::string_view p : parts) joined.append(p);
  return append(joined);
}

std::unique_ptr<FileSink> make_posix_file_sink() { return std::make_unique<PosixFileSink>(); }

}  // namespace dc::audit
