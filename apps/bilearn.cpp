// bilearn: bilevel learning of reconstruction hyperparameters. The command line is parsed
// here; every algorithmic choice is a PETSc option read by the objects themselves.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench.hpp"
#include "bilearn/app/command_line.hpp"
#include "bilearn/app/commands.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/session.hpp"
#include "bilearn/core/unused_options.hpp"
#include "bilearn/krylov/package.hpp"

int main(int argc, char** argv) {
  std::vector<char*> petsc_argv;
  bilearn::CommandLine cl;
  std::string parse_error;  // reported after MPI starts, so that only rank 0 prints it
  try {
    cl = bilearn::parse_command_line(argc, argv, petsc_argv);
  } catch (const std::exception& e) {
    parse_error = e.what();
    petsc_argv.assign(argv, argv + 1);
  }
  if (parse_error.empty() && cl.version) {
    std::printf("bilearn %s\n", BILEARN_VERSION);
    return 0;
  }
  const std::vector<bilearn::CommandEntry> program_commands = {bilearn::bench_command()};  // bench/: program only
  if (parse_error.empty() && cl.help) {
    std::printf("%s", bilearn::usage(program_commands).c_str());
    return 0;
  }
  int petsc_argc = static_cast<int>(petsc_argv.size());
  petsc_argv.push_back(nullptr);
  char** petsc_args = petsc_argv.data();
  std::unique_ptr<bilearn::Session> session;
  try {
    session = std::make_unique<bilearn::Session>(&petsc_argc, &petsc_args);
  } catch (const std::exception&) {
    return 1;  // Session already printed the error line
  }
  if (!parse_error.empty()) {
    bilearn::report_error(bilearn::InputError(parse_error));
    session.reset();
    return 2;
  }
  int status = 0;
  try {
    bilearn::krylov::register_package();  // -ksp_type rminres|rcg
    status = bilearn::run_command(cl, program_commands);
    if (status == 0) bilearn::check_unused_options(PETSC_COMM_WORLD);  // a warning, or -strict_options: an error
  } catch (const std::exception& e) {
    status = bilearn::report_error(e);
  }
  session.reset();
  return status;
}
