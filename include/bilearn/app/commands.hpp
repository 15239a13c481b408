// The commands of the bilearn program. Each lives in its own file src/app/cmd_<name>.cpp
// and has one line in the table in src/app/commands.cpp; the program adds the commands it
// compiles itself (bench, bench/cmd_bench.cpp) when it runs one.
#pragma once
#include <string>
#include <vector>

#include "bilearn/app/command_line.hpp"

namespace bilearn {

using CommandFunction = int (*)(const CommandLine&);

struct CommandEntry {
  const char* name;
  CommandFunction run;
  std::string summary;  // one line for --help
};

const std::vector<CommandEntry>& command_table();

// The --help text: the commands of command_table() and then more (one line each), and the
// long options.
std::string usage(const std::vector<CommandEntry>& more = {});

// Runs cl.command, looked up in command_table() and then in more (after the PETSc session has
// started). Throws InputError for an unknown one.
int run_command(const CommandLine& cl, const std::vector<CommandEntry>& more = {});

int run_reconstruct_command(const CommandLine& cl);
int run_hypergrad_command(const CommandLine& cl);
int run_train_command(const CommandLine& cl);

int cmd_phantom(const CommandLine& cl);   // src/app/cmd_phantom.cpp
int cmd_operator(const CommandLine& cl);  // src/app/cmd_operator.cpp
int cmd_serve(const CommandLine& cl);     // src/app/cmd_serve.cpp
int cmd_submit(const CommandLine& cl);    // src/app/cmd_submit.cpp

}  // namespace bilearn
