// Bounded, regular-file-only reading (see file.hpp). Opens first, then checks the opened file
// (fstat on the descriptor), so the check and the read see the same file.
#include "base/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

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

Error too_large(const std::string& path, std::size_t max_bytes) {
  return make_error(ErrorCode::kTooLarge,
                    path + ": larger than " + std::to_string(max_bytes) + " bytes");
}

}  // namespace

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::size_t> RegularFile::read(char* buf, std::size_t n) {
  for (;;) {
    ssize_t got = ::read(fd_, buf, n);
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR)
      return make_error(ErrorCode::kIo, path_ + ": read error: " + std::strerror(errno));
  }
}

Result<RegularFile> open_regular_file(const std::string& path, ReadOptions opt) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway.
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (opt.follow_symlinks ? 0 : O_NOFOLLOW);
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    if (errno == ELOOP && !opt.follow_symlinks)
      return make_error(ErrorCode::kNotRegular, path + ": not a regular file (symbolic link)");
    return make_error(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      path + ": cannot open: " + std::strerror(errno));
  }
  RegularFile f(fd, 0, path);
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return make_error(ErrorCode::kIo, path + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kNotRegular,
                      path + ": not a regular file (" + file_kind(st.st_mode) + ")");
  }
  if (static_cast<std::size_t>(st.st_size) > opt.max_bytes) return too_large(path, opt.max_bytes);
  f.size_ = static_cast<std::size_t>(st.st_size);
  return f;
}

Result<std::size_t> RegularFile::read_chunks(std::size_t max_bytes,
                                             const std::function<void(std::string_view)>& fn) {
  std::vector<char> buf(std::size_t{1} << 16);
  std::size_t total = 0;
  for (;;) {
    auto n = read(buf.data(), buf.size());
    if (!n) return n.error();
    if (*n == 0) return total;
    total += *n;
    if (total > max_bytes) return too_large(path_, max_bytes);
    fn(std::string_view(buf.data(), *n));
  }
}

Result<std::string> read_file(const std::string& path, ReadOptions opt) {
  auto f = open_regular_file(path, opt);
  if (!f) return f.error();
  std::string out;
  out.reserve(f->size_at_open());
  auto n = f->read_chunks(opt.max_bytes, [&](std::string_view chunk) { out.append(chunk); });
  if (!n) return n.error();
  return out;
}

}  // namespace dc::base
