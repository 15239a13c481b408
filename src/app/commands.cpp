#include "bilearn/app/commands.hpp"

#include <algorithm>

#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"

namespace bilearn {

const std::vector<CommandEntry>& command_table() {
  static const std::vector<CommandEntry> table = {
      {"phantom", cmd_phantom, "make a training set (images, noisy data): --out DIR"},
      {"operator", cmd_operator, "build the forward operator A and print its size and norms; --write F"},
      {"reconstruct", run_reconstruct_command, "solve the lower level at the given theta for every sample"},
      {"hypergrad", run_hypergrad_command, "one hypergradient at theta (-hyper_method)"},
      {"train", run_train_command, "bilevel learning: --out DIR (--force), --resume DIR"},
      {"serve", cmd_serve, "a solver service: runs the jobs queued in --spool DIR (--until-empty)"},
      {"submit", cmd_submit, "queue a job (PETSc options file with -serve_command) in --spool DIR"},
  };
  return table;
}

std::string usage(const std::vector<CommandEntry>& more) {
  std::string list;
  for (const auto* table : {&command_table(), &more})
    for (const auto& entry : *table) {
      std::string name = entry.name;
      name.resize(std::max<size_t>(name.size() + 1, 14), ' ');
      list += "  " + name + entry.summary + "\n";
    }
  return usage_text(list);
}

int run_command(const CommandLine& cl, const std::vector<CommandEntry>& more) {
  std::string names;
  for (const auto* table : {&command_table(), &more})
    for (const auto& entry : *table) {
      if (cl.command == entry.name) return entry.run(cl);
      names += (names.empty() ? "" : ", ") + std::string(entry.name);
    }
  if (cl.command.empty() && help_requested()) {  // bilearn -help: as --help
    BILEARN_CHECK(PetscPrintf(PETSC_COMM_WORLD, "%s", usage(more).c_str()));
    return 0;
  }
  if (cl.command.empty()) throw InputError("no command given (choose one of " + names + "; see --help)");
  throw InputError("unknown command '" + cl.command + "' (choose one of " + names + ")");
}

}  // namespace bilearn
