// The commands of the bilearn program. Each lives in its own file src/app/cmd_<name>.cpp
// and has one line in the table in src/app/commands.cpp.
#pragma once
#include <string>
#include <vector>

#include "bilearn/app/command_line.hpp"

namespace bilearn {

using CommandFunction = int (*)(const CommandLine&);

struct CommandEntry {
  const char* name;
  CommandFunction run;
};

const std::vector<CommandEntry>& command_table();

// Runs cl.command (after the PETSc session has started). Throws InputError for an unknown one.
int run_command(const CommandLine& cl);

int run_reconstruct_command(const CommandLine& cl);
int run_hypergrad_command(const CommandLine& cl);
int run_train_command(const CommandLine& cl);

int cmd_phantom(const CommandLine& cl);  // src/app/cmd_phantom.cpp
int cmd_operator(const CommandLine& cl);  // src/app/cmd_operator.cpp
int cmd_bench(const CommandLine& cl);     // src/app/cmd_bench.cpp (bench <sub>, table in bilearn/app/bench.hpp)


}  // namespace bilearn
