#pragma once
// Subcommand registry of the `datacustoms` binary. Each appliance/cmd_<name>.cpp defines
//   static const dc::appliance::CommandRegistrar reg{"name", "one-line summary", &run_fn};
// where run_fn(args) receives the arguments after the subcommand name and returns the exit code.
// Exit codes: 0 ok, 1 a check/test/verify found problems, 2 usage or configuration error.
#include <cstddef>
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

// The value of option `name` at args[i], written "--name=V" or "--name V" (then i moves past V).
// False when args[i] is another option, or "--name" is last with no value after it.
inline bool take_option_value(const std::vector<std::string>& args, std::size_t& i,
                              std::string_view name, std::string& v) {
  const std::string& a = args[i];
  if (a.size() > name.size() && a.compare(0, name.size(), name) == 0 && a[name.size()] == '=') {
    v = a.substr(name.size() + 1);
    return true;
  }
  if (a != name || i + 1 >= args.size()) return false;
  v = args[++i];
  return true;
}

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string summary, CommandFn fn) {
    command_table().push_back(Command{std::move(name), std::move(summary), fn});
  }
};

}  // namespace dc::appliance
