#include "bilearn/app/command_line.hpp"

#include <boost/program_options.hpp>
#include <cstring>
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
      "write", po::value<std::string>(), "write the object the command builds to this file");
  return d;
}

bool takes_value(const std::string& name) {
  return name == "out" || name == "json" || name == "resume" || name == "write";
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
      const std::string name = arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
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
  cl.help = vm.count("help") > 0;
  cl.version = vm.count("version") > 0;
  for (const char* key : {"out", "json", "resume", "write"})
    if (vm.count(key) && vm[key].as<std::string>().empty())
      throw InputError(std::string("command line: --") + key + " needs a non-empty value");
  return cl;
}

std::string usage_text() {
  std::string text =
      "usage: mpirun -n R bilearn <command> [--long-options] [PETSc options]\n"
      "\n"
      "commands:\n"
      "  phantom       make a training set (images, noisy data): --out DIR\n"
      "  operator      build the forward operator A and print its size and norms; --write F\n"
      "  reconstruct   solve the lower level at the given theta for every sample\n"
      "  hypergrad     one hypergradient at theta (-hyper_method)\n"
      "  train         bilevel learning: --out DIR, --resume DIR\n"
      "  bench         side-by-side benchmarks: bench operator | recycle | recycle-synthetic | scale\n"
      "\n";
  std::ostringstream os;
  os << long_options();
  text += os.str();
  text += "\nEvery algorithmic choice is a PETSc option (e.g. -problem tomo -problem_n 64); "
          "`bilearn <command> -help` lists them.\n";
  return text;
}

}  // namespace bilearn
