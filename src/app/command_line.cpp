#include "bilearn/app/command_line.hpp"

#include <boost/program_options.hpp>
#include <cstring>
#include <fstream>
#include <sstream>

#include "bilearn/core/error.hpp"

namespace po = boost::program_options;

namespace bilearn {
namespace {

po::options_description long_options() {
  po::options_description d("Options");
  d.add_options()("help", "print this help; -help lists every PETSc option of the command")(
      "version", "print the version")("out", po::value<std::string>(), "output directory")(
      "json", po::value<std::string>(), "write a machine-readable summary to this file")(
      "resume", po::value<std::string>(), "resume a training run from this output directory")(
      "write", po::value<std::string>(), "write the object the command builds to this file")(
      "force", "train --out DIR: replace an earlier run in DIR (its files and checkpoints are removed)")(
      "spool", po::value<std::string>(), "serve, submit: the spool folder of the job queue")(
      "until-empty", "serve: exit 0 once no job is left to run (instead of polling for more)");
  return d;
}

bool takes_value(const std::string& name) {
  return name == "out" || name == "json" || name == "resume" || name == "write" || name == "spool";
}

}  // namespace

CommandLine parse_command_line(int argc, char** argv, std::vector<char*>& petsc_argv) {
  petsc_argv.assign(argv, argv + 1);
  std::vector<std::string> ours;
  bool petsc_seen = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      ours.push_back(arg);
      const std::string name =
          arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
      if (takes_value(name) && arg.find('=') == std::string::npos && i + 1 < argc) ours.push_back(argv[++i]);
    } else if (!arg.empty() && arg[0] == '-') {
      petsc_seen = true;
      petsc_argv.push_back(argv[i]);
    } else if (petsc_seen) {
      petsc_argv.push_back(argv[i]);  // value of the preceding PETSc option
    } else {
      ours.push_back(arg);  // command or subcommand
    }
  }

  // PETSc reads -options_file inside its initialisation, where a missing file is a traceback:
  // checked here instead, so that it is one error line.
  for (size_t i = 1; i + 1 < petsc_argv.size(); ++i)
    if (std::strcmp(petsc_argv[i], "-options_file") == 0 && !std::ifstream(petsc_argv[i + 1]).good())
      throw InputError(std::string("-options_file: cannot read '") + petsc_argv[i + 1] + "'");

  po::options_description visible = long_options();
  po::options_description all("all");
  all.add(visible).add_options()("command", po::value<std::string>())("subcommand", po::value<std::string>());
  po::positional_options_description positional;
  positional.add("command", 1).add("subcommand", 1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(ours).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw InputError(std::string("command line: ") + e.what());
  }
  CommandLine cl;
  auto get = [&](const char* key, std::string& field) {
    if (vm.count(key)) field = vm[key].as<std::string>();
  };
  get("command", cl.command);
  get("subcommand", cl.subcommand);
  get("out", cl.out);
  get("json", cl.json);
  get("resume", cl.resume);
  get("write", cl.write);
  get("spool", cl.spool);
  cl.help = vm.count("help") > 0;
  cl.version = vm.count("version") > 0;
  cl.force = vm.count("force") > 0;
  cl.until_empty = vm.count("until-empty") > 0;
  for (const char* key : {"out", "json", "resume", "write", "spool"})
    if (vm.count(key) && vm[key].as<std::string>().empty())
      throw InputError(std::string("command line: --") + key + " needs a non-empty value");
  return cl;
}

std::string usage_text(const std::string& commands) {
  std::string text =
      "usage: mpirun -n R bilearn <command> [--long-options] [PETSc options]\n\ncommands:\n" + commands + "\n";
  std::ostringstream os;
  os << long_options();
  text += os.str();
  text +=
      "\nEvery algorithmic choice is a PETSc option (e.g. -problem tomo -problem_n 64); "
      "`bilearn <command> -help` lists them.\n";
  return text;
}

}  // namespace bilearn
