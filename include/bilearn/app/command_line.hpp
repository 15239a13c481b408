// The command line contract (docs/design.md): `bilearn <command> [subcommand] [--long-options]
// [PETSc options]`. Boost.Program_options reads the command and the long options;
// everything that starts with a single '-' (and its value) is left for PETSc.
#pragma once
#include <string>
#include <vector>

namespace bilearn {

struct CommandLine {
  std::string command;       // phantom | operator | reconstruct | hypergrad | train | serve | submit | bench
  std::string subcommand;    // e.g. bench recycle; submit FILE
  std::string out;           // --out DIR
  std::string json;          // --json FILE
  std::string resume;        // --resume DIR
  std::string write;         // --write FILE
  bool help = false;         // --help
  bool version = false;      // --version
  bool force = false;        // --force (train --out onto an earlier run)
  std::string spool;         // --spool DIR (serve, submit)
  bool until_empty = false;  // --until-empty (serve: exit 0 once the queue is empty)
};

// Splits argv: returns the parsed long options and command, and fills petsc_argv with
// argv[0] followed by every argument meant for PETSc. Throws InputError on unknown long
// options, missing values or extra positional words.
CommandLine parse_command_line(int argc, char** argv, std::vector<char*>& petsc_argv);

// The text printed by --help around the list of commands (one indented line each, from the
// command table: bilearn::usage in commands.hpp).
std::string usage_text(const std::string& commands);

}  // namespace bilearn
