#pragma once
// Subcommand registry of the `datacustoms` binary. Each appliance/cmd_<name>.cpp defines
//   static const dc::appliance::CommandRegistrar reg{"name", "one-line summary", &run_fn};
// where run_fn(args) receives the arguments after the subcommand name and returns the exit code.
// Exit codes: 0 ok, 1 a check/test/verify found problems, 2 usage or configuration error.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dc::appliance {

using CommandFn = int (*)(const std::vector<std::string>& args);

struct Command {
  std::string name;
  std::string summary;
  CommandFn run;
};

std::vector<Command>& command_table();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string summary, CommandFn fn) {
    command_table().push_back(Command{std::move(name), std::move(summary), fn});
  }
};

}  // namespace dc::appliance
