// Bounded, regular-file-only reading (see file.hpp). Opens first, then checks the opened file
// (fstat on the descriptor), so the check and the read see the same file.
#include "base/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dc::base {
namespace {

const char* file_kind(mode_t m) noexcept {
  if (S_ISDIR(m)) return "directory";
  if (S_ISCHR(m)) return "character device";
  if (S_ISBLK(m)) return "block device";
  if (S_ISFIFO(m)) return "FIFO";
  if (S_ISSOCK(m)) return "socket";
  if (S_ISLNK(m)) return "symbolic link";
  return "special file";
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<std::string> read_file(const std::string& path, ReadOptions opt) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway.
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (opt.follow_symlinks ? 0 : O_NOFOLLOW);
  Fd f{::open(path.c_str(), flags)};
  if (f.fd < 0) {
    if (errno == ELOOP && !opt.follow_symlinks)
      return make_error(ErrorCode::kNotRegular, path + ": not a regular file (symbolic link)");
    return make_error(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      path + ": cannot open: " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    return make_error(ErrorCode::kIo, path + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kNotRegular,
                      path + ": not a regular file (" + file_kind(st.st_mode) + ")");
  }
  if (static_cast<std::size_t>(st.st_size) > opt.max_bytes) {
    return make_error(ErrorCode::kTooLarge,
                      path + ": larger than " + std::to_string(opt.max_bytes) + " bytes");
  }
  std::string out;
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  for (;;) {
    // Read one byte past the stat size, so a file that grew since fstat is still bounded.
    if (got == out.size()) {
      if (out.size() >= opt.max_bytes + 1) break;
      out.resize(std::min(opt.max_bytes + 1, out.size() + 4096));
    }
    ssize_t n = ::read(f.fd, out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::kIo, path + ": read error: " + std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > opt.max_bytes) {
    return make_error(ErrorCode::kTooLarge,
                      path + ": larger than " + std::to_string(opt.max_bytes) + " bytes");
  }
  out.resize(got);
  return out;
}

}  // namespace dc::base
