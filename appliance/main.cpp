// datacustoms: one binary, several subcommands (see appliance/command.hpp).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "appliance/command.hpp"

namespace dc::appliance {
std::vector<Command>& command_table() {
  static std::vector<Command> table;
  return table;
}
}  // namespace dc::appliance

namespace {
void usage(FILE* out) {
  auto cmds = dc::appliance::command_table();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::fprintf(out, "usage: datacustoms <command> [args...]\n\ncommands:\n");
  for (const auto& c : cmds) std::fprintf(out, "  %-14s %s\n", c.name.c_str(), c.summary.c_str());
  std::fprintf(out, "\n'datacustoms <command> --help' shows a command's options.\n");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(stdout);
    return 0;
  }
  if (name == "--version") {
    std::printf("datacustoms %s\n", DC_VERSION);
    return 0;
  }
  for (const auto& c : dc::appliance::command_table()) {
    if (c.name == name) {
      std::vector<std::string> args(argv + 2, argv + argc);
      return c.run(args);
    }
  }
  std::fprintf(stderr, "datacustoms: unknown command '%s'\n", name.c_str());
  usage(stderr);
  return 2;
}
