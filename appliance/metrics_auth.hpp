#pragma once
// HTTP Basic authentication for GET /metrics ([metrics] auth_file): an htpasswd-style file of
// "user:hash" lines whose hashes are crypt(3) strings (bcrypt "$2y$" from `htpasswd -B`, SHA-512
// "$6$" from `openssl passwd -6`, yescrypt "$y$" from `mkpasswd`), checked with libcrypt.
// civetweb's own authentication is HTTP Digest, which Prometheus does not speak.
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace dc::appliance {

class BasicAuth {
 public:
  // Reads and validates the file: at least one entry, every hash a scheme libcrypt verifies.
  // Errors name the file and line.
  static Result<BasicAuth> load(const std::string& path);
  // True when `authorization` (the request's Authorization header; null when absent) is
  // "Basic base64(user:password)" for an entry of the file.
  bool allows(const char* authorization) const;
  std::size_t users() const noexcept { return entries_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;  // user, crypt(3) hash
};

}  // namespace dc::appliance
