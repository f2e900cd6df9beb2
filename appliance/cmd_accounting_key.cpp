// `datacustoms accounting keygen PATH`: the site's accounting key (32 random bytes, mode 0600),
// which keys the person digests of customs accounting (docs/accounting.md). Every appliance of a
// site shares one key, so that a person has one digest and the shared counts stay distinct.
#include <cstdio>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "audit/ledger_keys.hpp"

namespace dc::appliance {
namespace {

void usage(FILE* out) {
  std::fputs(
      "usage: datacustoms accounting keygen PATH\n"
      "  Writes a new accounting key (32 random bytes, mode 0600) to PATH; refuses to overwrite.\n"
      "  Copy the same file to every appliance of a site (appliance.toml [accounting] key_file):\n"
      "  the person digests, and so the shared counts, depend on it.\n",
      out);
}

int keygen(const std::vector<std::string>& args) {
  if (args.size() != 2 || args[1].empty() || args[1][0] == '-') {
    usage(stderr);
    return 2;
  }
  if (auto r = audit::write_accounting_key(args[1]); !r) {
    std::fprintf(stderr, "datacustoms accounting keygen: %s\n", r.error().message.c_str());
    return 2;
  }
  std::printf("accounting key written to %s (mode 0600)\n", args[1].c_str());
  return 0;
}

}  // namespace

// `accounting keygen` (dispatched by cmd_accounting.cpp).
int accounting_keygen(const std::vector<std::string>& args) { return keygen(args); }

}  // namespace dc::appliance
