// Declarations: the declarations directory of a policy: its *.toml files and the revocation
// list (revoked.list), read at every policy load and appended to by `declare revoke`.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/file.hpp"
#include "policy/declarations.hpp"

namespace dc::policy {

Result<std::vector<std::string>> declaration_files(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return make_error(dir + ": cannot open: " + std::strerror(errno));
  std::vector<std::string> out;
  while (const dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 5 && name.ends_with(".toml") && name.front() != '.')
      out.push_back(dir + "/" + name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> revoked_ids(const std::string& dir) {
  std::vector<std::string> ids;
  auto text = base::read_file(dir + "/" + std::string(kRevocationFile));
  if (!text) return ids;
  std::size_t at = 0;
  while (at < text->size()) {
    std::size_t end = text->find('\n', at);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(at, end - at);
    at = end + 1;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") + 1 - first);
    ids.push_back(line);
  }
  return ids;
}

Result<void> append_revocation(const std::string& dir, const std::string& id,
                               const std::string& comment) {
  if (id.empty() || id.find_first_of("#\n\r \t") != std::string::npos)
    return make_error("not a declaration id: '" + id + "'");
  const std::string path = dir + "/" + std::string(kRevocationFile);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(path + ": cannot open: " + std::strerror(errno));
  std::string line = id + "  # " + comment + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) return make_error(path + ": cannot write: " + std::strerror(errno));
  return {};
}

}  // namespace dc::policy
