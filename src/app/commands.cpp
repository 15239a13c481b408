#include "bilearn/app/commands.hpp"

#include "bilearn/core/error.hpp"

namespace bilearn {

const std::vector<CommandEntry>& command_table() {
  static const std::vector<CommandEntry> table = {
      {"reconstruct", run_reconstruct_command},
      {"hypergrad", run_hypergrad_command},
      {"train", run_train_command},
      {"phantom", cmd_phantom},
      {"operator", cmd_operator},
  };
  return table;
}

int run_command(const CommandLine& cl, const std::vector<CommandEntry>& more) {
  std::string names;
  for (const auto* table : {&command_table(), &more})
    for (const auto& entry : *table) {
      if (cl.command == entry.name) return entry.run(cl);
      names += (names.empty() ? "" : ", ") + std::string(entry.name);
    }
  if (cl.command.empty()) throw InputError("no command given (choose one of " + names + "; see --help)");
  throw InputError("unknown command '" + cl.command + "' (choose one of " + names + ")");
}

}  // namespace bilearn
